-- rar_evaluate: rules and the deployed model on the test split, as rows.
-- (Values depend on floating point; the structure and ranges are checked
-- here, the figures on Online Retail in BENCHMARKS.md.)
CREATE TEMP TABLE ev AS SELECT * FROM rar_evaluate('groceries', min_support => 0.005, min_confidence => 0.2);
SELECT subject, metric, count(*) AS rows, array_agg(k ORDER BY k) AS ks,
       bool_and(value >= 0 AND (value <= 1 OR metric IN ('rules', 'rules_testable', 'mean_lift_change') OR subject = 'split')) AS in_range
FROM ev GROUP BY subject, metric ORDER BY subject, metric;
SELECT value > 0 AS has_rules FROM ev WHERE metric = 'rules';
SELECT (SELECT value FROM ev WHERE subject = 'split' AND metric = 'test_baskets') > 0 AS has_test_baskets;
-- Hit rate and recall agree with one hidden item; they grow with k.
SELECT bool_and(h.value = r.value) AS same FROM ev h JOIN ev r USING (subject, k)
WHERE h.metric = 'hit_rate' AND r.metric = 'recall';
SELECT subject, bool_and(v5 <= v10 AND v10 <= v20) AS grows_with_k
FROM (SELECT subject, max(value) FILTER (WHERE k = 5) AS v5, max(value) FILTER (WHERE k = 10) AS v10,
             max(value) FILTER (WHERE k = 20) AS v20 FROM ev WHERE metric = 'hit_rate' GROUP BY subject) s
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
FROM rar_evaluate('groceries', min_support => 0.005, min_confidence => 0.2, methods => '{exact}', on_split => 'validation')
WHERE subject = 'split' OR metric = 'rules' ORDER BY 1, 2;
SELECT show_error($$SELECT * FROM rar_evaluate('groceries', methods => '{deep}')$$);
SELECT show_error($$SELECT * FROM rar_evaluate('groceries', on_split => 'train')$$);
