-- Fixes of the eighth session of 2026-11-30.

-- 1. A time column whose type is a domain over timestamptz: a time split
-- records the last time less test_days whatever the session's time zone
-- (rar reads times in UTC while it runs), and the baskets it calls test are
-- the same when mined under another time zone.
CREATE SCHEMA r10;
CREATE DOMAIN r10.moment AS timestamptz;
CREATE TABLE r10.ts (basket int, item text, t r10.moment);
INSERT INTO r10.ts SELECT b, 'i' || ((b + i) % 9), '2024-01-01 00:00+00'::timestamptz + b * interval '1 hour'
FROM generate_series(1, 480) b, generate_series(1, 3) i;
SET TimeZone = 'Asia/Tokyo';
SELECT split, baskets FROM rar_split('r10.ts', time_column => 't', test_days => 5) ORDER BY split;
SELECT test_from = (SELECT max(t) - interval '5 days' FROM r10.ts) AS test_from_exact,
       test_from AT TIME ZONE 'UTC' AS test_from_utc
FROM rar.splits WHERE relation = 'r10.ts'::regclass;
SET TimeZone = 'America/New_York';
SELECT count(DISTINCT basket) AS test_baskets FROM r10.ts
WHERE basket IN (SELECT basket FROM r10.ts GROUP BY basket
                 HAVING min(t) >= (SELECT test_from FROM rar.splits WHERE relation = 'r10.ts'::regclass));
SELECT round((count / support)::numeric) AS test_baskets_mined FROM rar_mine('r10.ts', 0.001, 0, 2, split => 'test') LIMIT 1;
RESET TimeZone;

-- 2. A list of basket columns that does not parse is an undefined column
-- (it was read leniently: '"basket' as basket, 'basket,' as basket).
SELECT show_error($$SELECT count(*) FROM rar_mine('r10.ts', tid_column => '"basket', item_column => 'item')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('r10.ts', tid_column => 'basket,', item_column => 'item')$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('r10.ts', tid_column => '"basket"x, t', item_column => 'item')$$);
SELECT count(*) > 0 AS two_columns_parse FROM rar_mine('r10.ts', 0.001, 0, tid_column => ' "basket" , t', item_column => 'item');

