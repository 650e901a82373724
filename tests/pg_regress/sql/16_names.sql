-- One naming rule for sources (src/sources.rs): every function takes a
-- registered source's name or a table's, resolved the same way; label text
-- for BI tools; segments too small for the support threshold.
CREATE SCHEMA names_s;
CREATE TABLE names_s.lines (member int, day int, product text, label text);
INSERT INTO names_s.lines
SELECT b, CASE WHEN b <= 280 THEN b % 4 ELSE 4 + b % 3 END, p, CASE p WHEN 'p1' THEN '  KEY FOB , BACK DOOR ' WHEN 'p2' THEN 'MUG "HOME"' ELSE 'Item ' || p END
FROM generate_series(1, 300) b, unnest(ARRAY['p1', 'p2', 'p3', 'p4']) p
WHERE (b + ascii(p)) % 4 <> 0;
CREATE VIEW names_s.lines_uk AS SELECT * FROM names_s.lines WHERE member > 20;

-- A source over a view in a schema that is not on the search path, with
-- columns no detection would pick.
SELECT name, relation, tid_column, item_column
FROM rar_register('uk', 'names_s.lines_uk', tid_column => 'member', item_column => 'product', label_column => 'label',
                  defaults => '{"min_support": 0.1, "min_confidence": 0.3}');

-- Functions that read a table take the source's name, and then read its
-- table with its columns: the same rules as naming both.
SELECT (SELECT count(*) FROM rar_mine('uk', min_support => 0.1, min_confidence => 0.3)) AS by_source_name,
       (SELECT count(*) FROM rar_mine('names_s.lines_uk', min_support => 0.1, min_confidence => 0.3,
                                      tid_column => 'member', item_column => 'product')) AS by_table_and_columns,
       (SELECT count(*) FROM (SELECT * FROM rar_mine('uk', min_support => 0.1, min_confidence => 0.3)
                              EXCEPT SELECT * FROM rar_mine('names_s.lines_uk', min_support => 0.1, min_confidence => 0.3,
                                                            tid_column => 'member', item_column => 'product')) d) AS differing;
SELECT (rar_profile('uk')->>'baskets')::int AS baskets_by_source_name;
SELECT * FROM rar_columns('uk');
-- A bare name off the search path is found when it is the table of a
-- registered source, and not otherwise.
SELECT count(*) > 0 AS registered_table_by_bare_name FROM rar_mine('lines_uk', min_support => 0.1, min_confidence => 0.3,
                                                                  tid_column => 'member', item_column => 'product');
SELECT show_error($$SELECT count(*) FROM rar_mine('lines', tid_column => 'member', item_column => 'product')$$);
SET search_path = names_s, public;
SELECT count(*) > 0 AS found_on_search_path FROM rar_mine('lines_uk', min_support => 0.1, min_confidence => 0.3,
                                                          tid_column => 'member', item_column => 'product');
RESET search_path;

-- Functions about a source take its name, or its table's (qualified, or
-- the bare name of a registered table).
CALL rar_refresh('uk');
CALL rar_refresh('names_s.lines_uk');
CALL rar_refresh('lines_uk');
SELECT source, rules > 0 AS has_rules FROM rar.rule_history WHERE source = 'uk' ORDER BY set_id;
SELECT count(*) AS changes FROM rar_diff('names_s.lines_uk');
SELECT left(rar_plot('lines_uk'), 4) AS plot_by_table_name;
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['p1'], 3, source => 'names_s.lines_uk', method => 'model')$$);
SELECT count(*) > 0 AS recommends_by_table_name FROM rar_recommend(ARRAY['p1'], 3, source => 'names_s.lines_uk');
SELECT show_error($$SELECT * FROM rar_rollback('uk')$$);
SELECT show_error($$SELECT * FROM rar_rollback(NULL)$$);
SELECT show_error($$SELECT * FROM rar_tune(NULL, 'mlp', '{}')$$);
-- rar_tune (and rar_train in it) reads the source's table with its columns.
SELECT trial, best, model_id IS NOT NULL AS kept
FROM rar_tune('uk', 'mlp', '{"hidden": [8]}', params => '{"epochs": 1, "min_item_count": 1, "device": "cpu"}');
SELECT count(*) > 0 AS recommends_from_the_model FROM rar_recommend(ARRAY['p1'], 3, source => 'uk', method => 'model');
SELECT show_error($$SELECT * FROM rar_rollback('lines_uk')$$);
-- Neural rule sets record the model they were read off.
CALL rar_refresh('uk', method => 'hybrid');
SELECT DISTINCT method, model_version FROM rar.rules WHERE source = 'uk';

