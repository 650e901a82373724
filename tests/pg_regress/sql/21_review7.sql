-- The seventh review's probes: each must fail with a proper SQLSTATE or give
-- the right answer.
SET client_min_messages = warning;
CREATE ROLE rar_r7_owner;
CREATE ROLE rar_r7_reader;
CREATE ROLE rar_r7_evil;
CREATE SCHEMA r7 AUTHORIZATION rar_r7_owner;
CREATE SCHEMA r7evil AUTHORIZATION rar_r7_evil;
GRANT USAGE ON SCHEMA r7, r7evil TO PUBLIC;

-- 1. A view that filters by who is reading in ways no list of functions
-- names (a query given as text, the statistics of backends, a session's
-- sequence value) hides its rules from other readers; a view filtering by
-- the clock, dates and formats does not.
SET ROLE rar_r7_owner;
CREATE TABLE r7.sales (tid int, item text, tenant name, sold timestamptz DEFAULT now());
INSERT INTO r7.sales (tid, item, tenant) SELECT g, 'secret_' || (g % 2), 'rar_r7_owner' FROM generate_series(1, 60) g;
INSERT INTO r7.sales (tid, item, tenant) SELECT g, 'secret_' || ((g + 1) % 2), 'rar_r7_owner' FROM generate_series(1, 60) g;
INSERT INTO r7.sales (tid, item, tenant) SELECT 100 + g, 'pub_' || (g % 2), 'rar_r7_reader' FROM generate_series(1, 10) g;
CREATE SEQUENCE r7.tenant_seq;
CREATE VIEW r7.v_query AS SELECT tid, item FROM r7.sales s
    WHERE s.tenant::text = (SELECT substring(query_to_xml('SELECT current_user AS u', true, true, '')::text, '<u>(.*)</u>'));
CREATE VIEW r7.v_table AS SELECT tid, item FROM r7.sales WHERE table_to_xml('r7.sales'::text::regclass, false, true, '') IS NOT NULL;
CREATE VIEW r7.v_backend AS SELECT tid, item FROM r7.sales WHERE tenant =
    (SELECT pg_get_userbyid(pg_stat_get_backend_userid(s)) FROM pg_stat_get_backend_idset() s
     WHERE pg_stat_get_backend_activity_start(s) = statement_timestamp() LIMIT 1);
CREATE VIEW r7.v_currval AS SELECT tid, item FROM r7.sales WHERE tid > currval('r7.tenant_seq');
CREATE VIEW r7.v_recent AS SELECT tid, item || format('%s', '') AS item FROM r7.sales
    WHERE sold > now() - interval '90 days' AND date_trunc('day', sold) <= now() AND to_char(sold, 'YYYY') > '2000'
      AND (tid, item) > (0, '');
-- The JSON makers call a type's cast to json, which may be the owner's
-- own function asking who is reading.
CREATE TYPE r7.who_rng AS RANGE (subtype = text);
CREATE FUNCTION r7.who_json(r r7.who_rng) RETURNS json LANGUAGE sql STABLE
    RETURN to_json(lower(r) = current_user::text OR current_user::text = 'rar_r7_owner');
CREATE CAST (r7.who_rng AS json) WITH FUNCTION r7.who_json(r7.who_rng);
CREATE VIEW r7.v_json AS SELECT tid, item FROM r7.sales
    WHERE to_jsonb(('["' || tenant || '","' || tenant || '"]')::r7.who_rng) = 'true'::jsonb;
