-- Channel clients may authenticate with a client certificate (its SHA-256 over DER) instead of a token.
ALTER TABLE api_client ADD COLUMN cert_sha256 text UNIQUE;

-- Participants that declined a case (not in competence): routing never sends it back to them.
ALTER TABLE cases ADD COLUMN declined_by text[] NOT NULL DEFAULT '{}';

-- Where a routing rule came from: 'admin' (vkhid route add) or 'config' (routing.rules_file, replaced
-- as a whole whenever a gateway starts).
ALTER TABLE routing_rule ADD COLUMN source text NOT NULL DEFAULT 'admin';
