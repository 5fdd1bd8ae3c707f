-- UCC numbers from a sequence per year instead of a counter row. The row was locked from the first
-- statement of every registration to its commit, so intake ran one registration at a time (measured
-- by `vkhid bench`: most waits in pg_stat_activity were on it). A sequence never blocks; the price is
-- that a registration that fails after taking its number leaves a gap. Numbers never repeat.
CREATE FUNCTION ucc_next_number(y integer) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN nextval(format('ucc_number_%s', y));
EXCEPTION WHEN undefined_table THEN
  -- The first registration of a year. Two at once: one creates, the other finds it.
  BEGIN
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS ucc_number_%s', y);
  EXCEPTION WHEN unique_violation OR duplicate_table THEN
    NULL;
  END;
  RETURN nextval(format('ucc_number_%s', y));
END $$;

-- Years already counted go on from their last number.
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT year, last FROM ucc_number_counter LOOP
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS ucc_number_%s', r.year);
    PERFORM setval(format('ucc_number_%s', r.year), r.last);
  END LOOP;
END $$;
