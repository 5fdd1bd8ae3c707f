-- A package's delivery claim (queued or waiting_retry -> sending) is no longer an evidence entry (issue 25:
-- 22 entries a case, each a row and its key). The claim is the gateway's own bookkeeping — which process
-- is sending the package now — and says nothing of the exchange: what the package became after it (sent,
-- waiting_retry, dead, or queued again when a sweeper returned a lost claim) is recorded, at its time, as
-- before. The auditor's guide lists the statuses recorded. Three entries a case fewer (one per package),
-- and the trigger is not even called for a claim.
DROP TRIGGER audit_message ON message;
CREATE TRIGGER audit_message AFTER INSERT OR UPDATE OF status ON message
  FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM 'sending') EXECUTE FUNCTION vkhid_audit_message();
