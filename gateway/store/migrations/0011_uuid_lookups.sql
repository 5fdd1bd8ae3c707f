-- Lookups by id compare the uuid column itself, so its index serves them. Until now the queries
-- compared `id::text = $1` (a caller's id may be any text: a mistyped one must find nothing rather
-- than fail the statement), which no index can serve: every lookup of a case or a package read the
-- whole table, and each case costs a dozen lookups (measured by `vkhid bench`: 14 million message rows
-- read for 600 cases). `vkhid_uuid` gives NULL for text that is not a uuid, which matches nothing; it
-- is IMMUTABLE, so the planner computes it once from the parameter and scans the index.
CREATE FUNCTION vkhid_uuid(t text) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN t ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN t::uuid END
$$;
