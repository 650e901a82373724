-- The eighth review's probes: each must fail with a proper SQLSTATE or give
-- the right answer.
SET client_min_messages = warning;
CREATE ROLE rar_r8_owner;
CREATE SCHEMA r8 AUTHORIZATION rar_r8_owner;
SET ROLE rar_r8_owner;
CREATE TABLE r8.p (tid int, item text);
INSERT INTO r8.p VALUES (1, 'a'), (1, 'b'), (2, 'a'), (3, 'b'), (3, 'c'), (4, 'b'), (4, 'c');
SELECT (rar_register('r8_plot', 'r8.p')).name;
CALL rar_refresh('r8_plot', min_support => 0.2, min_confidence => 0.1);

-- 1. A support the owner wrote into its rules (1.7e308, NaN, negative) is
-- drawn at the edge: the log axis asked for 2^31 powers of ten, without end.
UPDATE rar.rule_store SET support = 1.7e308
 WHERE rule_id = 1 AND set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current);
UPDATE rar.rule_store SET support = 'NaN', confidence = -5
 WHERE rule_id = 2 AND set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current);
SET statement_timeout = '20s';
SELECT rar_plot('r8_plot') LIKE '%</svg>' AS scatter_drawn,
       rar_plot('r8_plot', 'graph') LIKE '%</svg>' AS graph_drawn;

-- 2. Rules with many labels each: the graph's layout costs the edges (it
-- rescanned every rule for every item), and its memory is bounded.
DELETE FROM rar.rule_store WHERE set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current);
INSERT INTO rar.rule_store (set_id, rule_id, antecedent, consequent, antecedent_labels, consequent_labels,
                            support, confidence, lift, leverage, conviction, count, explanation, antecedent_key)
SELECT (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current), r, '{a}', '{b}',
       array(SELECT 'x' || r || '_' || j FROM generate_series(1, 30) j), array['y' || r],
       0.5, 0.5, 1, 0, 1, 1, '', rar.rule_key('{a}')
FROM generate_series(1, 1000) r;
SELECT (length(rar_plot('r8_plot', 'graph', 1000)) - length(replace(rar_plot('r8_plot', 'graph', 1000), 'class="edge"', ''))) / 12 AS edges;
SET rar.memory_limit = '1MB';
SELECT length(rar_plot('r8_plot', 'graph', 1000));
RESET rar.memory_limit;
RESET statement_timeout;

-- 3. rar.lock_for_read takes no lock on a relation the caller may not read,
-- and nothing for NULL.
RESET ROLE;
CREATE ROLE rar_r8_other;
GRANT USAGE ON SCHEMA r8 TO rar_r8_other;
BEGIN;
SET LOCAL ROLE rar_r8_other;
SELECT rar.lock_for_read('r8.p'), rar.lock_for_read(NULL);
SELECT count(*) AS locks_held FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'r8.p'::regclass;
ROLLBACK;
BEGIN;
SET LOCAL ROLE rar_r8_owner;
SELECT rar.lock_for_read('r8.p');
SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'r8.p'::regclass;
ROLLBACK;

-- 4. Planning a superuser's read of a role's table runs the IMMUTABLE
-- functions of its index predicates (and expressions, check constraints,
-- partition keys, statistics), with constant arguments, as the superuser:
-- refused, for the source and for its label table; the owner reads it.
RESET ROLE;
CREATE TABLE r8.ran (who text, super bool);
GRANT INSERT ON r8.ran TO PUBLIC;
SET ROLE rar_r8_owner;
CREATE FUNCTION r8.note() RETURNS boolean LANGUAGE sql VOLATILE AS
    $$ INSERT INTO r8.ran SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) RETURNING true $$;
CREATE FUNCTION r8.pred(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT r8.note() $$;
CREATE TABLE r8.sales (tid int, item text);
INSERT INTO r8.sales SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 60) g;
CREATE INDEX ON r8.sales (item) WHERE r8.pred(1);
SELECT (rar_register('r8_pred', 'r8.sales')).name;
CREATE TABLE r8.plain (tid int, item text);
INSERT INTO r8.plain SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 60) g;
CREATE TABLE r8.labels (item text, label text);
INSERT INTO r8.labels SELECT 'i' || g, 'label ' || g FROM generate_series(0, 4) g;
CREATE INDEX ON r8.labels (item) WHERE r8.pred(2);
SELECT (rar_register('r8_labelled', 'r8.plain', 'tid', 'item', label_column => 'label', label_table => 'r8.labels')).name;
RESET ROLE;
DELETE FROM r8.ran;
SELECT show_error($$SELECT count(*) FROM rar_mine('r8.sales', min_support => 0.05)$$);
SELECT show_error($$CALL rar_refresh('r8_pred', min_support => 0.05)$$);
SELECT show_error($$CALL rar_refresh('r8_labelled', min_support => 0.05)$$);
SELECT count(*) AS ran_as_superuser FROM r8.ran WHERE super;
SET ROLE rar_r8_owner;
SELECT count(*) > 0 AS owner_mines FROM rar_mine('r8.sales', min_support => 0.05);
CALL rar_refresh('r8_labelled', min_support => 0.05);
RESET ROLE;
-- The owner's reads did run the predicate's function (as the owner): the
-- superuser's would have run it as the superuser.
SELECT count(*) > 0 AS ran_as_owner, count(*) FILTER (WHERE super) AS ran_as_superuser FROM r8.ran;
DELETE FROM rar.sources WHERE name IN ('r8_pred', 'r8_labelled');

