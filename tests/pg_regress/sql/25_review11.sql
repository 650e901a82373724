-- Fixes of the ninth session of 2026-11-30 (a fuzzing review of every
-- function's arguments: no crash and no XX000 found; these are the
-- refusals and answers it found wrong or unhelpful).
CREATE SCHEMA r11;

-- 1. A basket-form table keyed by an id: a row whose array is empty is a
-- basket with no item, counted in the number of baskets (arules counts an
-- empty transaction), keyed or not; a NULL array is no basket.
CREATE TABLE r11.carts (cart_id int, items text[]);
INSERT INTO r11.carts VALUES (1, '{a,b}'), (2, '{}'), (3, '{}'), (4, '{a}'), (5, NULL);
SELECT antecedent, consequent, support, confidence, count FROM rar_mine('r11.carts', 0.1, 0.0) ORDER BY 1, 2;
SELECT rar_profile('r11.carts') ->> 'baskets' AS baskets;
CREATE TABLE r11.carts_unkeyed AS SELECT items FROM r11.carts;
SELECT rar_profile('r11.carts_unkeyed') ->> 'baskets' AS baskets_unkeyed;
-- The same id in several rows is one basket; an empty row adds nothing to it.
INSERT INTO r11.carts VALUES (4, '{}'), (1, '{c}');
SELECT antecedent, consequent, support, count FROM rar_mine('r11.carts', 0.1, 0.0, max_length => 2)
WHERE consequent = '{c}' ORDER BY 1;

-- 2. rar_clean: an empty pattern would remove every line (refused before
-- any work); a pattern PostgreSQL cannot compile keeps its error and gets
-- a HINT.
CREATE TABLE r11.lines (invoice_no text, stock_code text, quantity int);
INSERT INTO r11.lines SELECT (g / 5)::text, 'item' || (g % 7), 1 FROM generate_series(1, 300) g;
SELECT * FROM rar_clean('r11.lines', cancelled_basket_pattern => '');
SELECT * FROM rar_clean('r11.lines', placeholder_pattern => '');
SELECT * FROM rar_clean('r11.lines', cancelled_basket_pattern => '(', dry_run => true);
SELECT * FROM rar_clean('r11.lines', placeholder_pattern => '[', dry_run => true);
SELECT count(*) AS lines_kept FROM r11.lines;
-- A valid pattern still works.
SELECT step, action, rows FROM rar_clean('r11.lines', cancelled_basket_pattern => '^5', dry_run => true)
WHERE step = 'cancelled_basket';

