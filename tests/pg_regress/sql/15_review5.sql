-- Probes of a fifth hostile review, each a regression test: a superuser is
-- not made to run a user's triggers, memory stays bounded in segments and
-- recommendations, pictures stay well-formed XML, aggregates refuse
-- thresholds that change within a group, time splits do not depend on the
-- session's time zone, and rar_encode handles NaN and long names.
CREATE ROLE rar_r5_owner;
CREATE ROLE rar_r5_hostile;
CREATE SCHEMA r5 AUTHORIZATION rar_r5_owner;
GRANT USAGE, CREATE ON SCHEMA r5 TO rar_r5_hostile;

-- A superuser does not clean, restore or encode a user's table: its
-- triggers would run with the superuser's rights.
SET ROLE rar_r5_owner;
CREATE TABLE r5.trap (basket int, item text, price float8);
INSERT INTO r5.trap SELECT g, 'i' || g % 3, g FROM generate_series(1, 10) g;
CREATE FUNCTION r5.trap_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t BEFORE UPDATE ON r5.trap FOR EACH ROW EXECUTE FUNCTION r5.trap_fn();
RESET ROLE;
SELECT show_error($$SELECT * FROM rar_encode('r5.trap', ARRAY['price'], 'zscore')$$);
SELECT show_error($$SELECT * FROM rar_clean('r5.trap')$$);
SELECT show_error($$SELECT rar_restore('r5.trap')$$);

-- A view named like rar_encode's, made by another role, is neither replaced
-- nor used.
SET ROLE rar_r5_hostile;
CREATE VIEW r5.trap_rar_items AS SELECT 'x'::text AS basket, 'y'::text AS item;
RESET ROLE;
SET ROLE rar_r5_owner;
SELECT show_error($$SELECT * FROM rar_encode('r5.trap', ARRAY['price'], 'bins')$$);
RESET ROLE;
DROP VIEW r5.trap_rar_items;

-- rar_encode: NaN values are left out of the statistics; long column names
-- get a name within 63 bytes, the same on every run.
SET ROLE rar_r5_owner;
CREATE TABLE r5.nums (basket int, item text, n numeric, c234567890123456789012345678901234567890123456789012345678901 numeric);
INSERT INTO r5.nums SELECT g, 'i' || g % 3, CASE WHEN g % 10 = 0 THEN 'NaN'::numeric ELSE g::numeric END, g FROM generate_series(1, 100) g;
SELECT column_name, method, added FROM rar_encode('r5.nums', ARRAY['n'], 'zscore');
SELECT count(*) FILTER (WHERE n_z IS NULL) AS nulls, count(*) FILTER (WHERE n_z = 'NaN') AS nans FROM r5.nums;
SELECT count(*) AS bins FROM rar_encode('r5.nums', ARRAY['n'], 'bins', 4);
SELECT count(DISTINCT item) FILTER (WHERE item LIKE 'n=%') AS n_tokens FROM r5.nums_rar_items;
SELECT added FROM rar_encode('r5.nums', ARRAY['c234567890123456789012345678901234567890123456789012345678901'], 'zscore');
SELECT added FROM rar_encode('r5.nums', ARRAY['c234567890123456789012345678901234567890123456789012345678901'], 'zscore');
SELECT added FROM rar_encode('r5.nums', ARRAY['c234567890123456789012345678901234567890123456789012345678901'], 'minmax');
RESET ROLE;

-- Pictures: labels with characters XML does not allow stay well-formed.
SET ROLE rar_r5_owner;
CREATE TABLE r5.odd (basket int, item text);
INSERT INTO r5.odd SELECT b, i FROM generate_series(1, 10) b, unnest(ARRAY[E'ctl\x01\x08char', E'\uFFFE', 'plain']) i;
SELECT name FROM rar_register('odd', 'r5.odd');
CALL rar_refresh('odd', min_support => 0.5);
SELECT xml_is_well_formed_document(rar_plot('odd')) AS scatter_ok, xml_is_well_formed_document(rar_plot('odd', 'graph')) AS graph_ok;
RESET ROLE;

