-- Fixes of the session of 2026-12-01 (a fuzzing review of the functions
-- reviewed less before: no crash and no XX000 found; these are the
-- refusals and answers it found wrong or unhelpful).
CREATE SCHEMA r12;
CREATE TABLE r12.sales (basket_id int, item text, customer text, sold_at timestamptz);
INSERT INTO r12.sales
SELECT b, 'i' || ((b * k) % 9), 'c' || (b % 20), '2024-01-01'::timestamptz + b * interval '1 hour'
FROM generate_series(1, 300) b, generate_series(1, 3) k;
CREATE TABLE r12.hier (item text, aisle text, dept text);
INSERT INTO r12.hier SELECT 'i' || g, 'a' || (g % 3), 'd' || (g % 2) FROM generate_series(0, 8) g;

-- 1. One column cannot be both the basket id and the items (it gave no
-- rules, or a misleading error later); nor, for a sequence model, the
-- customer and one of them.
SELECT show_error($$SELECT count(*) FROM rar_mine('r12.sales', tid_column => 'basket_id', item_column => 'basket_id')$$);
SELECT show_error($$SELECT rar_profile('r12.sales', tid_column => 'item', item_column => 'item')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('r12.sales', tid_column => 'basket_id, item', item_column => 'item')$$);
SELECT show_error($$SELECT rar_register('r12_same', 'r12.sales', 'item', 'item')$$);
SELECT show_error($$SELECT model_id FROM rar_train('r12.sales', 'gru', '{"epochs": 1}', tid_column => 'basket_id', item_column => 'item', customer_column => 'item', time_column => 'sold_at')$$);
SELECT show_error($$SELECT model_id FROM rar_train('r12.sales', 'gru', '{"epochs": 1}', tid_column => 'basket_id', item_column => 'item', customer_column => 'basket_id', time_column => 'sold_at')$$);

-- 2. Arguments that only a model reads, given with exact rules, are
-- refused rather than ignored; so is a NULL model name.
SELECT show_error($$SELECT count(*) FROM rar_mine('r12.sales', 0.05, 0.3, method => 'exact', model => 1)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('r12.sales', 0.05, 0.3, consequent_threshold => 0.5)$$);
SELECT show_error($$SELECT model_id FROM rar_train('r12.sales', NULL)$$);

-- 3. rar_explain refuses measures no rule has (it explained them).
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0.5, 2, 1.0, 100, 100)$$);
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0.01, 2, 0.5, 50, 100)$$);
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0.5, 0, 0.5, 50, 100)$$);
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0.8, 0.5, 0.1, 10, 100)$$);
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0, 0, 0, 0, 0)$$);
-- Consistent measures, rounded as a report rounds them, still explain.
SELECT rar_explain('{a}', '{b}', 0.62, 14.3, 0.0121, 251, 20728) IS NOT NULL AS consistent;
SELECT rar_explain('{}', '{b}', 0.3, 1, 0.3, 30, 100) IS NOT NULL AS empty_antecedent;

-- 4. Registered sources: NULL where a value is needed is 22004; a
-- refresh's max_length is checked as such (it was reported as min_length).
SELECT name FROM rar_register('r12s', 'r12.sales', 'basket_id', 'item');
SELECT show_error($$SELECT rar_unregister(NULL)$$);
SELECT show_error($$SELECT rar_register('r12s', 'r12.sales', 'basket_id', 'item', keep_sets => NULL)$$);
CALL rar_refresh('r12s', 0.05, 0.3);
SELECT show_error($$CALL rar_refresh('r12s', 0.05, 0.3, 1)$$);

-- 5. rar_recommend: NULL items and a model_id with the rules are refused.
SELECT show_error($$SELECT * FROM rar_recommend('{i1,NULL}', 3, 'r12s')$$);
SELECT show_error($$SELECT * FROM rar_recommend('{i1}', 3, 'r12s', 'rules', 999)$$);
SELECT count(*) > 0 AS rules_recommend FROM rar_recommend('{i1}', 3, 'r12s');

-- 6. Hybrid recommendations from rules at a level of the hierarchy would
-- rank labels and items together: refused; 'rules' and 'model' still work.
SELECT name FROM rar_hierarchy('r12s', 'r12.hier', '{aisle,dept}');
SELECT deployed FROM rar_train('r12.sales', 'mlp', '{"epochs": 1}', tid_column => 'basket_id', item_column => 'item');
CALL rar_refresh('r12s', 0.05, 0.3);
UPDATE rar.sources SET defaults = '{"level": "aisle"}' WHERE name = 'r12s';
CALL rar_refresh('r12s', 0.05, 0.1);
SELECT show_error($$SELECT * FROM rar_recommend('{i1}', 3, 'r12s', 'hybrid')$$);
SELECT count(*) > 0 AS level_rules FROM rar_recommend('{i1}', 3, 'r12s', 'rules');
SELECT count(*) > 0 AS model_items FROM rar_recommend('{i1}', 3, 'r12s', 'model');
-- A level the source does not have is named as such before its lookup is read.
INSERT INTO r12.hier VALUES ('i1', 'a9', 'd9');
SELECT show_error($$SELECT count(*) FROM rar_mine('r12s', 0.05, 0.3, level => 'nosuch')$$);
DELETE FROM r12.hier WHERE aisle = 'a9';