GRANT SELECT ON r7.v_query, r7.v_table, r7.v_backend, r7.v_currval, r7.v_recent, r7.v_json TO PUBLIC;
SELECT v, rar.row_security_below(('r7.' || v)::regclass) AS filters_by_reader
FROM unnest(ARRAY['v_query', 'v_table', 'v_backend', 'v_currval', 'v_json', 'v_recent']) v;
SELECT name FROM rar_register('r7_query', 'r7.v_query', 'tid', 'item', defaults => '{"min_support": 0.1, "min_confidence": 0.5}');
SELECT name FROM rar_register('r7_recent', 'r7.v_recent', 'tid', 'item', defaults => '{"min_support": 0.1, "min_confidence": 0.5}');
CALL rar_refresh('r7_query');
CALL rar_refresh('r7_recent');
SELECT source, count(*) > 0 AS owner_sees FROM rar.rules WHERE source LIKE 'r7\_%' GROUP BY 1 ORDER BY 1;
RESET ROLE;
SET ROLE rar_r7_reader;
SELECT count(*) FILTER (WHERE item LIKE 'secret%') AS secret_lines_seen FROM r7.v_query;
SELECT source, count(*) > 0 AS reader_sees FROM rar.rules WHERE source LIKE 'r7\_%' GROUP BY 1 ORDER BY 1;
RESET ROLE;
-- BYPASSRLS skips policies, not a view's own conditions: such a role may
-- not read the view in full. (It still reads every row of rar's catalog
-- tables, as of any table with row-level security: SECURITY.md.)
CREATE ROLE rar_r7_bypass BYPASSRLS;
SET ROLE rar_r7_bypass;
SELECT count(*) FILTER (WHERE item LIKE 'secret%') AS secret_lines_seen FROM r7.v_query;
SELECT v, rar.may_read(('r7.' || v)::regclass) AS reads_in_full FROM unnest(ARRAY['v_query', 'v_recent']) v;
RESET ROLE;

-- A view too large or too deep to read cheaply on every row counts as
-- filtering (the policies call the check for every reader): one role's
-- view can neither fail nor stall the others' reads of rar.rules.
SET ROLE rar_r7_evil;
CREATE TABLE r7evil.s (tid int, item text);
INSERT INTO r7evil.s SELECT g / 3, 'i' || (g % 5) FROM generate_series(1, 60) g;
DO $$ BEGIN EXECUTE format('CREATE VIEW r7evil.vhuge AS SELECT tid, item FROM r7evil.s WHERE item <> %L', repeat('x', 300000)); END $$;
CREATE VIEW r7evil.v0 AS SELECT tid, item FROM r7evil.s;
DO $$ BEGIN FOR k IN 1..40 LOOP EXECUTE format('CREATE VIEW r7evil.v%s AS SELECT tid, item FROM r7evil.v%s', k, k - 1); END LOOP; END $$;
GRANT SELECT ON ALL TABLES IN SCHEMA r7evil TO PUBLIC;
-- Two views of about 150 kB of stored query each (each passes alone), read
-- by a third: over 256 kB in all.
DO $$ BEGIN EXECUTE format('CREATE VIEW r7evil.va AS SELECT tid, item FROM r7evil.s WHERE item <> %L', repeat('a', 50000)); END $$;
DO $$ BEGIN EXECUTE format('CREATE VIEW r7evil.vb AS SELECT tid, item FROM r7evil.s WHERE item <> %L', repeat('b', 50000)); END $$;
CREATE VIEW r7evil.vab AS SELECT * FROM r7evil.va UNION ALL SELECT * FROM r7evil.vb;
GRANT SELECT ON ALL TABLES IN SCHEMA r7evil TO PUBLIC;
SELECT v, rar.row_security_below(('r7evil.' || v)::regclass) AS filters_by_reader
FROM unnest(ARRAY['v0', 'v20', 'v40', 'vhuge', 'va', 'vb', 'vab']) v;
SELECT name FROM rar_register('r7_huge', 'r7evil.vhuge', 'tid', 'item');
RESET ROLE;
SET ROLE rar_r7_reader;
SELECT count(*) >= 0 AS rules_readable FROM rar.rules;
RESET ROLE;
SET ROLE rar_r7_evil;
SELECT rar_unregister('r7_huge');
RESET ROLE;

-- 2. A foreign table whose server maps roles one by one shows each role
-- other rows (also as a partition); one mapped for PUBLIC only does not.
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE SERVER r7_each FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
CREATE SERVER r7_all FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
CREATE USER MAPPING FOR rar_r7_owner SERVER r7_each;
CREATE USER MAPPING FOR PUBLIC SERVER r7_all;
CREATE FOREIGN TABLE r7.f_each (tid int, item text) SERVER r7_each;
CREATE FOREIGN TABLE r7.f_all (tid int, item text) SERVER r7_all;
CREATE TABLE r7.parts (tid int, item text) PARTITION BY RANGE (tid);
CREATE TABLE r7.parts_local PARTITION OF r7.parts FOR VALUES FROM (0) TO (100);
ALTER TABLE r7.parts ATTACH PARTITION r7.f_each FOR VALUES FROM (100) TO (200);
SELECT r, rar.row_security_below(('r7.' || r)::regclass) AS filters_by_reader
FROM unnest(ARRAY['f_each', 'f_all', 'parts', 'parts_local']) r;

