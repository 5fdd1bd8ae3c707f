-- A package's transport watches judged from the package itself (issue 25: WAL and work a case). Each
-- appeal package queued to a participant got two timer rows — no delivery receipt within
-- deadlines.delivery_receipt_within_s, no registration by the end of the next working day — each
-- inserted with its key and pending entry, then locked and cancelled by the receipt that met it: about
-- thirteen WAL records and three statements a package, for alarms that almost never fire. Both deadlines
-- follow from when the package was queued (its created_at), so the package's row is the watch: the
-- timer loop judges the packages whose deadline has passed, in the order they were queued, from where
-- the last judgement stopped (`transport_watch`, one row a kind), each once. A package whose receipt
-- has not come is escalated then, and only then gets a timer row (fired), as the history and the
-- escalation's key. What a package costs the watch now: one entry in this index.
CREATE INDEX message_watched ON message (created_at, msg_id)
  WHERE direction = 'out' AND msg_type = 1 AND case_id IS NOT NULL;

-- How far each watch has judged: every watched package queued before (through_at, through_id), in
-- that order, is judged. Held FOR UPDATE by the gateway judging, so one judges at a time.
CREATE TABLE transport_watch (
  kind        text PRIMARY KEY CHECK (kind IN ('delivery_receipt', 'registration')),
  through_at  timestamptz NOT NULL,
  through_id  uuid NOT NULL
);
COMMENT ON TABLE transport_watch IS
  'Transport watches: the watched packages (message_watched) up to (through_at, through_id) are judged';

-- The packages queued before now keep the timer rows planned for them, which fire (or are cancelled)
-- as before; the watches begin after them.
INSERT INTO transport_watch (kind, through_at, through_id)
VALUES ('delivery_receipt', now(), 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
       ('registration', now(), 'ffffffff-ffff-ffff-ffff-ffffffffffff');
