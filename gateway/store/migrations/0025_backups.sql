-- Backups (issue 28, docs/operations.md): each `vkhid backup` that finished, so the next one knows from
-- when to export the evidence, and a restore can say which backup it came from. A backup's own row is
-- written after its base backup ends: it is in the next backup, never in its own.
CREATE TABLE backup_run (
  id           bigserial PRIMARY KEY,
  label        text NOT NULL UNIQUE,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  end_lsn      pg_lsn NOT NULL,
  dir          text NOT NULL
);
