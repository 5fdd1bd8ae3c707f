-- The evidence log (DESIGN §10). Every package in or out, every case state change (including timers
-- that fired) and every administrative act appends an entry in the same transaction as the change,
-- by the triggers below: ids and digests only, never personal data. A gateway then chains settled
-- entries (seq, prev_hash, entry_hash), closes batches (a Merkle root over their entry hashes, signed
-- with the seal key) and time-stamps each root (RFC 3161).
CREATE TABLE audit_entry (
  id              bigserial PRIMARY KEY,
  xid             xid8 NOT NULL DEFAULT pg_current_xact_id(),   -- chained once no older transaction runs
  at              timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor           text NOT NULL,
  action          text NOT NULL,
  subject         text NOT NULL,   -- ids: case, message, participant, client
  payload_sha256  text NOT NULL,   -- the package's SHA-256, or of the recorded detail
  seq             bigint UNIQUE,   -- position in the chain
  prev_hash       text,
  entry_hash      text,
  batch_id        bigint
);
CREATE INDEX audit_entry_unchained ON audit_entry (id) WHERE seq IS NULL;
CREATE INDEX audit_entry_unbatched ON audit_entry (seq) WHERE batch_id IS NULL;
CREATE INDEX audit_entry_at ON audit_entry (at);
CREATE INDEX audit_entry_batch ON audit_entry (batch_id);

CREATE TABLE audit_batch (
  id               bigserial PRIMARY KEY,
  first_seq        bigint NOT NULL,
  last_seq         bigint NOT NULL,
  entries          integer NOT NULL,
  root             text NOT NULL,      -- hex, Merkle root over the entry hashes
  signature        bytea NOT NULL,     -- CMS (CAdES-BES) by the seal key over the 32 root bytes
  timestamp_token  bytea,              -- RFC 3161 TimeStampResp over the root; NULL until stamped
  closed_at        timestamptz NOT NULL DEFAULT now(),
  stamped_at       timestamptz,
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text
);

-- Who acts: a transaction sets vkhid.actor (SET LOCAL) for administrative acts; else the gateway.
CREATE FUNCTION vkhid_audit_actor() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(NULLIF(current_setting('vkhid.actor', true), ''), 'gateway')
$$;

CREATE FUNCTION vkhid_audit_digest(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(coalesce(t, ''), 'UTF8')), 'hex')
$$;

CREATE FUNCTION vkhid_audit_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NULL;
  END IF;
  INSERT INTO audit_entry (actor, action, subject, payload_sha256)
  VALUES (CASE WHEN NEW.direction = 'in' AND TG_OP = 'INSERT' THEN 'participant:' || NEW.peer_org_id
               ELSE vkhid_audit_actor() END,
          'message.' || NEW.direction || '.' || NEW.status,
          'msg:' || NEW.msg_id || ' case:' || coalesce(NEW.case_id::text, '-') || ' peer:' || NEW.peer_org_id ||
          ' type:' || NEW.msg_type || coalesce(' ack:' || NEW.ack_type, '') || coalesce(' code:' || NEW.error_code, ''),
          NEW.sha256);
  RETURN NULL;
END $$;
CREATE TRIGGER audit_message AFTER INSERT OR UPDATE OF status ON message
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_message();

CREATE FUNCTION vkhid_audit_case_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_entry (actor, action, subject, payload_sha256)
  VALUES (NEW.actor, 'case.' || NEW.event,
          'case:' || NEW.case_id || ' ' || coalesce(NEW.status_from, '') || '>' || coalesce(NEW.status_to, ''),
          vkhid_audit_digest(NEW.detail::text));
  RETURN NULL;
END $$;
CREATE TRIGGER audit_case_event AFTER INSERT ON case_event FOR EACH ROW EXECUTE FUNCTION vkhid_audit_case_event();

-- Administrative records: participants, endpoints, routing rules, API clients.
CREATE FUNCTION vkhid_audit_admin() RETURNS trigger LANGUAGE plpgsql AS $$
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
    ELSE TG_TABLE_NAME END;
  INSERT INTO audit_entry (actor, action, subject, payload_sha256)
  VALUES (vkhid_audit_actor(), TG_TABLE_NAME || '.' || lower(TG_OP), subject, vkhid_audit_digest(j::text));
  RETURN NULL;
END $$;
CREATE TRIGGER audit_participant AFTER INSERT OR UPDATE OR DELETE ON participant
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_admin();
CREATE TRIGGER audit_endpoint AFTER INSERT OR UPDATE OR DELETE ON endpoint
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_admin();
CREATE TRIGGER audit_routing_rule AFTER INSERT OR UPDATE OR DELETE ON routing_rule
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_admin();
CREATE TRIGGER audit_api_client AFTER INSERT OR UPDATE OR DELETE ON api_client
  FOR EACH ROW EXECUTE FUNCTION vkhid_audit_admin();
