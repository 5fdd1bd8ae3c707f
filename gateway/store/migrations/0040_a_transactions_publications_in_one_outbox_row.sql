-- A transaction's publications in one outbox row (issue 25: WAL a case). Each row is a heap tuple, an
-- entry in the unsent index and an update when the relay has published it — three WAL records a
-- publication — and a case's transactions asked for two each: the intake its applicant's notice and the
-- delivery job of its package, a participant's answer its applicant's notice and the job of our receipts
-- for it (and a batch of arrivals the jobs of every package in it). Gathered in the transaction and
-- written with its COMMIT (store::appendOutbox): the first publication — the highest priority, then the
-- first asked for — in the row's columns, as before, the others in `more`, in order, each an object of
-- the same fields (the payload as hex). The relay publishes them all and marks the row sent once the
-- broker took every one; those it returned go into a row of their own.
ALTER TABLE outbox ADD COLUMN more jsonb;
COMMENT ON COLUMN outbox.more IS
  'The transaction''s further publications, in order: [{exchange, routing_key, message_id, payload (hex), headers, priority}]';

-- Every publication as its own row, for the operators, the gauges and the tests.
CREATE VIEW outbox_message AS
  SELECT o.id, 0::bigint AS part, o.exchange, o.routing_key, o.message_id, o.payload, o.headers, o.priority::int AS priority,
         o.created_at, o.sent_at
    FROM outbox o
  UNION ALL
  SELECT o.id, k.ord, k.e->>'exchange', k.e->>'routing_key', k.e->>'message_id', decode(k.e->>'payload', 'hex'),
         k.e->'headers', (k.e->>'priority')::int, o.created_at, o.sent_at
    FROM outbox o CROSS JOIN LATERAL jsonb_array_elements(o.more) WITH ORDINALITY AS k(e, ord);
COMMENT ON VIEW outbox_message IS 'Each publication of the outbox, a row holding a transaction''s (migration 0040)';