-- 3. rar_clean follows ON UPDATE CASCADE: a key further down that sets
-- NULL would lose that table's values for good.
CREATE TABLE r7.t (tid int, item text, UNIQUE (tid, item));
INSERT INTO r7.t SELECT g, CASE WHEN g % 2 = 0 THEN '  milk ' ELSE 'bread' END FROM generate_series(1, 10) g;
CREATE TABLE r7.c (tid int, item text, UNIQUE (tid, item), FOREIGN KEY (tid, item) REFERENCES r7.t (tid, item) ON UPDATE CASCADE);
INSERT INTO r7.c SELECT tid, item FROM r7.t;
CREATE TABLE r7.d (tid int, item text, note text, FOREIGN KEY (tid, item) REFERENCES r7.c (tid, item) ON UPDATE SET NULL);
INSERT INTO r7.d SELECT tid, item, 'note ' || tid FROM r7.t;
SELECT show_error($$SELECT * FROM rar_clean('r7.t', tid_column => 'tid', item_column => 'item')$$);
SELECT count(*) FILTER (WHERE item IS NULL) AS notes_lost, count(*) FILTER (WHERE item = '  milk ') AS untouched FROM r7.d;
-- Without the third table the cascade alone is undone by rar_restore.
DROP TABLE r7.d;
SELECT step, rows FROM rar_clean('r7.t', tid_column => 'tid', item_column => 'item') WHERE rows > 0;
SELECT count(*) FILTER (WHERE item = 'milk') AS cleaned_in_c FROM r7.c;
SELECT rar_restore('r7.t') > 0 AS restored;
SELECT count(*) FILTER (WHERE item = '  milk ') AS back_in_c FROM r7.c;
-- A change of the partition key moves a line out of its partition: a
-- removal there, which a key on that partition cascades.
CREATE TABLE r7.pt (tid int, item text, PRIMARY KEY (tid, item)) PARTITION BY RANGE (item);
CREATE TABLE r7.pt_up PARTITION OF r7.pt FOR VALUES FROM (MINVALUE) TO ('a');
CREATE TABLE r7.pt_low PARTITION OF r7.pt FOR VALUES FROM ('a') TO (MAXVALUE);
INSERT INTO r7.pt VALUES (1, 'MILK'), (1, 'bread'), (2, 'MILK'), (2, 'eggs'), (3, 'bread'), (3, 'eggs');
CREATE TABLE r7.pt_ref (tid int, item text, note text, FOREIGN KEY (tid, item) REFERENCES r7.pt_up (tid, item) ON DELETE CASCADE);
INSERT INTO r7.pt_ref VALUES (1, 'MILK', 'keep me'), (2, 'MILK', 'keep me too');
SELECT split_part(show_error($$SELECT * FROM rar_clean('r7.pt', 'tid', 'item', case_fold => 'lower')$$), E'\n', 2) AS detail;
SELECT count(*) AS notes_kept FROM r7.pt_ref;
-- A generated column computed from the item may be a key too.
CREATE TABLE r7.g1 (basket int, item text, item_key text GENERATED ALWAYS AS (lower(item)) STORED UNIQUE);
INSERT INTO r7.g1 VALUES (1, ' Milk '), (1, 'Bread'), (2, 'Eggs');
CREATE TABLE r7.g1_notes (k text REFERENCES r7.g1 (item_key) ON UPDATE SET NULL, note text);
INSERT INTO r7.g1_notes VALUES (' milk ', 'kept');
SELECT split_part(show_error($$SELECT * FROM rar_clean('r7.g1', 'basket', 'item')$$), E'\n', 2) AS detail;
-- A key of the table on itself that cascades changes its other columns.
CREATE TABLE r7.s4 (basket int, item text UNIQUE, alias text UNIQUE REFERENCES r7.s4 (item) ON UPDATE CASCADE);
INSERT INTO r7.s4 VALUES (1, ' Milk ', NULL), (2, 'Bread', ' Milk ');
CREATE TABLE r7.s4_notes (k text REFERENCES r7.s4 (alias) ON UPDATE SET NULL, note text);
INSERT INTO r7.s4_notes VALUES (' Milk ', 'kept');
SELECT split_part(show_error($$SELECT * FROM rar_clean('r7.s4', 'basket', 'item')$$), E'\n', 2) AS detail;
-- A table the change cascades to may move its lines between partitions.
CREATE TABLE r7.s5 (basket int, item text, UNIQUE (basket, item));
INSERT INTO r7.s5 VALUES (1, ' Milk '), (1, 'Bread');
CREATE TABLE r7.b5 (id int, basket int, item text, FOREIGN KEY (basket, item) REFERENCES r7.s5 (basket, item) ON UPDATE CASCADE)
    PARTITION BY LIST (item);