-- Aggregates: thresholds that differ within a group are refused, whatever
-- the plan; a negative max_length says so.
CREATE TABLE r5_agg AS SELECT b AS basket, 'i' || (b * k) % 7 AS item FROM generate_series(1, 200) b, generate_series(1, 3) k;
SELECT show_error($$SELECT rar_rules_agg(basket, item, CASE WHEN basket % 2 = 0 THEN 0.01 ELSE 0.9 END, 0.5) FROM r5_agg$$);
SELECT show_error($$SELECT rar_rules_agg(basket, item, 0.1, 0.5, -5) FROM r5_agg$$);
SELECT jsonb_array_length(rar_rules_agg(basket, item, 0.1, 0.5)) > 0 AS constant_thresholds_work FROM r5_agg;
SELECT rar_rules_agg(basket, item, 0.1, 0.5, NULL) = rar_rules_agg(basket, item, 0.1, 0.5) AS null_max_length_is_default FROM r5_agg;

-- rar_mine_segments: all segments together stay within rar.max_rules.
CREATE TABLE r5_amp AS SELECT b AS basket, 'x' || i AS item, b AS seg FROM generate_series(1, 100) b, generate_series(1, 10) i;
SET rar.max_rules = 100000;
SELECT show_error($$SELECT count(*) FROM rar_mine_segments('r5_amp', 'seg', 1e-9, 0, 32, min_baskets => 1)$$);
-- Without min_baskets, segments where one basket alone reaches min_support
-- are skipped, and a NOTICE says how many.
SELECT count(*) AS rules_of_one_basket_segments FROM rar_mine_segments('r5_amp', 'seg', 1e-9, 0, 32);
RESET rar.max_rules;

-- rar_recommend: a basket of more than 1,000 items is refused before any
-- key is made.
SET ROLE rar_r5_owner;
SELECT show_error($$SELECT count(*) FROM rar_recommend((SELECT array_agg('x' || g) FROM generate_series(1, 100000) g), 10, 'odd')$$);
RESET ROLE;

-- Time splits: the same sets whatever the session's time zone, and baskets
-- without a time are never test baskets.
SET ROLE rar_r5_owner;
CREATE TABLE r5.ts (basket int, item text, t timestamp);
INSERT INTO r5.ts SELECT b, 'i' || ((b + i) % 9),
       CASE WHEN b % 10 = 0 THEN NULL ELSE '2024-01-01'::timestamp + b * interval '1 hour' END
FROM generate_series(1, 480) b, generate_series(1, 3) i;
SET TimeZone = 'UTC';
SELECT split, baskets FROM rar_split('r5.ts', time_column => 't', test_days => 5) ORDER BY split;
SET TimeZone = 'Asia/Tokyo';
SELECT count(DISTINCT basket) AS test_baskets_in_tokyo FROM r5.ts
WHERE basket IN (SELECT basket FROM r5.ts GROUP BY basket HAVING min(t::timestamp AT TIME ZONE 'UTC') >= (SELECT test_from FROM rar.splits WHERE relation = 'r5.ts'::regclass));
SELECT round((count / support)::numeric) AS test_baskets_mined FROM rar_mine('r5.ts', 0.001, 0, 2, split => 'test') LIMIT 1;
RESET TimeZone;
SELECT show_error($$SELECT * FROM rar_split('r5.ts', 0, 0, 1, time_column => 't', test_days => 5)$$);
RESET ROLE;

-- A model of a table the caller may read only some columns of is hidden:
-- neural mining says permission, not that no model exists.
SET ROLE rar_r5_owner;
CREATE TABLE r5.m (basket int, item text, secret text);
INSERT INTO r5.m SELECT g / 3, 'i' || g % 5, 's' FROM generate_series(1, 600) g;
SET client_min_messages = warning;
SELECT version FROM rar_train('r5.m', 'mlp', '{"epochs": 1, "hidden": 4, "device": "cpu"}');
RESET client_min_messages;
GRANT SELECT (basket, item) ON r5.m TO rar_r5_hostile;
SET ROLE rar_r5_hostile;
SELECT count(*) > 0 AS exact_rules FROM rar_mine('r5.m', 0.01, 0.01);
SELECT show_error($$SELECT * FROM rar_mine('r5.m', 0.01, 0.01, method => 'neural')$$);
RESET ROLE;
DELETE FROM rar.deployments WHERE source = 'r5.m'::regclass;
DELETE FROM rar.models WHERE source = 'r5.m'::regclass;

-- Tidy up.
SELECT rar_unregister('odd');
DROP TABLE r5_agg, r5_amp;
DROP SCHEMA r5 CASCADE;
DROP ROLE rar_r5_owner, rar_r5_hostile;
