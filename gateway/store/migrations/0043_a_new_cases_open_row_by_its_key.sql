-- A new case's open row looked for by its key (issue 25: CPU a case). The intake writes the row with the
-- case (migration 0038), and the trigger asked whether it was there with NOT EXISTS — a statement that
-- PostgreSQL plans, and for a table its statistics call small (the open cases, a few pages after a
-- vacuum) a scan of the whole table: between two vacuums it holds every case opened and settled since,
-- 1 % of PostgreSQL's backends' CPU in the bench (perf, a 4,000-case run). ON CONFLICT DO NOTHING asks
-- the key's index, as every insert does, and writes nothing when the row is there; a case inserted
-- otherwise (a test's, an import's) gets its row as before. Test
-- a_new_cases_open_row_is_found_by_its_key_never_by_a_scan.
CREATE OR REPLACE FUNCTION vkhid_track_open_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_open boolean := TG_OP <> 'INSERT' AND vkhid_case_is_open(OLD.status, OLD.channel);
  is_open boolean := TG_OP <> 'DELETE' AND vkhid_case_is_open(NEW.status, NEW.channel);
BEGIN
  IF is_open AND TG_OP = 'INSERT' THEN
    INSERT INTO case_open (case_id, due_at) VALUES (NEW.id, NEW.due_at) ON CONFLICT (case_id) DO NOTHING;
  ELSIF is_open AND NOT was_open THEN
    INSERT INTO case_open (case_id, due_at) VALUES (NEW.id, NEW.due_at)
      ON CONFLICT (case_id) DO UPDATE SET due_at = EXCLUDED.due_at;
  ELSIF was_open AND NOT is_open THEN
    DELETE FROM case_open WHERE case_id = OLD.id;
  ELSIF is_open AND NEW.due_at IS DISTINCT FROM OLD.due_at THEN
    UPDATE case_open SET due_at = NEW.due_at WHERE case_id = NEW.id;
  END IF;
  RETURN NULL;
END $$;
