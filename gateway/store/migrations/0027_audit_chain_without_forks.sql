-- The chain of batches cannot fork. A batch follows the one before it: its first seq is one past that
-- batch's last, and its prev_hash is that batch's last entry hash. Two batches following the same one —
-- what a sealer that read a stale tail would write — are refused by the database itself, whatever wrote
-- them: the second insert fails, and the sealer tries again from the true tail. A log that already holds
-- such a fork keeps it (audit verify names it) and gets the constraints only once the fork is gone.
DROP INDEX IF EXISTS audit_batch_first_seq;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM audit_batch GROUP BY first_seq HAVING count(*) > 1)
     OR EXISTS (SELECT 1 FROM audit_batch WHERE prev_hash IS NOT NULL GROUP BY prev_hash HAVING count(*) > 1) THEN
    RAISE WARNING 'audit_batch: two batches follow the same one (a fork of the evidence chain): run vkhid audit export and verify';
    CREATE INDEX audit_batch_first_seq ON audit_batch (first_seq);
  ELSE
    CREATE UNIQUE INDEX audit_batch_first_seq ON audit_batch (first_seq);
    CREATE UNIQUE INDEX audit_batch_follows ON audit_batch (prev_hash) WHERE prev_hash IS NOT NULL;
  END IF;
END $$;
