-- A shared server: an owner, a role with SELECT only, a hostile role with
-- CREATE on a schema on the others' search_path, and a BI login in
-- rar_reader. Every probe of issue 11; each must fail with a proper SQLSTATE
-- or have no effect, and nothing of the owner's may change.
CREATE ROLE rar_sec_owner;
CREATE ROLE rar_sec_reader;
CREATE ROLE rar_sec_hostile;
CREATE ROLE rar_sec_bi IN ROLE rar_reader;
CREATE SCHEMA sec AUTHORIZATION rar_sec_owner;
CREATE SCHEMA evil AUTHORIZATION rar_sec_hostile;
GRANT USAGE ON SCHEMA sec, evil TO PUBLIC;
GRANT CREATE ON SCHEMA sec TO rar_sec_hostile;
SET ROLE rar_sec_owner;
CREATE TABLE sec.sales (tid int, item text, quantity numeric);
INSERT INTO sec.sales SELECT b, i, 1 FROM generate_series(1, 40) b, unnest(ARRAY['a', 'b', 'c']) i WHERE (b + ascii(i)) % 3 <> 0;
INSERT INTO sec.sales VALUES (41, 'a ', 1), (41, 'b', -1);
CREATE TABLE sec.secret (item text, label text);
INSERT INTO sec.secret VALUES ('a', 'SECRET A');
GRANT SELECT ON sec.sales TO rar_sec_reader, rar_sec_hostile;
SELECT name FROM rar_register('sec_sales', 'sec.sales');
CALL rar_refresh('sec_sales', min_support => 0.1);
SELECT count(*) > 0 AS owner_sees_rules FROM rar.rules WHERE source = 'sec_sales';
RESET ROLE;

-- 2. SELECT on a table gives no write access to its catalog rows.
SET ROLE rar_sec_reader;
SELECT count(*) > 0 AS reader_sees_rules FROM rar.rules WHERE source = 'sec_sales';
UPDATE rar.sources SET label_table = 'sec.secret', label_column = 'label' WHERE name = 'sec_sales';
UPDATE rar.rule_store SET explanation = 'rewritten';
DELETE FROM rar.rule_sets;
SELECT show_error($$SELECT rar_unregister('sec_sales')$$);
SELECT show_error($$SELECT * FROM rar_split('sec.sales')$$);
SELECT show_error($$CALL rar_refresh('sec_sales')$$);
SELECT show_error($$SELECT * FROM rar_register('mine', 'sec.sales')$$);
SELECT show_error($$SELECT rar_grant('sec_sales', 'rar_sec_reader')$$);
SELECT show_error($$INSERT INTO rar.models (source, version, architecture, params, vocab, weights, curves, metrics, device, seconds,
                     lines, train_baskets, valid_baskets, split) VALUES ('sec.sales', 9, 'mlp', '{}', '{}', '', '{}', '{}', 'cpu', 0, 0, 0, 0, '')$$);
SELECT show_error($$INSERT INTO rar.splits (relation, tid_column, seed, train, validation, test) VALUES ('sec.sales', 'tid', 1, 1, 0, 0)$$);
SELECT show_error($$SELECT * FROM rar_train('sec.sales')$$);
RESET ROLE;
SELECT label_table IS NULL AS labels_untouched FROM rar.sources WHERE name = 'sec_sales';
SELECT count(*) FILTER (WHERE explanation = 'rewritten') AS rewritten, count(*) > 0 AS rules_kept FROM rar.rule_store;
SELECT count(*) AS rule_sets FROM rar.rule_sets WHERE source = 'sec_sales';

