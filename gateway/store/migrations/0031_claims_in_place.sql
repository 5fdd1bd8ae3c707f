-- A package's delivery claim written in place (issue 25: WAL a case). The claim marked the row
-- `sending`: a change of its status, which the partial indexes of the waiting and the sent packages
-- (migration 0026) name, so every claim wrote a new version of the 2.3 KB row on another page with a new
-- entry in each of the table's indexes — the key, the case, the reference, the waiting — and a lock
-- record before it: five or six WAL records, three times a case. Now the claim sets only who holds it and
-- since when (claimed_by, claimed_at) and counts the attempt; the status stays queued or waiting_retry
-- until the outcome is recorded, and `sending` is read as "queued or waiting_retry, and claimed". No
-- indexed column changes, so PostgreSQL updates the row in place (HOT) when its page has room: the table
-- keeps room for it in each new page (fillfactor 85: a page takes two packages of 2.3 KB, not three, and then
-- has room for one more version; rows already written stay as they are).
-- updated_at stays the time of the last change of status, which the sent packages' index orders by.
ALTER TABLE message ADD COLUMN claimed_at timestamptz;
ALTER TABLE message SET (fillfactor = 85);

-- The status as it is shown (the console's deliveries and a case's packages): `sending` while claimed.
CREATE FUNCTION vkhid_message_status(status text, claimed_by text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE WHEN claimed_by IS NOT NULL AND status IN ('queued', 'waiting_retry') THEN 'sending' ELSE status END;

-- The claims still held (a gateway stopped while sending): kept as claims, so the sweeper returns them
-- and records that, as it would have. Not a change of what the package became, so not evidence.
ALTER TABLE message DISABLE TRIGGER audit_message;
UPDATE message SET status = 'queued', claimed_at = updated_at
 WHERE direction = 'out' AND status = 'sending';
ALTER TABLE message ENABLE TRIGGER audit_message;
-- A claim ended without clearing claimed_by before (a retry kept it): only packages claimed now keep it.
UPDATE message SET claimed_by = NULL
 WHERE direction = 'out' AND status IN ('queued', 'waiting_retry') AND claimed_at IS NULL AND claimed_by IS NOT NULL;

-- A claim's end is evidence as a change of status was: the outcome (sent, waiting_retry, dead) or the
-- sweeper's return (queued) is recorded even when the status it leaves is the one the claim began with
-- (a retry that fails again, a lost claim of a queued package). The claim itself is not (migration 0029).
CREATE OR REPLACE FUNCTION vkhid_audit_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status
     AND NOT (OLD.claimed_by IS NOT NULL AND NEW.claimed_by IS NULL) THEN
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
