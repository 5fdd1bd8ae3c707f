-- An evidence entry belongs to the batch whose seq range holds it (audit_batch.first_seq..last_seq;
-- batches cover the chain in order, without gaps). The two indexes on batch_id cost every entry two
-- more index insertions when written and two at each of its two updates (chained, batched): four of
-- the fifteen index insertions an entry cost, on the table that grows fastest. The queries that used
-- them find an entry's batch, and the entries not yet in one, through seq and the batch's range
-- instead. batch_id itself is kept and set as before.
DROP INDEX IF EXISTS audit_entry_batch;
DROP INDEX IF EXISTS audit_entry_unbatched;