-- 3. Nothing on the caller's search_path stands in for the extension's SQL.
SET ROLE rar_sec_hostile;
CREATE TABLE evil.calls (what text);
GRANT INSERT ON evil.calls TO PUBLIC;
CREATE FUNCTION evil.le(numeric, integer) RETURNS boolean LANGUAGE sql AS
$$ INSERT INTO evil.calls VALUES ('operator <=') RETURNING true $$;
CREATE OPERATOR evil.<= (FUNCTION = evil.le, LEFTARG = numeric, RIGHTARG = integer);
CREATE FUNCTION evil.rar_normalize_item(text, text, boolean) RETURNS text LANGUAGE sql AS
$$ INSERT INTO evil.calls VALUES ('rar_normalize_item') RETURNING $1 $$;
CREATE FUNCTION evil.rar_source(text) RETURNS rar.sources LANGUAGE sql AS
$$ INSERT INTO evil.calls VALUES ('rar_source'); SELECT * FROM rar.sources LIMIT 1 $$;
CREATE FUNCTION evil.rar_explain(text[], text[], float8, float8, float8, bigint, bigint, float8 DEFAULT NULL) RETURNS text LANGUAGE sql AS
$$ INSERT INTO evil.calls VALUES ('rar_explain') RETURNING 'hijacked' $$;
CREATE FUNCTION evil.count(text) RETURNS bigint LANGUAGE sql AS $$ INSERT INTO evil.calls VALUES ('count') RETURNING 0::bigint $$;
RESET ROLE;
SET ROLE rar_sec_owner;
SET search_path = evil, public;
SELECT step, rows FROM rar_clean('sec.sales', dry_run => true) ORDER BY step;
CALL rar_refresh('sec_sales', min_support => 0.1);
SELECT count(*) AS rules FROM rar_mine('sec.sales', min_support => 0.1);
SELECT count(*) AS hijacked_explanations FROM rar.rules WHERE explanation = 'hijacked';
RESET search_path;
RESET ROLE;
SELECT count(*) AS hostile_calls FROM evil.calls;
-- Every plpgsql and SQL function of the extension pins its search_path.
SELECT p.oid::regprocedure AS unpinned
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar'
JOIN pg_language l ON l.oid = p.prolang
WHERE l.lanname = 'plpgsql' AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
ORDER BY 1;
-- One SECURITY DEFINER function: the change-tracking trigger, with a pinned
-- search path, callable only as a statement trigger.
SELECT p.oid::regprocedure AS security_definer, p.proconfig, p.prorettype::regtype
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar' WHERE p.prosecdef;

-- 4. A dry run that fails leaves the session usable, and the table whole.
SET ROLE rar_sec_owner;
CREATE FUNCTION sec.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no deletes today'; END $$;
CREATE TRIGGER refuse BEFORE DELETE ON sec.sales FOR EACH ROW EXECUTE FUNCTION sec.refuse();
SELECT count(*) AS lines_before FROM sec.sales;
SELECT show_error($$SELECT * FROM rar_clean('sec.sales', dry_run => true)$$);
SELECT 1 AS session_alive;
SELECT * FROM rar_clean('sec.sales', dry_run => true);
SELECT 1 AS still_alive;
SET statement_timeout = '1ms';
SELECT * FROM rar_clean('sec.sales', dry_run => true);
RESET statement_timeout;
SELECT 1 AS alive_after_timeout;
BEGIN;
SELECT show_error($$SELECT * FROM rar_clean('sec.sales', dry_run => true)$$);
SELECT 1 AS alive_in_transaction;
ROLLBACK;
DROP TRIGGER refuse ON sec.sales;
SELECT count(*) AS lines_after FROM sec.sales;
RESET ROLE;

-- 5. The quarantine belongs to the table's owner.
GRANT SELECT, UPDATE, DELETE ON sec.sales TO rar_sec_hostile;
SET ROLE rar_sec_hostile;
SELECT show_error($$SELECT * FROM rar_clean('sec.sales')$$);
CREATE TABLE sec.sales_rar_rejected (LIKE sec.sales);
RESET ROLE;
SET ROLE rar_sec_owner;
SELECT show_error($$SELECT * FROM rar_clean('sec.sales')$$);
SELECT show_error($$SELECT rar_restore('sec.sales')$$);
RESET ROLE;
DROP TABLE sec.sales_rar_rejected;
SET ROLE rar_sec_owner;
SELECT count(*) AS before FROM sec.sales;
SELECT step, rows FROM rar_clean('sec.sales') ORDER BY step;
SELECT pg_get_userbyid(relowner) AS quarantine_owner FROM pg_class WHERE oid = 'sec.sales_rar_rejected'::regclass;
SELECT (SELECT count(*) FROM sec.sales) + (SELECT count(*) FROM sec.sales_rar_rejected WHERE rar_action = 'removed') AS kept_plus_quarantined;
-- A 63-character name gets a quarantine that cannot fall onto the table.
CREATE TABLE sec.t23456789012345678901234567890123456789012345678901234567890123 (tid int, item text, quantity int);
INSERT INTO sec.t23456789012345678901234567890123456789012345678901234567890123 VALUES (1, 'a', 1), (1, NULL, 1), (2, 'b', 0);
SELECT step, rows FROM rar_clean('sec.t23456789012345678901234567890123456789012345678901234567890123') ORDER BY step;
SELECT relname FROM pg_class WHERE relnamespace = 'sec'::regnamespace AND relname LIKE 't2345%' ORDER BY 1;
SET client_min_messages = warning;
SELECT rar_restore('sec.t23456789012345678901234567890123456789012345678901234567890123');
RESET client_min_messages;
SELECT count(*) AS restored FROM sec.t23456789012345678901234567890123456789012345678901234567890123;
RESET ROLE;

