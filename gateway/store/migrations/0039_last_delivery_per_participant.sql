-- When a package last reached each participant, on one row a participant (issue 25: WAL a case). The
-- operations gauge vkhid_participant_last_delivered_timestamp_seconds read it as the latest `updated_at`
-- of the participant's sent packages, through message_out_sent (migration 0026): an index entry for
-- every package delivered, written again by the outcome that marked it sent — three a case, for one
-- number a participant. The delivery's outcome now writes that number here, once a transaction for each
-- participant it delivered to (store::noteDelivered), in place.
CREATE TABLE participant_delivery (
  org_id            text PRIMARY KEY,
  last_delivered_at timestamptz NOT NULL
);
COMMENT ON TABLE participant_delivery IS
  'When a package last reached each participant (the gauge vkhid_participant_last_delivered_timestamp_seconds)';

-- The deliveries before the upgrade: one pass over the index, once.
INSERT INTO participant_delivery (org_id, last_delivered_at)
  SELECT peer_org_id, max(updated_at) FROM message WHERE direction = 'out' AND status = 'sent' GROUP BY peer_org_id;

DROP INDEX message_out_sent;
