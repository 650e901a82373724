-- rar_clean and rar_restore on tables that make an exact undo hard: every
-- case either restores the table exactly (the same multiset of rows, in
-- place, nothing outside it touched) or refuses with a reason and changes
-- nothing. (From a second hostile review.)
CREATE FUNCTION same_rows(a regclass, b regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE extra bigint; missing bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) x', a, b) INTO extra;
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) x', b, a) INTO missing;
    RETURN format('%s extra, %s missing', extra, missing);
END $$;
SET client_min_messages = warning;

-- Floats printed with fewer digits do not make two values one.
CREATE TABLE f1 (invoice text, item text, price float8);
INSERT INTO f1 VALUES ('1', ' a', 0.1::float8 + 0.2::float8), ('1', 'a', 0.3), ('2', 'b', 1);
CREATE TABLE f1_before AS TABLE f1;
SELECT count(*) FROM rar_clean('f1');
SET extra_float_digits = 0;
SELECT rar_restore('f1');
RESET extra_float_digits;
SELECT same_rows('f1', 'f1_before');

-- Undoing a change is an UPDATE: no ON DELETE CASCADE elsewhere.
CREATE TABLE s1 (line_id int PRIMARY KEY, invoice text, item text, qty int);
CREATE TABLE s1_notes (line_id int REFERENCES s1 ON DELETE CASCADE, note text);
INSERT INTO s1 VALUES (1, '1', ' a', 1), (2, '1', 'b', 2), (3, '2', 'c', 3);
INSERT INTO s1_notes VALUES (1, 'gift wrap'), (2, 'fragile');
CREATE TABLE s1_before AS TABLE s1;
SELECT count(*) FROM rar_clean('s1', tid_column => 'invoice', item_column => 'item');
SELECT rar_restore('s1');
SELECT same_rows('s1', 's1_before'), (SELECT count(*) FROM s1_notes) AS notes_kept;

-- Generated and GENERATED ALWAYS identity columns.
CREATE TABLE g1 (id int GENERATED ALWAYS AS IDENTITY, invoice text, item text, qty int,
                 twice int GENERATED ALWAYS AS (qty * 2) STORED);
INSERT INTO g1 (invoice, item, qty) VALUES ('1', ' a', 1), ('1', 'b', 0), ('2', 'c', 3);
CREATE TABLE g1_before AS TABLE g1;
SELECT count(*) FROM rar_clean('g1', tid_column => 'invoice', item_column => 'item');
SELECT rar_restore('g1');
SELECT same_rows('g1', 'g1_before');

-- A trigger that keeps lines from going back: refused, nothing changes.
CREATE TABLE t1 (invoice text, item text, qty int);
INSERT INTO t1 VALUES ('1', 'a', 1), ('1', 'b', 0), ('2', 'c', -1);
SELECT count(*) FROM rar_clean('t1');
CREATE FUNCTION t1_skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.qty <= 0 THEN RETURN NULL; END IF; RETURN NEW; END $$;
CREATE TRIGGER t1_skip BEFORE INSERT ON t1 FOR EACH ROW EXECUTE FUNCTION t1_skip();
SELECT regexp_replace(show_error($$SELECT rar_restore('t1')$$), 'run( =)? \d+', 'run N', 'g');
SELECT (SELECT count(*) FROM t1) AS lines, (SELECT count(*) FROM t1_rar_rejected) AS still_quarantined;
DROP TRIGGER t1_skip ON t1;

-- A column the run saw, renamed since: refused, nothing changes.
CREATE TABLE r1 (invoice text, item text, qty int, price numeric);
INSERT INTO r1 VALUES ('1', 'a', 1, 9.5), ('1', 'b', 0, 7.25), ('2', ' c', 3, 1.5);
SELECT count(*) FROM rar_clean('r1');
ALTER TABLE r1 RENAME COLUMN price TO unit_price;
SELECT regexp_replace(show_error($$SELECT rar_restore('r1')$$), 'run( =)? \d+', 'run N', 'g');
ALTER TABLE r1 RENAME COLUMN unit_price TO price;
SELECT rar_restore('r1') AS restored_once_renamed_back;