-- 6. Rules follow the rights on the data.
SET ROLE rar_sec_bi;
SELECT count(*) AS bi_rules_without_grant FROM rar.rules WHERE source = 'sec_sales';
SELECT count(*) AS bi_graph_without_grant FROM rar.rule_graph WHERE source = 'sec_sales';
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['a'], source => 'sec_sales')$$);
SELECT show_error($$SELECT * FROM rar_diff('sec_sales')$$);
RESET ROLE;
SET ROLE rar_sec_owner;
SELECT rar_grant('sec_sales', 'rar_sec_bi');
RESET ROLE;
SET ROLE rar_sec_bi;
SELECT count(*) > 0 AS bi_rules_with_grant FROM rar.rules WHERE source = 'sec_sales';
SELECT count(*) > 0 AS bi_recommends FROM rar_recommend(ARRAY['a'], source => 'sec_sales');
RESET ROLE;
SET ROLE rar_sec_owner;
SELECT rar_revoke('sec_sales', 'rar_sec_bi');
RESET ROLE;
SET ROLE rar_sec_bi;
SELECT count(*) AS bi_rules_after_revoke FROM rar.rules WHERE source = 'sec_sales';
RESET ROLE;
-- A table with row-level security: a tenant that sees some rows does not
-- see rules mined (by its owner) from all of them.
SET ROLE rar_sec_owner;
CREATE TABLE sec.tenant_sales (tenant text, tid int, item text);
INSERT INTO sec.tenant_sales SELECT 'x', b, i FROM generate_series(1, 10) b, unnest(ARRAY['x1', 'x2']) i;
INSERT INTO sec.tenant_sales SELECT 'y', b, i FROM generate_series(11, 20) b, unnest(ARRAY['y1', 'y2']) i;
ALTER TABLE sec.tenant_sales ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_x ON sec.tenant_sales FOR SELECT TO rar_sec_reader USING (tenant = 'x');
GRANT SELECT ON sec.tenant_sales TO rar_sec_reader;
SELECT name FROM rar_register('tenants', 'sec.tenant_sales', 'tid', 'item');
CALL rar_refresh('tenants', min_support => 0.1);
SELECT count(*) AS owner_tenant_rules FROM rar.rules WHERE source = 'tenants';
RESET ROLE;
SET ROLE rar_sec_reader;
SELECT count(*) AS tenant_rules_seen FROM rar.rules WHERE source = 'tenants';
SELECT count(*) AS rows_seen FROM sec.tenant_sales;
RESET ROLE;

-- A grant names the source's own table: a role cannot grant itself the
-- rules of a source through a table of its own.
SET ROLE rar_sec_reader;
CREATE TEMP TABLE mine (i int);
SELECT show_error($$INSERT INTO rar.source_grants (source, relation, grantee) VALUES ('sec_sales', 'pg_temp.mine', 'rar_sec_reader')$$);
SELECT show_error($$INSERT INTO rar.source_grants (source, relation, grantee) VALUES ('sec_sales', 'sec.sales', 'rar_sec_reader')$$);
SELECT count(*) AS rules_seen_by_reader FROM rar.rules WHERE source = 'tenants';
DROP TABLE mine;
RESET ROLE;
-- A view over a table with row-level security is no way around it.
SET ROLE rar_sec_owner;
CREATE VIEW sec.tenant_view WITH (security_invoker = true) AS SELECT tid, item FROM sec.tenant_sales;
GRANT SELECT ON sec.tenant_view TO rar_sec_reader;
SELECT name FROM rar_register('tenant_view', 'sec.tenant_view', 'tid', 'item');
CALL rar_refresh('tenant_view', min_support => 0.1);
SELECT count(*) AS owner_view_rules FROM rar.rules WHERE source = 'tenant_view';
RESET ROLE;
SET ROLE rar_sec_reader;
SELECT count(*) AS tenant_view_rules_seen FROM rar.rules WHERE source = 'tenant_view';
RESET ROLE;
-- Rows a role writes into the cleaning log about its own (temporary)
-- table cannot block anybody's runs.
SET ROLE rar_sec_hostile;
CREATE TEMP TABLE t (i int);
INSERT INTO rar.clean_log (run, relation, quarantine, dry_run, options, report, lines_before, lines_after, removed, changed)
SELECT g, 'pg_temp.t'::regclass, 'x', true, '{}', '[]', 0, 0, 0, 0 FROM generate_series(1, 1000) g;
SELECT show_error($$INSERT INTO rar.clean_log (run, relation, quarantine, dry_run, options, report, lines_before, lines_after, removed, changed, run_by)
                    VALUES (1, 'pg_temp.t', 'x', true, '{}', '[]', 0, 0, 0, 0, 'rar_sec_owner')$$);
RESET ROLE;
SET ROLE rar_sec_owner;
SELECT count(*) > 0 AS owner_cleans FROM rar_clean('sec.sales', dry_run => true);
RESET ROLE;

