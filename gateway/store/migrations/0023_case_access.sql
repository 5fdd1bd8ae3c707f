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