-- Label text for BI tools: trimmed, a label with a comma or a quote in
-- double quotes; rar_diff shows labels too (exact rules: which rules a
-- one-epoch model keeps is not the point here).
SELECT rar.items_text(ARRAY['  KEY FOB , BACK DOOR ', 'MUG "HOME"', 'plain']) AS items_text;
CALL rar_refresh('uk');
SELECT DISTINCT antecedent_text FROM rar.rules WHERE source = 'uk' AND antecedent = '{p1}';
SELECT DISTINCT consequent_text FROM rar.rules WHERE source = 'uk' AND consequent = '{p2}';
CALL rar_refresh('uk', max_length => 2);
SELECT change, antecedent, antecedent_text, consequent_text FROM rar_diff('uk') ORDER BY 1, 2, 3, 4 LIMIT 3;
SELECT DISTINCT method, model_version FROM rar.rules WHERE source = 'uk';

-- The caller's own source comes first, also over a table of the same name
-- (another role's source does not: see below); a table two sources are
-- registered on is ambiguous for a function that needs one source.
CREATE TABLE uk (member int, product text);
SELECT count(*) > 0 AS own_source_first FROM rar_mine('uk', 0.1, 0.3);
SELECT count(*) > 0 AS source_name_wins_for_rules FROM rar.rules r WHERE r.source = (SELECT (rar_source('uk')).name);
SELECT name FROM rar_register('uk2', 'names_s.lines_uk', tid_column => 'member', item_column => 'product');
SELECT show_error($$CALL rar_refresh('names_s.lines_uk')$$);
SELECT show_error($$CALL rar_refresh('no_such_source')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('no_such_table')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('a.b.c.d')$$);
SELECT show_error($$SELECT rar.source_name(NULL)$$);
DROP TABLE uk;
SELECT rar_unregister('uk2');

-- Segments: those where one basket alone would reach min_support are
-- skipped (a NOTICE says how many); min_baskets sets the floor.
SELECT segment, count(*) AS rules
FROM rar_mine_segments('names_s.lines', 'day', 0.2, 0.5, tid_column => 'member', item_column => 'product')
GROUP BY segment ORDER BY segment;
SELECT count(DISTINCT segment) AS segments_mined
FROM rar_mine_segments('names_s.lines', 'day', 0.02, 0.5, tid_column => 'member', item_column => 'product');
SELECT count(DISTINCT segment) AS segments_with_floor_5
FROM rar_mine_segments('names_s.lines', 'day', 0.02, 0.5, tid_column => 'member', item_column => 'product', min_baskets => 5);
SELECT show_error($$SELECT count(*) FROM rar_mine_segments('names_s.lines', 'day', min_baskets => 0)$$);
SELECT rar_unregister('uk');

-- Baskets keyed by several columns (the Kaggle groceries export: a
-- member's shopping of one day): the same rules as a view with one key.
CREATE TABLE kaggle (Member_number int, "Date" text, "itemDescription" text);
INSERT INTO kaggle
SELECT m, d::text, i FROM generate_series(1, 60) m, generate_series(1, 3) d,
       unnest(ARRAY['whole milk', 'rolls/buns', 'soda', 'yogurt']) i
WHERE (m * d + ascii(i)) % 3 <> 0;
CREATE VIEW kaggle_keyed AS SELECT Member_number || '/' || "Date" AS basket, "itemDescription" AS item FROM kaggle;
-- Detection cannot tell; the hint names plausible columns.
SELECT show_error($$SELECT count(*) FROM rar_mine('kaggle')$$);
SELECT (SELECT count(*) FROM rar_mine('kaggle', 0.1, 0.3, tid_column => 'member_number, Date', item_column => 'itemDescription')) AS two_columns,
       (SELECT count(*) FROM rar_mine('kaggle_keyed', 0.1, 0.3)) AS one_key,
       (SELECT count(*) FROM (SELECT * FROM rar_mine('kaggle', 0.1, 0.3, tid_column => 'member_number, Date', item_column => 'itemDescription')
                              EXCEPT SELECT * FROM rar_mine('kaggle_keyed', 0.1, 0.3)) d) AS differing;
SELECT (rar_profile('kaggle', tid_column => 'Member_number, Date', item_column => 'itemDescription')->>'baskets')::int AS baskets,
       (SELECT count(DISTINCT basket) FROM kaggle_keyed) AS distinct_keys;
SELECT * FROM rar_split('kaggle', tid_column => 'Member_number, Date', item_column => 'itemDescription');
SELECT count(*) > 0 AS mines_a_split FROM rar_mine('kaggle', 0.1, 0.3, tid_column => 'Member_number, Date', item_column => 'itemDescription', split => 'train');
SELECT name, tid_column, item_column FROM rar_register('kaggle', 'kaggle', tid_column => 'Member_number, Date', item_column => 'itemDescription');
CALL rar_refresh('kaggle', min_support => 0.1);
SELECT rules > 0 AS has_rules, baskets FROM rar.rule_history WHERE source = 'kaggle';
SELECT segment, count(*) > 0 AS has_rules FROM rar_mine_segments('kaggle', 'Date', 0.1, 0.3) GROUP BY 1 ORDER BY 1;
SELECT show_error($$SELECT * FROM rar_clean('kaggle', dry_run => true)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('kaggle', tid_column => 'Member_number, nope', item_column => 'itemDescription')$$);
SELECT rar_unregister('kaggle');

-- Another role cannot steer a name to its own rules: a source registered
-- under the name of the caller's table is ambiguous for the caller (42P09,
-- in Rust calls and in the extension's pinned SQL alike); names with a dot
-- are tables only, so they cannot be squatted; the bare-name fallback finds
-- the caller's own tables only.
CREATE ROLE names_victim;
CREATE ROLE names_evil;
GRANT CREATE ON SCHEMA public TO names_victim, names_evil;
CREATE SCHEMA names_hidden AUTHORIZATION names_evil;
SET ROLE names_victim;
CREATE TABLE vsales (basket int, item text);
INSERT INTO vsales SELECT b, 'item' || ((b * 7 + k * 3) % 12) FROM generate_series(1, 400) b, generate_series(1, 4) k;
SELECT name FROM rar_register('vsales_src', 'vsales', 'basket', 'item');
CALL rar_refresh('vsales_src', min_support => 0.05, min_confidence => 0.3);
SET ROLE names_evil;
CREATE TABLE evil_fake (basket int, item text);
INSERT INTO evil_fake SELECT b, unnest(ARRAY['item1', 'BUY_EVIL']) FROM generate_series(1, 100) b;
GRANT SELECT ON evil_fake TO PUBLIC;
SELECT name FROM rar_register('vsales', 'evil_fake', 'basket', 'item');
CALL rar_refresh('vsales', min_support => 0.05, min_confidence => 0.3);
SELECT show_error($$SELECT rar_register('public.vsales', 'evil_fake', 'basket', 'item')$$);
CREATE TABLE names_hidden.hidden_tz (basket int, item text);
INSERT INTO names_hidden.hidden_tz SELECT b, 'EVIL' || (b % 3) FROM generate_series(1, 100) b;
GRANT USAGE ON SCHEMA names_hidden TO PUBLIC;
GRANT SELECT ON names_hidden.hidden_tz TO PUBLIC;
SELECT name FROM rar_register('hidden_src', 'names_hidden.hidden_tz', 'basket', 'item');
SET ROLE names_victim;
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['item1'], 3, source => 'vsales')$$);
SELECT show_error($$CALL rar_refresh('vsales')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('vsales')$$);
CALL rar_refresh('public.vsales', min_support => 0.05, min_confidence => 0.3);
SELECT count(*) > 0 AS own_rules, bool_and(NOT 'BUY_EVIL' = ANY (consequent)) AS none_of_theirs
FROM rar.rules WHERE source = 'vsales_src';
SELECT show_error($$SELECT count(*) FROM rar_mine('hidden_tz', tid_column => 'basket', item_column => 'item')$$);
-- A name that is no valid table name is still a source name.
RESET ROLE;
SET ROLE names_victim;
SELECT name FROM rar_register('lab "x"', 'vsales', 'basket', 'item');
CALL rar_refresh('lab "x"', min_support => 0.05, min_confidence => 0.3);
SELECT count(*) > 0 AS odd_name_works FROM rar_mine('lab "x"', 0.05, 0.3);
SELECT rar_unregister('lab "x"');
SELECT rar_unregister('vsales_src');
SET ROLE names_evil;
SELECT rar_unregister('vsales');
SELECT rar_unregister('hidden_src');
RESET ROLE;
DROP SCHEMA names_hidden CASCADE;
DROP TABLE vsales, evil_fake;
REVOKE CREATE ON SCHEMA public FROM names_victim, names_evil;
DROP ROLE names_victim, names_evil;