-- Ids of rule sets and models come from their sequences only: nobody can
-- take another table's next ids. Trials of a search are keyed per table,
-- and a trial can name only a model of its own table.
SET ROLE rar_sec_hostile;
CREATE TABLE evil.mine (tid int, item text);
SELECT name FROM rar_register('evil_src', 'evil.mine');
SELECT show_error($$INSERT INTO rar.rule_sets (set_id, source, method, params, rules, baskets, seconds) OVERRIDING SYSTEM VALUE
                    VALUES (1000000, 'evil_src', 'exact', '{}', 0, 0, 0)$$);
SELECT show_error($$INSERT INTO rar.tuning_trials (tuning_id, trial, source, model, params, recall_at_10, ndcg_at_10, valid_loss, seconds, model_id)
                    SELECT 1, g, 'evil.mine', 'mlp', '{}', 99, 99, 0, 0, g FROM generate_series(1, 1000) g$$);
INSERT INTO rar.tuning_trials (tuning_id, trial, source, model, params, recall_at_10, ndcg_at_10, valid_loss, seconds)
SELECT t, 1, 'evil.mine', 'mlp', '{}', 99, 99, 0, 0 FROM generate_series(1, 50) t;
SELECT rar_unregister('evil_src');
RESET ROLE;
SET ROLE rar_sec_owner;
SET client_min_messages = warning;
SELECT count(*) AS trained FROM rar_train('sec.sales', 'mlp', '{"epochs": 1, "hidden": 16, "device": "cpu", "min_item_count": 1}');
SELECT trial, best, model_id IS NOT NULL AS kept
FROM rar_tune('sec.sales', 'mlp', '{"hidden": [8, 16]}', '{"epochs": 1, "device": "cpu", "min_item_count": 1}');
RESET client_min_messages;
SELECT count(*) AS owner_models FROM rar.models WHERE source = 'sec.sales'::regclass;
RESET ROLE;
-- Labels from a lookup table are data of that table too.
SET ROLE rar_sec_owner;
SELECT name FROM rar_register('labelled', 'sec.sales', 'tid', 'item', label_column => 'label', label_table => 'sec.secret', label_key => 'item');
CALL rar_refresh('labelled', min_support => 0.1);
SELECT count(*) > 0 AS owner_sees_labelled FROM rar.rules WHERE source = 'labelled';
RESET ROLE;
SET ROLE rar_sec_reader;
SELECT count(*) AS reader_sees_labelled FROM rar.rules WHERE source = 'labelled';
RESET ROLE;
-- The cleaning log is a record: only its restore columns can change.
GRANT SELECT, UPDATE, DELETE ON sec.sales TO rar_sec_reader;
SET ROLE rar_sec_reader;
SELECT show_error($$UPDATE rar.clean_log SET run_by = 'postgres' WHERE relation = 'sec.sales'::regclass$$);
RESET ROLE;
REVOKE UPDATE, DELETE ON sec.sales FROM rar_sec_reader;
-- A superuser (a pg_cron job) does not refresh a source whose view a role
-- without superuser owns: a function in the view would run as superuser.
SET ROLE rar_sec_owner;
CREATE VIEW sec.sales_view AS SELECT tid, item FROM sec.sales;
SELECT name FROM rar_register('viewed', 'sec.sales_view');
RESET ROLE;
SELECT show_error($$CALL rar_refresh('viewed')$$);
SET ROLE rar_sec_owner;
CALL rar_refresh('viewed', min_support => 0.1);
RESET ROLE;

