-- The law's workflow (issue 30): likely repeat appeals and mass appeals found at intake.
-- applicant_key: SHA-256 (hex) of a named applicant's normalised full name, never the name itself; with
--   the topic and a contact it finds an earlier appeal of the same person (Law 393 art. 8: a repeat on
--   a question already decided is not considered). NULL for an anonymous applicant.
-- repeat_of: the earlier case a new appeal likely repeats — offered to the UCC, which decides.
-- text_hash: SHA-256 (hex) of an appeal's normalised text, for texts long enough to tell a campaign from
--   a coincidence; NULL otherwise.
-- merged_into: a mass appeal's member (the same text from another applicant) joins the first case of the
--   group, which is answered once for all (the resolution's п. 4).
ALTER TABLE cases ADD COLUMN applicant_key text;
ALTER TABLE cases ADD COLUMN repeat_of uuid REFERENCES cases (id);
ALTER TABLE cases ADD COLUMN text_hash text;
ALTER TABLE cases ADD COLUMN merged_into uuid REFERENCES cases (id);
CREATE INDEX cases_by_applicant_key ON cases (applicant_key, received_at) WHERE applicant_key IS NOT NULL;
CREATE INDEX cases_by_text_hash ON cases (text_hash, received_at) WHERE text_hash IS NOT NULL;
CREATE INDEX cases_merged_into ON cases (merged_into) WHERE merged_into IS NOT NULL;
