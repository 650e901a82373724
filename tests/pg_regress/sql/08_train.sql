-- rar_train: the registry, deployment and rollback, and bad input. (The
-- metrics themselves are checked in tests/python/test_train.py; the NOTICE
-- per epoch, which carries them, is silenced here.)
SET client_min_messages = warning;
SELECT model_id, version, model, device, epochs >= 1 AS trained, recall_at_10 > 0 AS finds_items,
       popularity_recall_at_10 > 0 AS has_baseline, deployed
FROM rar_train('groceries', 'mlp', '{"epochs": 2, "hidden": 32, "device": "cpu"}');
SELECT model_id, version, model, device, deployed
FROM rar_train('groceries', 'autoencoder', '{"epochs": 1, "hidden": 32, "bottleneck": 8}');
SELECT model_id, version, model, device, deployed
FROM rar_train('groceries', 'transformer', '{"epochs": 1, "embedding": 16, "heads": 2, "layers": 1}');
SELECT model_id, source, version, architecture, array_length(vocab, 1) > 100 AS vocab, length(weights) > 1000 AS weights,
       jsonb_array_length(curves) AS epochs, metrics ? 'validation' AS metrics, device, split, deployed
FROM rar.models ORDER BY model_id;
-- Deploying another version, and rolling back.
SELECT model_id, version, deployed FROM rar_deploy(3);
SELECT model_id, version, deployed FROM rar_rollback('groceries');
SELECT model_id, deployed FROM rar.models ORDER BY model_id;
-- Bad input.
SELECT show_error($$SELECT * FROM rar_train('groceries', 'gpt')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"epochz": 3}')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"learning_rate": -1}')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '[1, 2]')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"device": "cuda"}')$$);
SELECT show_error($$SELECT * FROM rar_train('tiny', 'mlp', '{"min_item_count": 1}')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"min_item_count": 100000}')$$);
SET rar.memory_limit = '8MB';
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"hidden": 4096}')$$);
RESET rar.memory_limit;
SELECT show_error($$SELECT * FROM rar_deploy(999)$$);
SELECT show_error($$SELECT * FROM rar_rollback('tiny')$$);
-- A failed training stores nothing.
SELECT count(*) AS models FROM rar.models;
-- Tuning: every trial recorded, only the best kept as a new version.
SELECT trial, trial_params, recall_at_10 > 0 AS scored, (model_id IS NOT NULL) = best AS kept_if_best
FROM rar_tune('groceries', 'mlp', '{"hidden": [16, 32], "learning_rate": [0.005]}', params => '{"epochs": 1, "device": "cpu"}');
SELECT count(*) AS models FROM rar.models;
SELECT count(*) AS trials, count(*) FILTER (WHERE best) AS best FROM rar.tuning_trials;
SELECT count(*) AS random_trials FROM rar_tune_plan('{"a": [1, 2, 3], "b": [4, 5]}', 'random', trials => 4, seed => 3);
SELECT show_error($$SELECT * FROM rar_tune('groceries', 'mlp', '{"hidden": []}', search => 'bayes')$$);
SELECT show_error($$SELECT * FROM rar_tune('groceries', 'mlp', '[16, 32]')$$);
SELECT show_error($$SELECT * FROM rar_tune('groceries', 'mlp', '{"hidden": [16]}', params => '{"epochs": 0}')$$);
