-- The ninth review's probes: a superuser's call runs no code of a role's,
-- whatever road it takes (a cast from an array of the role's domain, a
-- superuser's view over the role's table or view, a trigger's WHEN
-- condition), and no call of rar's that reads a table runs in a parallel
-- query (where its checks could not read the definition afresh).
SET client_min_messages = warning;
CREATE ROLE rar_r9_owner;
CREATE SCHEMA r9 AUTHORIZATION rar_r9_owner;
CREATE TABLE r9.ran (who text, super bool);
GRANT INSERT ON r9.ran TO PUBLIC;
SET ROLE rar_r9_owner;
CREATE FUNCTION r9.note() RETURNS boolean LANGUAGE sql VOLATILE AS
    $$ INSERT INTO r9.ran SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) RETURNING true $$;
CREATE FUNCTION r9.pred(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT r9.note() $$;

-- 1. An array of a role's domain over text: PostgreSQL ignores casts from a
-- domain, not from an array of one, so the role's casts from that array
-- type would run. The read goes through the elements' output function.
CREATE DOMAIN r9.d_text AS text;
CREATE TABLE r9.arr (tid int, items r9.d_text[]);
INSERT INTO r9.arr SELECT g, '{a,b}' FROM generate_series(1, 10) g;
INSERT INTO r9.arr SELECT g, '{a,c}' FROM generate_series(11, 14) g;
CREATE FUNCTION r9.arr_text(r9.d_text[]) RETURNS text[] LANGUAGE sql AS
    $$ SELECT CASE WHEN r9.note() THEN pg_catalog.string_to_array(pg_catalog.array_to_string($1, ','), ',') END $$;
CREATE CAST (r9.d_text[] AS text[]) WITH FUNCTION r9.arr_text(r9.d_text[]);
CREATE FUNCTION r9.arr_text1(r9.d_text[]) RETURNS text LANGUAGE sql AS
    $$ SELECT CASE WHEN r9.note() THEN pg_catalog.array_to_string($1, ',') END $$;
CREATE CAST (r9.d_text[] AS text) WITH FUNCTION r9.arr_text1(r9.d_text[]);
RESET ROLE;
SELECT antecedent, consequent, count FROM rar_mine('r9.arr', tid_column => 'tid', item_column => 'items', min_support => 0.2)
 ORDER BY antecedent, consequent;
SELECT count(*) > 0 AS profiled FROM rar_profile('r9.arr', tid_column => 'tid', item_column => 'items');
SELECT count(*) AS ran_as_superuser FROM r9.ran WHERE super;

-- 2. A superuser's view over a role's table reads it as the superuser: the
-- relations a view reads are locked and checked as the table itself is.
-- Refused once the role's table has its function in an index predicate;
-- a superuser's view over a role's view, or calling a role's function, is
-- refused as the role's view itself is.
SET ROLE rar_r9_owner;
CREATE TABLE r9.t (tid int, item text);
INSERT INTO r9.t SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 60) g;
CREATE VIEW r9.v AS SELECT tid, item FROM r9.t;
RESET ROLE;
CREATE VIEW public.r9_over_table AS SELECT tid, item FROM r9.t;
CREATE VIEW public.r9_over_view AS SELECT tid, item FROM r9.v;
CREATE TABLE public.r9_base (tid int, item text);
INSERT INTO public.r9_base SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 60) g;
CREATE VIEW public.r9_calls AS SELECT tid, item FROM public.r9_base WHERE r9.pred(tid);
SELECT count(*) AS rules FROM rar_mine('public.r9_over_table', min_support => 0.05, min_confidence => 0.1);
SELECT show_error($$SELECT count(*) FROM rar_mine('public.r9_over_view', min_support => 0.05)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('public.r9_calls', min_support => 0.05)$$);
SET ROLE rar_r9_owner;
CREATE INDEX ON r9.t (item) WHERE r9.pred(1);
RESET ROLE;
SELECT show_error($$SELECT count(*) FROM rar_mine('public.r9_over_table', min_support => 0.05)$$);
SELECT show_error($$SELECT rar_profile('public.r9_over_table') IS NOT NULL$$);
SELECT count(*) AS ran_as_superuser FROM r9.ran WHERE super;
-- A view's relations are locked for the call, as the table's partitions are.
BEGIN;
SELECT count(*) AS rules FROM rar_mine('public.r9_base', min_support => 0.05, min_confidence => 0.1);
CREATE VIEW public.r9_plain AS SELECT tid, item FROM public.r9_base;
SELECT rar.lock_for_read('public.r9_plain');
SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname IN ('r9_plain', 'r9_base') ORDER BY 1, 2;
ROLLBACK;

