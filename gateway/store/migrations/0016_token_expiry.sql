-- Bearer tokens expire (issue 21): a token issued from now on is valid until expires_at (`vkhid token
-- issue --valid-days`, 365 by default); NULL, as for the tokens issued before, never expires until
-- revoked (`vkhid token revoke`). A client certificate's own validity bounds it instead.
ALTER TABLE api_client ADD COLUMN expires_at timestamptz;