-- 3. The partition keys of a partition's ancestors are checked: a role's
-- function in its top table's key ran as the superuser reading (or
-- cleaning) a sub-partition, whose partition constraint holds that key; and
-- a role's domain named only by a partition key is checked too.
CREATE ROLE rar_r10_evil;
CREATE SCHEMA r10e AUTHORIZATION rar_r10_evil;
SET ROLE rar_r10_evil;
CREATE FUNCTION r10e.imm(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RAISE NOTICE 'r10e.imm ran as %', current_user; RETURN $1; END $$;
CREATE FUNCTION r10e.chk(int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN RAISE NOTICE 'r10e.chk ran as %', current_user; RETURN true; END $$;
CREATE DOMAIN r10e.dom AS int CHECK (r10e.chk(VALUE));
SET client_min_messages = warning;
CREATE TABLE r10e.top (tid int, item text) PARTITION BY LIST (((r10e.imm(0) + tid) % 2));
CREATE TABLE r10e.sales PARTITION OF r10e.top FOR VALUES IN (0) PARTITION BY HASH (tid);
CREATE TABLE r10e.sales0 PARTITION OF r10e.sales FOR VALUES WITH (modulus 1, remainder 0);
CREATE TABLE r10e.top1 PARTITION OF r10e.top FOR VALUES IN (1);
INSERT INTO r10e.top SELECT g / 2 * 2, 'x' || (g % 5) FROM generate_series(1, 40) g;
RESET ROLE;
CREATE TABLE r10.su_top (tid int, item text) PARTITION BY LIST (((r10e.imm(0) + tid) % 2));
CREATE TABLE r10.su_top1 PARTITION OF r10.su_top FOR VALUES IN (1);
INSERT INTO r10.su_top SELECT g, CASE WHEN g % 3 = 0 THEN ' x' || (g % 5) || ' ' ELSE 'x' || (g % 5) END
FROM generate_series(1, 40) g WHERE g % 2 = 1;
CREATE TABLE r10.su_pk (tid int, item text) PARTITION BY LIST (((tid::r10e.dom)::int % 2));
CREATE TABLE r10.su_pk0 PARTITION OF r10.su_pk FOR VALUES IN (0);
CREATE TABLE r10.su_pk1 PARTITION OF r10.su_pk FOR VALUES IN (1);
INSERT INTO r10.su_pk SELECT g / 3, CASE WHEN g % 5 = 0 THEN '  i' || (g % 7) || '  ' ELSE 'i' || (g % 7) END
FROM generate_series(3, 62) g;
RESET client_min_messages;
-- No NOTICE below: nothing of the role's runs.
SELECT show_error($$SELECT count(*) FROM rar_mine('r10e.sales', tid_column => 'tid', item_column => 'item', min_support => 0.5)$$);
SELECT show_error($$SELECT rar_profile('r10e.sales')$$);
SELECT show_error($$SELECT step, rows FROM rar_clean('r10.su_top1', tid_column => 'tid', item_column => 'item')$$);
SELECT show_error($$SELECT step, rows FROM rar_clean('r10.su_pk', tid_column => 'tid', item_column => 'item')$$);
-- A sub-partition whose ancestors' keys name nothing of a role's is read.
CREATE TABLE r10.clean (tid int, item text) PARTITION BY LIST ((tid % 2));
CREATE TABLE r10.clean1 PARTITION OF r10.clean FOR VALUES IN (1) PARTITION BY HASH (tid);
CREATE TABLE r10.clean1a PARTITION OF r10.clean1 FOR VALUES WITH (modulus 1, remainder 0);
INSERT INTO r10.clean SELECT g / 3 * 2 + 1, 'i' || (g % 4) FROM generate_series(1, 90) g;
SELECT count(*) > 0 AS sub_partition_rules FROM rar_mine('r10.clean1', tid_column => 'tid', item_column => 'item', min_support => 0.01);

-- 4. A rar_refresh's hold on the names it read ends with a savepoint rolled
-- back (its locks do too), and a schema renamed in the caller's own
-- transaction while rar holds it is named as such (55000, not a 40001 that
-- a retry could not mend); `workshop.` does not name `shop`.
CREATE SCHEMA r10s;
CREATE TABLE r10s.lines (basket int, item text);
INSERT INTO r10s.lines SELECT g / 3, 'i' || (g % 4) FROM generate_series(1, 90) g;
SELECT (rar_register('r10_lines', 'r10s.lines', 'basket', 'item')).name;
BEGIN;
SAVEPOINT a;
CALL rar_refresh('r10_lines', min_support => 0.05, min_confidence => 0.1);
ROLLBACK TO SAVEPOINT a;
ALTER SCHEMA r10s RENAME TO r10s_old;
CREATE SCHEMA r10s;
SELECT 'r10s.lines is being rebuilt' AS after_rollback_to_savepoint;
ROLLBACK;
BEGIN;
CALL rar_refresh('r10_lines', min_support => 0.05, min_confidence => 0.1);
CREATE SCHEMA r10work;
CREATE TABLE r10work.t (x int);
SELECT count(*) AS other_schema_named FROM r10work.t;
ALTER SCHEMA r10s RENAME TO r10s_old;
SELECT 1 FROM r10s.other;
ROLLBACK;
DELETE FROM rar.sources WHERE name = 'r10_lines';
DROP SCHEMA r10s CASCADE;

-- 5. The extension's functions call one another by the name of the schema
-- they were installed in: when that schema is renamed (and another takes
-- its name), each refuses before it calls anything by that name.
SELECT n.nspname AS ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'rar' \gset
ALTER SCHEMA :"ext_schema" RENAME TO r10_home;
SELECT r10_home.show_error($$CALL r10_home.rar_refresh('nothing')$$);
SELECT r10_home.show_error($$SELECT r10_home.rar_register('r10_x', 'pg_catalog.pg_class')$$);
-- Functions written in Rust name rar's functions by the schema's name now.
SELECT count(*) > 0 AS rust_functions_work FROM r10_home.rar_mine('r10.clean1', tid_column => 'tid', item_column => 'item', min_support => 0.01);
ALTER SCHEMA r10_home RENAME TO :"ext_schema";

DROP SCHEMA r10 CASCADE;
DROP SCHEMA r10e CASCADE;
DROP ROLE rar_r10_evil;
