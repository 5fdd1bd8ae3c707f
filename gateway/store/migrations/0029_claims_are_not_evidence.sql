-- A package's delivery claim (queued or waiting_retry -> sending) is no longer an evidence entry (issue 25:
-- 22 entries a case, each a row and its key). The claim is the gateway's own bookkeeping — which process
-- is sending the package now — and says nothing of the exchange: what the package became after it (sent,
-- waiting_retry, dead, or queued again when a sweeper returned a lost claim) is recorded, at its time, as
-- before. The auditor's guide lists the statuses recorded. Three entries a case fewer (one per package).
CREATE OR REPLACE FUNCTION vkhid_audit_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NULL;
  END IF;
  IF NEW.status = 'sending' THEN
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
