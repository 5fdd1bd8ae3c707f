-- Notices that reach people (issue 27): what the notifier sends by e-mail and SMS, and the alerts inbox.
--
-- One row a recipient and channel of an event on vkhid.notifications or vkhid.alerts. The event's id
-- (the broker message's id) with the channel and the recipient's key is unique: the notifier consumes
-- each event at least once, in any number of processes, and a notice is planned once. Sending claims a
-- row for a while (claimed_until), so two processes never send the same row at once. The text is
-- rendered when it is sent, so a template that fails keeps the notice until it is fixed. The address and
-- the template's data are kept only until the notice is delivered or given up; what stays is the masked recipient,
-- for counting deliveries without exposing anyone.
CREATE TABLE notice (
  id                bigserial PRIMARY KEY,
  event_id          text NOT NULL,
  event_kind        text NOT NULL,                 -- the routing key: applicant.registered, deadline.overdue …
  case_id           uuid REFERENCES cases (id),
  alert_id          bigint,
  audience          text NOT NULL CHECK (audience IN ('applicant', 'participant', 'duty')),
  channel           text NOT NULL CHECK (channel IN ('email', 'sms')),
  recipient_key     text NOT NULL,                 -- SHA-256 of the normalised address
  recipient_masked  text NOT NULL,
  recipient_name    text,                          -- a contact's or duty officer's name; never an applicant's
  address           text,                          -- cleared once sent or failed
  template          text NOT NULL,                 -- config/notifications/<template>, rendered when sent
  data              jsonb,                         -- what it is rendered with; cleared once sent or failed
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  not_before        timestamptz NOT NULL DEFAULT now(),   -- retries, and applicants' quiet hours
  claimed_by        text,
  claimed_until     timestamptz,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  sent_at           timestamptz,
  UNIQUE (event_id, channel, recipient_key)
);
CREATE INDEX notice_due ON notice (not_before) WHERE status = 'pending';
CREATE INDEX notice_case ON notice (case_id);

-- The UCC's alerts inbox: one row an event on vkhid.alerts. Severity 1 is the most urgent.
-- An escalation nobody acknowledges is told to the next person on the rota (rota_step) after a while.
CREATE TABLE alert (
  id                bigserial PRIMARY KEY,
  event_id          text NOT NULL UNIQUE,
  kind              text NOT NULL,
  severity          integer NOT NULL,
  case_id           uuid REFERENCES cases (id),
  org_id            text,
  restricted        boolean NOT NULL DEFAULT false,
  detail            jsonb NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  rota_step         integer NOT NULL DEFAULT 0,
  renotify_at       timestamptz,
  acknowledged_at   timestamptz,
  acknowledged_by   text,
  ack_comment       text
);
CREATE INDEX alert_open ON alert (severity, created_at DESC) WHERE acknowledged_at IS NULL;
ALTER TABLE notice ADD FOREIGN KEY (alert_id) REFERENCES alert (id);
