-- The outbox without its primary key (issue 25: WAL a case). The key on id was written for every row
-- and again when the row was marked sent (not in place: sent_at is the unsent index's predicate) — two
-- WAL records a row, ten a case — and nothing the exchange does looks a row up by its id: the relay reads
-- the unsent rows through their own index and marks what it sent by the rows' places (their ctid, stable
-- while its transaction holds them: store/outbox.cpp), and the sent rows are pruned by
-- their age through a BRIN index on created_at (a row's range written when VACUUM summarises it, not on
-- each insert). The id stays, numbered as before: the unsent index orders by it.
ALTER TABLE outbox DROP CONSTRAINT outbox_pkey;
CREATE INDEX outbox_created ON outbox USING brin (created_at);
