-- Personal accounts for the web console (issue 29, docs/privacy.md): each UCC administrator and auditor
-- signs in as a person, with a password (Argon2id, libsodium's string) and a second factor (TOTP,
-- RFC 6238). An account is an API client of role admin or auditor without a token, so its sessions,
-- its acts' evidence ("admin:<login>") and its revocation work as every client's do; this table holds
-- what signing in needs. The last accepted time step keeps a code from being used twice; failed
-- attempts in a row lock the account for a while.
CREATE TABLE console_account (
  client_id        text PRIMARY KEY REFERENCES api_client (id),
  display_name     text NOT NULL DEFAULT '',
  password_hash    text NOT NULL,
  totp_secret      text NOT NULL,
  totp_last_step   bigint NOT NULL DEFAULT 0,
  failed_attempts  integer NOT NULL DEFAULT 0,
  locked_until     timestamptz,
  password_set_at  timestamptz NOT NULL DEFAULT now(),
  last_signin_at   timestamptz
);

-- A session's end however busy it is (idle time aside): the longest a person stays signed in.
ALTER TABLE console_session ADD COLUMN ends_at timestamptz;

-- A machine client's token rotated with an overlap (`vkhid token rotate --overlap-hours`): the one it
-- replaced keeps working until then, so the client can switch without a gap.
ALTER TABLE api_client ADD COLUMN previous_token_sha256 text UNIQUE;
ALTER TABLE api_client ADD COLUMN previous_expires_at timestamptz;
