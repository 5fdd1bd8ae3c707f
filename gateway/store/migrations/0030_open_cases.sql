-- The cases still open, apart (issue 25, "cost must not grow with the data"). The gauges
-- vkhid_cases_open and vkhid_cases_overdue, refreshed every 15 s by each gateway, counted them with a
-- scan of the whole cases table: against a year's history (3 million cases, 9 GB) a scan of gigabytes
-- every 15 s from every gateway. An index on the status would do it, but every status change would then
-- write a new entry in each of the table's indexes instead of updating the row in place (HOT): a case's
-- status changes six times. So the open cases are kept in a table of their own, by a trigger on each
-- change of a case's status, due date or channel — whichever statement makes it — and the gauges read
-- only it. A case is open until answered or otherwise ended; conformance cases (a participant's test)
-- are never counted.
-- A case is settled once answered or otherwise ended (flows/deadlines.cpp answerSettled names the same
-- statuses); the mass-appeal lookup (store/cases.cpp) asks it too.
CREATE FUNCTION vkhid_case_settled(status text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN status IN ('answered', 'closed', 'withdrawn', 'not_considered', 'merged', 'returned');

CREATE FUNCTION vkhid_case_is_open(status text, channel text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN NOT vkhid_case_settled(status) AND channel IS DISTINCT FROM 'conformance';

CREATE TABLE case_open (
  case_id uuid PRIMARY KEY,
  due_at  timestamptz
);

CREATE FUNCTION vkhid_track_open_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_open boolean := TG_OP <> 'INSERT' AND vkhid_case_is_open(OLD.status, OLD.channel);
  is_open boolean := TG_OP <> 'DELETE' AND vkhid_case_is_open(NEW.status, NEW.channel);
BEGIN
  IF is_open AND TG_OP = 'INSERT' THEN
    -- A new case: a plain insert (ON CONFLICT would write a second WAL record to confirm it).
    INSERT INTO case_open (case_id, due_at) VALUES (NEW.id, NEW.due_at);
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

CREATE TRIGGER track_open_case AFTER INSERT OR DELETE OR UPDATE OF status, due_at, channel ON cases
  FOR EACH ROW EXECUTE FUNCTION vkhid_track_open_case();

-- The cases open at the upgrade: one scan, once.
INSERT INTO case_open (case_id, due_at)
  SELECT id, due_at FROM cases WHERE vkhid_case_is_open(status, channel);
