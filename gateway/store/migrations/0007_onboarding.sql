-- Participant onboarding (issue 7): the memorandum, contacts, registered certificates with rotation,
-- connectivity checks, and the lifecycle draft -> pending_check -> active <-> suspended -> retired.
ALTER TABLE participant ADD COLUMN full_name text NOT NULL DEFAULT '';
ALTER TABLE participant ADD COLUMN short_name text NOT NULL DEFAULT '';
ALTER TABLE participant ADD COLUMN memorandum_number text NOT NULL DEFAULT '';
ALTER TABLE participant ADD COLUMN memorandum_date date;
ALTER TABLE participant ADD COLUMN contacts jsonb NOT NULL DEFAULT '[]';  -- [{name, email, phone, role}]
ALTER TABLE participant ADD COLUMN status_reason text;
ALTER TABLE participant ADD COLUMN checked_at timestamptz;                -- the last passed check
ALTER TABLE participant ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();  -- endpoints, certificates
ALTER TABLE participant ALTER COLUMN status SET DEFAULT 'draft';

-- Certificates registered for a participant. Seal certificates pin inbound signatures: when a
-- participant has any, its seal must be by one of them (within its registration window).
CREATE TABLE participant_cert (
  id            bigserial PRIMARY KEY,
  org_id        text NOT NULL REFERENCES participant (org_id),
  purpose       text NOT NULL CHECK (purpose IN ('seal', 'tls')),
  pem           text NOT NULL,
  sha256        text NOT NULL,
  subject       text NOT NULL,
  not_after     timestamptz NOT NULL,
  added_at      timestamptz NOT NULL DEFAULT now(),
  retire_after  timestamptz,          -- rotated out: still accepted for inbound until then
  warned_30     boolean NOT NULL DEFAULT false,
  warned_7      boolean NOT NULL DEFAULT false,
  UNIQUE (org_id, sha256)
);

CREATE TABLE participant_check (
  id       bigserial PRIMARY KEY,
  org_id   text NOT NULL REFERENCES participant (org_id),
  at       timestamptz NOT NULL DEFAULT now(),
  passed   boolean NOT NULL,
  report   jsonb NOT NULL
);

-- Inbound refusals keep what they referred to, so a check can find a badly signed receipt.
CREATE INDEX message_in_by_ref ON message (ref_msg_id) WHERE direction = 'in';

-- The evidence log records these administrative acts too.
CREATE OR REPLACE FUNCTION vkhid_audit_admin() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  j jsonb;
  subject text;
BEGIN
  IF TG_OP = 'DELETE' THEN j := to_jsonb(OLD); ELSE j := to_jsonb(NEW); END IF;
  subject := CASE TG_TABLE_NAME
    WHEN 'participant' THEN 'participant:' || (j->>'org_id') || ' status:' || (j->>'status')
    WHEN 'endpoint' THEN 'participant:' || (j->>'org_id') || ' endpoint:' || (j->>'id') || ' adapter:' || (j->>'adapter')
    WHEN 'routing_rule' THEN 'route:' || (j->>'id') || ' target:' || (j->>'target_org_id')
    WHEN 'api_client' THEN 'client:' || (j->>'id') || ' role:' || (j->>'role')
    WHEN 'participant_cert' THEN 'participant:' || (j->>'org_id') || ' cert:' || (j->>'sha256') || ' purpose:' ||
                                 (j->>'purpose')
    WHEN 'participant_check' THEN 'participant:' || (j->>'org_id') || ' check:' || (j->>'id') || ' passed:' ||
                                  (j->>'passed')
    ELSE TG_TABLE_NAME END;
  INSERT INTO audit_entry (actor, action, subject, payload_sha256)
  VALUES (vkhid_audit_actor(), TG_TABLE_NAME || '.' || lower(TG_OP), subject, vkhid_audit_digest(j::text));
  RETURN NULL;
END $$;
CREATE TRIGGER audit_participant_cert AFTER INSERT OR UPDATE OR DELETE ON participant_cert
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_admin();
CREATE TRIGGER audit_participant_check AFTER INSERT ON participant_check
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_admin();