-- A role's range type with a subtype_diff of its own: the planner's
-- estimate of `@>` in a partial index predicate calls it, as the reader.
SET ROLE rar_r9_owner;
CREATE FUNCTION r9.idiff(int, int) RETURNS float8 LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN r9.note() THEN ($1 - $2)::float8 END $$;
CREATE TYPE r9.irange AS RANGE (subtype = int4, subtype_diff = r9.idiff);
CREATE TABLE r9.ranged (tid int, item text, valid r9.irange);
INSERT INTO r9.ranged SELECT g / 3, 'i' || (g % 5), r9.irange(g % 50, g % 50 + 10) FROM generate_series(1, 300) g;
CREATE INDEX ON r9.ranged (item) WHERE (tid IS NOT NULL OR valid @> 5);
ANALYZE r9.ranged;
-- An enum runs no code: a superuser's view comparing with its constant reads.
CREATE TYPE r9.status AS ENUM ('paid', 'void');
CREATE TABLE r9.orders (tid int, item text, status r9.status);
INSERT INTO r9.orders SELECT g / 3, 'i' || (g % 5), CASE WHEN g % 4 = 0 THEN 'void' ELSE 'paid' END::r9.status FROM generate_series(1, 60) g;
RESET ROLE;
DELETE FROM r9.ran;
SELECT show_error($$SELECT count(*) FROM rar_mine('r9.ranged', tid_column => 'tid', item_column => 'item', min_support => 0.05)$$);
CREATE VIEW public.r9_paid AS SELECT tid, item FROM r9.orders WHERE status = 'paid';
SELECT count(*) > 0 AS mined FROM rar_mine('public.r9_paid', min_support => 0.05, min_confidence => 0.1);
DROP VIEW public.r9_paid;
SELECT count(*) AS ran_as_superuser FROM r9.ran WHERE super;

-- 3. A trigger's WHEN condition runs when the superuser's rar_clean changes
-- the table: a role's function there is refused, as in the trigger's own
-- function (a role may add triggers to a table with the TRIGGER grant).
CREATE TABLE public.r9_su (tid int, item text);
INSERT INTO public.r9_su SELECT g / 3, CASE WHEN g % 7 = 0 THEN NULL ELSE 'i' || (g % 5) END FROM generate_series(1, 60) g;
GRANT TRIGGER ON public.r9_su TO rar_r9_owner;
SET ROLE rar_r9_owner;
CREATE TRIGGER r9_when BEFORE UPDATE ON public.r9_su FOR EACH ROW WHEN (r9.pred(1))
    EXECUTE FUNCTION suppress_redundant_updates_trigger();
RESET ROLE;
SELECT show_error($$SELECT count(*) FROM rar_clean('public.r9_su', tid_column => 'tid', item_column => 'item')$$);
SELECT count(*) AS lines_kept FROM public.r9_su;
SELECT count(*) AS ran_as_superuser FROM r9.ran WHERE super;

