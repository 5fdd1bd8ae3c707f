-- What PostgreSQL did a case for no result (issue 25: CPU a case), found with track_functions and
-- pg_stat_statements over a 1,000-case run of `vkhid bench`:
--
-- 1. vkhid_kept_body (migration 0024), called once a case by the intake's insert, is a SQL function whose
--    body holds a subquery, so it is never inlined: each call parsed, analysed and planned its body anew
--    (about 95 µs, measured alone). In PL/pgSQL the function is compiled once per connection and its
--    expressions planned once: about 17 µs. What it keeps is the same (test
--    kept_body_keeps_what_it_kept_and_is_compiled_once).
-- 2. The trigger that keeps case_open (migrations 0030, 0038) ran its PL/pgSQL function for every change
--    of a case's status, seven a case, of which five neither open nor settle the case nor move its term.
--    Its conditions now sit in the triggers' WHEN clauses, which PostgreSQL evaluates before it queues
--    the call at all: the function runs only when it has something to do.
CREATE OR REPLACE FUNCTION vkhid_kept_body(body jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  kept jsonb := '{}';
  k text;
BEGIN
  IF jsonb_typeof(body) = 'object' THEN
    FOREACH k IN ARRAY ARRAY['kind', 'classification', 'channel', 'received_at', 'urgency', 'priority',
        'no_further_study', 'addressee_org_id', 'complained_of_org_id', 'handling_minutes', 'deadlines',
        'consent'] LOOP
      IF body ? k THEN
        kept := kept || jsonb_build_object(k, body -> k);
      END IF;
    END LOOP;
  ELSIF body IS NOT NULL THEN
    PERFORM * FROM jsonb_each(body);  -- refused as before: a body that is not an object
  END IF;
  RETURN kept || jsonb_build_object('applicant', jsonb_build_object(
             'anonymous', coalesce(body->'applicant'->'anonymous', 'false'::jsonb),
             'collective', coalesce(body->'applicant'->'collective', 'false'::jsonb)),
           'violence', jsonb_build_object(
             'forms', coalesce(body->'violence'->'forms', '[]'::jsonb),
             'child_involved', coalesce(body->'violence'->'child_involved', 'false'::jsonb)));
END $$;

-- The function stays as it is: it still decides what each change does.
DROP TRIGGER track_open_case ON cases;
CREATE TRIGGER track_open_case_insert AFTER INSERT ON cases
  FOR EACH ROW WHEN (vkhid_case_is_open(NEW.status, NEW.channel)) EXECUTE FUNCTION vkhid_track_open_case();
CREATE TRIGGER track_open_case_delete AFTER DELETE ON cases
  FOR EACH ROW WHEN (vkhid_case_is_open(OLD.status, OLD.channel)) EXECUTE FUNCTION vkhid_track_open_case();
CREATE TRIGGER track_open_case_update AFTER UPDATE OF status, due_at, channel ON cases
  FOR EACH ROW WHEN (vkhid_case_is_open(OLD.status, OLD.channel) IS DISTINCT FROM vkhid_case_is_open(NEW.status,
    NEW.channel) OR (NEW.due_at IS DISTINCT FROM OLD.due_at AND vkhid_case_is_open(NEW.status, NEW.channel)))
  EXECUTE FUNCTION vkhid_track_open_case();
