-- Personal data encrypted at rest (issue 29, docs/privacy.md). Each sealed value is AES-256-GCM under a
-- data key; the data keys are here, each wrapped (AES-256-GCM) by a master key kept outside the
-- database (a file the operator provides), whose id is recorded. A value names its data key by id.
--   purpose 'data': one per calendar month (UTC) of the values it seals, so a month due for erasure can
--     be destroyed whole by dropping its key (wrapped set to NULL, destroyed_at set);
--   purpose 'index': the key of the keyed hashes (HMAC-SHA-256) that repeat detection compares.
CREATE TABLE data_key (
  id             integer PRIMARY KEY,
  purpose        text NOT NULL CHECK (purpose IN ('data', 'index')),
  month          date,
  wrapped        bytea,
  master_key_id  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  rewrapped_at   timestamptz,
  retired_at     timestamptz,  -- `vkhid keys reencrypt` made a new key for its month; it opens, seals no more
  destroyed_at   timestamptz,
  CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL)),
  CHECK ((purpose = 'data') = (month IS NOT NULL))
);
-- One key per month seals (rotation re-wraps it; re-encryption retires it for a new one and moves the
-- month's values to that), and one index key.
CREATE UNIQUE INDEX data_key_month ON data_key (month) WHERE purpose = 'data' AND retired_at IS NULL
  AND destroyed_at IS NULL;
CREATE UNIQUE INDEX data_key_index ON data_key (purpose) WHERE purpose = 'index';

-- cases.body keeps what reports, routing and the console read and names no one (vkhid_kept_body); the
-- case as submitted is cases.personal, sealed. contact_keys: keyed hashes of the applicant's e-mail,
-- phone and address, which repeat detection compares; applicant_key becomes a keyed hash of the name.
ALTER TABLE cases ADD COLUMN personal bytea;
ALTER TABLE cases ADD COLUMN contact_keys text[];

CREATE FUNCTION vkhid_kept_body(body jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(body) WHERE key IN ('kind',
          'classification', 'channel', 'received_at', 'urgency', 'priority', 'no_further_study', 'addressee_org_id',
          'complained_of_org_id', 'handling_minutes', 'deadlines', 'consent'))
      || jsonb_build_object('applicant', jsonb_build_object(
             'anonymous', coalesce(body->'applicant'->'anonymous', 'false'::jsonb),
             'collective', coalesce(body->'applicant'->'collective', 'false'::jsonb)),
           'violence', jsonb_build_object(
             'forms', coalesce(body->'violence'->'forms', '[]'::jsonb),
             'child_involved', coalesce(body->'violence'->'child_involved', 'false'::jsonb)))
$$;

CREATE SEQUENCE data_key_id AS integer;

-- The data key id a sealed value names ("vk1" or "vk2" || id, 4 bytes big-endian || …); NULL for
-- anything else.
CREATE FUNCTION vkhid_sealed_key(v bytea) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN length(v) >= 35 AND substring(v FROM 1 FOR 2) = '\x766b'::bytea
    THEN (get_byte(v, 3) << 24) | (get_byte(v, 4) << 16) | (get_byte(v, 5) << 8) | get_byte(v, 6) END
$$;

-- Which values a data key seals: what `vkhid keys reencrypt` moves, and what must be gone before a
-- month's key is destroyed. BRIN: rows are written in the order of their months' keys, so a range
-- summary finds them, and it costs the exchange almost nothing to keep (a B-tree entry per row would).
CREATE INDEX cases_sealed_key ON cases USING brin (vkhid_sealed_key(personal));
CREATE INDEX message_sealed_key ON message USING brin (vkhid_sealed_key(bytes));

-- Sign-in with the national ID (id.gov.ua): the keyed hash of the РНОКПП an administrator bound to a
-- person's account (vkhid account bind-id); never the number itself.
ALTER TABLE console_account ADD COLUMN national_id_key text UNIQUE;