CREATE TABLE r7.b5_odd PARTITION OF r7.b5 FOR VALUES IN (' Milk ');
CREATE TABLE r7.b5_rest PARTITION OF r7.b5 DEFAULT;
ALTER TABLE r7.b5_odd ADD UNIQUE (id);
INSERT INTO r7.b5 VALUES (10, 1, ' Milk ');
CREATE TABLE r7.d5 (id int REFERENCES r7.b5_odd (id) ON DELETE CASCADE, note text);
INSERT INTO r7.d5 VALUES (10, 'kept');
SELECT split_part(show_error($$SELECT * FROM rar_clean('r7.s5', 'basket', 'item')$$), E'\n', 2) AS detail;
SELECT (SELECT count(*) FROM r7.g1_notes WHERE k IS NOT NULL) + (SELECT count(*) FROM r7.s4_notes WHERE k IS NOT NULL)
       + (SELECT count(*) FROM r7.d5) AS notes_kept;
-- A key made between a run and its restore that would set NULL on the
-- changes back stops the restore.
CREATE TABLE r7.s2 (tid int, item text, UNIQUE (tid, item));
INSERT INTO r7.s2 VALUES (1, 'MILK'), (1, 'bread'), (2, 'MILK'), (2, 'eggs');
SELECT step, rows FROM rar_clean('r7.s2', 'tid', 'item', case_fold => 'lower') WHERE rows > 0;
CREATE TABLE r7.s2_ref (tid int, item text, note text, FOREIGN KEY (tid, item) REFERENCES r7.s2 (tid, item) ON UPDATE SET NULL);
INSERT INTO r7.s2_ref VALUES (1, 'milk', 'a'), (2, 'milk', 'b');
SELECT show_error($$SELECT rar_restore('r7.s2')$$);
SELECT count(*) FILTER (WHERE item IS NULL) AS notes_lost FROM r7.s2_ref;
-- Keys the change cannot reach are no reason to refuse: one on another
-- column, and one on a partition the lines cannot leave (partitioned by
-- basket, the item changed).
CREATE TABLE r7.s3 (id int PRIMARY KEY, tid int, item text);
INSERT INTO r7.s3 VALUES (1, 1, ' milk'), (2, 1, 'bread'), (3, 2, 'milk'), (4, 2, 'eggs');
CREATE TABLE r7.s3_note (sid int REFERENCES r7.s3 (id) ON UPDATE SET NULL, note text);
INSERT INTO r7.s3_note VALUES (1, 'kept');
SELECT step, rows FROM rar_clean('r7.s3', 'tid', 'item') WHERE rows > 0;
CREATE TABLE r7.p (id int, tid int, item text, PRIMARY KEY (id, tid)) PARTITION BY RANGE (tid);
CREATE TABLE r7.p1 PARTITION OF r7.p FOR VALUES FROM (0) TO (100);
CREATE TABLE r7.p2 PARTITION OF r7.p FOR VALUES FROM (100) TO (200);
INSERT INTO r7.p VALUES (1, 1, ' milk'), (2, 1, 'bread'), (3, 150, 'milk');
CREATE TABLE r7.p_note (id int, tid int, FOREIGN KEY (id, tid) REFERENCES r7.p1 (id, tid) ON DELETE CASCADE);
INSERT INTO r7.p_note VALUES (1, 1);
SELECT step, rows FROM rar_clean('r7.p', 'tid', 'item') WHERE rows > 0;
SELECT count(*) AS notes_kept FROM r7.p_note;

