-- Fewer index entries a case writes (issue 25: 280 WAL records a case, most of them index entries; each
-- new row version of a table writes one entry in each of its indexes).
--
-- A case's events and timers are read by their case. Each table had two b-trees — its id's primary key
-- and the case's index — and every row version wrote both. One key (case_id, id) serves both: unique as
-- the id alone was, and ordered within a case by id as case_event_by_case was. Nothing refers to either
-- table's id, and nothing looks one up alone.
ALTER TABLE case_event DROP CONSTRAINT case_event_pkey;
ALTER TABLE case_event ADD CONSTRAINT case_event_pkey PRIMARY KEY (case_id, id);
DROP INDEX case_event_by_case;

ALTER TABLE timer DROP CONSTRAINT timer_pkey;
ALTER TABLE timer ADD CONSTRAINT timer_pkey PRIMARY KEY (case_id, id);
DROP INDEX timer_by_case;

-- The same column as message_by_ref, for the inbound rows alone: message_by_ref finds them as well (a
-- package has a handful of rows that refer to it), and each inbound row wrote both.
DROP INDEX message_in_by_ref;
-- Every lookup by reference names one (ref_msg_id = $1). An appeal and an answer refer to nothing, and
-- the appeal's row is written three times (queued, sending, sent): none of those needs an entry.
DROP INDEX message_by_ref;
CREATE INDEX message_by_ref ON message (ref_msg_id) WHERE ref_msg_id IS NOT NULL;
