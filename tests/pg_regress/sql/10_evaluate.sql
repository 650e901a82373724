-- rar_evaluate: rules and the deployed model on the test split, as rows.
-- (Values depend on floating point; the structure and ranges are checked
-- here, the figures on Online Retail in BENCHMARKS.md.)
-- Own fixtures: a copy of the Groceries data and its model (the same
-- settings as 08_train's first model), so that this file stands alone.
SET client_min_messages = warning;
CREATE TABLE groceries_ev AS TABLE groceries;
SELECT version, model, deployed FROM rar_train('groceries_ev', 'mlp', '{"epochs": 2, "hidden": 32, "device": "cpu"}');
RESET client_min_messages;
SELECT name FROM rar_register('groceries_ev', 'groceries_ev', defaults => '{"min_support": 0.002, "min_confidence": 0.2}');
CREATE TEMP TABLE ev AS SELECT * FROM rar_evaluate('groceries_ev', min_support => 0.005, min_confidence => 0.2);
SELECT subject, metric, count(*) AS rows, array_agg(k ORDER BY k) AS ks,
       bool_and(value >= 0 AND (value <= 1 OR metric IN ('rules', 'rules_testable', 'mean_lift_change') OR subject = 'split')) AS in_range
FROM ev GROUP BY subject, metric ORDER BY subject, metric;
SELECT value > 0 AS has_rules FROM ev WHERE metric = 'rules';
SELECT (SELECT value FROM ev WHERE subject = 'split' AND metric = 'test_baskets') > 0 AS has_test_baskets;
-- NDCG never passes recall (a hit at rank r counts 1/log2(r + 2), at most
-- 1), and recall grows with k. (Hit rate is recall under the other
-- literature's name when one item is hidden: rar-core's unit tests.)
SELECT subject, bool_and(n.value <= r.value) AS ndcg_within_recall FROM ev n JOIN ev r USING (subject, k)
WHERE n.metric = 'ndcg' AND r.metric = 'recall' GROUP BY subject ORDER BY subject;
SELECT subject, bool_and(v5 <= v10 AND v10 <= v20 AND v20 > 0) AS grows_with_k
FROM (SELECT subject, max(value) FILTER (WHERE k = 5) AS v5, max(value) FILTER (WHERE k = 10) AS v10,
             max(value) FILTER (WHERE k = 20) AS v20 FROM ev WHERE metric = 'recall' GROUP BY subject) s
GROUP BY subject ORDER BY subject;
SELECT show_error($$SELECT * FROM rar_evaluate('nope')$$);
-- Neural and hybrid rules are subsets of the exact rules at the same
-- thresholds (every one is counted on the training split).
SELECT (SELECT value FROM ev WHERE subject = 'neural_rules' AND metric = 'rules')
         <= (SELECT value FROM ev WHERE subject = 'rules' AND metric = 'rules') AS neural_not_more,
       (SELECT value FROM ev WHERE subject = 'hybrid_rules' AND metric = 'rules')
         <= (SELECT value FROM ev WHERE subject = 'rules' AND metric = 'rules') AS hybrid_not_more;
-- The share holding is over the rules that can be judged on the test split.
SELECT subject, bool_and(t.value <= r.value) AS testable_within_rules
FROM ev t JOIN ev r USING (subject) WHERE t.metric = 'rules_testable' AND r.metric = 'rules' GROUP BY 1 ORDER BY 1;
-- Thresholds are chosen on the validation split, never on the test split.
SELECT subject, metric, value > 0 AS positive
FROM rar_evaluate('groceries_ev', min_support => 0.005, min_confidence => 0.2, methods => '{exact}', on_split => 'validation')
WHERE subject = 'split' OR metric = 'rules' ORDER BY 1, 2;
SELECT show_error($$SELECT * FROM rar_evaluate('groceries_ev', methods => '{deep}')$$);
SELECT show_error($$SELECT * FROM rar_evaluate('groceries_ev', on_split => 'train')$$);
-- The model records a fingerprint of its training split: on the table as it
-- was trained, it says so; once baskets change, it says they changed.
SELECT train_checksum ~ '^[0-9a-f]{16}$' AS has_fingerprint FROM rar.models WHERE source = 'groceries_ev'::regclass;
SELECT value AS trained_on_current_data FROM ev WHERE subject = 'model' AND metric = 'trained_on_current_data';
DELETE FROM groceries_ev WHERE transaction_id % 10 = 0;
SELECT value AS trained_on_current_data
FROM rar_evaluate('groceries_ev', min_support => 0.005, min_confidence => 0.2, methods => '{exact}')
WHERE subject = 'model' AND metric = 'trained_on_current_data';
