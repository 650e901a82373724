-- The sixth review's probes: each must fail with a proper SQLSTATE or give
-- the right answer.
SET client_min_messages = warning;
CREATE ROLE rar_r6_etl;
CREATE ROLE rar_r6_rep1;
CREATE ROLE rar_r6_rep2;
CREATE ROLE rar_r6_evil;
GRANT rar_r6_rep1, rar_r6_rep2 TO rar_r6_etl;
CREATE SCHEMA r6 AUTHORIZATION rar_r6_etl;
CREATE SCHEMA r6evil AUTHORIZATION rar_r6_evil;
GRANT USAGE ON SCHEMA r6, r6evil TO PUBLIC;

-- 1. A view that shows each role its own rows hides the rules of the others'.
SET ROLE rar_r6_etl;
CREATE TABLE r6.orders (basket int, item text, rep name);
INSERT INTO r6.orders SELECT g / 3, 'secret_' || (g % 4), 'rar_r6_rep2' FROM generate_series(1, 300) g;
INSERT INTO r6.orders SELECT 1000 + g / 3, 'own_' || (g % 4), 'rar_r6_rep1' FROM generate_series(1, 30) g;
CREATE VIEW r6.my_orders AS SELECT basket, item FROM r6.orders
    WHERE rep = current_user OR pg_has_role(current_user, 'rar_r6_etl', 'MEMBER');
CREATE VIEW r6.barrier_orders WITH (security_barrier) AS SELECT basket, item FROM r6.orders WHERE rep <> 'nobody';
CREATE VIEW r6.plain_orders AS SELECT basket, item FROM r6.orders WHERE basket >= 0;
-- Built-in functions that ask who is reading (PostgreSQL records no
-- dependency on them: rar reads the view's query), a setting, the catalog
-- of roles, and a view whose tables each reader's own rights decide.
CREATE VIEW r6.member_orders AS SELECT basket, item FROM r6.orders WHERE pg_has_role(rep, 'MEMBER');
CREATE VIEW r6.setting_orders AS SELECT basket, item FROM r6.orders WHERE rep = current_setting('app.rep', true) OR current_setting('app.rep', true) IS NULL;
CREATE VIEW r6.roles_orders AS SELECT basket, item FROM r6.orders o WHERE EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = o.rep);
CREATE VIEW r6.invoker_orders WITH (security_invoker) AS SELECT basket, item FROM r6.orders;
CREATE VIEW r6.joined_orders AS SELECT o.basket, o.item FROM r6.orders o JOIN (SELECT DISTINCT basket FROM r6.orders WHERE item <> '') b USING (basket);
GRANT SELECT ON r6.my_orders, r6.barrier_orders, r6.plain_orders, r6.member_orders, r6.setting_orders, r6.roles_orders,
                r6.invoker_orders, r6.joined_orders TO PUBLIC;
SELECT (rar_register(n, 'r6.' || n, tid_column => 'basket', item_column => 'item',
                     defaults => '{"min_support": 0.05, "min_confidence": 0.1}')).name
FROM unnest(ARRAY['my_orders', 'barrier_orders', 'plain_orders', 'member_orders', 'setting_orders', 'roles_orders',
                  'invoker_orders', 'joined_orders']) n;
CALL rar_refresh('my_orders');
CALL rar_refresh('barrier_orders');
CALL rar_refresh('plain_orders');
CALL rar_refresh('member_orders');
CALL rar_refresh('setting_orders');
CALL rar_refresh('roles_orders');
CALL rar_refresh('invoker_orders');
CALL rar_refresh('joined_orders');
SELECT source, count(*) > 0 AS owner_sees FROM rar.rules WHERE source LIKE '%orders' GROUP BY 1 ORDER BY 1;
RESET ROLE;
SET ROLE rar_r6_rep1;
SELECT count(*) FILTER (WHERE item LIKE 'secret%') AS secret_lines_seen FROM r6.my_orders;
SELECT source, count(*) AS rules_seen FROM rar.rules WHERE source LIKE '%orders' GROUP BY 1 ORDER BY 1;
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['secret_1'], 2, source => 'my_orders')$$);
RESET ROLE;

