-- Parallel mining: the scan and the encoding run in parallel workers
-- through parallel-safe aggregates (combine, serialize, deserialize), and
-- the rules are the same with 0 workers as with 2.
CREATE TABLE par (transaction_id int, item text);
\copy par FROM '../../data/groceries.csv' WITH (FORMAT csv, HEADER true)
ANALYZE par;
-- Every plan parallel, however small the table.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- What rar_mine runs on a long-form table, and the per-group aggregate.
EXPLAIN (COSTS OFF) SELECT rar.baskets(transaction_id::text, item) FROM par;
EXPLAIN (COSTS OFF) SELECT rar_rules_agg(transaction_id::text, item, 0.01, 0.3) FROM par;
-- The aggregate functions are all parallel safe.
SELECT p.proname, count(*) AS overloads, bool_and(p.proparallel = 's') AS parallel_safe
FROM pg_proc p
WHERE p.proname IN ('baskets', 'baskets_state', 'rar_rules_agg') OR p.proname LIKE 'baskets\_%' OR p.proname LIKE 'rules\_%'
GROUP BY 1 ORDER BY 1;
-- Text and integer columns go in as they are (no cast).
SELECT a.aggfnoid::regprocedure::text AS aggregate, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn
FROM pg_aggregate a WHERE a.aggfnoid::regproc::text ~ '(baskets|rules_agg)' ORDER BY 1;
-- Same rules with and without workers (rar_mine's own order included).
CREATE TEMP TABLE rules_parallel AS
SELECT row_number() OVER () AS n, r.* FROM rar_mine('par', min_support => 0.002, min_confidence => 0.2) r;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE rules_serial AS
SELECT row_number() OVER () AS n, r.* FROM rar_mine('par', min_support => 0.002, min_confidence => 0.2) r;
SELECT (SELECT count(*) FROM rules_serial) AS rules,
       (SELECT count(*) FROM (SELECT * FROM rules_serial EXCEPT SELECT * FROM rules_parallel) d) AS only_serial,
       (SELECT count(*) FROM (SELECT * FROM rules_parallel EXCEPT SELECT * FROM rules_serial) d) AS only_parallel;
SET max_parallel_workers_per_gather = 2;
-- Per segment: rar_rules_agg of each group holds exactly the rules of
-- rar_mine on that group's lines alone.
CREATE TABLE par_seg AS SELECT transaction_id, item, transaction_id % 3 AS store FROM par;
CREATE VIEW par_store0 AS SELECT transaction_id, item FROM par_seg WHERE store = 0;
CREATE VIEW par_store1 AS SELECT transaction_id, item FROM par_seg WHERE store = 1;
CREATE VIEW par_store2 AS SELECT transaction_id, item FROM par_seg WHERE store = 2;
CREATE TEMP TABLE agg_rules AS
SELECT g.store, r.*
FROM (SELECT store, rar_rules_agg(transaction_id::text, item, 0.005, 0.3, 3) AS rules FROM par_seg GROUP BY store) g,
     jsonb_to_recordset(g.rules) AS r(antecedent text[], consequent text[], support float8, confidence float8,
                                      lift float8, leverage float8, conviction float8, count bigint);
CREATE TEMP TABLE alone_rules AS
SELECT 0 AS store, antecedent, consequent, support, confidence, lift, leverage, conviction, count
  FROM rar_mine('par_store0', min_support => 0.005, min_confidence => 0.3, max_length => 3)
UNION ALL SELECT 1, antecedent, consequent, support, confidence, lift, leverage, conviction, count
  FROM rar_mine('par_store1', min_support => 0.005, min_confidence => 0.3, max_length => 3)
UNION ALL SELECT 2, antecedent, consequent, support, confidence, lift, leverage, conviction, count
  FROM rar_mine('par_store2', min_support => 0.005, min_confidence => 0.3, max_length => 3);
SELECT store, count(*) FROM agg_rules GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM (SELECT * FROM agg_rules EXCEPT SELECT * FROM alone_rules) d) AS only_agg,
       (SELECT count(*) FROM (SELECT * FROM alone_rules EXCEPT SELECT * FROM agg_rules) d) AS only_alone;
-- The set-returning form gives the same rows, segment by segment.
SELECT (SELECT count(*) FROM (
          SELECT segment::int, antecedent, consequent, support, confidence, lift, leverage, conviction, count
          FROM rar_mine_segments('par_seg', 'store', 0.005, 0.3, 3, tid_column => 'transaction_id', item_column => 'item')
          EXCEPT SELECT * FROM alone_rules) d) AS only_segments,
       (SELECT count(*) FROM rar_mine_segments('par_seg', 'store', 0.005, 0.3, 3, tid_column => 'transaction_id', item_column => 'item')) AS rows;
-- One group's result in plain language.
SELECT store, (rules->0->>'antecedent') AS antecedent, (rules->0->>'consequent') AS consequent, rules->0->>'count' AS count
FROM (SELECT store, rar_rules_agg(transaction_id, item, 0.005, 0.3, 3) AS rules FROM par_seg GROUP BY store) g ORDER BY 1;
-- A group without lines, and NULL lines, are fine.
SELECT rar_rules_agg(transaction_id::text, item, 0.1, 0.5) FROM par WHERE false;
SELECT jsonb_array_length(rar_rules_agg(NULL::text, item, 0.1, 0.5)) FROM par;
-- Bad arguments: clear errors.
SELECT show_error($$SELECT rar_rules_agg(transaction_id::text, item, 0, 0.5) FROM par$$);
SELECT show_error($$SELECT rar_rules_agg(transaction_id::text, item, NULL, 0.5) FROM par$$);
SELECT show_error($$SELECT rar_rules_agg(transaction_id::text, item, 0.1, 0.5, 99) FROM par$$);
SELECT show_error($$SELECT rar_rules_agg(transaction_id, item, 0.1, 0.5) OVER (ORDER BY transaction_id) FROM par$$);
SELECT show_error($$SELECT * FROM rar_mine_segments('par_seg', 'region')$$);
SELECT show_error($$SELECT * FROM rar_mine_segments('par_seg', NULL)$$);
-- A shard's state is compact bytes: one or two bytes a line (item ids as
-- varint deltas), plus each basket id once (here 4 digits and a length).
SELECT length(rar.baskets_state(transaction_id::text, item))
       < 1.5 * count(*) + 6 * count(DISTINCT transaction_id) + 5000 FROM par;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