-- A source moved to another table leaves its rule sets behind: the readers
-- of the new table never see rules of the old one.
SET ROLE rar_sec_owner;
CREATE TABLE sec.hidden_sales (tid int, item text);
INSERT INTO sec.hidden_sales SELECT b, i FROM generate_series(1, 20) b, unnest(ARRAY['classified0', 'classified1']) i;
SELECT name FROM rar_register('moving', 'sec.hidden_sales');
CALL rar_refresh('moving', min_support => 0.1);
SET client_min_messages = warning;
SELECT name, relation FROM rar_register('moving', 'sec.sales');
RESET client_min_messages;
SELECT count(*) AS rule_sets_after_move FROM rar.rule_sets WHERE source = 'moving';
RESET ROLE;
SET ROLE rar_sec_reader;
SELECT count(*) AS classified_rules_seen FROM rar.rules WHERE source = 'moving';
RESET ROLE;
-- A view that reads through a function of a user's is taken as reading a
-- table with row-level security: its rules are for its owner (and grants).
SET ROLE rar_sec_owner;
CREATE FUNCTION sec.tenant_rows() RETURNS TABLE (tid int, item text) LANGUAGE sql STABLE AS 'SELECT tid, item FROM sec.tenant_sales';
CREATE VIEW sec.tenant_func_view AS SELECT * FROM sec.tenant_rows();
GRANT SELECT ON sec.tenant_func_view TO rar_sec_reader;
SELECT name FROM rar_register('tenant_func', 'sec.tenant_func_view', 'tid', 'item');
CALL rar_refresh('tenant_func', min_support => 0.1);
SELECT count(*) > 0 AS owner_sees FROM rar.rules WHERE source = 'tenant_func';
RESET ROLE;
SET ROLE rar_sec_reader;
SELECT count(*) AS reader_sees FROM rar.rules WHERE source = 'tenant_func';
RESET ROLE;
-- An advisory lock held by anybody does not block a refresh: refreshes of a
-- source serialize on its row, which only the table's owner can lock.
SET ROLE rar_sec_hostile;
SELECT pg_advisory_lock(hashtextextended('rar_refresh:moving', 0)) IS NOT NULL AS hostile_holds_a_lock;
RESET ROLE;
SET ROLE rar_sec_owner;
CALL rar_refresh('moving', min_support => 0.1);
SELECT count(*) AS rule_sets_now FROM rar.rule_sets WHERE source = 'moving';
RESET ROLE;
SELECT pg_advisory_unlock_all();

-- 7. Rule lookup keys are unambiguous for any item text.
SET ROLE rar_sec_owner;
CREATE TABLE sec.sep (tid int, item text);
INSERT INTO sec.sep SELECT b, i FROM generate_series(1, 10) b, unnest(ARRAY['a', 'b', 'c']) i;
SELECT name FROM rar_register('sep', 'sec.sep');
CALL rar_refresh('sep', min_support => 0.5, max_length => 3);
SELECT count(*) AS matched_by_joined_text FROM rar_recommend(ARRAY[E'a\x1fb'], source => 'sep');
SELECT item FROM rar_recommend(ARRAY['a', 'b'], source => 'sep');
-- Items of any length are stored and found.
INSERT INTO sec.sep SELECT b, repeat('x', 1000000) FROM generate_series(1, 10) b;
CALL rar_refresh('sep', min_support => 0.5, max_length => 2);
SELECT length(item) AS found_item_length FROM rar_recommend(ARRAY['a'], source => 'sep') WHERE item <> 'b' AND item <> 'c';
RESET ROLE;

-- 1 and 9. Sizes from user input are checked first; NULLs get 22004.
SELECT show_error($$SELECT count(*) FROM rar_tune_plan('{"hidden":[1,2,3,4,5,6,7,8,9,10],"bottleneck":[1,2,3,4,5,6,7,8,9,10],
  "embedding":[1,2,3,4,5,6,7,8,9,10],"layers":[1,2,3,4,5,6,7,8,9,10],"heads":[1,2,3,4,5,6,7,8,9,10],"epochs":[1,2,3,4,5,6,7,8,9,10],
  "seed":[1,2,3,4,5,6,7,8,9,10],"dropout":[1,2,3,4,5,6,7,8,9,10],"patience":[1,2,3,4,5,6,7,8,9,10],"threads":[1,2,3,4,5,6,7,8,9,10]}')$$);
SELECT count(*) AS random_trials FROM rar_tune_plan('{"hidden":[1,2,3,4,5,6,7,8,9,10],"epochs":[1,2,3,4,5,6,7,8,9,10]}', 'random', 2147483647);
SELECT show_error($$SELECT * FROM rar_mine('999999')$$);
SELECT show_error($$SELECT * FROM rar_clean('sec.sales', dry_run => NULL)$$);
SELECT show_error($$SELECT * FROM rar_recommend(NULL, source => 'sep')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['a'], k => NULL, source => 'sep')$$);
SELECT show_error($$SELECT * FROM rar_clean('sec.sales', placeholder_items => '{NULL}')$$);
SELECT rar_explain(NULL, ARRAY['b'], 0.5, 2, 0.1, 3, 30) IS NULL AS explain_null;
SELECT show_error($$SELECT * FROM rar_mine('sec.sales', max_length => -1)$$);
SELECT show_error($$SELECT rar_plot('sep', top => 2147483647)$$);