-- 4. A grant's table must be its source's: the policy compares the row's
-- own relation (it compared the source's with itself).
SET ROLE rar_r7_evil;
CREATE TABLE r7evil.mine (tid int, item text);
SELECT name FROM rar_register('r7_evil_src', 'r7evil.mine', 'tid', 'item');
SELECT show_error($$INSERT INTO rar.source_grants (source, relation, grantee) VALUES ('r7_evil_src', 'r7.v_query', 'rar_r7_evil')$$);
SELECT count(*) AS forged_grants FROM rar.source_grants WHERE source = 'r7_evil_src';
SELECT rar_unregister('r7_evil_src');
RESET ROLE;

-- 5. rar_encode tells a column it made from one the owner dropped and
-- added again under its name.
CREATE TABLE r7.e (tid int, item text, price numeric);
INSERT INTO r7.e SELECT g, 'i' || (g % 5), g FROM generate_series(1, 20) g;
SELECT column_name FROM rar_encode('r7.e', ARRAY['price'], 'zscore', tid_column => 'tid', item_column => 'item');
SELECT column_name FROM rar_encode('r7.e', ARRAY['price'], 'zscore', tid_column => 'tid', item_column => 'item');
ALTER TABLE r7.e DROP COLUMN price_z;
ALTER TABLE r7.e ADD COLUMN price_z float8 DEFAULT 42;
SELECT split_part(show_error($$SELECT * FROM rar_encode('r7.e', ARRAY['price'], 'zscore', tid_column => 'tid', item_column => 'item')$$), E'\n', 1) AS error;
SELECT count(*) FILTER (WHERE price_z = 42) AS users_values_kept FROM r7.e;
SELECT column_name FROM rar_encode('r7.e', ARRAY['price'], 'onehot', as_columns => true, tid_column => 'tid', item_column => 'item');
ALTER TABLE r7.e DROP COLUMN "price=7";
ALTER TABLE r7.e ADD COLUMN "price=7" smallint DEFAULT 7;
SELECT split_part(show_error($$SELECT * FROM rar_encode('r7.e', ARRAY['price'], 'onehot', as_columns => true, tid_column => 'tid', item_column => 'item')$$), E'\n', 1) AS error;
SELECT count(*) FILTER (WHERE "price=7" = 7) AS users_values_kept FROM r7.e;
-- A child table's own column of the name would merge with the new one.
CREATE TABLE r7.ep (tid int, item text, price numeric);
CREATE TABLE r7.ec (price_z double precision) INHERITS (r7.ep);
INSERT INTO r7.ep VALUES (1, 'a', 10), (2, 'b', 20);
INSERT INTO r7.ec VALUES (3, 'c', 30, 111.0), (4, 'd', 40, 222.0);
SELECT split_part(show_error($$SELECT * FROM rar_encode('r7.ep', ARRAY['price'], 'zscore', tid_column => 'tid', item_column => 'item')$$), E'\n', 1) AS error;
SELECT price_z FROM r7.ec ORDER BY tid;
-- Nor one that joins after the column was made.
CREATE TABLE r7.ep2 (tid int, item text, price numeric);
INSERT INTO r7.ep2 SELECT g, 'i' || (g % 5), g FROM generate_series(1, 10) g;
SELECT column_name FROM rar_encode('r7.ep2', ARRAY['price'], 'zscore', tid_column => 'tid', item_column => 'item');
CREATE TABLE r7.eg (tid int, item text, price numeric, price_z double precision);
INSERT INTO r7.eg VALUES (100, 'x', 1, 111.0), (101, 'y', 2, 222.0);
ALTER TABLE r7.eg INHERIT r7.ep2;
SELECT split_part(show_error($$SELECT * FROM rar_encode('r7.ep2', ARRAY['price'], 'zscore', tid_column => 'tid', item_column => 'item')$$), E'\n', 1) AS error;
SELECT price_z FROM r7.eg ORDER BY tid;

-- Nor one a child has from another parent.
CREATE TABLE r7.e1 (basket int, item text, price numeric);
INSERT INTO r7.e1 VALUES (1, 'x', 10), (2, 'y', 20);
CREATE TABLE r7.q1 (price_z float8);
CREATE TABLE r7.c1 () INHERITS (r7.e1, r7.q1);
INSERT INTO r7.c1 VALUES (3, 'z', 30, 42.0);
SELECT split_part(show_error($$SELECT * FROM rar_encode('r7.e1', ARRAY['price'], 'zscore', tid_column => 'basket', item_column => 'item')$$), E'\n', 1) AS error;
SELECT price_z FROM r7.q1;

-- 6. Merged basket states count their baskets, also empty ones without an
-- id (two bytes each as bytes): a role's own aggregate over crafted states
-- stops at rar.memory_limit instead of growing without bound.
SET ROLE rar_r7_evil;
CREATE AGGREGATE r7evil.merge_states(rar.basket_state) (sfunc = rar.basket_state_combine,
    stype = rar.basket_state, combinefunc = rar.basket_state_combine);
CREATE TABLE r7evil.st (s rar.basket_state);
-- 20,000 empty baskets without an id, 40 kB as text.
INSERT INTO r7evil.st SELECT replace(encode('\x524152500200000000000000000000a09c01'::bytea
    || decode(repeat('00', 40000), 'hex'), 'base64'), E'\n', '')::rar.basket_state;
SET rar.memory_limit = '4MB';
SELECT show_error($$SELECT length(r7evil.merge_states(s)::text) FROM r7evil.st, generate_series(1, 200)$$);
SELECT length(r7evil.merge_states(s)::text) > 0 AS fits FROM r7evil.st, generate_series(1, 2);
-- Under GROUP BY every group's state is alive at once: they are counted
-- together, as the other aggregates' states are.
SET enable_sort = off;
SELECT show_error($$SELECT count(m) FROM (SELECT g, r7evil.merge_states(s) m FROM r7evil.st, generate_series(1, 20) g GROUP BY g) x$$);
SELECT count(m) AS groups FROM (SELECT g, r7evil.merge_states(s) m FROM r7evil.st, generate_series(1, 2) g GROUP BY g) x;
RESET enable_sort;
RESET rar.memory_limit;
RESET ROLE;

-- 7. An ALTER TABLE of a tracked table records a change (a parent without
-- columns made it a child for a moment: nothing else shows it); one of an
-- untracked table does not lock rar.table_changes (a role queued for that
-- lock would hold up every ALTER TABLE of the database).
CREATE TABLE r7.tracked (basket int, item text);
CREATE TABLE r7.untracked (basket int, item text);
SELECT rar_track_changes('r7.tracked');
SELECT evtenabled FROM pg_event_trigger WHERE evtname = 'rar_table_altered';
BEGIN;
ALTER TABLE r7.untracked ADD COLUMN note text;
SELECT count(*) AS locks_on_changes FROM pg_locks WHERE relation = 'rar.table_changes'::regclass AND pid = pg_backend_pid();
ROLLBACK;
SELECT coalesce(sum(weight), 0) AS before FROM rar.table_changes WHERE relid = 'r7.tracked'::regclass;
CREATE TABLE r7.zero ();
ALTER TABLE r7.tracked INHERIT r7.zero;
ALTER TABLE r7.tracked NO INHERIT r7.zero;
SELECT sum(weight) AS after FROM rar.table_changes WHERE relid = 'r7.tracked'::regclass;

-- Tidy up.
SELECT rar_unregister(n) FROM unnest(ARRAY['r7_query', 'r7_recent']) n;
DROP SCHEMA r7 CASCADE;
DROP SCHEMA r7evil CASCADE;
DROP SERVER r7_each CASCADE;
DROP SERVER r7_all CASCADE;
DROP ROLE rar_r7_owner, rar_r7_reader, rar_r7_evil, rar_r7_bypass;