-- 4. Every function that reads a table through rar's checks is PARALLEL
-- UNSAFE: no parallel plan (which puts the caller in parallel mode, where
-- no fresh snapshot can be taken) is ever built around it.
SELECT p.proname, p.proparallel FROM pg_proc p
 WHERE p.proname IN ('rar_mine', 'rar_mine_segments', 'rar_profile', 'rar_recommend', 'rar_evaluate',
                     'rar_rules_over_time', 'rar_columns', 'rar_split', 'rar_train', 'rar_encode', 'rar_clean',
                     'rar_restore', 'rar_register', 'rar_track_changes', 'basket_key', 'lock_for_read')
 GROUP BY 1, 2 ORDER BY 1, 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT count(*) FROM rar_mine('public.r9_base', min_support => 0.05);
SELECT count(*) AS rules FROM rar_mine('public.r9_base', min_support => 0.05, min_confidence => 0.1);
RESET force_parallel_mode;

-- 5. A jsonb value serde_json cannot hold (a number beyond double
-- precision, 200 levels of nesting) is a 22023 error, not an internal one,
-- for any role and before any other check.
SELECT show_error($$SELECT * FROM rar_tune_plan('{"hidden": [1e400]}')$$);
SELECT show_error($$SELECT * FROM rar_tune_plan(('{"hidden": ' || repeat('[', 200) || '4' || repeat(']', 200) || '}')::jsonb)$$);
-- Grid values are numbers, strings or booleans, and memory_limit is not one
-- to try: refused before any trial runs.
SELECT show_error($$SELECT * FROM rar_tune_plan('{"hidden": [64, null]}')$$);
SELECT show_error($$SELECT * FROM rar_tune_plan('{"memory_limit": [1]}')$$);
SELECT count(*) AS trials FROM rar_tune_plan('{"hidden": [64, 128], "device": "cpu", "layers": [1, 2]}');
SET ROLE rar_r9_owner;
SELECT show_error($$SELECT * FROM rar_train('r9.t', 'mlp', '{"hidden": 1e400}')$$);

-- 6. A transformer, trained with its defaults, gives neural rules: their
-- thresholds start from its score of an empty basket, which was NaN
-- (attention over padding alone), reported as damaged weights.
SELECT model, deployed FROM rar_train('r9.t', 'transformer', '{"epochs": 1, "device": "cpu", "min_item_count": 1}');
SELECT show_error($$SELECT count(*) FROM rar_mine('r9.t', min_support => 0.05, min_confidence => 0.1, method => 'neural')$$) AS neural,
       show_error($$SELECT count(*) FROM rar_mine('r9.t', min_support => 0.05, min_confidence => 0.1, method => 'hybrid')$$) AS hybrid;

-- Deploying the model already deployed replaces nothing; NULL is 22004.
SELECT deployed, replaced IS NULL AS replaced_nothing
  FROM rar_deploy((SELECT model_id FROM rar.models WHERE source = 'r9.t'::regclass AND deployed));
SELECT show_error($$SELECT * FROM rar_deploy(NULL)$$);

-- 7. A rule row the owner edited to hold a NULL item, or a confidence that
-- is not a number, is skipped by rar_recommend for its readers, not an
-- internal error (nor ranked first).
SELECT (rar_register('r9_rec', 'r9.t')).name;
CALL rar_refresh('r9_rec', min_support => 0.05, min_confidence => 0.1);
UPDATE rar.rule_store SET consequent = '{NULL}'
 WHERE set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r9_rec' AND current)
   AND rule_id = (SELECT min(rule_id) FROM rar.rule_store WHERE set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r9_rec' AND current));
UPDATE rar.rule_store SET confidence = 'NaN'
 WHERE set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r9_rec' AND current)
   AND consequent = '{i0}';
SELECT count(*) > 0 AS recommended, bool_and(score = score) AS all_numbers, bool_and(item IS NOT NULL) AS no_null
  FROM rar_recommend(ARRAY['i1', 'i2'], 5, source => 'r9_rec');
-- A role granted only the rules may not use the table's model: 42501, not
-- "no deployed model" (row security hides the model from it).
RESET ROLE;
CREATE ROLE rar_r9_bi;
SET ROLE rar_r9_owner;
SELECT rar_grant('r9_rec', 'rar_r9_bi');
SET ROLE rar_r9_bi;
SELECT count(*) > 0 AS rules_read FROM rar_recommend(ARRAY['i1', 'i2'], 5, source => 'r9_rec');
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['i1'], 3, source => 'r9_rec', method => 'model')$$);
SET ROLE rar_r9_owner;
DELETE FROM rar.sources WHERE name = 'r9_rec';
RESET ROLE;
DROP OWNED BY rar_r9_bi;
DROP ROLE rar_r9_bi;