-- 2. Another role's source named like a table the caller reads does not
-- stand in for it.
SET ROLE rar_r6_etl;
CREATE TABLE r6.shop_sales (basket int, item text);
INSERT INTO r6.shop_sales VALUES (1, 'real'), (1, 'goods'), (2, 'real');
GRANT SELECT ON r6.shop_sales TO PUBLIC;
RESET ROLE;
SET ROLE rar_r6_evil;
CREATE TABLE r6evil.fake (basket int, item text);
INSERT INTO r6evil.fake VALUES (1, 'BUY'), (1, 'EVIL'), (2, 'BUY'), (2, 'EVIL');
GRANT SELECT ON r6evil.fake TO PUBLIC;
SELECT name FROM rar_register('shop_sales', 'r6evil.fake', tid_column => 'basket', item_column => 'item');
RESET ROLE;
SET ROLE rar_r6_rep1;
SET search_path = r6, public;
SELECT show_error($$SELECT * FROM rar_mine('shop_sales', 0.1, 0.1)$$);
SELECT count(*) AS rules_of_the_real_table FROM rar_mine('r6.shop_sales', 0.1, 0.1) WHERE 'EVIL' = ANY (consequent);
RESET ROLE;
-- A superuser (who owns everything) is not steered either.
SELECT show_error($$SELECT * FROM rar_mine('shop_sales', 0.1, 0.1)$$);
RESET search_path;
SET ROLE rar_r6_evil;
SELECT rar_unregister('shop_sales');
RESET ROLE;

-- 3. rar_clean does not delete into tables whose foreign keys cascade.
CREATE TABLE r6.lines (line_id int PRIMARY KEY, invoice_no text, stock_code text, quantity int);
INSERT INTO r6.lines SELECT g, CASE WHEN g % 10 = 0 THEN 'C' || g ELSE 'I' || (g / 3) END, 'S' || (g % 7), 1
FROM generate_series(1, 300) g;
CREATE TABLE r6.line_notes (line_id int REFERENCES r6.lines ON DELETE CASCADE, note text);
INSERT INTO r6.line_notes SELECT line_id, 'n' FROM r6.lines;
SELECT show_error($$SELECT * FROM rar_clean('r6.lines', tid_column => 'invoice_no', item_column => 'stock_code', cancelled_basket_pattern => '^C')$$);
SELECT show_error($$SELECT * FROM rar_clean('r6.lines', tid_column => 'invoice_no', item_column => 'stock_code', cancelled_basket_pattern => '^C', dry_run => true)$$);
SELECT (SELECT count(*) FROM r6.lines) AS lines, (SELECT count(*) FROM r6.line_notes) AS notes;
-- A key that only refuses (NO ACTION) leaves PostgreSQL's own error.
ALTER TABLE r6.line_notes DROP CONSTRAINT line_notes_line_id_fkey,
    ADD FOREIGN KEY (line_id) REFERENCES r6.lines ON DELETE NO ACTION;
SELECT split_part(show_error($$SELECT * FROM rar_clean('r6.lines', tid_column => 'invoice_no', item_column => 'stock_code', cancelled_basket_pattern => '^C')$$), ' ', 1) AS sqlstate;
-- Without removals (a change is an UPDATE of this table only), cleaning runs.
DELETE FROM r6.line_notes;
ALTER TABLE r6.line_notes DROP CONSTRAINT line_notes_line_id_fkey,
    ADD FOREIGN KEY (line_id) REFERENCES r6.lines ON DELETE CASCADE;
SELECT step, rows FROM rar_clean('r6.lines', tid_column => 'invoice_no', item_column => 'stock_code') WHERE rows > 0 ORDER BY 1;

-- A partition of a table that foreign keys reference: the same.
CREATE TABLE r6.plines (line_id int PRIMARY KEY, invoice_no text, stock_code text, quantity int) PARTITION BY RANGE (line_id);
CREATE TABLE r6.plines_a PARTITION OF r6.plines FOR VALUES FROM (0) TO (1000);
INSERT INTO r6.plines SELECT g, CASE WHEN g % 10 = 0 THEN 'C' || g ELSE 'I' || (g / 3) END, 'S' || (g % 7), 1 FROM generate_series(1, 300) g;
CREATE TABLE r6.pline_notes (line_id int REFERENCES r6.plines ON DELETE CASCADE, note text);
INSERT INTO r6.pline_notes SELECT line_id, 'n' FROM r6.plines;
SELECT show_error($$SELECT * FROM rar_clean('r6.plines_a', tid_column => 'invoice_no', item_column => 'stock_code', cancelled_basket_pattern => '^C')$$);
SELECT (SELECT count(*) FROM r6.plines) AS lines, (SELECT count(*) FROM r6.pline_notes) AS notes;