-- An encoded column (rar_encode adds one) does not break cleaning or
-- restoring; an empty table has nothing to bin.
SET ROLE rar_sec_owner;
CREATE TABLE sec.enc (tid int, item text, quantity int, price numeric);
INSERT INTO sec.enc SELECT b, i, 1, b FROM generate_series(1, 20) b, unnest(ARRAY['a', 'b']) i;
INSERT INTO sec.enc VALUES (21, NULL, 1, 1);
SELECT count(*) FROM rar_clean('sec.enc');
SELECT column_name, method FROM rar_encode('sec.enc', ARRAY['price'], 'zscore');
INSERT INTO sec.enc VALUES (22, NULL, 1, 1);
SELECT step, rows FROM rar_clean('sec.enc') WHERE rows > 0 ORDER BY step;
SET client_min_messages = warning;
SELECT rar_restore('sec.enc') AS restored;
RESET client_min_messages;
SELECT count(*) AS lines FROM sec.enc;
CREATE TABLE sec.enc_empty (tid int, item text, price numeric);
SELECT show_error($$SELECT * FROM rar_encode('sec.enc_empty', ARRAY['price'], 'bins')$$);
RESET ROLE;

-- Cleaning and restoring a partitioned table: rows of different partitions
-- share ctids, and are never taken for one another.
SET ROLE rar_sec_owner;
CREATE TABLE sec.pt (tid int, item text, quantity int) PARTITION BY RANGE (tid);
CREATE TABLE sec.pt1 PARTITION OF sec.pt FOR VALUES FROM (0) TO (100);
CREATE TABLE sec.pt2 PARTITION OF sec.pt FOR VALUES FROM (100) TO (200);
INSERT INTO sec.pt1 VALUES (1, ' apple', 1), (1, 'bread', 1), (2, 'cheese', 1), (2, 'cheese', 2);
INSERT INTO sec.pt2 VALUES (101, 'eggs', 1), (101, 'figs', 1), (102, 'grapes', 1), (102, 'honey', 1);
CREATE TABLE sec.pt_before AS SELECT * FROM sec.pt;
SELECT step, action, rows FROM rar_clean('sec.pt', merge_duplicates => true) WHERE rows > 0 ORDER BY step, action;
SELECT * FROM sec.pt ORDER BY tid, item;
SET client_min_messages = warning;
SELECT rar_restore('sec.pt') AS restored;
RESET client_min_messages;
SELECT (SELECT count(*) FROM (SELECT * FROM sec.pt EXCEPT ALL SELECT * FROM sec.pt_before) a) AS extra,
       (SELECT count(*) FROM (SELECT * FROM sec.pt_before EXCEPT ALL SELECT * FROM sec.pt) b) AS missing;
RESET ROLE;

-- 4. A model over many items is probed within rar.memory_limit: the rule
-- proposals of an (almost untrained) model are capped, and scoring goes in
-- batches sized to the budget; an error, never a killed backend.
SET ROLE rar_sec_owner;
CREATE TABLE sec.wide (tid int, item text);
INSERT INTO sec.wide SELECT b, 'it' || ((b * 7919 + k * 104729) % 20000) FROM generate_series(1, 2000) b, generate_series(1, 10) k;
SET client_min_messages = warning;
SELECT count(*) AS trained FROM
  rar_train('sec.wide', 'mlp', '{"epochs": 1, "hidden": 4, "min_item_count": 1, "max_vocab": 20000, "device": "cpu"}');
RESET client_min_messages;
SELECT array_length(vocab, 1) > 1000 AS wide_vocab FROM rar.models WHERE source = 'sec.wide'::regclass;
SET rar.memory_limit = '256MB';
SELECT show_error($$SELECT count(*) FROM rar_mine('sec.wide', min_support => 0.0005, method => 'neural', consequent_threshold => 0)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('sec.wide', min_support => 0.0005, method => 'hybrid', consequent_threshold => 0)$$);
RESET rar.memory_limit;
RESET ROLE;

-- Help inside the database: every function, table, view and column of the
-- extension has a COMMENT (what \df+ and \d+ show).
SELECT p.oid::regprocedure AS function_without_comment
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar'
WHERE obj_description(p.oid, 'pg_proc') IS NULL ORDER BY 1;
SELECT c.relname AS relation_without_comment FROM pg_class c
WHERE c.relnamespace = 'rar'::regnamespace AND c.relkind IN ('r', 'v', 'S') AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT c.relname || '.' || a.attname AS column_without_comment
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'rar'::regnamespace AND c.relkind IN ('r', 'v') AND col_description(c.oid, a.attnum) IS NULL ORDER BY 1;