-- 3. Mining defaults: a key set to null is rar's own default (left out of
-- the stored row); a row written straight into rar.sources is checked at
-- each refresh, with the register's messages.
CREATE TABLE r11.g (transaction_id int, item text);
INSERT INTO r11.g SELECT g % 100, 'i' || (g % 13) FROM generate_series(1, 2000) g;
SELECT name, defaults FROM rar_register('r11_null', 'r11.g', defaults => '{"min_support": null, "min_confidence": 0.9}');
CALL rar_refresh('r11_null');
SELECT params ->> 'min_support' AS min_support, params ->> 'min_confidence' AS min_confidence
FROM rar.rule_sets WHERE source = 'r11_null';
UPDATE rar.sources SET defaults = '{"min_support": "abc"}' WHERE name = 'r11_null';
CALL rar_refresh('r11_null');
UPDATE rar.sources SET defaults = '{"min_supp": 0.1}' WHERE name = 'r11_null';
CALL rar_refresh('r11_null');
UPDATE rar.sources SET defaults = '{"min_support": 7}' WHERE name = 'r11_null';
CALL rar_refresh('r11_null');
SELECT rar.check_defaults('{"min_support": 0.02, "level": null}');
-- What a refresh would refuse (rar_mine's own checks) is refused here already.
SELECT rar.check_defaults('{"min_support": 1e-400}');
SELECT rar.check_defaults('{"min_lift": 1e400}');
SELECT rar.check_defaults('{"max_length": 33}');
SELECT rar.check_defaults('{"max_length": 1}');
SELECT rar.check_defaults('{"min_interest": 1}');
SELECT rar.check_defaults('{"min_interest": -1, "level": "all"}');
-- Numbers float8 cannot hold are refused whatever their size (the refresh
-- reads them as float8): 1e-400 would round to 0 in Rust.
SELECT rar.check_defaults('{"min_confidence": 1e-400}');
SELECT rar.check_defaults('{"min_lift": 1e-310}');
SELECT rar.check_defaults('{"min_interest": 1, "level": "all", "max_length": 32, "min_lift": 0}');
SELECT rar_unregister('r11_null');

-- 4. rar_encode with no column: its own message (it has no default).
CREATE TABLE r11.enc (b int, d text, e text);
INSERT INTO r11.enc VALUES (1, 'x', 'y');
SELECT * FROM rar_encode('r11.enc', ARRAY[]::text[], tid_column => 'b', item_column => 'd');
SELECT * FROM rar_encode('r11.enc', NULL, tid_column => 'b', item_column => 'd');

-- 5. Times past the range of timestamp: PostgreSQL's error, with a HINT.
CREATE TABLE r11.ts (b int, i text, ts timestamptz);
INSERT INTO r11.ts SELECT g % 10, 'x' || (g % 3), '2024-01-01'::timestamptz + g * interval '1 day' FROM generate_series(1, 100) g;
SELECT * FROM rar_split('r11.ts', tid_column => 'b', item_column => 'i', time_column => 'ts', test_days => 2147483647);
CREATE TABLE r11.tmin (b int, i text, ts date);
INSERT INTO r11.tmin VALUES (1, 'a', '4713-01-01 BC'), (1, 'b', '4713-01-01 BC'), (2, 'a', '5874897-12-31'), (2, 'b', '5874897-12-31');
SELECT count(*) FROM rar_rules_over_time('r11.tmin', 'ts', 'week', 0.1, 0.1, tid_column => 'b', item_column => 'i');

-- 6. rar_profile: the support at ranks 10 and 100, by rank (item k in k
-- baskets of 120: the 10th is item 111, the 100th item 21).
CREATE TABLE r11.ranked (basket int, item text);
INSERT INTO r11.ranked SELECT t, 'i' || k FROM generate_series(1, 120) k, generate_series(0, k - 1) t;
SELECT rar_profile('r11.ranked') -> 'support_at_rank' AS support_at_rank,
       rar_profile('r11.ranked') -> 'support_of_top_item' AS support_of_top_item;

-- 7. rar_tune_plan: a random search asking for more trials than allowed is
-- told to ask for fewer (not to use a random search).
SELECT count(*) FROM rar_tune_plan('{"a":[1,2,3,4,5,6,7,8,9,10],"b":[1,2,3,4,5,6,7,8,9,10],"c":[1,2,3,4,5,6,7,8,9,10],"d":[1,2,3,4,5,6,7,8,9,10]}', 'random', 2000);
SELECT count(*) FROM rar_tune_plan('{"a":[1,2,3,4,5,6,7,8,9,10],"b":[1,2,3,4,5,6,7,8,9,10],"c":[1,2,3,4,5,6,7,8,9,10],"d":[1,2,3,4,5,6,7,8,9,10]}');
SELECT count(*) AS whole_grid FROM rar_tune_plan('{"a":[1,2,3]}', 'random', 50);

-- 8. rar_explain: a large lift reads as a number for people; a lift no
-- rule of these measures has (since 2026-12-01: above confidence / support),
-- a support that is not count / baskets (support and confidence swapped)
-- and an empty consequent are refused; an empty antecedent is a rule of its
-- own.
SELECT rar_explain('{a}', '{b}', 0.5, 12345.6, 0.00001, 1, 100000) AS large_lift;
SELECT rar_explain('{a}', '{b}', 0.5, 1e308, 0.1, 10, 100) AS huge_lift;
SELECT rar_explain('{a}', '{b}', 0.5, 2, 0.9, 10, 100);
SELECT rar_explain('{a}', '{}', 0.5, 2, 0.1, 10, 100);
SELECT rar_explain('{}', '{b}', 0.3, 1, 0.3, 30, 100) AS empty_antecedent;
SELECT rar_explain('{a}', '{b}', 0.62, 14.3, 0.0121, 251, 20728) AS rounded_support_passes;

-- 9. rar_mine's model thresholds are checked whatever the method (and
-- since 2026-12-01 consequent_threshold with exact rules is refused first).
SELECT count(*) FROM rar_mine('r11.g', antecedent_threshold => 'NaN');
SELECT count(*) FROM rar_mine('r11.g', consequent_threshold => 2);

-- 10. rar_train's params: a value of the wrong type is named by its key,
-- with the kind of value the key takes (serde's wording before).
CREATE TABLE r11.tiny AS SELECT g % 50 AS transaction_id, 'i' || (g % 9) AS item FROM generate_series(1, 500) g;
SELECT * FROM rar_train('r11.tiny', 'mlp', '{"epochs": 1e30}');
SELECT * FROM rar_train('r11.tiny', 'mlp', '{"epochs": 1, "hidden": [64, 64]}');
SELECT * FROM rar_train('r11.tiny', 'mlp', '{"learning_rate": "fast"}');
SELECT trial FROM rar_tune('r11.tiny', 'mlp', '{"learning_rate": ["fast"]}', '{"epochs": 1}');

-- 11. rar.device takes its three values only, refused at SET.
SET rar.device = 'tpu';
SET rar.device = '';
SET rar.device = 'CPU';
SHOW rar.device;
RESET rar.device;

-- 12. The antecedent's support with consequents of two items (a
-- differential review against a brute-force counter): three baskets of 100
-- items among 100; only {} and {1} are frequent antecedents, so no rule
-- has more than three items. It ran out of 1 GB after 35 s at max_length 5.
CREATE TABLE r11.dense (t int, i int);
INSERT INTO r11.dense SELECT b, k FROM generate_series(1, 3) b, generate_series(1, 100) k;
INSERT INTO r11.dense SELECT b, 1 FROM generate_series(4, 100) b;
SET rar.memory_limit = '64MB';
SELECT count(*) AS rules, count(*) FILTER (WHERE antecedent = '{1}' AND cardinality(consequent) = 2 AND count = 3) AS of_1
FROM rar_mine('r11.dense', min_support => 0.96, min_confidence => 0, max_length => 5, min_length => 3,
              max_consequent => 2, support_of => 'antecedent');
RESET rar.memory_limit;

DROP SCHEMA r11 CASCADE;
