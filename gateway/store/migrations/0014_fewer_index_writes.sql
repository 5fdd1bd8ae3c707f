-- Rows updated without a new entry in every index of their table (PostgreSQL's heap-only updates: no
-- indexed column changes and the new version fits on the row's page). Counted with the bench's WAL
-- records per case (docs/performance.md, session 9).
--
-- A case's row is updated about seven times in its life (the bench: 10,500 updates for 1,500 cases; its
-- status at every step, its deadline, the participant's number). cases_by_status made each of them a
-- full update — a new entry in all five of the table's indexes, four of them unique and checked. Only
-- the console's case list read through it, when filtered by a rare status; that list has no index for
-- its order (deadline first) and reads every matching case anyway, so filtered it now costs what the
-- unfiltered list always did. Everything else finds a case by id, number or tracking code. Without
-- it, and with room left on each page for the next versions, the updates stay on the page and touch
-- no index.
DROP INDEX IF EXISTS cases_by_status;
ALTER TABLE cases SET (fillfactor = 70);

-- An evidence entry's batch is the batch whose seq range holds it (migration 0013): batch_id repeated
-- that range in every entry, written by a second full update of every entry when its batch closed
-- (its heap row and three index entries). Readers take the batch from the range.
ALTER TABLE audit_entry DROP COLUMN IF EXISTS batch_id;
CREATE UNIQUE INDEX audit_batch_last_seq ON audit_batch (last_seq);

-- The entry's time in a B-tree: two index entries per entry (written, then chained), and no query reads
-- through it (an export finds its batches through seq). Entries are written in time order, so a BRIN
-- index (one summary per range of pages) serves a search by time at almost no cost per entry.
DROP INDEX IF EXISTS audit_entry_at;
CREATE INDEX audit_entry_at ON audit_entry USING brin (at);