-- A role's own type with its own cast to text: reading the table never
-- runs that cast (the type's output function names its values), for the
-- owner, another role or a superuser; nor through a hierarchy lookup.
SET ROLE rar_sec_owner;
CREATE TABLE sec.cast_calls (who name);
GRANT INSERT ON sec.cast_calls TO PUBLIC;
CREATE TYPE sec.flavour AS ENUM ('a', 'b', 'c');
CREATE FUNCTION sec.flavour_text(sec.flavour) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO sec.cast_calls VALUES (current_user); RETURN 'cast ' || $1::name; END$$;
CREATE CAST (sec.flavour AS text) WITH FUNCTION sec.flavour_text(sec.flavour);
CREATE TABLE sec.typed (tid int, item sec.flavour, items sec.flavour[]);
INSERT INTO sec.typed SELECT tid, item::sec.flavour, NULL FROM sec.sales WHERE item IN ('a', 'b', 'c');
INSERT INTO sec.typed VALUES (100, NULL, ARRAY['a', NULL, 'b']::sec.flavour[]);
GRANT SELECT ON sec.typed TO rar_sec_reader;
SELECT FROM rar_split('sec.typed', tid_column => 'tid', item_column => 'item');
CREATE TABLE sec.levels (item sec.flavour, family sec.flavour);
INSERT INTO sec.levels VALUES ('a', 'c'), ('b', 'c');
GRANT SELECT ON sec.levels TO PUBLIC;
SELECT name FROM rar_register('sec_typed', 'sec.typed', 'tid', 'item');
SELECT FROM rar_hierarchy('sec_typed', 'sec.levels', '{family}');
SELECT antecedent, consequent FROM rar_mine('sec.typed', min_support => 0.1, tid_column => 'tid', item_column => 'item') ORDER BY 1, 2 LIMIT 2;
RESET ROLE;
SELECT antecedent, consequent FROM rar_mine('sec_typed', min_support => 0.1) ORDER BY 1, 2 LIMIT 2;
SELECT antecedent, consequent FROM rar_mine('sec_typed', min_support => 0.1, level => 'family') ORDER BY 1, 2 LIMIT 2;
SELECT count(*) AS test_baskets FROM rar_mine('sec.typed', min_support => 0.1, tid_column => 'tid', item_column => 'item', split => 'test') r;
SELECT (rar_profile('sec.typed', tid_column => 'tid', item_column => 'item')->>'distinct_items')::int AS distinct_items;
SELECT (rar_profile('sec.typed', tid_column => 'tid', item_column => 'items')->>'distinct_items')::int AS distinct_items_of_arrays;
-- A segment column of the role's type (the item's own values: a segment is
-- neither the item nor the basket column itself).
ALTER TABLE sec.typed ADD COLUMN shop sec.flavour;
UPDATE sec.typed SET shop = item;
SELECT segment, count(*) > 0 AS has_rules FROM rar_mine_segments('sec.typed', 'shop', min_support => 0.1, tid_column => 'tid', item_column => 'item', min_baskets => 1) GROUP BY 1 ORDER BY 1;
SET ROLE rar_sec_reader;
SELECT count(*) > 0 AS reader_mines FROM rar_mine('sec.typed', min_support => 0.1, tid_column => 'tid', item_column => 'item');
RESET ROLE;
SELECT count(*) AS cast_calls FROM sec.cast_calls;
-- Nor does a superuser read a role's view by a source's name, or as a
-- source's hierarchy: its functions would run as superuser.
SELECT show_error($$SELECT count(*) FROM rar_mine('viewed', min_support => 0.1)$$);
SELECT show_error($$SELECT count(*) FROM rar_mine('sec.sales_view', min_support => 0.1)$$);
SET ROLE rar_sec_owner;
CREATE VIEW sec.levels_view AS SELECT item, family FROM sec.levels;
SELECT FROM rar_hierarchy('sec_typed', 'sec.levels_view', '{family}');
SELECT count(*) > 0 AS owner_mines_by_level FROM rar_mine('sec_typed', min_support => 0.1, level => 'family');
RESET ROLE;
SELECT show_error($$SELECT count(*) FROM rar_mine('sec_typed', min_support => 0.1, level => 'family')$$);

-- A source's label table is named only by a role that may read it, and read
-- only where the source table's owner may read it (a superuser's refresh,
-- of a row written around the policy, too).
SET ROLE rar_sec_hostile;
CREATE TABLE evil.products (item text, secret_label text);
INSERT INTO evil.products VALUES ('a', 'HOSTILE SECRET');
RESET ROLE;
SET ROLE rar_sec_owner;
SELECT show_error($$UPDATE rar.sources SET label_table = 'evil.products', label_column = 'secret_label' WHERE name = 'labelled'$$);
SELECT show_error($$SELECT rar_hierarchy('sec_typed', 'evil.products', '{secret_label}')$$);
RESET ROLE;
UPDATE rar.sources SET label_table = 'evil.products', label_column = 'secret_label' WHERE name = 'labelled';
SELECT show_error($$CALL rar_refresh('labelled', min_support => 0.1)$$);
SELECT count(*) AS hostile_labels FROM rar.rules WHERE source = 'labelled' AND 'HOSTILE SECRET' = ANY (antecedent_labels || consequent_labels);
UPDATE rar.sources SET label_table = 'sec.secret', label_column = 'label' WHERE name = 'labelled';