-- 4. A refresh counts the baskets it mined: those with an item.
CREATE TABLE r6.r1 (basket int, item text);
INSERT INTO r6.r1 SELECT g, 'a' FROM generate_series(1, 10) g;
INSERT INTO r6.r1 SELECT g, 'b' FROM generate_series(1, 5) g;
INSERT INTO r6.r1 SELECT g, NULL FROM generate_series(11, 20) g;
SELECT name FROM rar_register('r1', 'r6.r1', tid_column => 'basket', item_column => 'item',
                    defaults => '{"min_support": 0.1, "min_confidence": 0.1}');
CALL rar_refresh('r1');
SELECT baskets FROM rar.rule_sets WHERE source = 'r1';
SELECT antecedent, consequent, support, count, explanation FROM rar.rules WHERE source = 'r1' ORDER BY 1, 2;
SELECT name FROM rar_register('r1_other', 'r6.r1', tid_column => 'basket', item_column => 'item');
CALL rar_refresh('r1_other', min_support => 0.1, min_confidence => 0.1);
-- Defaults a refresh would not apply (a typo), or could not, are refused
-- when registering, not at the first nightly refresh.
SELECT show_error($$SELECT rar_register('r1_typo', 'r6.r1', tid_column => 'basket', item_column => 'item', defaults => '{"min_suport": 0.5}')$$);
SELECT show_error($$SELECT rar_register('r1_typo', 'r6.r1', tid_column => 'basket', item_column => 'item', defaults => '{"max_length": 1e10}')$$);
SELECT show_error($$SELECT rar_register('r1_typo', 'r6.r1', tid_column => 'basket', item_column => 'item', keep_sets => 0)$$);
SELECT show_error($$SELECT rar_register('r1_typo', 'r6.r1', tid_column => 'basket', item_column => 'item', defaults => '{"max_length": 4.0}')$$);
SELECT show_error($$SELECT rar_register('r1_typo', 'r6.r1', tid_column => 'basket', item_column => 'item', defaults => '{"method": "bogus"}')$$);
SELECT show_error($$SELECT rar_register('r1_typo', 'r6.r1', tid_column => 'basket', item_column => 'item', defaults => '{"min_support": -1}')$$);
SELECT show_error($$SELECT rar_register('r1_typo', 'r6.r1', tid_column => 'basket', item_column => 'item', defaults => '{"min_support": 1e400}')$$);

-- A column renamed since registering: the refresh says to register again.
ALTER TABLE r6.r1 RENAME COLUMN item TO product;
SELECT show_error($$CALL rar_refresh('r1')$$);
ALTER TABLE r6.r1 RENAME COLUMN product TO item;

-- 5. rar_diff compares two sets of the source named, and no others.
CALL rar_refresh('r1');
SELECT regexp_replace(show_error(format('SELECT * FROM rar_diff(%L, %s, %s)', 'r1',
    (SELECT min(set_id) FROM rar.rule_sets WHERE source = 'r1_other'),
    (SELECT max(set_id) FROM rar.rule_sets WHERE source = 'r1'))), 'rule set [0-9]+', 'rule set N') AS error;
SELECT count(*) AS unchanged FROM rar_diff('r1');

-- 6. Labels: a temporary table of the caller's named rar_labels is left
-- alone, and long items have labels too.
CREATE TEMP TABLE rar_labels (item text, label text);
INSERT INTO rar_labels VALUES ('my', 'precious data');
CREATE TABLE r6.big (basket_id int, item text, label text);
INSERT INTO r6.big SELECT b, CASE i WHEN 1 THEN repeat('x', 100000) WHEN 2 THEN repeat('é', 50000) WHEN 3 THEN '' ELSE 'z' END,
                          CASE i WHEN 1 THEN 'long x' WHEN 2 THEN 'long é' WHEN 3 THEN 'empty' ELSE 'zed' END
FROM generate_series(1, 20) b, generate_series(1, 4) i;
SELECT name FROM rar_register('big', 'r6.big', tid_column => 'basket_id', item_column => 'item', label_column => 'label',
                    defaults => '{"min_support": 0.5, "min_confidence": 0.5}');
