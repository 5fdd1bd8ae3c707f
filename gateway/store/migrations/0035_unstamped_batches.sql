-- The batches still waiting for their time-stamp, apart (issue 25: a case's cost must not grow with the
-- data). On every pass, five times a second, the sealer asks which batches wait for their time-stamp and
-- how old the oldest is — and each time it read every batch ever closed. A batch closes at least once a
-- minute while entries come (audit.batch_max_age_ms), so a year holds half a million. This index holds
-- only the few waiting; a batch leaves it when it is stamped.
CREATE INDEX audit_batch_unstamped ON audit_batch (id) WHERE timestamp_token IS NULL;
