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

-- 3. No literal of the extension's PL/pgSQL depends on the session's
-- standard_conforming_strings (PL/pgSQL parses a function's queries at its
-- first call in a session, under the caller's settings): with it off, the
-- pattern of row comparisons' operators in rar.reads_by_reader lost its
-- backslashes and never matched, so a reader of a view that filters by a
-- row comparison of a non-immutable operator was shown its rules (hostile
-- review). The view below filters by such an operator; a reader with SELECT
-- on it may not read its rules, whatever the setting.
CREATE SCHEMA r14s;
GRANT USAGE ON SCHEMA r14s TO PUBLIC;
CREATE FUNCTION r14s.lt(int, int) RETURNS boolean LANGUAGE sql STABLE AS $$SELECT CASE WHEN current_user = 'postgres' THEN $1 < $2 ELSE $1 > $2 END$$;
CREATE FUNCTION r14s.le(int, int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT $1 <= $2';
CREATE FUNCTION r14s.eq(int, int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT $1 = $2';
CREATE FUNCTION r14s.ge(int, int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT $1 >= $2';
CREATE FUNCTION r14s.gt(int, int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT $1 > $2';
CREATE FUNCTION r14s.cmp(int, int) RETURNS int LANGUAGE sql STABLE AS 'SELECT btint4cmp($1, $2)';
CREATE OPERATOR r14s.<<< (LEFTARG = int, RIGHTARG = int, FUNCTION = r14s.lt);
CREATE OPERATOR r14s.<<= (LEFTARG = int, RIGHTARG = int, FUNCTION = r14s.le);
CREATE OPERATOR r14s.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = r14s.eq);
CREATE OPERATOR r14s.>>= (LEFTARG = int, RIGHTARG = int, FUNCTION = r14s.ge);
CREATE OPERATOR r14s.>>> (LEFTARG = int, RIGHTARG = int, FUNCTION = r14s.gt);
CREATE OPERATOR CLASS r14s.by_reader FOR TYPE int USING btree AS
    OPERATOR 1 r14s.<<<, OPERATOR 2 r14s.<<=, OPERATOR 3 r14s.===, OPERATOR 4 r14s.>>=, OPERATOR 5 r14s.>>>,
    FUNCTION 1 r14s.cmp(int, int);
CREATE TABLE r14s.t (order_id int, sku text);
INSERT INTO r14s.t SELECT o, s FROM generate_series(1, 20) o, unnest('{A,B}'::text[]) s;
CREATE VIEW r14s.by_row AS SELECT * FROM r14s.t WHERE (order_id, 0) OPERATOR(r14s.<<<) (10, 1);
CREATE ROLE r14_reader;
GRANT SELECT ON r14s.by_row TO r14_reader;
SELECT name FROM rar_register('r14row', 'r14s.by_row', 'order_id', 'sku', defaults => '{"min_support": 0.3, "max_length": 2}');
CALL rar_refresh('r14row');
\c
SET standard_conforming_strings = off;
SET ROLE r14_reader;
SELECT rar.may_read('r14s.by_row') AS may_read, rar.row_security_below('r14s.by_row') AS filters_by_reader,
       (SELECT count(*) FROM rar.rules WHERE source = 'r14row') AS rules_seen;
RESET ROLE;
RESET standard_conforming_strings;
\c
SET ROLE r14_reader;
SELECT rar.may_read('r14s.by_row') AS may_read, (SELECT count(*) FROM rar.rules WHERE source = 'r14row') AS rules_seen;
RESET ROLE;
-- No PL/pgSQL function of the extension has a backslash outside an E''
-- literal (whose meaning no setting changes).
SELECT p.oid::regprocedure AS backslash_outside_e_literal
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar'
WHERE l.lanname = 'plpgsql'
  AND regexp_replace(p.prosrc, $re$[Ee]'([^'\\]|\\.|'')*'$re$, '', 'g') LIKE $l$%\\%$l$;
SELECT rar_unregister('r14row');
DROP SCHEMA r14s CASCADE;
DROP ROLE r14_reader;

-- 4. A filter on source reaches both branches of rar.rule_graph (over a
-- CTE read by both, PostgreSQL built the graph of every source first).
CREATE FUNCTION public.r14_plan_has(query text, pattern text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line LIKE pattern THEN RETURN true; END IF;
    END LOOP;
    RETURN false;
END $$;
SELECT name FROM rar_register('r14g', 'groceries', 'transaction_id', 'item', defaults => '{"min_support": 0.02, "min_confidence": 0.2}');
CALL rar_refresh('r14g');
SELECT public.r14_plan_has($$SELECT * FROM rar.rule_graph WHERE source = 'r14g'$$, '%CTE%') AS builds_a_cte;
-- Nodes weigh the edges that leave or reach them; edges, their confidence.
SELECT kind, count(*), sum(weight)::numeric(10, 3) AS weight,
       (SELECT count(*) FROM rar.rules WHERE source = 'r14g') AS rules
FROM rar.rule_graph WHERE source = 'r14g' GROUP BY kind ORDER BY kind;
SELECT id, label, weight FROM rar.rule_graph WHERE source = 'r14g' AND kind = 'node' ORDER BY weight DESC, id LIMIT 3;
SELECT rar_unregister('r14g');
DROP FUNCTION public.r14_plan_has(text, text);
