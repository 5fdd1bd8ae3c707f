-- A participant's receipt kept in its own package's row (issue 25: WAL and work a case). A receipt
-- arrives as a package: its row in `message` (direction 'in', ack_type, ref_msg_id = the package it
-- acknowledges) was written, and then the same receipt again as a row of `receipt`, with its key, an
-- index on the acknowledged package and a foreign key to its own row, whose check locked that row
-- (FOR KEY SHARE: a WAL record). Three receipts a case: twelve WAL records and three checks for a copy of
-- what the package's row holds. What the receipt says beyond its kind — a registration's number and
-- date, a rejection's code and text — is a column of the row now (`receipt`, null for every package
-- that is not a receipt recorded as one: a conflicting receipt is kept as evidence only), and `receipt`
-- is a view of those rows with the table's columns, so every reader reads what it read.
ALTER TABLE message ADD COLUMN receipt jsonb;
COMMENT ON COLUMN message.receipt IS
  'A receipt recorded as one: {"reg_number", "reg_date", "error_code", "error_text"} (those it has), and '
  '"received_at" for receipts recorded before migration 0034 when it differs from created_at; null: not a receipt';

-- The receipts recorded so far, moved into their rows (no status changes: no evidence entry is written).
UPDATE message m SET receipt = jsonb_strip_nulls(jsonb_build_object(
    'reg_number', r.reg_number, 'reg_date', r.reg_date, 'error_code', r.error_code, 'error_text', r.error_text,
    'received_at', CASE WHEN r.received_at <> m.created_at THEN r.received_at END))
  FROM receipt r WHERE r.receipt_msg_id = m.msg_id;

DROP TABLE receipt;
-- The acknowledged package is the row's reference (message_by_ref finds a package's receipts).
CREATE VIEW receipt AS
  SELECT msg_id AS receipt_msg_id, ref_msg_id AS msg_id, ack_type, receipt ->> 'reg_number' AS reg_number,
         (receipt ->> 'reg_date')::date AS reg_date, (receipt ->> 'error_code')::integer AS error_code,
         receipt ->> 'error_text' AS error_text,
         coalesce((receipt ->> 'received_at')::timestamptz, created_at) AS received_at
  FROM message WHERE direction = 'in' AND receipt IS NOT NULL;
