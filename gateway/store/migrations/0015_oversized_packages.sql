-- A package refused as over the size limit (code 102) is kept only as its first 4 KiB, with the SHA-256
-- and size of the whole (issue 21, W7: 17 such packages had kept 182 MB). `bytes_cut` marks those rows;
-- the evidence export writes their bytes as packages/<msg_id>.head, which the verifier takes for what
-- it is. Every other package is kept whole, as before.
ALTER TABLE message ADD COLUMN size_bytes bigint;
ALTER TABLE message ADD COLUMN bytes_cut boolean NOT NULL DEFAULT false;