-- 7. rar_hierarchy: a two-dimensional levels array, and the item column
-- named as a level, are refused.
SELECT show_error($$SELECT rar_hierarchy('r12s', 'r12.hier', '{{aisle,dept}}')$$);
SELECT show_error($$SELECT rar_hierarchy('r12s', 'r12.hier', '{item,aisle}')$$);
SELECT show_error($$SELECT rar_hierarchy('r12s', 'r12.hier', '{aisle}', item_key => 'aisle')$$);

-- 8. rar_evaluate: no methods at all, and a max_length named as given.
SELECT show_error($$SELECT * FROM rar_evaluate('r12s', 0.05, 0.3, methods => '{}')$$);
SELECT show_error($$SELECT * FROM rar_evaluate('r12s', 0.05, 0.3, -5)$$);

-- 9. rar_encode: a column named twice; rar_profile: the argument at fault.
CREATE TABLE r12.flags (basket_id int, item text, flag text);
INSERT INTO r12.flags VALUES (1, 'a', 'x'), (2, 'b', 'y');
SELECT show_error($$SELECT * FROM rar_encode('r12.flags', '{flag,flag}')$$);
SELECT show_error($$SELECT rar_profile('r12.sales', top => -1)$$);
SELECT show_error($$SELECT rar_profile('r12.sales', rare_below => -2)$$);

-- 10. rar_mine_segments: NULL thresholds are 22004, as in rar_mine.
SELECT show_error($$SELECT count(*) FROM rar_mine_segments('r12.sales', 'customer', max_length => NULL)$$);

-- 11. Messages: one rule is "rule"; a partial state's text may be broken
-- into lines, as PostgreSQL's encode(..., 'base64') breaks it.
SET rar.max_rules = 1;
SELECT show_error($$SELECT count(*) FROM rar_mine('r12.sales', 0.05, 0.3)$$);
RESET rar.max_rules;
SELECT position(E'\n' IN t) > 0 AS broken_into_lines, length(t::rar.basket_state::text) > 0 AS state_read
FROM (SELECT pg_catalog.encode(rar.baskets_shared(basket_id::text, item), 'base64') AS t FROM r12.sales) x;

-- 12. (a hostile review of the above) Defaults a refresh could never mine
-- with are refused where they are given: a level with a model's method,
-- min_interest at one level (it applies across levels), an empty level;
-- long values are shortened in the message.
SELECT show_error($$SELECT rar.check_defaults('{"method": "neural", "level": "aisle"}')$$);
SELECT show_error($$SELECT rar.check_defaults('{"level": "aisle", "min_interest": 1}')$$);
SELECT show_error($$SELECT rar.check_defaults('{"level": ""}')$$);
SELECT length(show_error(format($q$SELECT rar.check_defaults(%L)$q$, jsonb_build_object('method', repeat('x', 100000))))) < 300 AS shortened;
SELECT rar.check_defaults('{"method": "exact", "level": "all", "min_interest": 1.2}');
-- rar_evaluate checks the row as a refresh does.
UPDATE rar.sources SET defaults = '{"max_length": 1}' WHERE name = 'r12s';
SELECT show_error($$SELECT * FROM rar_evaluate('r12s', 0.05, 0.3)$$);
UPDATE rar.sources SET defaults = '{}' WHERE name = 'r12s';
-- A segment is neither the item nor the basket; a gru's customer is not
-- its time either.
SELECT show_error($$SELECT count(*) FROM rar_mine_segments('r12.sales', 'item', tid_column => 'basket_id', item_column => 'item')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine_segments('r12.sales', 'basket_id', tid_column => 'basket_id', item_column => 'item')$$);
SELECT count(DISTINCT segment) AS customer_segments FROM rar_mine_segments('r12.sales', 'customer', 0.05, 0.3, tid_column => 'basket_id', item_column => 'item', min_baskets => 1);
SELECT show_error($$SELECT model_id FROM rar_train('r12.sales', 'gru', '{"epochs": 1}', tid_column => 'basket_id', item_column => 'item', customer_column => 'sold_at', time_column => 'sold_at')$$);
-- One basket is "basket".
SELECT rar_explain('{a}', '{b}', 1, 1, 1, 1, 1);

