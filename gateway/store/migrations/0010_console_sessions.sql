-- The web console (issue 11). A client may see restricted cases (violence, trafficking) only when it is
-- granted so by name; no role implies it. Console sessions: the browser holds a random id in an
-- HttpOnly cookie, the database its SHA-256, so a leaked table opens no session. Each change must carry
-- the session's CSRF token in a header.
ALTER TABLE api_client ADD COLUMN restricted_access boolean NOT NULL DEFAULT false;

CREATE TABLE console_session (
  id_sha256          text PRIMARY KEY,
  client_id          text NOT NULL REFERENCES api_client (id),
  role               text NOT NULL,
  restricted_access  boolean NOT NULL,
  csrf               text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  last_seen_at       timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz NOT NULL
);
CREATE INDEX console_session_expiry ON console_session (expires_at);

-- A person's hand on a case (issue 11): the participant an administrator sends it to (routing takes it
-- once, before any rule), and a mark for review with its note.
ALTER TABLE cases ADD COLUMN route_to text REFERENCES participant (org_id);
ALTER TABLE cases ADD COLUMN review_note text;
ALTER TABLE cases ADD COLUMN review_at timestamptz;
