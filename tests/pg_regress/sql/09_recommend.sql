-- rar_recommend: rules, model and hybrid recommendations for a basket.
SELECT name FROM rar_register('groceries', 'groceries', defaults => '{"min_support": 0.002, "min_confidence": 0.2}');
CALL rar_refresh('groceries');
SELECT rank, item, round(score::numeric, 4) AS score, evidence
FROM rar_recommend(ARRAY['yogurt', 'whipped/sour cream'], 3, source => 'groceries');
-- The model (the deployed one trained in 08_train) ranks the whole vocabulary.
SELECT count(*) AS items, count(*) FILTER (WHERE item IN ('yogurt', 'whipped/sour cream')) AS from_basket,
       bool_and(score BETWEEN 0 AND 1) AS probabilities, bool_and(evidence LIKE 'model probability%') AS evidence
FROM rar_recommend(ARRAY['yogurt', 'whipped/sour cream'], 20, source => 'groceries', method => 'model');
SELECT count(*) AS items, bool_and(score >= 0) AS scored
FROM rar_recommend(ARRAY['yogurt', 'whipped/sour cream', 'no such item'], 5, source => 'groceries', method => 'hybrid');
-- A basket no rule applies to gets no rule recommendation.
SELECT count(*) FROM rar_recommend(ARRAY['no such item'], 5, source => 'groceries');
-- Bad input.
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 0, source => 'groceries')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 5, source => 'groceries', method => 'magic')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 5)$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['yogurt'], 5, source => 'nope')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY[]::text[], 5, source => 'groceries')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['a'], 5, source => 'shop', method => 'model')$$);
SELECT show_error($$SELECT * FROM rar_recommend(ARRAY['no such item'], 5, source => 'groceries', method => 'model')$$);
