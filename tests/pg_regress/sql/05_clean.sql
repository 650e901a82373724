-- rar_clean: every rule, the row-conservation invariant, dry runs, repeat
-- runs, rar_restore, cancellation and bad input.
CREATE TABLE dirty (invoice text, item text, quantity int, price numeric);
INSERT INTO dirty VALUES
  ('1', 'bread', 1, 1.0), ('1', 'butter', 2, 2.0), ('1', 'bread', 3, 1.0),   -- bread twice
  ('2', '  milk   semi ', 1, 1.0), ('2', 'Â£ voucher', 1, 5.0),             -- white space, mojibake
  ('C3', 'bread', -1, 1.0),                                                  -- a cancellation
  ('4', 'bread', 0, 1.0), ('4', 'jam', 1, 1.0),                              -- zero quantity
  ('5', 'NONE', 1, 0.0), ('5', 'POST', 1, 18.0), ('5', 'jam', 1, 1.5),       -- placeholders
  (NULL, 'milk', 1, 1.0), ('6', NULL, 1, 1.0), ('6', '   ', 1, 1.0),         -- NULL and blank
  ('7', 'bread', 1, 1.2), ('7', 'tea', 1, 1000.0), ('7', 'cake', 2, 3.5),   -- an outlier price
  ('8', 'a', 1, 1), ('8', 'b', 1, 2), ('8', 'c', 1, 3), ('8', 'd', 1, 4),
  ('8', 'e', 1, 5), ('8', 'f', 1, 6), ('8', 'g', 1, 7);                      -- a huge basket
CREATE TABLE dirty_copy AS SELECT * FROM dirty;
-- A dry run reports the same figures and changes nothing.
SELECT * FROM rar_clean('dirty', cancelled_basket_pattern => '^C', placeholder_items => '{NONE,POST}',
                        merge_duplicates => true, outlier_mad => 5, max_basket_size => 5, dry_run => true);
SELECT (SELECT count(*) FROM dirty) AS lines,
       (SELECT count(*) FROM (SELECT * FROM dirty EXCEPT ALL SELECT * FROM dirty_copy) d) AS differences,
       to_regclass('dirty_rar_rejected') AS quarantine;
-- The real run.
SELECT * FROM rar_clean('dirty', cancelled_basket_pattern => '^C', placeholder_items => '{NONE,POST}',
                        merge_duplicates => true, outlier_mad => 5, max_basket_size => 5);
SELECT * FROM dirty ORDER BY invoice, item;
-- Nothing is lost: kept + removed = before.
SELECT (SELECT count(*) FROM dirty) + (SELECT count(*) FROM dirty_rar_rejected WHERE rar_action = 'removed') AS total,
       (SELECT count(*) FROM dirty_copy) AS before;
SELECT rar_reason, rar_action, count(*) FROM dirty_rar_rejected GROUP BY 1, 2 ORDER BY 1, 2;
-- Cleaning twice is safe: the second run finds nothing to do. (Rules
-- computed from the data's distribution, outlier_mad and
-- basket_size_quantile, are computed again on what is left.)
SELECT step, rows FROM rar_clean('dirty', cancelled_basket_pattern => '^C', placeholder_items => '{NONE,POST}',
                                 merge_duplicates => true, max_basket_size => 5);
-- Each run is logged.
SELECT run, relation, dry_run, lines_before, lines_after, removed, changed, jsonb_array_length(report) AS rules
FROM rar.clean_log ORDER BY run;
-- Any row can be put back.
SELECT rar_restore('dirty', run => 2);
SELECT count(*) FROM dirty;
SELECT count(*) FROM dirty_rar_rejected WHERE rar_action = 'removed';
-- Restoring is an undo: removed lines back, normalized items and merged
-- quantities back to their originals; the table is what it was.
SELECT (SELECT count(*) FROM (SELECT * FROM dirty EXCEPT ALL SELECT * FROM dirty_copy) a) AS extra,
       (SELECT count(*) FROM (SELECT * FROM dirty_copy EXCEPT ALL SELECT * FROM dirty) b) AS missing,
       (SELECT sum(quantity) FROM dirty) = (SELECT sum(quantity) FROM dirty_copy) AS same_quantity,
       (SELECT count(*) FROM dirty_rar_rejected) AS left_in_quarantine;
SELECT run, restored_at IS NOT NULL AS restored FROM rar.clean_log WHERE relation = 'dirty'::regclass ORDER BY run;
-- Runs are undone last first: an earlier one alone is refused.
SELECT step, rows FROM rar_clean('dirty', merge_duplicates => true) ORDER BY step;
SELECT step, rows FROM rar_clean('dirty', placeholder_items => '{NONE,POST}') ORDER BY step;
SELECT show_error(format('SELECT rar_restore(%L, run => %s)', 'dirty', (SELECT max(run) - 1 FROM rar.clean_log)));
SET client_min_messages = warning;
SELECT rar_restore('dirty');
RESET client_min_messages;
SELECT (SELECT count(*) FROM (SELECT * FROM dirty EXCEPT ALL SELECT * FROM dirty_copy) a) AS extra,
       (SELECT count(*) FROM (SELECT * FROM dirty_copy EXCEPT ALL SELECT * FROM dirty) b) AS missing;