-- 8. The twenty-ninth review's roads. A split recorded on a timestamp
-- column, whose type the owner then changed to its enum with its own cast
-- to timestamp: the time column is checked again on every use.
SET ROLE rar_r9_owner;
CREATE TABLE r9.timed (tid int, item text, at timestamp);
INSERT INTO r9.timed SELECT g / 3, 'i' || (g % 5), timestamp '2024-01-01' + (g / 3) * interval '1 day' FROM generate_series(1, 120) g;
SELECT split, baskets > 0 AS some FROM rar_split('r9.timed', tid_column => 'tid', item_column => 'item', time_column => 'at', test_days => 5) ORDER BY 1;
CREATE TYPE r9.when_e AS ENUM ('early', 'late');
CREATE FUNCTION r9.when_ts(r9.when_e) RETURNS timestamp LANGUAGE sql AS
    $$ SELECT CASE WHEN r9.note() THEN timestamp '2024-01-01' END $$;
CREATE CAST (r9.when_e AS timestamp) WITH FUNCTION r9.when_ts(r9.when_e);
ALTER TABLE r9.timed ALTER COLUMN at TYPE r9.when_e USING (CASE WHEN tid < 20 THEN 'early' ELSE 'late' END)::r9.when_e;
RESET ROLE;
DELETE FROM r9.ran;
SELECT show_error($$SELECT count(*) FROM rar_mine('r9.timed', tid_column => 'tid', item_column => 'item', min_support => 0.05, split => 'train')$$);
-- A superuser's domain with a CHECK calling a role's function, cast to in
-- a superuser's view: the check would run as the superuser.
CREATE DOMAIN public.r9_sku AS text CHECK (r9.pred(length(VALUE)));
CREATE VIEW public.r9_cast AS SELECT tid, item::public.r9_sku AS item FROM public.r9_base;
SELECT show_error($$SELECT count(*) FROM rar_mine('public.r9_cast', min_support => 0.05)$$);
-- A superuser's function with a BEGIN ATOMIC body reading a role's view,
-- called by a superuser's view: what the body reads is followed.
CREATE FUNCTION public.r9_lines() RETURNS TABLE (tid int, item text) LANGUAGE sql STABLE
    BEGIN ATOMIC SELECT v.tid, v.item FROM r9.v AS v; END;
CREATE VIEW public.r9_via_fn AS SELECT * FROM public.r9_lines();
SELECT show_error($$SELECT count(*) FROM rar_mine('public.r9_via_fn', min_support => 0.05)$$);
-- A label column of a superuser's domain over a role's enum, whose cast
-- to text is the role's: labels are read through the output function.
SET ROLE rar_r9_owner;
CREATE TYPE r9.shade AS ENUM ('red', 'blue');
RESET ROLE;
CREATE DOMAIN public.r9_shade AS r9.shade;
CREATE TABLE public.r9_lab (tid int, item text, lbl public.r9_shade);
INSERT INTO public.r9_lab SELECT g / 3, 'i' || (g % 5), CASE WHEN g % 5 < 2 THEN 'red' ELSE 'blue' END::r9.shade FROM generate_series(1, 60) g;
SET ROLE rar_r9_owner;
CREATE FUNCTION r9.shade_text(r9.shade) RETURNS text LANGUAGE sql AS
    $$ SELECT CASE WHEN r9.note() THEN pg_catalog.format('%s', $1) END $$;
