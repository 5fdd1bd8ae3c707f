-- Which gateway process holds a delivery claim ("<instance>:<pid>"), so the claims of a process that
-- died are returned to the queue as soon as its heartbeat stops, not after a fixed timeout.
ALTER TABLE message ADD COLUMN claimed_by text;
