-- rar_mine on small tables whose rules can be checked by hand.
CREATE TABLE tiny (basket int, item text);
INSERT INTO tiny VALUES
  (1, 'bread'), (1, 'butter'), (1, 'milk'),
  (2, 'bread'), (2, 'butter'),
  (3, 'bread'), (3, 'milk'),
  (4, 'milk'),
  (4, 'milk');   -- the same item twice in a basket counts once
-- Two columns: (basket, item) detected by position. Every measure by hand:
-- bread 3/4, butter 2/4, milk 3/4; {bread,butter} 2/4.
SELECT antecedent, consequent, support, confidence, round(lift::numeric, 6) AS lift,
       leverage, conviction, count
FROM rar_mine('tiny', min_support => 0.5, min_confidence => 0.6, min_length => 2);
-- With the default min_length 1, rules with an empty antecedent appear, as
-- in Borgelt's apriori and R's arules: {} => {bread} has confidence 3/4.
SELECT antecedent, consequent, confidence FROM rar_mine('tiny', min_support => 0.5, min_confidence => 0.7)
WHERE cardinality(antecedent) = 0;
-- max_consequent 2: rules with two items on the right.
SELECT antecedent, consequent, count
FROM rar_mine('tiny', min_support => 0.25, min_confidence => 0.5, max_consequent => 2, min_length => 3);
-- max_length bounds the items of a rule; min_lift filters.
SELECT count(*) FROM rar_mine('tiny', min_support => 0.25, min_confidence => 0, max_length => 2);
SELECT count(*) FROM rar_mine('tiny', min_support => 0.25, min_confidence => 0, min_lift => 1.01);

-- Conviction is +Infinity when the confidence is 1.
SELECT antecedent, consequent, confidence, conviction
FROM rar_mine('tiny', min_support => 0.5, min_confidence => 1, min_length => 2);

-- Columns of other types, detected by conventional names among others.
CREATE TABLE typed (order_id uuid, product_id bigint, quantity int, note text);
INSERT INTO typed
SELECT ('00000000-0000-0000-0000-' || lpad(b::text, 12, '0'))::uuid, p, 1, 'x'
FROM generate_series(1, 10) b, generate_series(1, 3) p WHERE p <= 1 + b % 3;
SELECT antecedent, consequent, support, confidence, count
FROM rar_mine('typed', min_support => 0.3, min_confidence => 0.5, min_length => 2);

-- Basket form: one row per basket, items in an array; NULL elements skipped;
-- an empty array is a basket with no item (4 baskets here).
CREATE TABLE carts (cart text, items text[]);
INSERT INTO carts VALUES ('a', '{x,y}'), ('b', '{x,y,z}'), ('c', '{x,NULL}'), ('d', '{}');
SELECT antecedent, consequent, support, confidence, count
FROM rar_mine('carts', min_support => 0.5, min_confidence => 0.5, min_length => 2);
-- A view works like a table, and so does an array column alone.
CREATE VIEW cart_items AS SELECT items FROM carts;
SELECT antecedent, consequent, count FROM rar_mine('cart_items', min_support => 0.5, min_length => 2);

-- NULL baskets or items are skipped with a NOTICE saying how many.
CREATE TABLE with_nulls (tid int, item text);
INSERT INTO with_nulls VALUES (1, 'a'), (1, 'b'), (2, 'a'), (2, 'b'), (NULL, 'a'), (3, NULL);
SELECT antecedent, consequent, count FROM rar_mine('with_nulls', min_support => 0.5, min_length => 2);

-- An empty table: no rules, no error.
CREATE TABLE empty_sales (tid int, item text);
SELECT count(*) FROM rar_mine('empty_sales');

-- Any Unicode, and very long item names, come back intact.
CREATE TABLE intl (tid int, item text);
INSERT INTO intl SELECT t, i FROM generate_series(1, 4) t,
  unnest(ARRAY['café crème', '日本茶 🍵', repeat('é', 5000)]) i;
SELECT left(antecedent[1], 12) AS antecedent, left(consequent[1], 12) AS consequent, count,
       length(consequent[1]) AS consequent_length, consequent[1] = repeat('é', 5000) AS long_name_intact
FROM rar_mine('intl', min_support => 0.5, max_length => 2, min_length => 2)
ORDER BY consequent_length, antecedent;

-- Quoted identifiers with odd characters are read, never spliced.
CREATE TABLE "Odd ""Table""" ("Basket Id" int, "Item; DROP TABLE tiny;--" text);
INSERT INTO "Odd ""Table""" VALUES (1, 'a'), (1, 'b'), (2, 'a'), (2, 'b');
SELECT antecedent, consequent, count
FROM rar_mine('"Odd ""Table"""', min_support => 0.5, min_length => 2,
              tid_column => 'Basket Id', item_column => 'Item; DROP TABLE tiny;--');
SELECT count(*) FROM tiny;

-- Rows come in the documented order: lift, confidence, count descending,
-- then antecedent and consequent ascending.
SELECT bool_and(ordered) FROM (
  SELECT (lag(lift) OVER w, lag(confidence) OVER w, lag(count) OVER w)
         >= (lift, confidence, count) AS ordered
  FROM (SELECT *, row_number() OVER () AS n FROM rar_mine('typed', min_support => 0.1, min_confidence => 0)) r
  WINDOW w AS (ORDER BY n)
) s WHERE ordered IS NOT NULL;
-- One definition of the defaults: the SQL signatures say what the core's
-- defaults are (rar.mine_defaults(), which CALL rar_refresh applies; a NULL
-- consequent_threshold: each item its own, from the model).
SELECT f.proname, f.key, coalesce(d.value, 'NULL') AS core_default,
       pg_get_function_arguments(f.proname::regproc)
         ~ (f.key || ' (double precision|integer) DEFAULT ' || replace(coalesce(d.value, 'NULL'), '.', '\.') || '(::double precision)?(,|$)') AS signature_agrees
FROM (VALUES ('rar_mine', 'min_support'), ('rar_mine', 'min_confidence'), ('rar_mine', 'max_length'),
             ('rar_mine', 'antecedent_threshold'), ('rar_mine', 'consequent_threshold'),
             ('rar_mine_segments', 'min_support'), ('rar_mine_segments', 'min_confidence'), ('rar_mine_segments', 'max_length'),
             ('rar_evaluate', 'antecedent_threshold'), ('rar_evaluate', 'consequent_threshold')) AS f(proname, key)
JOIN jsonb_each_text(rar.mine_defaults()) d ON d.key = f.key
ORDER BY 1, 2;
