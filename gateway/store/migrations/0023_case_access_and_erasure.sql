-- Who read what (issue 29, docs/privacy.md): every read of a case's data by a person or a client — the
-- console's case page, the answer API, the CLI — with why, required for restricted cases (violence,
-- trafficking). This table is what the console's access history and the unusual-access report read;
-- each row has its evidence entry "case.read" in the tamper-evident log, whose digest covers the reason.
CREATE TABLE case_access (
  id          bigserial PRIMARY KEY,
  case_id     uuid NOT NULL,
  actor       text NOT NULL,
  what        text NOT NULL,
  restricted  boolean NOT NULL,
  reason      text NOT NULL DEFAULT '',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_access_case ON case_access (case_id, at);
CREATE INDEX case_access_restricted ON case_access (at, actor) WHERE restricted;

-- Retention and erasure (issue 29): a case's personal data goes when its period under the retention
-- rules has passed, or earlier at the data subject's request. An erased package keeps its row and its
-- SHA-256, which the evidence log signed; its bytes are gone, and the rule and time say why.
ALTER TABLE message ADD COLUMN erased_at timestamptz;
ALTER TABLE message ADD COLUMN erased_rule text;
ALTER TABLE cases ADD COLUMN erased_at timestamptz;
