-- The open-case trigger without WHEN conditions again (issue 25: CPU a case). Migration 0041 put the
-- trigger function's decision into three triggers' WHEN clauses, so that PostgreSQL would not call the
-- function for the five changes of a case in seven that neither open nor settle it nor move its term.
-- It counted the calls saved and not what the conditions cost: PostgreSQL prepares a trigger's WHEN
-- for every statement that fires it, and preparing inlines each SQL function the condition calls —
-- vkhid_case_is_open three times, each with vkhid_case_settled inside — read from the catalogue anew.
-- Measured alone (pgbench, a transaction of 50 one-row updates of a table like `cases`, 2026-12-07):
-- an update with those conditions took 65-70 µs more than one without a trigger; the same trigger
-- without conditions, whose function decides and does nothing, 8 µs more. In `vkhid bench` the
-- conditions' preparation was 5 % of PostgreSQL's backends' CPU (perf, `eval_const_expressions` under
-- `ExecARUpdateTriggers`), six updates a case.
--
-- One trigger, as before migration 0041; the function (migration 0038) decides every change as it did.
-- Only the columns it reads fire it. Test a_triggers_condition_calls_no_function keeps every trigger's
-- WHEN free of function calls.
DROP TRIGGER track_open_case_insert ON cases;
DROP TRIGGER track_open_case_delete ON cases;
DROP TRIGGER track_open_case_update ON cases;
CREATE TRIGGER track_open_case AFTER INSERT OR DELETE OR UPDATE OF status, due_at, channel ON cases
  FOR EACH ROW EXECUTE FUNCTION vkhid_track_open_case();
