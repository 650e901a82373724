-- Rules across a product hierarchy: Groceries' 169 items in 55 level-2 and
-- 10 level-1 categories (data/groceries_items.csv, from arules).
CREATE TABLE groceries_items (labels text, level2 text, level1 text);
\copy groceries_items FROM '../../data/groceries_items.csv' WITH (FORMAT csv, HEADER true)
SELECT name FROM rar_register('g_h', 'groceries');
-- Before a hierarchy is named, a level has nothing to read.
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('groceries_items', level => 'level2', tid_column => 'labels', item_column => 'level1')$$);
-- Naming it: checked before it is recorded.
SELECT show_error($$SELECT rar_hierarchy('g_h', 'groceries_items', NULL, 'labels')$$);
SELECT show_error($$SELECT rar_hierarchy('g_h', 'groceries_items', '{level2,NULL}', 'labels')$$);
SELECT show_error($$SELECT rar_hierarchy('g_h', 'groceries_items', '{level2,level2}', 'labels')$$);
SELECT show_error($$SELECT rar_hierarchy('g_h', 'groceries_items', '{level2,nope}', 'labels')$$);
SELECT show_error($$SELECT rar_hierarchy('g_h', 'groceries_items', '{level2,level1}')$$);
SELECT show_error($$SELECT rar_hierarchy('nope', 'groceries_items', '{level2}', 'labels')$$);
SELECT name, hierarchy_table, hierarchy_key, hierarchy_levels
FROM rar_hierarchy('g_h', 'groceries_items', '{level2,level1}', item_key => 'labels');
-- Arguments that do not go together.
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'aisle')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', min_interest => 1.5)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2', min_interest => 1.5)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'all', min_interest => -1)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'all', min_interest => 'NaN')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2', method => 'neural')$$);

-- At a level: the rules of the baskets of labels, exactly as mining a view
-- that joins the lookup (every item has a label, so no basket is lost).
CREATE VIEW g_level2 AS
SELECT DISTINCT g.transaction_id, i.level2 FROM groceries g JOIN groceries_items i ON i.labels = g.item;
SELECT (SELECT count(*) FROM rar_mine('g_h', 0.005, 0.2, level => 'level2')) AS rules,
       (SELECT count(*) FROM (
            SELECT antecedent, consequent, support, confidence, lift, count
            FROM rar_mine('g_h', 0.005, 0.2, level => 'level2')
            EXCEPT SELECT antecedent, consequent, support, confidence, lift, count
            FROM rar_mine('g_level2', 0.005, 0.2, tid_column => 'transaction_id', item_column => 'level2')) d) AS missing_from_view,
       (SELECT count(*) FROM (
            SELECT antecedent, consequent, support, confidence, lift, count
            FROM rar_mine('g_level2', 0.005, 0.2, tid_column => 'transaction_id', item_column => 'level2')
            EXCEPT SELECT antecedent, consequent, support, confidence, lift, count
            FROM rar_mine('g_h', 0.005, 0.2, level => 'level2')) d) AS missing_from_level;
SELECT antecedent, consequent, round(support::numeric, 4) AS support, round(confidence::numeric, 3) AS confidence,
       round(lift::numeric, 2) AS lift, count
FROM rar_mine('g_h', 0.01, 0.3, level => 'level1', max_length => 2) LIMIT 5;

-- Across levels with no interest filter: the rules of the baskets with
-- every ancestor added (as a view builds them), less those holding an item
-- and its own ancestor.
CREATE VIEW g_all AS
SELECT transaction_id, item FROM groceries
UNION SELECT g.transaction_id, 'level2: ' || i.level2 FROM groceries g JOIN groceries_items i ON i.labels = g.item
UNION SELECT g.transaction_id, 'level1: ' || i.level1 FROM groceries g JOIN groceries_items i ON i.labels = g.item;
CREATE TABLE g_ancestor AS
SELECT labels AS item, 'level2: ' || level2 AS ancestor FROM groceries_items
UNION SELECT labels, 'level1: ' || level1 FROM groceries_items
UNION SELECT 'level2: ' || level2, 'level1: ' || level1 FROM groceries_items;
CREATE TEMP TABLE lifted AS
SELECT antecedent, consequent, support, confidence, lift, count
FROM rar_mine('g_h', 0.01, 0.2, max_length => 3, level => 'all', min_interest => 0);
CREATE TEMP TABLE by_view AS
SELECT antecedent, consequent, support, confidence, lift, count
FROM rar_mine('g_all', 0.01, 0.2, max_length => 3, tid_column => 'transaction_id', item_column => 'item') r
WHERE NOT EXISTS (SELECT 1 FROM g_ancestor a
                  WHERE a.item = ANY (r.antecedent || r.consequent) AND a.ancestor = ANY (r.antecedent || r.consequent));
SELECT (SELECT count(*) FROM lifted) AS rules,
       (SELECT count(*) FROM lifted WHERE EXISTS (SELECT 1 FROM unnest(antecedent || consequent) x WHERE x LIKE 'level%')) AS with_a_category,
       (SELECT count(*) FROM (TABLE lifted EXCEPT TABLE by_view) d) AS missing_from_view,
       (SELECT count(*) FROM (TABLE by_view EXCEPT TABLE lifted) d) AS missing_from_lifted;
