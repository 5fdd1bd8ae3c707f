-- The evidence log without the BRIN index on an entry's time (issue 25: WAL a case). Nothing reads
-- through it: the sealer, the console and the auditor's export find entries by their key (xid, id) and
-- batches by their own times (audit_batch.first_at, last_at). It was not free either: an entry written
-- into a range of pages already summarised — several backends insert at once, each into its own page, so
-- some still write into the range before the last when VACUUM has summarised it — extends the range's
-- latest time, a WAL record each time: 4.3 a case.
DROP INDEX IF EXISTS audit_entry_at;
