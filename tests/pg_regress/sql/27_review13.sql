-- Fixes of the second session of 2026-12-01 (leftovers of earlier reviews,
-- and the reviews of this session).

-- 1. rar_tune: a value given twice for one key is one trial, not two.
SELECT count(*) AS trials FROM rar_tune_plan('{"hidden": [8, 8, 16], "epochs": [1, 1]}');
SELECT count(*) AS trials FROM rar_tune_plan('{"hidden": [8, 8, 16], "epochs": [1, 1]}', 'random', 10);

-- 2. Labels (a review from a BI tool's side): a blank label shows the item
-- itself, labels are trimmed, and a label holding a comma is quoted in the
-- explanation as in antecedent_text.
CREATE SCHEMA r13;
CREATE TABLE r13.lab (order_id int, sku text, name text);
INSERT INTO r13.lab
SELECT o, s, CASE s WHEN 'A' THEN 'Apple, red' WHEN 'B' THEN NULL WHEN 'D' THEN E' \t\n ' ELSE '  spaced  ' END
FROM generate_series(1, 20) o, unnest('{A,B,D,E}'::text[]) s
WHERE o % 4 <> 0 OR s <> 'E';
SELECT name FROM rar_register('r13lab', 'r13.lab', 'order_id', 'sku', label_column => 'name',
                              defaults => '{"min_support": 0.3, "max_length": 2}');
CALL rar_refresh('r13lab');
SELECT antecedent, consequent, antecedent_labels, consequent_labels, antecedent_text, explanation
FROM rar.rules WHERE source = 'r13lab' AND antecedent = '{A}' ORDER BY consequent;

-- 3. rar_explain never rounds a share that is not all to 100%, nor a tiny
-- one to a row of zeros.
SELECT rar_explain('{a}', '{b}', 0.999, 1.0, 0.999, 999, 1000);
SELECT rar_explain('{a}', '{b}', 1e-300, 1e-300, 1e-300, 0, 1000);

-- 4. The rules of a source are looked up through the index on the
-- antecedent's hash by a role under the catalog's row-level security too
-- (hashtextextended on the key is not leakproof: it could not be used
-- before the policy passed each row, and every rule of the set was read).
-- A set of 3,540 rules, with statistics, so that the planner weighs it.
CREATE TABLE r13.big (order_id int, sku text);
INSERT INTO r13.big SELECT o, 'i' || i FROM generate_series(1, 10) o, generate_series(1, 60) i;
SELECT name FROM rar_register('r13big', 'r13.big', 'order_id', 'sku', defaults => '{"min_support": 0.5, "max_length": 2}');
CALL rar_refresh('r13big');
ANALYZE rar.rule_store;
CREATE ROLE r13_app;
GRANT USAGE ON SCHEMA r13 TO r13_app;
SELECT rar_grant('r13lab', 'r13_app'), rar_grant('r13big', 'r13_app');
CREATE FUNCTION r13.lookup_plan(keys text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    conds text := '';
BEGIN
    FOR line IN EXECUTE format(
        'EXPLAIN (COSTS OFF) SELECT r.consequent FROM rar.rule_store r '
        'WHERE r.set_id = (SELECT max(set_id) FROM rar.rule_sets WHERE source = %L) '
        'AND r.antecedent_hash = ANY (ARRAY(SELECT pg_catalog.hashtextextended(k, 0) FROM unnest(%L::text[]) k)) '
        'AND r.antecedent_key = ANY (%L::text[])', 'r13big', keys, keys) LOOP
        IF line LIKE '%Index Cond%' THEN
            conds := conds || btrim(line);
        END IF;
    END LOOP;
    RETURN conds;
END $$;
SET ROLE r13_app;
SELECT count(*) AS rules_seen FROM rar.rules WHERE source = 'r13big';
SELECT r13.lookup_plan(ARRAY[rar.rule_key('{i1}')]) LIKE '%antecedent_hash%' AS hash_in_index_cond;
SELECT count(*) AS recommended FROM rar_recommend('{i1}', 5, 'r13big');
SELECT item FROM rar_recommend('{A}', 2, 'r13lab') ORDER BY rank;
RESET ROLE;
-- The policy's answer is kept for one statement only, also where a PL/pgSQL
-- expression keeps its state for the whole transaction.
CREATE FUNCTION r13.can_read(bigint) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN RETURN rar.may_read_set($1); END$$;
BEGIN;
SELECT max(set_id) AS big_set FROM rar.rule_sets WHERE source = 'r13big' \gset
SET LOCAL ROLE r13_app;
SELECT r13.can_read(:big_set) AS granted;
RESET ROLE;
SELECT rar_revoke('r13big', 'r13_app');
SET LOCAL ROLE r13_app;
SELECT r13.can_read(:big_set) AS after_revoke;
ROLLBACK;

-- 4b. CALL rar_refresh checks its thresholds first, with rar_mine's
-- messages: the error's CONTEXT is one line, not the refresh's statements.
CALL rar_refresh('r13big', min_support => 0);
CALL rar_refresh('r13big', min_confidence => 'NaN');

-- 5. The rules of a source whose table, or label table, was dropped are
-- shown to no one, the roles it was granted to included.
CREATE TABLE r13.names (sku text, name text);
INSERT INTO r13.names VALUES ('i1', 'one'), ('i2', 'two');
SELECT name FROM rar_register('r13big', 'r13.big', 'order_id', 'sku', label_column => 'name', label_table => 'r13.names',
                              defaults => '{"min_support": 0.5, "max_length": 2}');
CALL rar_refresh('r13big');
SET ROLE r13_app;
SELECT count(*) AS rules_seen FROM rar.rules WHERE source = 'r13big';
RESET ROLE;
DROP TABLE r13.names;
SET ROLE r13_app;
SELECT count(*) AS rules_seen_after_label_drop FROM rar.rules WHERE source = 'r13big';
RESET ROLE;
DROP TABLE r13.lab;
SET ROLE r13_app;
SELECT count(*) AS rules_seen_after_drop FROM rar.rules WHERE source = 'r13lab';
RESET ROLE;
SELECT rar_unregister('r13lab'), rar_unregister('r13big');
DROP SCHEMA r13 CASCADE;
DROP ROLE r13_app;