CREATE CAST (r9.shade AS text) WITH FUNCTION r9.shade_text(r9.shade);
RESET ROLE;
SELECT (rar_register('r9_lab', 'public.r9_lab', 'tid', 'item', label_column => 'lbl')).name;
SELECT show_error($$CALL rar_refresh('r9_lab', min_support => 0.05, min_confidence => 0.1)$$);
SELECT DISTINCT unnest(antecedent_labels || consequent_labels) AS label FROM rar.rule_store
 WHERE set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r9_lab' AND current) ORDER BY 1;
DELETE FROM rar.sources WHERE name = 'r9_lab';
SELECT count(*) AS ran_as_superuser FROM r9.ran WHERE super;
-- rar_labelled_rules called on its own checks the label table as
-- rar_refresh does: a superuser does not read a role's label view.
SET ROLE rar_r9_owner;
CREATE VIEW r9.lblv AS SELECT 'i' || g AS item, 'L' || g AS label FROM generate_series(0, 4) g WHERE r9.note();
SELECT (rar_register('r9_lv', 'r9.t', 'tid', 'item', label_column => 'label', label_table => 'r9.lblv', label_key => 'item')).name;
SELECT count(*) > 0 AS owner_reads FROM rar_labelled_rules((SELECT s FROM rar.sources s WHERE name = 'r9_lv'),
    '{"method": "exact", "min_support": 0.05, "min_confidence": 0.1, "max_length": 3, "min_lift": 0}');
RESET ROLE;
DELETE FROM r9.ran;
SELECT show_error($$SELECT count(*) FROM rar_labelled_rules((SELECT s FROM rar.sources s WHERE name = 'r9_lv'),
    '{"method": "exact", "min_support": 0.05, "min_confidence": 0.1, "max_length": 3, "min_lift": 0}')$$);
SELECT count(*) AS ran_as_superuser FROM r9.ran WHERE super;
DELETE FROM rar.sources WHERE name = 'r9_lv';
DROP TABLE public.r9_lab;
DROP DOMAIN public.r9_shade;
DROP VIEW public.r9_via_fn;
DROP FUNCTION public.r9_lines();
DROP VIEW public.r9_cast;
DROP DOMAIN public.r9_sku;

-- 9. A role with SELECT on a table in a schema it may not use cannot read
-- the table, nor what rar derived from it; with USAGE it reads both.
CREATE ROLE rar_r9_nousage;
SET ROLE rar_r9_owner;
GRANT SELECT ON r9.t TO rar_r9_nousage;
SELECT (rar_register('r9_nu', 'r9.t', 'tid', 'item')).name;
CALL rar_refresh('r9_nu', min_support => 0.05, min_confidence => 0.1);
SET ROLE rar_r9_nousage;
SELECT count(*) AS rules_seen FROM rar.rules WHERE source = 'r9_nu';
SELECT regexp_replace(show_error($$SELECT * FROM rar_recommend(ARRAY['i1'], 3, source => 'r9_nu')$$), E'\n.*', '', 'g') AS error;
RESET ROLE;
GRANT USAGE ON SCHEMA r9 TO rar_r9_nousage;
SET ROLE rar_r9_nousage;
SELECT count(*) > 0 AS rules_seen FROM rar.rules WHERE source = 'r9_nu';
RESET ROLE;
DELETE FROM rar.sources WHERE name = 'r9_nu';
DROP OWNED BY rar_r9_nousage;
DROP ROLE rar_r9_nousage;

DROP VIEW public.r9_over_table, public.r9_over_view, public.r9_calls;
DROP TABLE public.r9_base CASCADE;
DROP TABLE public.r9_su;
DROP SCHEMA r9 CASCADE;
DROP ROLE rar_r9_owner;
