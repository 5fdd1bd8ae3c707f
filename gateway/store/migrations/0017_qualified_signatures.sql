-- Qualified signatures are verified (issue 13): DSTU 4145, ECDSA and RSA attachment signatures are
-- checked, so the switch that let DSTU ones in unchecked goes. A participant whose onboarding pins a
-- trust list of its own keeps it here, as published (a PKCS#7 bundle or certificates); NULL: the
-- gateway's trust.qualified_lists. Each received package keeps the verdict its attachment signatures
-- got on arrival — signer, provider, key, state, and the time they were judged at — for the console,
-- the answer API and the auditor.
ALTER TABLE participant DROP COLUMN accept_unsupported_signatures;
ALTER TABLE participant ADD COLUMN trust_list bytea;
ALTER TABLE message ADD COLUMN signatures jsonb;
