-- rar_mine with method 'neural' and 'hybrid': rules from the deployed model
-- of a copy of groceries (trained below), every one counted exactly: each must
-- be a rule exact mining finds at the same thresholds, with the same counts.
-- (Which rules the model proposes depends on floating point; the checks
-- hold for any.)
-- Own fixtures: a copy of the Groceries data and its model (the same
-- settings as 08_train's first model), so that this file stands alone.
SET client_min_messages = warning;
CREATE TABLE groceries_nn AS TABLE groceries;
SELECT version, model, deployed FROM rar_train('groceries_nn', 'mlp', '{"epochs": 2, "hidden": 32, "device": "cpu"}');
CREATE TEMP TABLE exact AS SELECT * FROM rar_mine('groceries_nn', min_support => 0.002, min_confidence => 0.1, min_length => 2);
CREATE TEMP TABLE neural AS SELECT * FROM rar_mine('groceries_nn', min_support => 0.002, min_confidence => 0.1,
    method => 'neural', antecedent_threshold => 0, consequent_threshold => 0.05);
CREATE TEMP TABLE hybrid AS SELECT * FROM rar_mine('groceries_nn', min_support => 0.002, min_confidence => 0.1, min_length => 2,
    method => 'hybrid', consequent_threshold => 0.05);
SELECT count(*) > 0 AS neural_rules, count(*) < (SELECT count(*) FROM exact) AS fewer_than_exact FROM neural;
-- Every neural and hybrid rule is an exact rule with the same figures.
SELECT count(*) AS neural_not_exact FROM neural n
WHERE NOT EXISTS (SELECT 1 FROM exact e WHERE e.antecedent = n.antecedent AND e.consequent = n.consequent
                  AND e.count = n.count AND e.confidence = n.confidence AND e.lift = n.lift);
SELECT count(*) AS hybrid_not_exact FROM hybrid h
WHERE NOT EXISTS (SELECT 1 FROM exact e WHERE e.antecedent = h.antecedent AND e.consequent = h.consequent
                  AND e.count = h.count AND e.confidence = h.confidence);
SELECT count(*) > 0 AS hybrid_rules, bool_and(model_score BETWEEN 0.05 AND 1) AS scored FROM hybrid;
SELECT bool_and(model_score >= 0.05) AS scored, bool_and(support >= 0.002 AND confidence >= 0.1) AS thresholds FROM neural;
SELECT count(*) FILTER (WHERE model_score IS NULL) = count(*) AS exact_has_no_score FROM exact;
-- Without a consequent_threshold (the default) each item has its own, from
-- the model's scores of it in real baskets: the rules are exact rules with
-- the same figures.
CREATE TEMP TABLE calibrated AS SELECT * FROM rar_mine('groceries_nn', min_support => 0.002, min_confidence => 0.1,
    method => 'neural', antecedent_threshold => 0);
SELECT count(*) > 0 AS calibrated_rules, bool_and(model_score > 0) AS scored FROM calibrated;
SELECT count(*) AS calibrated_not_exact FROM calibrated n
WHERE NOT EXISTS (SELECT 1 FROM exact e WHERE e.antecedent = n.antecedent AND e.consequent = n.consequent
                  AND e.count = n.count AND e.confidence = n.confidence AND e.lift = n.lift);
-- The documented order holds for neural rules too.
SELECT bool_and(ordered) IS NOT FALSE AS ordered FROM (
  SELECT (lag(lift) OVER w, lag(confidence) OVER w, lag(count) OVER w) >= (lift, confidence, count) AS ordered
  FROM (SELECT *, row_number() OVER () AS n FROM neural) r WINDOW w AS (ORDER BY n)) s WHERE ordered IS NOT NULL;
RESET client_min_messages;
SELECT show_error($$SELECT * FROM rar_mine('groceries_nn', method => 'deep')$$);
SELECT show_error($$SELECT * FROM rar_mine('groceries_nn', method => 'neural', consequent_threshold => 2)$$);
SELECT show_error($$SELECT * FROM rar_mine('tiny', method => 'neural')$$);
-- A rule set refreshed with the model holds the same rules as rar_mine.
SELECT name FROM rar_register('groceries_nn', 'groceries_nn');
SET client_min_messages = warning;
CALL rar_refresh('groceries_nn', min_support => 0.002, min_confidence => 0.1, method => 'hybrid');
RESET client_min_messages;
SELECT method, rules > 0 AS has_rules,
       rules = (SELECT count(*) FROM rar_mine('groceries_nn', min_support => 0.002, min_confidence => 0.1, min_length => 2,
                                              method => 'hybrid')) AS same_as_rar_mine
FROM rar.rule_sets WHERE source = 'groceries_nn' AND current;
SELECT show_error($$CALL rar_refresh('groceries_nn', method => 'deep')$$);
-- The model knows the items of the column it was trained on: neural rules
-- of another column are an error, not an empty set.
ALTER TABLE groceries_nn ADD COLUMN item_upper text;
UPDATE groceries_nn SET item_upper = upper(item);
SELECT regexp_replace(show_error($$SELECT count(*) FROM rar_mine('groceries_nn', method => 'neural', tid_column => 'transaction_id', item_column => 'item_upper')$$), 'model [0-9]+', 'model N') AS error;
SELECT regexp_replace(show_error($$SELECT count(*) FROM rar_mine('groceries_nn', method => 'hybrid', tid_column => 'transaction_id', item_column => 'item_upper')$$), 'model [0-9]+', 'model N') AS error;
SELECT count(*) > 0 AS own_column_still_mines FROM rar_mine('groceries_nn', min_support => 0.002, min_confidence => 0.1,
    method => 'neural', tid_column => 'transaction_id', item_column => 'item');
