-- Priority applicants (Law on Citizens' Appeals, art. 20) are served first: the relay takes unsent
-- outbox rows highest priority first, and this index keeps that a range scan.
DROP INDEX IF EXISTS outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (priority DESC, id) WHERE sent_at IS NULL;
