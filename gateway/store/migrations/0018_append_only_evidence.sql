-- The evidence log append-only (issue 25). An entry was inserted, then updated when chained (seq,
-- prev_hash, entry_hash), each time with its index entries: 182 of the 397 WAL records of a case
-- (docs/performance.md). Now an entry is inserted once and never touched again; the sealer writes
-- what it computes — the chain and the Merkle tree — to the batch row alone.
--
-- The chain's order is (xid, id): the writing transaction's id, then the entry's. Every entry whose
-- transaction is older than every running one (xid below the snapshot's xmin) is final, and any entry
-- written later has a higher xid, so the entries sealed always form a prefix of that order. A batch
-- holds the entries from (first_xid, first_id) to (last_xid, last_id), keeps their hashes (its Merkle
-- leaves, 32 bytes each, in chain order) and the hash its first entry follows. Seqs are positions:
-- a batch's entries are first_seq, first_seq + 1, … in chain order.
--
-- Entries chained before this migration keep their seq and hashes, and their batches are read by seq
-- as before (first_xid IS NULL); new entries leave seq NULL.
ALTER TABLE audit_batch
  ADD COLUMN prev_hash text,
  ADD COLUMN leaves bytea,
  ADD COLUMN first_xid xid8,
  ADD COLUMN first_id bigint,
  ADD COLUMN last_xid xid8,
  ADD COLUMN last_id bigint,
  ADD COLUMN first_at timestamptz,
  ADD COLUMN last_at timestamptz;
-- Hashes do not compress: no attempt at it.
ALTER TABLE audit_batch ALTER COLUMN leaves SET STORAGE EXTERNAL;

-- Chained but in no batch: nothing signed them, so they are chained again, the new way.
UPDATE audit_entry SET seq = NULL, prev_hash = NULL, entry_hash = NULL
 WHERE seq > (SELECT coalesce(max(last_seq), 0) FROM audit_batch);
UPDATE audit_batch b
   SET prev_hash = (SELECT prev_hash FROM audit_entry WHERE seq = b.first_seq),
       leaves = (SELECT string_agg(decode(entry_hash, 'hex'), ''::bytea ORDER BY seq) FROM audit_entry
                  WHERE seq BETWEEN b.first_seq AND b.last_seq),
       first_at = (SELECT min(at) FROM audit_entry WHERE seq BETWEEN b.first_seq AND b.last_seq),
       last_at = (SELECT max(at) FROM audit_entry WHERE seq BETWEEN b.first_seq AND b.last_seq);

-- An entry costs its row and one index entry: the key (xid, id), which is also the chain's order and
-- how the sealer finds what waits. The unique seq and the unchained index were written twice per
-- entry (inserted, then chained); seq stays unique where an old entry has one.
DROP INDEX IF EXISTS audit_entry_unchained;
ALTER TABLE audit_entry DROP CONSTRAINT IF EXISTS audit_entry_seq_key;
CREATE UNIQUE INDEX audit_entry_seq ON audit_entry (seq) WHERE seq IS NOT NULL;
ALTER TABLE audit_entry DROP CONSTRAINT audit_entry_pkey;
ALTER TABLE audit_entry ADD PRIMARY KEY (xid, id);
CREATE UNIQUE INDEX audit_batch_last_entry ON audit_batch (last_xid, last_id);
CREATE INDEX audit_batch_first_seq ON audit_batch (first_seq);