-- 13. (a differential review against brute force) A segment's baskets for
-- its default floor are those mining sees: a basket of NULL items alone
-- does not lift a segment over it.
CREATE TABLE r12.sg (basket_id int, item text, store text);
INSERT INTO r12.sg SELECT g, 'i' || (g % 50), 'x' FROM generate_series(1, 100) g;
INSERT INTO r12.sg SELECT g, 'j' || (g % 7), 'x' FROM generate_series(1, 100) g;
SELECT count(*) AS rules_before FROM rar_mine_segments('r12.sg', 'store', 0.01, 0.5);
INSERT INTO r12.sg VALUES (101, NULL, 'x');
SELECT count(*) AS rules_with_a_null_basket FROM rar_mine_segments('r12.sg', 'store', 0.01, 0.5);
-- A confidence within 1e-12 of min_confidence is kept in both support
-- modes, also for an antecedent in 2,000 baskets.
CREATE TABLE r12.eps (basket_id int, item text);
INSERT INTO r12.eps SELECT g, 'a' FROM generate_series(1, 2000) g;
INSERT INTO r12.eps SELECT g, 'b' FROM generate_series(1, 1000) g;
SELECT support_of, count(*) AS rules_to_b
FROM (VALUES ('rule', 0.5), ('antecedent', 1.0)) v(support_of, s),
     LATERAL rar_mine('r12.eps', min_support => s, min_confidence => 0.5 + 6e-13, max_length => 2, support_of => support_of) r
WHERE r.consequent = '{b}' GROUP BY 1 ORDER BY 1;
-- A window holding the baskets mining kept says the rule holds there.
CREATE TABLE r12.eps2 (basket_id int, item text, ts timestamp);
INSERT INTO r12.eps2 SELECT g, 'a', '2024-01-05' FROM generate_series(1, 10) g;
INSERT INTO r12.eps2 SELECT g, 'b', '2024-01-05' FROM generate_series(1, 3) g;
SELECT antecedent, consequent, holds FROM rar_rules_over_time('r12.eps2', 'ts', 'month', min_support => 0.3 + 5e-11, min_confidence => 0.1) ORDER BY 1, 2;

-- 14. (a fuzzing review of rar_clean and rar_restore) An item of nothing but
-- Unicode white space (tab, line break, no-break or ideographic space) is
-- blank: removed in the first run, which is final.
CREATE TABLE r12.bl (invoice_no text, item text);
INSERT INTO r12.bl VALUES ('1', E'\t'), ('2', E'\u00a0'), ('3', E'\u3000'), ('4', E' \n '), ('1', 'a'), ('2', ' b ');
SELECT step, rows FROM rar_clean('r12.bl') WHERE step IN ('null_basket_or_item', 'item_normalized') ORDER BY 1;
SELECT invoice_no, item FROM r12.bl ORDER BY 1;
SELECT sum(rows) AS second_run FROM rar_clean('r12.bl');
-- A money price column is read through numeric (it has no cast to float8).
CREATE TABLE r12.m (invoice_no text, item text, quantity int, unit_price money);
INSERT INTO r12.m SELECT g::text, 'i' || g % 5, 1, (CASE WHEN g = 7 THEN 1000 ELSE 1 + g % 3 END)::numeric::money FROM generate_series(1, 40) g;
SELECT step, rows FROM rar_clean('r12.m', outlier_mad => 3) WHERE step LIKE '%outlier%';
-- A row-level security policy that refuses a line written back stops the
-- restore with a HINT; the run stays in the quarantine.
CREATE ROLE r12_owner;
CREATE SCHEMA r12p AUTHORIZATION r12_owner;
SET ROLE r12_owner;
CREATE TABLE r12p.pol (invoice_no text, item text);
INSERT INTO r12p.pol VALUES ('1', 'a'), ('1', NULL), ('2', 'b');
ALTER TABLE r12p.pol ENABLE ROW LEVEL SECURITY;
ALTER TABLE r12p.pol FORCE ROW LEVEL SECURITY;
CREATE POLICY readable ON r12p.pol FOR SELECT USING (true);
CREATE POLICY deletable ON r12p.pol FOR DELETE USING (true);
CREATE POLICY no_nulls_in ON r12p.pol FOR INSERT WITH CHECK (item IS NOT NULL);
SELECT step, rows FROM rar_clean('r12p.pol') WHERE step = 'null_basket_or_item';
SELECT show_error($$SELECT rar_restore('r12p.pol')$$);
SELECT count(*) AS still_quarantined FROM r12p.pol_rar_rejected WHERE rar_action = 'removed';
RESET ROLE;
DROP SCHEMA r12p CASCADE;
DROP ROLE r12_owner;

-- 15. A customer value that is not of the sequence model's customer column
-- type keeps PostgreSQL's error and gets a HINT.
CREATE TABLE r12.cs AS SELECT basket_id, item, basket_id % 20 AS cust, sold_at FROM r12.sales;
SELECT deployed FROM rar_train('r12.cs', 'gru', '{"epochs": 1}', tid_column => 'basket_id', item_column => 'item', customer_column => 'cust', time_column => 'sold_at');
SELECT name FROM rar_register('r12cs', 'r12.cs', 'basket_id', 'item');
SELECT show_error($$SELECT * FROM rar_recommend('{i1}', 3, 'r12cs', 'model', customer => 'abc')$$);
SELECT show_error($$SELECT * FROM rar_recommend('{i1}', 3, 'r12cs', 'model', customer => '99999999999')$$);
SELECT count(*) > 0 AS recommends_for_a_customer FROM rar_recommend('{i1}', 3, 'r12cs', 'model', customer => '7');
