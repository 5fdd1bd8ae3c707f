-- The exchange core: participants and their endpoints, routing rules, cases with their history,
-- every message exchanged (exact bytes), receipts, channel clients, and the transactional outbox.

CREATE TABLE participant (
  org_id          text PRIMARY KEY,            -- EDRPOU code
  sys_id          text NOT NULL,               -- EDMS system id
  name            text NOT NULL,
  system_name     text NOT NULL DEFAULT '',
  status          text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('draft', 'pending_check', 'active', 'suspended', 'retired')),
  kinds           text[] NOT NULL DEFAULT '{appeal,info_request,violence_report}',
  own_channel     boolean NOT NULL DEFAULT false,   -- its own contact centre's appeals come in through us
  require_seal    boolean NOT NULL DEFAULT true,
  accept_unsupported_signatures boolean NOT NULL DEFAULT false,  -- DSTU 4145 attachments pass unchecked
  trust_pem       text NOT NULL DEFAULT '',         -- CA certificates trusted for its signatures
  transport_user  text UNIQUE,                      -- the broker user (amqp) or certificate that identifies it
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE endpoint (
  id        bigserial PRIMARY KEY,
  org_id    text NOT NULL REFERENCES participant (org_id),
  adapter   text NOT NULL,
  settings  jsonb NOT NULL DEFAULT '{}',
  active    boolean NOT NULL DEFAULT true
);
CREATE INDEX endpoint_by_org ON endpoint (org_id) WHERE active;

-- addressee, kind and topic -> participant. NULL matches anything; the lowest priority wins.
CREATE TABLE routing_rule (
  id                bigserial PRIMARY KEY,
  priority          integer NOT NULL DEFAULT 100,
  kind              text,
  topic             text,
  addressee_org_id  text,
  target_org_id     text NOT NULL REFERENCES participant (org_id),
  active            boolean NOT NULL DEFAULT true
);

CREATE TABLE ucc_number_counter (
  year  integer PRIMARY KEY,
  last  bigint NOT NULL
);

CREATE TABLE api_client (
  id            text PRIMARY KEY,
  role          text NOT NULL CHECK (role IN ('channel', 'participant', 'admin', 'auditor')),
  token_sha256  text UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

CREATE TABLE cases (
  id                 uuid PRIMARY KEY,
  ucc_number         text NOT NULL UNIQUE,
  tracking_code      text NOT NULL UNIQUE,
  kind               text NOT NULL,
  status             text NOT NULL,
  restricted         boolean NOT NULL,
  priority           boolean NOT NULL,
  urgency            text NOT NULL,
  channel            text NOT NULL,
  received_at        timestamptz NOT NULL,
  registered_at      timestamptz NOT NULL DEFAULT now(),
  addressee_org_id   text,
  participant_org_id text REFERENCES participant (org_id),   -- where it is now
  participant_reg_number text,
  participant_reg_date   date,
  answer_msg_id      uuid,
  rejection_code     integer,
  rejection_text     text,
  body               jsonb NOT NULL,                          -- the case as submitted: personal data
  client_id          text NOT NULL,
  idempotency_key    text,
  request_sha256     text,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (client_id, idempotency_key)
);
CREATE INDEX cases_by_status ON cases (status);

CREATE TABLE case_event (
  id         bigserial PRIMARY KEY,
  case_id    uuid NOT NULL REFERENCES cases (id),
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,              -- gateway, participant:<org>, client:<id>, admin:<id>
  event      text NOT NULL,
  status_from text,
  status_to  text,
  detail     jsonb NOT NULL DEFAULT '{}'  -- ids and codes only
);
CREATE INDEX case_event_by_case ON case_event (case_id, id);

-- Every package in or out, byte for byte, for evidence.
CREATE TABLE message (
  msg_id        uuid PRIMARY KEY,
  direction     text NOT NULL CHECK (direction IN ('in', 'out')),
  case_id       uuid REFERENCES cases (id),
  peer_org_id   text NOT NULL,
  msg_type      integer NOT NULL,
  ack_type      integer,
  ref_msg_id    uuid,                     -- the message this one answers or acknowledges
  bytes         bytea NOT NULL,
  sha256        text NOT NULL,
  status        text NOT NULL,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  seal_verdict  text,
  error_code    integer,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_by_case ON message (case_id);
CREATE INDEX message_by_ref ON message (ref_msg_id);

CREATE TABLE receipt (
  receipt_msg_id  uuid PRIMARY KEY REFERENCES message (msg_id),
  msg_id          uuid NOT NULL,            -- the message acknowledged
  ack_type        integer NOT NULL,
  reg_number      text,
  reg_date        date,
  error_code      integer,
  error_text      text,
  received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receipt_by_msg ON receipt (msg_id);

-- Events to publish, written in the same transaction as the state they announce.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  exchange     text NOT NULL,
  routing_key  text NOT NULL,
  message_id   text NOT NULL,
  payload      bytea NOT NULL,
  headers      jsonb NOT NULL DEFAULT '{}',
  priority     smallint NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
