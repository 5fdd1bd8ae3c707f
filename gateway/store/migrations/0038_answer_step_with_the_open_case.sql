-- A new case's first answer-term step kept with its open row (issue 25: WAL a case). Every case got a
-- timer row at registration — its answer term's first step (a warning three working days before the
-- term, or a day before it, or overdue) — inserted with its key and pending entry, then locked and
-- cancelled by the answer: about six WAL records a case, for a warning that most cases never reach.
-- The case's open row (migration 0030) is written in that transaction anyway and deleted when the case
-- is settled; it now carries the step, written with it by the intake, and goes with it. The timer loop
-- turns the steps that have come due into timer rows (one statement, `promoteDueAnswerSteps`), which
-- then fire as every timer does, and plan the next step as timer rows. What a case costs the plan
-- now: one entry in this index. Extensions and re-plans still write timer rows, clearing the step first.
ALTER TABLE case_open ADD COLUMN step text, ADD COLUMN step_at timestamptz;
ALTER TABLE case_open ADD CONSTRAINT case_open_step_kind
  CHECK (step IS NULL OR step IN ('warning_3wd', 'warning_1d', 'overdue'));
ALTER TABLE case_open ADD CONSTRAINT case_open_step_whole CHECK ((step IS NULL) = (step_at IS NULL));
CREATE INDEX case_open_step ON case_open (step_at) WHERE step_at IS NOT NULL;

-- The intake writes a new case's open row itself, with its step, in the statement that inserts the
-- case (store::insertRegisteredCase); the trigger then finds it there. Every other insert is as before.
CREATE OR REPLACE FUNCTION vkhid_track_open_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_open boolean := TG_OP <> 'INSERT' AND vkhid_case_is_open(OLD.status, OLD.channel);
  is_open boolean := TG_OP <> 'DELETE' AND vkhid_case_is_open(NEW.status, NEW.channel);
BEGIN
  IF is_open AND TG_OP = 'INSERT' THEN
    -- A plain insert (ON CONFLICT would write a second WAL record to confirm it).
    IF NOT EXISTS (SELECT 1 FROM case_open WHERE case_id = NEW.id) THEN
      INSERT INTO case_open (case_id, due_at) VALUES (NEW.id, NEW.due_at);
    END IF;
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