-- 4b. A time column of a role's type named like a timestamp (its cast to
-- timestamp is the role's), a role's foreign-table partition of a
-- superuser's table (its server connects as the reader), and a role's
-- partition with a function in an index predicate under a superuser's
-- table: refused to a superuser, nothing of the role's runs.
SET ROLE rar_r8_owner;
CREATE TYPE r8.timestamp_e AS ENUM ('2024-01-01', '2024-02-01');
CREATE FUNCTION r8.to_ts(r8.timestamp_e) RETURNS pg_catalog.timestamp LANGUAGE sql IMMUTABLE AS
    $$ SELECT CASE WHEN r8.note() THEN pg_catalog.format('%s', $1)::pg_catalog.timestamp END $$;
CREATE CAST (r8.timestamp_e AS pg_catalog.timestamp) WITH FUNCTION r8.to_ts(r8.timestamp_e);
CREATE TABLE r8.timed (tid int, item text, t r8.timestamp_e);
INSERT INTO r8.timed SELECT g / 3, 'i' || (g % 4), (ARRAY['2024-01-01', '2024-02-01'])[1 + g % 2]::r8.timestamp_e FROM generate_series(1, 30) g;
RESET ROLE;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER r8_loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
GRANT USAGE ON FOREIGN SERVER r8_loop TO rar_r8_owner;
CREATE TABLE r8.parted (tid int, item text) PARTITION BY RANGE (tid);
CREATE TABLE r8.parted_1 PARTITION OF r8.parted FOR VALUES FROM (0) TO (100);
CREATE TABLE r8.parted_2 PARTITION OF r8.parted FOR VALUES FROM (100) TO (200);
ALTER TABLE r8.parted_2 OWNER TO rar_r8_owner;
SET ROLE rar_r8_owner;
CREATE INDEX ON r8.parted_2 (item) WHERE r8.pred(3);
RESET ROLE;
CREATE TABLE r8.parted_f (tid int, item text) PARTITION BY RANGE (tid);
CREATE TABLE r8.parted_f1 PARTITION OF r8.parted_f FOR VALUES FROM (0) TO (100);
GRANT CREATE ON SCHEMA r8 TO rar_r8_owner;
SET ROLE rar_r8_owner;
CREATE FOREIGN TABLE r8.far (tid int, item text) SERVER r8_loop;
RESET ROLE;
ALTER TABLE r8.parted_f ATTACH PARTITION r8.far FOR VALUES FROM (100) TO (200);
DELETE FROM r8.ran;
SET search_path = r8, public;
SELECT show_error($$SELECT count(*) FROM rar_split('r8.timed', time_column => 't', test_days => 10)$$);
SELECT show_error($$SELECT count(*) FROM rar_rules_over_time('r8.timed', time_column => 't', tid_column => 'tid', item_column => 'item', min_support => 0.01)$$);
RESET search_path;
SELECT show_error($$SELECT count(*) FROM rar_mine('r8.parted', min_support => 0.05)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('r8.parted_f', min_support => 0.05)$$);
SELECT count(*) AS ran_as_superuser FROM r8.ran WHERE super;
DROP TABLE r8.parted, r8.parted_f;
DROP SERVER r8_loop CASCADE;