-- Tables rar_clean cannot give back exactly are refused up front.
CREATE TABLE h1 (invoice text, item text, qty int);
CREATE TABLE h1_2024 (store text) INHERITS (h1);
SELECT show_error($$SELECT * FROM rar_clean('h1')$$);
CREATE TABLE c1 (invoice text, item text, rar_run text);
SELECT show_error($$SELECT * FROM rar_clean('c1')$$);
-- A log row written by a role with DELETE on the table (not its owner)
-- does not decide what the owner's restore puts back.
CREATE ROLE rar_cr_clerk;
CREATE TABLE fx (invoice text, item text, quantity int, price numeric);
INSERT INTO fx VALUES ('A', 'x', 1, 9.99), ('A', 'y', -3, 4.50), ('B', 'z', -1, 7.25);
CREATE TABLE fx_before AS TABLE fx;
GRANT SELECT, DELETE ON fx TO rar_cr_clerk;
SELECT count(*) FROM rar_clean('fx');
DELETE FROM rar.clean_log WHERE relation = 'fx'::regclass;
SET ROLE rar_cr_clerk;
INSERT INTO rar.clean_log (run, relation, quarantine, dry_run, options, report, lines_before, lines_after, removed, changed)
SELECT g, 'fx', 'x', false, '{"columns": ["invoice"]}', '[]', 0, 0, 0, 0 FROM generate_series(1, 2000) g;
SELECT count(*) AS forged_log_rows FROM rar.clean_log WHERE relation = 'fx'::regclass;
RESET ROLE;
SELECT rar_restore('fx') AS restored;
SELECT same_rows('fx', 'fx_before');
DROP TABLE fx, fx_rar_rejected, fx_before;
DROP ROLE rar_cr_clerk;

-- A table dropped and created again under the same name is another table:
-- the old one's quarantine is not restored into it.
CREATE TABLE tt (invoice text, item text, quantity int);
INSERT INTO tt VALUES ('A', 'x', 1), ('A', 'y', -1), ('B', NULL, 1);
SELECT count(*) FROM rar_clean('tt');
DROP TABLE tt;
CREATE TABLE tt (invoice text, item text, quantity int);
INSERT INTO tt VALUES ('NEW', 'n', 5);
SELECT regexp_replace(show_error($$SELECT rar_restore('tt')$$), 'run( =)? \d+', 'run N', 'g');
SELECT regexp_replace(show_error($$SELECT * FROM rar_clean('tt')$$), 'run( =)? \d+', 'run N', 'g');
SELECT count(*) AS lines_of_the_new_table FROM tt;
DROP TABLE tt, tt_rar_rejected;

-- The quarantine of a table with row-level security has it too (no
-- policies: only the owner sees the rows kept aside).
CREATE TABLE rls_sales (tenant text, invoice text, item text, quantity int);
ALTER TABLE rls_sales ENABLE ROW LEVEL SECURITY;
INSERT INTO rls_sales VALUES ('x', '1', 'a', 1), ('y', '2', 'b', 0);
SELECT count(*) FROM rar_clean('rls_sales', tid_column => 'invoice', item_column => 'item');
SELECT relrowsecurity AS quarantine_has_row_security FROM pg_class WHERE oid = 'rls_sales_rar_rejected'::regclass;
DROP TABLE rls_sales, rls_sales_rar_rejected;
RESET client_min_messages;
-- merge_duplicates keeps its work in pg_temp.rar_duplicates, and never
-- replaces a temporary table of the user's by that name.
CREATE TABLE mdup (basket int, item text, qty int);
INSERT INTO mdup VALUES (1, 'a', 1), (1, 'a', 2), (2, 'b', 5);
CREATE TEMP TABLE rar_duplicates (mine text);
INSERT INTO rar_duplicates VALUES ('precious');
SELECT show_error($$SELECT * FROM rar_clean('mdup', tid_column => 'basket', item_column => 'item', quantity_column => 'qty', merge_duplicates => true)$$);
TABLE pg_temp.rar_duplicates;
DROP TABLE pg_temp.rar_duplicates;
SELECT step, action, rows FROM rar_clean('mdup', tid_column => 'basket', item_column => 'item', quantity_column => 'qty', merge_duplicates => true)
WHERE step IN ('duplicate_item', 'total') ORDER BY step, action;
SELECT basket, item, qty FROM mdup ORDER BY basket;
SELECT to_regclass('pg_temp.rar_duplicates') IS NULL AS work_table_gone;
DROP TABLE mdup, mdup_rar_rejected;