CALL rar_refresh('big');
SELECT antecedent_text, consequent_text FROM rar.rules WHERE source = 'big' AND consequent_text = 'zed' ORDER BY 1;
SELECT * FROM rar_labels;

-- 7. rar.memory_limit counts the items' text: a few long items do not fit
-- where millions of lines would.
CREATE TABLE r6.wide AS SELECT g::text AS basket_id, g::text || repeat('y', 200000) AS item FROM generate_series(1, 40) g;
SET rar.memory_limit = '4MB';
SET max_parallel_workers_per_gather = 0;
SELECT show_error($$SELECT count(*) FROM rar_mine('r6.wide', min_support => 0.5)$$);
-- Arrays of long items (a basket per row) too.
CREATE TABLE r6.arr AS SELECT g AS id, ARRAY[g::text || repeat('x', 200000), 'b' || (g % 3)] AS items FROM generate_series(1, 200) g;
SELECT show_error($$SELECT count(*) FROM rar_mine('r6.arr', min_support => 0.1, tid_column => 'id', item_column => 'items')$$);
-- Rows of huge arrays of one repeated item: the lines count, row by row.
CREATE TABLE r6.arr_long AS SELECT g AS id, array_fill('a'::text, ARRAY[100000]) AS items FROM generate_series(1, 300) g;
SELECT show_error($$SELECT count(*) FROM rar_mine('r6.arr_long', min_support => 0.5, tid_column => 'id', item_column => 'items')$$);
RESET rar.memory_limit;
RESET max_parallel_workers_per_gather;

-- 8. rar_recommend finds the same rules in a basket of many items as in its
-- part: items that are in no rule take nothing away.
CREATE TABLE r6.carts (basket int, item text);
INSERT INTO r6.carts SELECT b, i FROM generate_series(1, 40) b, unnest(ARRAY['a', 'b', 'c', 'd']) i;
INSERT INTO r6.carts SELECT b, 'e' FROM generate_series(1, 30) b;
INSERT INTO r6.carts SELECT b, 'f' FROM generate_series(41, 60) b;
SELECT name FROM rar_register('carts', 'r6.carts', tid_column => 'basket', item_column => 'item',
                    defaults => '{"min_support": 0.1, "min_confidence": 0.1, "max_length": 4}');
CALL rar_refresh('carts');
SELECT item, round(score::numeric, 3) AS score, evidence FROM rar_recommend(ARRAY['a', 'b', 'c'], 2, source => 'carts', method => 'rules') ORDER BY 2 DESC, 1;
SELECT item, round(score::numeric, 3) AS score, evidence
FROM rar_recommend(ARRAY['a', 'b', 'c'] || ARRAY(SELECT 'filler' || g FROM generate_series(1, 120) g), 2, source => 'carts', method => 'rules')
ORDER BY 2 DESC, 1;

-- 10. rar_rules_agg: under a hash aggregate every group's state is alive at
-- once; together they are held to rar.memory_limit.
SET rar.memory_limit = '16MB';
SET max_parallel_workers_per_gather = 0;
SELECT split_part(show_error($$SELECT sum(jsonb_array_length(r)) FROM (
    SELECT g, rar_rules_agg(i, repeat(md5(i::text), 3125) || g, 0.5, 0.5) r
    FROM generate_series(1, 80) g, generate_series(1, 60) i GROUP BY g) s$$), E'\n', 1) AS error;
-- Many small groups still work, and the next statement starts afresh.
SELECT count(*) AS groups, sum(jsonb_array_length(r)) AS rules FROM (
    SELECT g, rar_rules_agg(g, i, 0.5, 0.5) r FROM generate_series(1, 2000) g, generate_series(1, 2) i GROUP BY g) s;
-- Groups of a few thousand lines each count as they grow, not only every
-- 65,536 lines (work_mem large enough for the hash aggregate to keep them).
SET rar.memory_limit = '4MB';
SET work_mem = '1GB';
SELECT split_part(show_error($$SELECT sum(jsonb_array_length(r)) FROM (
    SELECT x % 60 AS g, rar_rules_agg(x, x % 7, 0.9, 0.9) r FROM generate_series(1, 60 * 20000) x GROUP BY 1) s$$), E'\n', 1) AS error;
