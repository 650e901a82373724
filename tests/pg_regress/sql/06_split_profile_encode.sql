-- rar_split, rar_profile and rar_encode on a small deterministic table.
CREATE TABLE orders (order_id int, product text, country text, price numeric, sold_at timestamp);
INSERT INTO orders
SELECT o, 'p' || ((o * 7 + i * 3) % 12), CASE WHEN o % 3 = 0 THEN 'France' ELSE 'United Kingdom' END,
       (1 + (o * i) % 10)::numeric, timestamp '2011-01-01' + (o || ' hours')::interval
FROM generate_series(1, 400) o, generate_series(1, 1 + o % 5) i;
-- A hash split: baskets stay whole, fractions close to the asked ones.
SELECT * FROM rar_split('orders', seed => 42);
SELECT relation, tid_column, seed, train, validation, test, time_column FROM rar.splits;
-- The same seed gives the same split; another seed another one.
SELECT count(*) FILTER (WHERE rar_split_bucket(order_id::text, 42, 0.8, 0.1) = 'train') AS train_42,
       count(*) FILTER (WHERE rar_split_bucket(order_id::text, 7, 0.8, 0.1) = 'train') AS train_7
FROM (SELECT DISTINCT order_id FROM orders) o;
-- No basket in two sets.
SELECT count(*) FROM (SELECT order_id FROM orders GROUP BY order_id
                      HAVING count(DISTINCT rar_split_bucket(order_id::text, 42, 0.8, 0.1)) > 1) s;
-- Mining one set.
SELECT count(*) > 0 AS has_rules FROM rar_mine('orders', min_support => 0.05, split => 'train');
-- A time split: the last 3 days as test.
SELECT * FROM rar_split('orders', time_column => 'sold_at', test_days => 3);
SELECT show_error($$SELECT * FROM rar_split('orders', train => 0.9)$$);
SELECT show_error($$SELECT * FROM rar_split('orders', time_column => 'sold_at')$$);
SELECT show_error($$SELECT * FROM rar_split('orders', time_column => 'price', test_days => 3)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', split => 'train')$$);
SELECT show_error($$SELECT * FROM rar_mine('orders', split => 'holdout')$$);

-- The profile of a table.
SELECT jsonb_pretty(rar_profile('orders', top => 3));
SELECT rar_profile('empty_sales') ->> 'baskets' AS baskets;

-- One-hot tokens, quantile bands and normalized columns.
SELECT * FROM rar_encode('orders', ARRAY['country']);
SELECT * FROM rar_encode('orders', ARRAY['price'], method => 'bins');
SELECT * FROM rar_encode('orders', ARRAY['price'], method => 'zscore');
SELECT * FROM rar_encode('orders', ARRAY['country'], as_columns => true);
SELECT "country=France", "country=United Kingdom", count(*) FROM orders GROUP BY 1, 2 ORDER BY 1, 2;
SELECT round(avg(price_z)::numeric, 6) AS mean_z FROM orders;
SELECT item, count(*) FROM orders_rar_items WHERE item LIKE '%=%' GROUP BY item ORDER BY item;
SELECT column_name, method FROM rar.encodings ORDER BY 1, 2;
SELECT antecedent, consequent, count FROM rar_mine('orders_rar_items', min_support => 0.2, min_length => 2) LIMIT 3;
SELECT show_error($$SELECT * FROM rar_encode('orders', ARRAY['country'], method => 'zscore')$$);
SELECT show_error($$SELECT * FROM rar_encode('orders', ARRAY['nope'])$$);
SELECT show_error($$SELECT * FROM rar_encode('orders', ARRAY['price'], method => 'hash')$$);
SELECT show_error($$SELECT * FROM rar_encode('orders', ARRAY['sold_at'], as_columns => true)$$);