-- A group's rules as jsonb are charged to rar.memory_limit before they are
-- built.
SET rar.memory_limit = '16MB';
SELECT show_error($$SELECT jsonb_array_length(rar_rules_agg(1, i::text, 0.5, 0.1, 2)) FROM generate_series(1, 300) i$$);
RESET rar.memory_limit;
-- Rows of rar's own tables an owner edited by hand give clean errors, or
-- none: a NULL label, a quarantine column of another type.
SET ROLE rar_sec_owner;
UPDATE rar.rule_store r SET antecedent_labels = '{NULL}' FROM rar.rule_sets s
WHERE s.set_id = r.set_id AND s.source = 'sec_sales' AND s.current AND r.rule_id = 1;
SELECT length(rar_plot('sec_sales')::text) > 0 AS plots_with_a_null_label;
CREATE TABLE sec.cl AS SELECT b AS tid, chr(97 + b % 5) AS item FROM generate_series(1, 50) b;
SELECT step, rows FROM rar_clean('sec.cl', case_fold => 'upper') WHERE rows > 0;
ALTER TABLE sec.cl_rar_rejected ALTER COLUMN rar_run TYPE text;
SELECT show_error($$SELECT rar_restore('sec.cl')$$);
RESET ROLE;

-- A dropped label table or hierarchy lookup is named as such (not taken
-- for a missing privilege).
SET ROLE rar_sec_owner;
CREATE TABLE sec.gone_labels (item text, label text);
SELECT name FROM rar_register('gone', 'sec.sales', 'tid', 'item', label_column => 'label', label_table => 'sec.gone_labels', label_key => 'item');
DROP TABLE sec.gone_labels;
SELECT show_error($$CALL rar_refresh('gone', min_support => 0.1)$$);
SELECT name FROM rar_register('gone', 'sec.sales', 'tid', 'item');
CREATE TABLE sec.gone_levels (item text, family text);
SELECT FROM rar_hierarchy('gone', 'sec.gone_levels', '{family}');
DROP TABLE sec.gone_levels;
SELECT show_error($$CALL rar_refresh('gone', min_support => 0.1)$$);
SELECT rar_unregister('gone');
RESET ROLE;

-- A superuser's ceiling on the memory settings holds whatever a role sets.
SET ROLE rar_sec_owner;
SELECT show_error($$SET rar.max_memory_limit = '1GB'$$);
RESET ROLE;
SET rar.max_memory_limit = '1MB';
SET ROLE rar_sec_owner;
SET rar.memory_limit = '4GB';
SELECT show_error($$SELECT count(*) FROM rar_mine('sec.wide', min_support => 0.0005)$$);
RESET rar.memory_limit;
RESET ROLE;
RESET rar.max_memory_limit;

-- rar_split refuses a superuser on a role's view too.
SELECT show_error($$SELECT rar_split('sec.sales_view', tid_column => 'tid', item_column => 'item')$$);
-- A hierarchy lookup whose owner took back the source table owner's SELECT
-- is not read into that source's rules, by a superuser's refresh either.
SET ROLE rar_sec_hostile;
CREATE TABLE evil.levels (item text, family text);
INSERT INTO evil.levels VALUES ('a', 'SECRET FAMILY'), ('b', 'SECRET FAMILY');
GRANT SELECT ON evil.levels TO rar_sec_owner;
RESET ROLE;
SET ROLE rar_sec_owner;
SELECT name FROM rar_register('levelled', 'sec.sales', 'tid', 'item', defaults => '{"level": "family", "min_support": 0.1}');
SELECT FROM rar_hierarchy('levelled', 'evil.levels', '{family}');
RESET ROLE;
SET ROLE rar_sec_hostile;
REVOKE SELECT ON evil.levels FROM rar_sec_owner;
RESET ROLE;
SELECT show_error($$CALL rar_refresh('levelled')$$);
SELECT rar_unregister('levelled');
-- Cleaning by placeholder items compares the items' own text, without the
-- type owner's cast.
SET ROLE rar_sec_owner;
SELECT step, rows FROM rar_clean('sec.typed', tid_column => 'tid', item_column => 'item', placeholder_items => ARRAY['c']) WHERE rows > 0 ORDER BY 1;
RESET ROLE;
SELECT count(*) AS cast_calls_after_cleaning FROM sec.cast_calls;

-- Tidy up.
DROP SCHEMA sec CASCADE;
DROP SCHEMA evil CASCADE;
SELECT rar_unregister(name) FROM rar.sources WHERE name IN ('sec_sales', 'tenants', 'tenant_view', 'sep', 'labelled', 'viewed', 'moving', 'tenant_func', 'sec_typed') ORDER BY name;
DROP TABLE pg_temp.t;
DROP ROLE rar_sec_owner, rar_sec_reader, rar_sec_hostile, rar_sec_bi;