-- The interest filter (R = 1.1 by default) keeps a subset: the rules that
-- say more than a more general rule predicts (the core's tests check each
-- flag against Srikant and Agrawal's definition).
SELECT (SELECT count(*) FROM rar_mine('g_h', 0.01, 0.2, max_length => 3, level => 'all')) AS interesting,
       (SELECT count(*) FROM rar_mine('g_h', 0.01, 0.2, max_length => 3, level => 'all', min_interest => 2)) AS twice_expected,
       (SELECT count(*) FROM (
            SELECT antecedent, consequent FROM rar_mine('g_h', 0.01, 0.2, max_length => 3, level => 'all')
            EXCEPT SELECT antecedent, consequent FROM lifted) d) AS not_in_unfiltered;
SELECT antecedent, consequent, round(support::numeric, 4) AS support, round(confidence::numeric, 3) AS confidence,
       round(lift::numeric, 2) AS lift
FROM rar_mine('g_h', 0.005, 0.3, max_length => 2, level => 'all') LIMIT 6;

-- A refresh at a level, through the source's defaults; the rule views show it.
SELECT name FROM rar_register('g_h', 'groceries', defaults => '{"level": "level2", "min_support": 0.02, "min_confidence": 0.3}');
CALL rar_refresh('g_h');
SELECT antecedent_text, consequent_text, round(confidence::numeric, 3) AS confidence
FROM rar.rules WHERE source = 'g_h' ORDER BY lift DESC, antecedent_text LIMIT 3;

-- rar_recommend sees a basket as the rules were mined: as level-2
-- categories here, then with its items' ancestors across levels; it never
-- recommends the basket's own items or categories.
SELECT rank, item, round(score::numeric, 3) AS score FROM rar_recommend(ARRAY['whole milk', 'rolls/buns'], 3, source => 'g_h');
SELECT name FROM rar_register('g_h', 'groceries', defaults => '{"level": "all", "min_support": 0.02, "min_confidence": 0.3}');
CALL rar_refresh('g_h');
SELECT rank, item, round(score::numeric, 3) AS score FROM rar_recommend(ARRAY['whole milk', 'rolls/buns'], 3, source => 'g_h');
SELECT count(*) AS own_items_or_categories
FROM rar_recommend(ARRAY['whole milk', 'rolls/buns'], 1000, source => 'g_h') r
WHERE r.item IN (SELECT x FROM groceries_items i,
                 LATERAL (VALUES (i.labels), ('level2: ' || i.level2), ('level1: ' || i.level1)) v(x)
                 WHERE i.labels IN ('whole milk', 'rolls/buns'));
SELECT count(*) > 0 AS recommends FROM rar_recommend(ARRAY['whole milk', 'rolls/buns'], 1000, source => 'g_h');
SELECT name FROM rar_register('g_h', 'groceries', defaults => '{"level": "level2", "min_support": 0.02, "min_confidence": 0.3}');

-- Defaults of the wrong type are refused when registered, not at the
-- first (nightly) refresh.
SELECT show_error($$SELECT rar_register('g_h', 'groceries', defaults => '{"level": "all", "min_interest": "abc"}')$$);
SELECT show_error($$SELECT rar_register('g_h', 'groceries', defaults => '{"level": 2}')$$);

-- A lookup that gives an item two categories is refused, never guessed.
INSERT INTO groceries_items VALUES ('ham', 'pork', 'meat and sausage');
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2')$$);
DELETE FROM groceries_items WHERE labels = 'ham' AND level2 = 'pork';
-- An item named like a category cannot be told apart from it.
CREATE TABLE g_clash AS SELECT * FROM groceries;
INSERT INTO g_clash VALUES (1, 'level1: drinks');
SELECT name FROM rar_register('g_clash', 'g_clash');
SELECT name FROM rar_hierarchy('g_clash', 'groceries_items', '{level2,level1}', 'labels');
SELECT show_error($$SELECT count(*) FROM rar_mine('g_clash', level => 'all')$$);

-- A conflict with a NULL label says NULL, not a label "NULL".
INSERT INTO groceries_items VALUES ('ham', NULL, 'meat and sausage');
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2')$$);
DELETE FROM groceries_items WHERE labels = 'ham' AND level2 IS NULL;
-- Two sources on one table: a table's name is ambiguous, a source's is
-- not; a refresh at a level reads its own source's hierarchy.
SELECT name FROM rar_register('g_h2', 'groceries', defaults => '{"level": "level1", "min_support": 0.05, "min_confidence": 0.3}');
SELECT name FROM rar_hierarchy('g_h2', 'groceries_items', '{level2,level1}', 'labels');
SELECT show_error($$SELECT count(*) FROM rar_mine('groceries', level => 'level2')$$);
CALL rar_refresh('g_h2');
SELECT rules > 0 AS has_rules FROM rar.rule_sets WHERE source = 'g_h2' AND current;
SELECT count(*) AS rules_not_of_level1 FROM rar.rules r
WHERE source = 'g_h2' AND EXISTS (SELECT 1 FROM unnest(r.antecedent || r.consequent) x
                                  WHERE x NOT IN (SELECT level1 FROM groceries_items));
SELECT rar_unregister('g_h2');
-- The catalog row is the owner's to write, but not into a shape that
-- rar_hierarchy refuses (the failing row's DETAIL holds a time: cut).
SELECT split_part(show_error($$UPDATE rar.sources SET hierarchy_levels = '{level2,NULL}' WHERE name = 'g_h'$$), E'\n', 1) AS error;
SELECT split_part(show_error($$UPDATE rar.sources SET hierarchy_key = NULL WHERE name = 'g_h'$$), E'\n', 1) AS error;
SELECT split_part(show_error($$UPDATE rar.sources SET hierarchy_levels = '{level2,all}' WHERE name = 'g_h'$$), E'\n', 1) AS error;
UPDATE rar.sources SET hierarchy_levels = '{level2,level2}' WHERE name = 'g_h';
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2')$$);
SELECT name FROM rar_hierarchy('g_h', 'groceries_items', '{level2,level1}', 'labels');
-- Lookups of the wrong kind are refused when named; a column renamed since
-- is reported with the remedy.
CREATE INDEX groceries_items_labels ON groceries_items (labels);
SELECT show_error($$SELECT rar_hierarchy('g_h', 'groceries_items_labels', '{level2}', 'labels')$$);
DROP INDEX groceries_items_labels;
SELECT show_error($$SELECT rar_hierarchy('g_h', 999999::regclass, '{level2}', 'labels')$$);
ALTER TABLE groceries_items RENAME COLUMN level1 TO top;
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2')$$);
ALTER TABLE groceries_items RENAME COLUMN top TO level1;
-- Levels whose names and labels would make one name across levels.
CREATE TABLE g_nodes (labels text, a text, "a: b" text);
INSERT INTO g_nodes SELECT labels, 'b: c', 'c' FROM groceries_items;
SELECT name FROM rar_hierarchy('g_clash', 'g_nodes', '{a,"a: b"}', 'labels');
SELECT show_error($$SELECT count(*) FROM rar_mine('g_clash', level => 'all')$$);
DROP TABLE g_nodes CASCADE;
SELECT name FROM rar_hierarchy('g_clash', NULL);

-- Rights: only the owner of the table names its hierarchy; mining a level
-- reads the lookup with the caller's rights.
CREATE ROLE rar_test_h;
GRANT SELECT ON groceries TO rar_test_h;
SET ROLE rar_test_h;
SELECT show_error($$SELECT rar_hierarchy('g_h', NULL)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'level2')$$);
RESET ROLE;
-- A superuser (a pg_cron job, say) does not refresh a source whose lookup
-- is a view another role owns: code in it would run as the superuser.
GRANT CREATE ON SCHEMA public TO rar_test_h;
SET ROLE rar_test_h;
CREATE TABLE h_sales (basket int, item text);
INSERT INTO h_sales VALUES (1, 'ham'), (1, 'beef'), (2, 'ham');
CREATE VIEW h_levels AS SELECT 'ham'::text AS item, 'meat'::text AS kind;
SELECT name FROM rar_register('h_s', 'h_sales', defaults => '{"level": "kind", "min_support": 0.1}');
SELECT name FROM rar_hierarchy('h_s', 'h_levels', '{kind}');
RESET ROLE;
SELECT show_error($$CALL rar_refresh('h_s')$$);
SET ROLE rar_test_h;
CALL rar_refresh('h_s');
-- Nor a lookup whose column has a type that role owns (its cast to text
-- could be that role's function).
CREATE TYPE h_kind AS ENUM ('meat', 'fish');
CREATE TABLE h_typed (item text, kind h_kind);
INSERT INTO h_typed VALUES ('ham', 'meat');
SELECT name FROM rar_hierarchy('h_s', 'h_typed', '{kind}');
RESET ROLE;
SELECT split_part(show_error($$CALL rar_refresh('h_s')$$), E'\n', 2) AS detail;
SET ROLE rar_test_h;
CALL rar_refresh('h_s');
SELECT rar_unregister('h_s');
DROP TABLE h_typed;
DROP TYPE h_kind;
DROP VIEW h_levels;
DROP TABLE h_sales;
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM rar_test_h;
-- Removing it; a dropped lookup table is reported as such.
SELECT name, hierarchy_table FROM rar_hierarchy('g_clash', NULL);
SELECT name FROM rar_hierarchy('g_h', 'g_ancestor', '{ancestor}');
DROP TABLE g_ancestor;
SELECT show_error($$SELECT count(*) FROM rar_mine('g_h', level => 'ancestor')$$);
SELECT rar_unregister('g_h'), rar_unregister('g_clash');
DROP TABLE g_clash;
DROP VIEW g_level2, g_all;
DROP TABLE groceries_items;
REVOKE ALL ON groceries FROM rar_test_h;
DROP ROLE rar_test_h;