-- A line changed again after the run cannot be restored to its original:
-- refused, and nothing changes.
SELECT step, rows FROM rar_clean('dirty', merge_duplicates => true) ORDER BY step;
UPDATE dirty SET quantity = 99 WHERE invoice = '1' AND item = 'bread';
SELECT show_error($$SELECT rar_restore('dirty')$$);
SELECT count(*) AS lines_unchanged FROM dirty;
-- Once the line is as the run left it, the run restores.
UPDATE dirty SET quantity = 4 WHERE invoice = '1' AND item = 'bread';
SET client_min_messages = warning;
SELECT rar_restore('dirty');
RESET client_min_messages;
SELECT (SELECT count(*) FROM (SELECT * FROM dirty EXCEPT ALL SELECT * FROM dirty_copy) a) AS extra,
       (SELECT count(*) FROM (SELECT * FROM dirty_copy EXCEPT ALL SELECT * FROM dirty) b) AS missing;

-- Other rules: case folding, a quantile of basket sizes, a pattern.
CREATE TABLE shop (tid int, item varchar(40));
INSERT INTO shop SELECT t, 'Item ' || i FROM generate_series(1, 20) t, generate_series(1, 1 + t % 4) i;
INSERT INTO shop SELECT 99, 'bulk ' || i FROM generate_series(1, 30) i;
SELECT step, action, rows FROM rar_clean('shop', case_fold => 'upper', basket_size_quantile => 0.95,
                                         placeholder_pattern => '^BULK 1');
SELECT count(*), count(DISTINCT tid), min(item), max(item) FROM shop;
SELECT rar_normalize_item('  café   crème ', 'upper'), rar_normalize_item('Â£5'), rar_normalize_item('Â£5', fix_mojibake => false);

-- Cancelling mid-way leaves the table and the quarantine as they were.
CREATE TABLE big_sales AS SELECT (g / 5)::text AS tid, 'item ' || (g % 97) AS item, (g % 7) - 1 AS quantity
FROM generate_series(1, 300000) g;
SET statement_timeout = '50ms';
SELECT * FROM rar_clean('big_sales', merge_duplicates => true, outlier_mad => 3);
RESET statement_timeout;
SELECT count(*) FROM big_sales;
SELECT to_regclass('big_sales_rar_rejected');

-- Bad input.
CREATE VIEW dirty_view AS SELECT * FROM dirty;
SELECT show_error($$SELECT * FROM rar_clean('dirty_view')$$);
SELECT show_error($$SELECT * FROM rar_clean(NULL)$$);
SELECT show_error($$SELECT * FROM rar_clean('dirty', case_fold => 'title')$$);
SELECT show_error($$SELECT * FROM rar_clean('dirty', max_basket_size => 10, basket_size_quantile => 0.9)$$);
SELECT show_error($$SELECT * FROM rar_clean('dirty', basket_size_quantile => 1.5)$$);
SELECT show_error($$SELECT * FROM rar_clean('dirty', outlier_mad => 0)$$);
SELECT show_error($$SELECT * FROM rar_clean('dirty', quantity_column => 'item')$$);
SELECT show_error($$SELECT * FROM rar_clean('dirty', quantity_column => 'qty_missing')$$);
SELECT show_error($$SELECT * FROM rar_clean('dirty', cancelled_basket_pattern => '(')$$);
SELECT show_error($$SELECT * FROM rar_restore('shop_never_cleaned_view')$$);
CREATE TABLE never_cleaned (tid int, item text);
SELECT show_error($$SELECT * FROM rar_restore('never_cleaned')$$);
-- An empty table: nothing to do, no error.
SELECT step, rows FROM rar_clean('never_cleaned');
-- A role that may read but not change the table.
CREATE ROLE rar_test_reader;
GRANT SELECT ON dirty TO rar_test_reader;
SET ROLE rar_test_reader;
SELECT show_error($$SELECT * FROM rar_clean('dirty')$$);
RESET ROLE;
REVOKE ALL ON dirty FROM rar_test_reader;
DROP ROLE rar_test_reader;
-- Dependent views keep working: rar_clean only deletes and updates rows.
SELECT count(*) FROM dirty_view;
-- A table renamed after cleaning is restored from the quarantine made for
-- it, which keeps its old name; a table that only shares a name has none.
CREATE TABLE to_rename AS SELECT b AS tid, chr(97 + b % 5) AS item FROM generate_series(1, 20) b;
SELECT step, rows FROM rar_clean('to_rename', case_fold => 'upper') WHERE rows > 0;
ALTER TABLE to_rename RENAME TO renamed;
SELECT rar_restore('renamed') AS restored_lines;
SELECT count(*) AS lower_items FROM renamed WHERE item = lower(item);
CREATE TABLE to_rename (tid int, item text);
SELECT show_error($$SELECT rar_restore('to_rename')$$);
DROP TABLE renamed, to_rename, to_rename_rar_rejected;