-- Failing again and again inside a function does not wear the bound down.
CREATE FUNCTION r6.groups(n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE c bigint;
BEGIN
    SELECT sum(jsonb_array_length(r)) INTO c FROM (SELECT g, rar_rules_agg(g, i, 0.5, 0.5) r
        FROM generate_series(1, n) g, generate_series(1, 2) i GROUP BY g) s;
    RETURN c;
END $$;
SET rar.memory_limit = '1MB';
SELECT split_part(show_error($$SELECT r6.groups(2100)$$), E'\n', 1) AS first;
SELECT split_part(show_error($$SELECT r6.groups(2100)$$), E'\n', 1) AS second;
SELECT split_part(show_error($$SELECT r6.groups(2100)$$), E'\n', 1) AS third;
SELECT r6.groups(100) AS small_still_works;
RESET work_mem;
RESET rar.memory_limit;
RESET max_parallel_workers_per_gather;

-- 11. rar_encode writes only columns it makes: a user's column of the same
-- name is refused, nothing changed.
CREATE TABLE r6.enc2 (tid int, item text, price numeric, price_z text, "price=5" int);
INSERT INTO r6.enc2 VALUES (1, 'a', 1, 'customer note 1', 42), (2, 'b', 5, 'customer note 2', 43);
SELECT show_error($$SELECT * FROM rar_encode('r6.enc2', '{price}', 'zscore', tid_column => 'tid', item_column => 'item')$$);
SELECT show_error($$SELECT * FROM rar_encode('r6.enc2', '{price}', 'onehot', as_columns => true, tid_column => 'tid', item_column => 'item')$$);
SELECT price_z, "price=5" FROM r6.enc2 ORDER BY tid;
-- Its own columns, made by an earlier run, are written again.
ALTER TABLE r6.enc2 DROP COLUMN price_z;
SELECT column_name, method FROM rar_encode('r6.enc2', '{price}', 'zscore', tid_column => 'tid', item_column => 'item');
SELECT column_name, method FROM rar_encode('r6.enc2', '{price}', 'zscore', tid_column => 'tid', item_column => 'item');
SELECT price_z FROM r6.enc2 ORDER BY tid;

-- A column the user added after an encode that made none is still the user's.
CREATE TABLE r6.e1 (tid int, item text, price numeric);
INSERT INTO r6.e1 VALUES (1, 'a', 1), (2, 'b', 5), (3, 'c', 9);
SELECT column_name, method FROM rar_encode('r6.e1', '{price}', 'onehot', tid_column => 'tid', item_column => 'item');
ALTER TABLE r6.e1 ADD COLUMN "price=5" int;
UPDATE r6.e1 SET "price=5" = 1000 + tid;
SELECT split_part(show_error($$SELECT * FROM rar_encode('r6.e1', '{price}', 'onehot', as_columns => true, tid_column => 'tid', item_column => 'item')$$), E'\n', 1) AS error;
SELECT tid, "price=5" FROM r6.e1 ORDER BY tid;

-- Infinite values are left out of the statistics, as NaN is.
CREATE TABLE r6.enc (tid int, item text, price float8);
INSERT INTO r6.enc VALUES (1, 'a', -1), (1, 'b', '-Infinity'), (2, 'a', '-Infinity'), (2, 'c', 'NaN'), (3, 'a', 5), (4, 'c', 10);
SELECT column_name, detail FROM rar_encode('r6.enc', '{price}', 'zscore', tid_column => 'tid', item_column => 'item');
SELECT column_name, detail FROM rar_encode('r6.enc', '{price}', 'bins', tid_column => 'tid', item_column => 'item');

-- 9. rar_evaluate of a table too small to split says so in its own words.
CREATE TABLE r6.tiny (basket_id text, item text);
INSERT INTO r6.tiny VALUES ('1', 'a');
SELECT name FROM rar_register('tiny', 'r6.tiny');
SELECT show_error($$SELECT * FROM rar_evaluate('tiny')$$);

-- Tidy up.
SELECT rar_unregister(n) FROM unnest(ARRAY['my_orders', 'barrier_orders', 'plain_orders', 'member_orders', 'setting_orders',
                                          'roles_orders', 'invoker_orders', 'joined_orders', 'r1', 'r1_other', 'big', 'carts', 'tiny']) n;
DROP TABLE rar_labels;
DROP SCHEMA r6 CASCADE;
DROP SCHEMA r6evil CASCADE;
DROP ROLE rar_r6_etl, rar_r6_rep1, rar_r6_rep2, rar_r6_evil;
