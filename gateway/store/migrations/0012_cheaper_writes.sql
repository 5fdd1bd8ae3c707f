-- Two costs the profiler found in every case's writes (docs/performance.md, session 6).
--
-- vkhid_audit_digest was declared IMMUTABLE, but convert_to() is only STABLE: PostgreSQL refuses to
-- inline a function whose body is less stable than its declaration, so every evidence entry of a case
-- event or an administrative change ran it as a separate SQL function, parsed, analysed and planned
-- afresh each time (3.5 % of the database's CPU under load). Declared as what it is, it is inlined into
-- the trigger's statement. The digest is the same: entries already chained are untouched and verify.
CREATE OR REPLACE FUNCTION vkhid_audit_digest(t text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(coalesce(t, ''), 'UTF8')), 'hex')
$$;

-- The packages kept as evidence are compressed when a row outgrows 2 kB; pglz took 2.4 % of the
-- database's CPU under load. LZ4 compresses several times faster at a similar ratio for XML, where
-- the server was built with it (Debian's is); otherwise pglz stays. Rows already stored keep theirs.
DO $$
BEGIN
  IF 'lz4' = ANY ((SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression')::text[]) THEN
    ALTER TABLE message ALTER COLUMN bytes SET COMPRESSION lz4;
  END IF;
END $$;
