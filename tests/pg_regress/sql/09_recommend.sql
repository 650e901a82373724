-- rar_recommend: rules, model and hybrid recommendations for a basket.
-- Own fixtures: a copy of the Groceries data and its model (the same
-- settings as 08_train's first model), so that this file stands alone.
SET client_min_messages = warning;
CREATE TABLE groceries_rec AS TABLE groceries;
SELECT version, model, deployed FROM rar_train('groceries_rec', 'mlp', '{"epochs": 2, "hidden": 32, "device": "cpu"}');
RESET client_min_messages;
SELECT name FROM rar_register('groceries_rec', 'groceries_rec', defaults => '{"min_support": 0.002, "min_confidence": 0.2}');
CALL rar_refresh('groceries_rec');
SELECT rank, item, round(score::numeric, 4) AS score, evidence
FROM rar_recommend(ARRAY['yogurt', 'whipped/sour cream'], 3, source => 'groceries_rec');
-- The model (the one trained above) ranks the whole vocabulary.
SELECT count(*) AS items, count(*) FILTER (WHERE item IN ('yogurt', 'whipped/sour cream')) AS from_basket,
       bool_and(score BETWEEN 0 AND 1) AS probabilities, bool_and(evidence LIKE 'model probability%') AS evidence
FROM rar_recommend(ARRAY['yogurt', 'whipped/sour cream'], 20, source => 'groceries_rec', method => 'model');
SELECT count(*) AS items, bool_and(score >= 0) AS scored
FROM rar_recommend(ARRAY['yogurt', 'whipped/sour cream', 'no such item'], 5, source => 'groceries_rec', method => 'hybrid');
-- A basket no rule applies to gets no rule recommendation.
SELECT count(*) FROM rar_recommend(ARRAY['no such item'], 5, source => 'groceries_rec');
-- Bad input.
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 0, source => 'groceries_rec')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 5, source => 'groceries_rec', method => 'magic')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 5)$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 5, source => 'nope')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY[]::text[], 5, source => 'groceries_rec')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['a'], 5, source => 'shop', method => 'model')$$);
-- A model_id that is not one of the source's table's models says so.
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 5, source => 'groceries_rec', method => 'model', model_id => 999999)$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['no such item'], 5, source => 'groceries_rec', method => 'model')$$);
