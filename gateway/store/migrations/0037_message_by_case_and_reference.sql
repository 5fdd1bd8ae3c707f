-- A package's rows found by their case and by what they refer to through one index (issue 25: WAL and
-- work a case). `message_by_case` (case_id) and `message_by_ref` (ref_msg_id) each took an entry for
-- every row a case writes, and again each time a row left its page: nine entries a case in the second
-- alone. A row that refers to a package belongs to that package's case — a participant's receipt is
-- recorded with the case of our package it acknowledges, our receipt with the case of the participant's
-- package (or, both, with none) — so every lookup by reference knows the case, or knows there is none,
-- and is a lookup of (case_id, ref_msg_id): a case's rows are one range of this index, a package's
-- replies a few entries within it.
CREATE INDEX message_by_case_ref ON message (case_id, ref_msg_id);
DROP INDEX message_by_case;
DROP INDEX message_by_ref;

-- The receipts with their case, so that a package's receipts are asked for by both.
CREATE OR REPLACE VIEW receipt AS
  SELECT msg_id AS receipt_msg_id, ref_msg_id AS msg_id, ack_type, receipt ->> 'reg_number' AS reg_number,
         (receipt ->> 'reg_date')::date AS reg_date, (receipt ->> 'error_code')::integer AS error_code,
         receipt ->> 'error_text' AS error_text,
         coalesce((receipt ->> 'received_at')::timestamptz, created_at) AS received_at, case_id
  FROM message WHERE direction = 'in' AND receipt IS NOT NULL;
