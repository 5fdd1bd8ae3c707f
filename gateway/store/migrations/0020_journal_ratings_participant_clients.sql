-- The rest of the law's workflow (issue 30).
--
-- The journal of violence reports. Until the Unified State Register of domestic and gender-based
-- violence cases works, reports are entered in the journal whose form is annex 6 to the Procedure
-- approved by Cabinet resolution No 658 of 22.08.2018 (the single entry's resolution, п. 7). One entry per
-- report, numbered without gaps in the order of entry (the number is taken under a lock, in the
-- transaction that registers the report). register_ref and register_at record the entry's transfer to
-- the register once there is one (flows/violence_journal.hpp, ViolenceRegister).
CREATE TABLE violence_journal (
  entry_no      bigint PRIMARY KEY,
  case_id       uuid NOT NULL UNIQUE REFERENCES cases (id),
  entered_at    timestamptz NOT NULL DEFAULT now(),
  entered_by    text NOT NULL,
  register_ref  text,
  register_at   timestamptz
);

CREATE FUNCTION vkhid_audit_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_entry (actor, action, subject, payload_sha256)
  VALUES (vkhid_audit_actor(), 'journal.' || lower(TG_OP),
          'journal:' || NEW.entry_no || ' case:' || NEW.case_id || coalesce(' register:' || NEW.register_ref, ''),
          vkhid_audit_digest(to_jsonb(NEW)::text));
  RETURN NULL;
END $$;
CREATE TRIGGER audit_violence_journal AFTER INSERT OR UPDATE ON violence_journal
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_journal();

-- Applicant satisfaction (the Procedure's п. 3): one rating per case, 1 to 5, given by the tracking
-- code after the answer. The comment is the applicant's own text: shown on the case to those who may
-- read it, never in a report.
CREATE TABLE case_rating (
  case_id   uuid PRIMARY KEY REFERENCES cases (id),
  score     smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment   text NOT NULL DEFAULT '',
  rated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_rating_at ON case_rating (rated_at);

-- A participant body's own client (role participant): the console and the reports API show it its own
-- figures only (the resolution's п. 5, informing participants).
ALTER TABLE api_client ADD COLUMN org_id text REFERENCES participant (org_id);
ALTER TABLE api_client ADD CONSTRAINT participant_client_names_its_body CHECK (role <> 'participant' OR org_id IS NOT NULL);

-- Each participant's monthly report of its own figures, built once (whichever gateway comes first) and
-- kept as sent: the page and its SHA-256 (flows/participant_reports.hpp).
CREATE TABLE participant_report (
  org_id      text NOT NULL REFERENCES participant (org_id),
  month       text NOT NULL,   -- YYYY-MM, Kyiv
  html        text NOT NULL,
  sha256      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, month)
);
