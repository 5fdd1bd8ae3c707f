-- The gateway processes that have run against this database: what each is, when it started and when
-- it last reported itself alive. Operators read it to see how many gateways are up; later migrations
-- use the instance name to attribute claimed work.
CREATE TABLE gateway_instance (
  instance      text PRIMARY KEY,
  version       text        NOT NULL,
  host          text        NOT NULL,
  pid           integer     NOT NULL,
  started_at    timestamptz NOT NULL,
  heartbeat_at  timestamptz NOT NULL,
  stopped_at    timestamptz
);