-- 4c. The functions that change a table in place, run by a superuser on
-- its own table: a role's partition (its triggers), a role's function in
-- an index, a column of a role's domain: refused, nothing of the role's
-- runs.
CREATE TABLE r8.w_parted (tid int, item text, qty int) PARTITION BY RANGE (tid);
CREATE TABLE r8.w_lo PARTITION OF r8.w_parted FOR VALUES FROM (0) TO (26);
CREATE TABLE r8.w_hi PARTITION OF r8.w_parted FOR VALUES FROM (26) TO (1000);
ALTER TABLE r8.w_hi OWNER TO rar_r8_owner;
INSERT INTO r8.w_parted SELECT b, i, 1 FROM generate_series(1, 50) b, unnest(ARRAY['a', 'b', ' D ']) i;
SET ROLE rar_r8_owner;
CREATE FUNCTION r8.on_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM r8.note(); RETURN coalesce(NEW, OLD); END $$;
CREATE TRIGGER noted AFTER INSERT OR UPDATE OR DELETE ON r8.w_hi FOR EACH ROW EXECUTE FUNCTION r8.on_row();
CREATE FUNCTION r8.same(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM r8.note(); RETURN t; END $$;
CREATE DOMAIN r8.dnum AS numeric CHECK (r8.note());
RESET ROLE;
CREATE TABLE r8.w_indexed (tid int, item text, qty int);
INSERT INTO r8.w_indexed SELECT b, i, 1 FROM generate_series(1, 50) b, unnest(ARRAY['a', 'b', ' D ']) i;
CREATE INDEX ON r8.w_indexed (r8.same(item));
CREATE TABLE r8.w_domain (tid int, item text, qty r8.dnum);
INSERT INTO r8.w_domain SELECT b, i, 1 FROM generate_series(1, 30) b, unnest(ARRAY['a', 'b', ' C ']) i;
DELETE FROM r8.ran;
SELECT show_error($$SELECT count(*) FROM rar_clean('r8.w_parted', 'tid', 'item')$$);
SELECT show_error($$SELECT count(*) FROM rar_encode('r8.w_parted', ARRAY['qty'], 'zscore')$$);
SELECT show_error($$SELECT count(*) FROM rar_clean('r8.w_indexed', 'tid', 'item')$$);
SELECT show_error($$SELECT count(*) FROM rar_clean('r8.w_domain', 'tid', 'item', quantity_column => 'qty', merge_duplicates => true)$$);
SELECT count(*) AS ran_as_superuser FROM r8.ran WHERE super;
DROP TABLE r8.w_parted, r8.w_indexed, r8.w_domain;

-- 5. Small holes: a time split's last day from finite times only; shares
-- and measures out of range refused; each evaluation method once; a
-- hyperparameter without values refused.
RESET ROLE;
CREATE TABLE r8.sp (tid int, item text, ts timestamp);
INSERT INTO r8.sp SELECT g / 2, 'i' || (g % 5), timestamp '2024-01-01' + (g / 2) * interval '1 day' FROM generate_series(0, 399) g;
SELECT split, baskets FROM rar_split('r8.sp', 0.9, 0.1, 0, time_column => 'ts', test_days => 30) WHERE split = 'test';
INSERT INTO r8.sp VALUES (999, 'i1', 'infinity');
SELECT split, baskets FROM rar_split('r8.sp', 0.9, 0.1, 0, time_column => 'ts', test_days => 30) WHERE split = 'test';
SELECT rar_split_bucket('b1', 0, 'NaN', 'NaN') AS nan_shares, rar_split_bucket('b1', 0, -5, -5) AS negative,
       rar_split_bucket('b1', 0, 5, 5) AS past_one, rar_split_bucket('b1', 0, 1, 0) AS all_train;
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 'NaN', 2, 0.1, 5, 50)$$);
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0.5, 'Infinity', 0.1, 5, 50)$$);
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0.5, 2, 0.1, -5, 50)$$);
SELECT rar_explain('{a}', '{b}', 0.5, 2, 0.1, 5, 50);
SELECT (rar_register('r8_sp', 'r8.sp', 'tid', 'item')).name;
SELECT count(*) AS rows_once FROM rar_evaluate('r8_sp', min_support => 0.05, methods => '{exact,exact}');
SELECT count(*) AS rows_exact FROM rar_evaluate('r8_sp', min_support => 0.05, methods => '{exact}');
DELETE FROM rar.sources WHERE name = 'r8_sp';
SELECT show_error($$SELECT * FROM rar_tune_plan('{"hidden": [], "epochs": [1]}')$$);
SELECT show_error($$SELECT rar_explain('{a}', '{b}', 0.5, 2, 0.1, 10, 0)$$);
-- Each trial copies its values: bounded by rar.memory_limit before any is made.
SET rar.memory_limit = '16MB';
SELECT show_error($$SELECT count(*) FROM rar_tune_plan(jsonb_build_object('big', jsonb_build_array(repeat('x', 1000000), 'y'))
    || (SELECT jsonb_object_agg('k' || i, '[1, 2]'::jsonb) FROM generate_series(1, 8) i))$$);
RESET rar.memory_limit;

RESET ROLE;
DROP SCHEMA r8 CASCADE;
DELETE FROM rar.sources WHERE name = 'r8_plot';
DROP ROLE rar_r8_other;
DROP ROLE rar_r8_owner;
