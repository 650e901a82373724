-- Rule sets as database objects: registration, refresh, history, diff,
-- views for BI tools, the reporting role, explanations and pictures.
CREATE TABLE shop_lines (receipt int, code text, label text, qty int);
INSERT INTO shop_lines
SELECT r, c, 'Product ' || upper(c), 1
FROM generate_series(1, 200) r, unnest(ARRAY['a', 'b', 'c', 'd', 'e']) c
WHERE (r + ascii(c)) % 3 <> 0 OR c = 'a';
SELECT name, relation, tid_column, item_column, label_column, defaults, keep_sets
FROM rar_register('shop', 'shop_lines', tid_column => 'receipt', item_column => 'code', label_column => 'label', defaults => '{"min_support": 0.2}', keep_sets => 2);
SELECT name, relation FROM rar.sources;
CALL rar_refresh('shop');
SELECT source, rule_id, antecedent, consequent, antecedent_text, consequent_text, round(confidence::numeric, 3) AS confidence,
       round(lift::numeric, 3) AS lift, count, method
FROM rar.rules ORDER BY rule_id LIMIT 4;
SELECT explanation FROM rar.rules WHERE rule_id = 1;
SELECT source, method, params, rules, baskets, current FROM rar.rule_history ORDER BY set_id;
-- A second refresh with other thresholds: the old set is kept (keep_sets
-- 2), the diff shows what changed.
CALL rar_refresh('shop', min_confidence => 0.7);
SELECT source, rules, current FROM rar.rule_history ORDER BY set_id;
SELECT change, antecedent, consequent, round(old_confidence::numeric, 3) AS old_confidence,
       round(new_confidence::numeric, 3) AS new_confidence
FROM rar_diff('shop') LIMIT 5;
SELECT change, count(*) FROM rar_diff('shop') GROUP BY change ORDER BY change;
-- Only the last keep_sets sets stay.
CALL rar_refresh('shop');
SELECT count(*) AS sets, count(*) FILTER (WHERE current) AS current FROM rar.rule_sets WHERE source = 'shop';
SELECT count(*) > 0 AS has_rules FROM rar.rules WHERE source = 'shop';
-- The graph view: items as nodes, rules as edges.
SELECT kind, count(*) FROM rar.rule_graph WHERE source = 'shop' GROUP BY kind ORDER BY kind;
SELECT id, label, weight FROM rar.rule_graph WHERE source = 'shop' AND kind = 'node' ORDER BY id;
-- Pictures: valid SVG with one mark per rule (or item and arrow).
SELECT left(rar_plot('shop'), 4) AS starts, right(rar_plot('shop'), 6) AS ends,
       (SELECT count(*) FROM regexp_matches(rar_plot('shop'), '<circle class="rule"', 'g')) AS scatter_marks,
       (SELECT count(*) FROM rar.rules WHERE source = 'shop') AS rules,
       (SELECT count(*) FROM regexp_matches(rar_plot('shop', 'graph'), '<circle class="item"', 'g')) AS graph_nodes,
       xml_is_well_formed_document(rar_plot('shop', 'graph')) AS well_formed;
SELECT rar_explain(ARRAY['PAPER CHAIN KIT 50''S CHRISTMAS'], ARRAY['PAPER CHAIN KIT VINTAGE CHRISTMAS'],
                   0.62, 14.3, 0.0121, 251, 20728, test_confidence => 0.58);
-- The reporting role reads the rules of the tables it may read, and of the
-- sources their owners granted to it, and nothing else.
SET ROLE rar_reader;
SELECT count(*) AS rules_before_grant FROM rar.rules;
SELECT show_error($$SELECT rar_plot('shop')$$);
RESET ROLE;
SELECT rar_grant('shop', 'rar_reader');
SET ROLE rar_reader;
SELECT count(*) > 0 AS reads_rules FROM rar.rules;
SELECT left(rar_plot('shop'), 4) AS plots;
SELECT count(*) > 0 AS reads_graph FROM rar.rule_graph;
SELECT show_error($$SELECT count(*) FROM shop_lines$$);
SELECT count(*) AS store_rows_visible FROM rar.rule_store;
SELECT show_error($$CALL rar_refresh('shop')$$);
RESET ROLE;
-- Bad input.
SELECT show_error($$CALL rar_refresh('nope')$$);
SELECT show_error($$SELECT * FROM rar_diff('nope')$$);
SELECT show_error($$SELECT rar_plot('shop', 'pie')$$);
SELECT show_error($$SELECT rar_plot('nope')$$);
SELECT show_error($$CALL rar_refresh('shop', method => 'neural')$$);
SELECT show_error($$SELECT * FROM rar_register('x', 'shop_lines')$$);
SELECT show_error($$SELECT * FROM rar_register('x', 'shop_lines', 'receipt', 'code', label_column => 'nope')$$);
SELECT show_error($$SELECT * FROM rar_register('x', 'shop_lines', 'receipt', 'code', defaults => '[1]')$$);
-- Labels from a lookup table (Instacart's products, Online Retail's stock
-- codes) rather than a column of the sales table.
CREATE TABLE shop_products (sku text PRIMARY KEY, title text);
INSERT INTO shop_products VALUES ('a', 'Apples'), ('b', 'Bread'), ('c', 'Cheese'), ('d', 'Dates'), ('e', 'Eggs');
CREATE TABLE shop_bare AS SELECT receipt, code FROM shop_lines;
SELECT name, label_table, label_key, label_column
FROM rar_register('bare', 'shop_bare', 'receipt', 'code', label_column => 'title', label_table => 'shop_products',
                  label_key => 'sku', defaults => '{"min_support": 0.2}');
CALL rar_refresh('bare');
SELECT antecedent, consequent, antecedent_text, consequent_text FROM rar.rules WHERE source = 'bare' ORDER BY rule_id LIMIT 3;
SELECT explanation FROM rar.rules WHERE source = 'bare' AND rule_id = 1;
SELECT show_error($$SELECT * FROM rar_register('x', 'shop_bare', 'receipt', 'code', label_table => 'shop_products')$$);
SELECT show_error($$SELECT * FROM rar_register('x', 'shop_bare', 'receipt', 'code', label_column => 'title', label_table => 'shop_products')$$);
SELECT rar_unregister('bare');
CREATE TABLE gone (tid int, item text);
SELECT name FROM rar_register('gone', 'gone');
DROP TABLE gone;
SELECT show_error($$CALL rar_refresh('gone')$$);
SELECT rar_unregister('gone');
SELECT show_error($$SELECT rar_unregister('gone')$$);
-- A refresh that fails halfway leaves the old rules.
SET rar.max_rules = 3;
SELECT show_error($$CALL rar_refresh('shop', min_support => 0.01)$$);
RESET rar.max_rules;
SELECT count(*) > 0 AS old_rules_still_there FROM rar.rules WHERE source = 'shop';
