-- Legal deadlines (DESIGN §9): each case's answer deadline, and timers any gateway process may fire
-- (claimed with FOR UPDATE SKIP LOCKED; each fires once).
ALTER TABLE cases ADD COLUMN due_kind text;          -- the rule in config/deadlines.toml
ALTER TABLE cases ADD COLUMN due_at timestamptz;     -- the answer is due by then
ALTER TABLE cases ADD COLUMN due_rule text;          -- its legal citation
ALTER TABLE cases ADD COLUMN clock_from timestamptz; -- what the count runs from (receipt, or the forward)
ALTER TABLE cases ADD COLUMN extended_at timestamptz;
ALTER TABLE cases ADD COLUMN overdue boolean NOT NULL DEFAULT false;

CREATE TABLE timer (
  id            bigserial PRIMARY KEY,
  case_id       uuid NOT NULL REFERENCES cases (id),
  kind          text NOT NULL CHECK (kind IN ('delivery_receipt', 'registration', 'warning_3wd', 'warning_1d',
                                              'overdue')),
  msg_id        uuid,                 -- for the transport timers: the package they watch
  fire_at       timestamptz NOT NULL,
  fired_at      timestamptz,
  outcome       text,                 -- fired | moot (the condition was met before it fired)
  cancelled_at  timestamptz           -- replaced by a new plan (forwarding, extension)
);
CREATE INDEX timer_pending ON timer (fire_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX timer_by_case ON timer (case_id);
