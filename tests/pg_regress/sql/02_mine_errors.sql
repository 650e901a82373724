-- Bad input: each gets an SQL error with a proper SQLSTATE, a message in
-- PostgreSQL's style and a HINT.
CREATE TABLE err_sales (invoice text, stock_code text, order_id text, description text, shape point, tags text[]);
INSERT INTO err_sales VALUES ('1', 'a', '1', 'x', '(1,1)', '{a}');
-- A relation that does not exist (PostgreSQL's own regclass error).
SELECT show_error($$SELECT * FROM rar_mine('no_such_table')$$);
-- NULL arguments.
SELECT show_error($$SELECT * FROM rar_mine(NULL)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', min_support => NULL)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', support_of => NULL)$$);
-- Thresholds out of range.
SELECT show_error($$SELECT * FROM rar_mine('tiny', min_support => 0)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', min_support => 1.5)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', min_support => 'NaN')$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', min_confidence => -0.1)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', min_lift => -1)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', max_length => 0)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', max_length => 40)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', min_length => 5)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', max_consequent => 0)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', support_of => 'body')$$);
-- A column that does not exist.
SELECT show_error($$SELECT * FROM rar_mine('err_sales', item_column => 'sku')$$);
-- Columns that cannot be told apart: the HINT shows the call with names.
SELECT show_error($$SELECT * FROM rar_mine('err_sales')$$);
SELECT show_error($$SELECT * FROM rar_mine('err_sales', item_column => 'stock_code')$$);
-- Columns of unusable types.
SELECT show_error($$SELECT * FROM rar_mine('err_sales', tid_column => 'invoice', item_column => 'shape')$$);
SELECT show_error($$SELECT * FROM rar_mine('err_sales', tid_column => 'tags', item_column => 'stock_code')$$);
-- Not a table.
CREATE SEQUENCE err_seq;
SELECT show_error($$SELECT * FROM rar_mine('err_seq')$$);
-- The rule budget: a too-low min_support ends in an error, not in an
-- out-of-memory kill, and the HINT says what to raise.
SET rar.max_rules = 5;
SELECT show_error($$SELECT * FROM rar_mine('typed', min_support => 0.1, min_confidence => 0)$$);
RESET rar.max_rules;
SET rar.memory_limit = '1MB';
CREATE TABLE wide AS SELECT t AS tid, i AS item FROM generate_series(1, 200) t, generate_series(1, 30) i;
SELECT show_error($$SELECT * FROM rar_mine('wide', min_support => 0.5, min_confidence => 0, max_length => 6)$$);
RESET rar.memory_limit;
-- The default budget (-1) is maintenance_work_mem, checked before the scan
-- from the planner's statistics: a job that would not fit stops up front.
SET maintenance_work_mem = '1MB';
CREATE TABLE tall AS SELECT t AS tid, t % 7 AS item, t % 10 AS shop FROM generate_series(1, 25000) t;
ANALYZE tall;
SELECT show_error($$SELECT * FROM rar_mine('tall')$$);
SELECT show_error($$SELECT * FROM rar_mine_segments('tall', 'shop')$$);
RESET maintenance_work_mem;
SELECT count(*) FROM rar_mine('tall', min_support => 0.1, min_confidence => 0.1);
SHOW rar.max_rules;
SHOW rar.memory_limit;
