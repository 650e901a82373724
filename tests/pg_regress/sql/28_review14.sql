-- Fixes of the session of 2026-12-01 (third): what roles other than a
-- superuser pay, and leftovers of earlier reviews.

-- 1. The privilege functions the catalog's policies call (rar.may_read,
-- rar.may_read_rules, rar.reads_by_reader) are PL/pgSQL with a pinned
-- search_path, so that their plans are kept for the session (an SQL
-- function's body was planned again in every statement). A kept plan must
-- not keep an answer: within one session, each read below follows the role,
-- the grant, and row-level security or a security barrier view turned on
-- meanwhile.
SELECT p.oid::regprocedure AS function, l.lanname, p.proconfig
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.oid IN ('rar.may_read(regclass)'::regprocedure, 'rar.may_read_rules(text, regclass)'::regprocedure,
                'rar.reads_by_reader(regclass, boolean)'::regprocedure)
ORDER BY 1::text;
CREATE SCHEMA r14;
CREATE TABLE r14.t (order_id int, sku text);
INSERT INTO r14.t SELECT o, s FROM generate_series(1, 20) o, unnest('{A,B,C}'::text[]) s WHERE o % 3 <> 0 OR s <> 'C';
SELECT name FROM rar_register('r14', 'r14.t', 'order_id', 'sku', defaults => '{"min_support": 0.3, "max_length": 2}');
CALL rar_refresh('r14');
CREATE ROLE r14_bi;
CREATE ROLE r14_app;
CREATE ROLE r14_none;
GRANT USAGE ON SCHEMA r14 TO r14_bi, r14_app, r14_none;
GRANT SELECT ON r14.t TO r14_bi;
SELECT rar_grant('r14', 'r14_app');
CREATE FUNCTION r14.seen() RETURNS text LANGUAGE plpgsql AS $$
DECLARE recommended text;
BEGIN
    BEGIN
        recommended := (SELECT count(*) FROM rar_recommend('{A}', 5, 'r14')) || ' recommended';
    EXCEPTION WHEN insufficient_privilege THEN
        recommended := 'rar_recommend refused';
    END;
    RETURN current_user || ': ' || (SELECT count(*) FROM rar.rules WHERE source = 'r14') || ' rules, '
        || recommended || ', may_read ' || rar.may_read('r14.t') || ', may_read_rules ' || rar.may_read_rules('r14', 'r14.t');
END $$;
-- Each role twice in turn, so that every kept plan is used again by another.
SET ROLE r14_bi; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_app; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_none; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_bi; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_app; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_none; SELECT r14.seen(); RESET ROLE;
-- Row-level security on the table: the role reading it may see part of it,
-- so not its rules; the role granted the rules still sees them.
ALTER TABLE r14.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY part ON r14.t FOR SELECT USING (order_id < 10);
SET ROLE r14_bi; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_app; SELECT r14.seen(); RESET ROLE;
ALTER TABLE r14.t DISABLE ROW LEVEL SECURITY;
SET ROLE r14_bi; SELECT r14.seen(); RESET ROLE;
-- A source over a view: the same, when the view becomes a security barrier.
CREATE VIEW r14.v AS SELECT * FROM r14.t;
GRANT SELECT ON r14.v TO r14_bi;
SELECT name FROM rar_register('r14v', 'r14.v', 'order_id', 'sku', defaults => '{"min_support": 0.3, "max_length": 2}');
CALL rar_refresh('r14v');
SET ROLE r14_bi; SELECT rar.may_read('r14.v') AS may_read_view, count(*) AS rules FROM rar.rules WHERE source = 'r14v'; RESET ROLE;
ALTER VIEW r14.v SET (security_barrier = true);
SET ROLE r14_bi; SELECT rar.may_read('r14.v') AS may_read_view, count(*) AS rules FROM rar.rules WHERE source = 'r14v'; RESET ROLE;
-- Revoked, and granted again, in one session.
REVOKE SELECT ON r14.t FROM r14_bi;
SELECT rar_revoke('r14', 'r14_app');
SET ROLE r14_bi; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_app; SELECT r14.seen(); RESET ROLE;
GRANT SELECT ON r14.t TO r14_bi;
SELECT rar_grant('r14', 'r14_app');
SET ROLE r14_bi; SELECT r14.seen(); RESET ROLE;
SET ROLE r14_app; SELECT r14.seen(); RESET ROLE;
-- The caller's search_path reaches none of their queries (each is planned
-- under pg_catalog, pg_temp): an operator of the caller's schema that
-- would answer true everywhere changes nothing.
CREATE FUNCTION r14.always(oid, oid) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR r14.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = r14.always);
GRANT USAGE ON SCHEMA r14 TO PUBLIC;
SET search_path = r14, pg_catalog, public;
SET ROLE r14_none; SELECT r14.seen(); RESET ROLE;
RESET search_path;
DROP SCHEMA r14 CASCADE;
DROP ROLE r14_bi, r14_app, r14_none;

-- 2. rar_explain: a label holding " and " is quoted in a list of items, and
-- a share that rounds up into the next band is written as that band writes
-- it (0.0999 is 10%, as 0.1 is; 0.000999 is 0.1%).
SELECT rar_explain('{Fish and Chips,Peas}', '{Salt and Vinegar}', 0.0999, 2.0, 0.000999, 1, 1001);
