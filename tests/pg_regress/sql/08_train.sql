-- rar_train: the registry, deployment and rollback, and bad input. (The
-- metrics themselves are checked in tests/python/test_train.py; the NOTICE
-- per epoch, which carries them, is silenced here.)
SET client_min_messages = warning;
SELECT model_id, version, model, device, epochs >= 1 AS trained, recall_at_10 > 0 AS finds_items,
       popularity_recall_at_10 > 0 AS has_baseline, deployed
FROM rar_train('groceries', 'mlp', '{"epochs": 2, "hidden": 32, "device": "cpu"}');
SELECT model_id, version, model, device IN ('cpu', 'cuda') AS on_a_device, deployed
FROM rar_train('groceries', 'autoencoder', '{"epochs": 1, "hidden": 32, "bottleneck": 8}');
SELECT model_id, version, model, device IN ('cpu', 'cuda') AS on_a_device, deployed
FROM rar_train('groceries', 'transformer', '{"epochs": 1, "embedding": 16, "heads": 2, "layers": 1}');
SELECT model_id, source, version, architecture, array_length(vocab, 1) > 100 AS vocab, length(weights) > 1000 AS weights,
       jsonb_array_length(curves) AS epochs, metrics ? 'validation' AS metrics, device IN ('cpu', 'cuda') AS on_a_device, split, deployed
FROM rar.models ORDER BY model_id;
-- Deploying another version, and rolling back.
SELECT model_id, version, deployed FROM rar_deploy(3);
SELECT model_id, version, deployed FROM rar_rollback('groceries');
SELECT model_id, deployed FROM rar.models ORDER BY model_id;
-- A deployment answers one line (the model, its recall, what it replaced;
-- never the weights), and every deployment is recorded.
SELECT model_id, source, version, architecture, deployed, recall_at_10 > 0 AS scored, replaced,
       replaced_recall_at_10 > 0 AS replaced_scored
FROM rar_deploy(2);
SELECT model_id, version, deployed, replaced FROM rar_rollback('groceries');
SELECT model_id, replaced, action FROM rar.deployments WHERE source = 'groceries'::regclass ORDER BY deployment_id;
-- Bad input.
SELECT show_error($$SELECT * FROM rar_train('groceries', 'gpt')$$);
-- The sequence model needs the customer and time columns (test_sequence.py
-- trains it); its setting is refused for the others rather than ignored.
SELECT show_error($$SELECT * FROM rar_train('groceries', 'gru')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"history": 5}')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"epochz": 3}')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"learning_rate": -1}')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '[1, 2]')$$);
-- On a server without a GPU, device cuda is refused (0A000); with one, it trains.
SELECT left(show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"device": "cuda", "epochs": 1}')$$), 5) IN ('0A000', 'no er')
       AS cuda_refused_or_used;
DELETE FROM rar.models WHERE version > 3;
SELECT show_error($$SELECT * FROM rar_train('tiny', 'mlp', '{"min_item_count": 1}')$$);
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"min_item_count": 100000}')$$);
SET rar.memory_limit = '8MB';
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"hidden": 4096}')$$);
RESET rar.memory_limit;
SELECT show_error($$SELECT * FROM rar_deploy(999)$$);
SELECT show_error($$SELECT * FROM rar_rollback('tiny')$$);
-- A failed training stores nothing.
SELECT count(*) AS models FROM rar.models;
-- A stored model is loaded under rar.memory_limit whatever its row says,
-- and damaged weights give a clear error, not a libtorch backtrace.
INSERT INTO rar.models (source, version, architecture, params, vocab, weights, curves, metrics, device, seconds, lines,
                        train_baskets, valid_baskets, split)
SELECT source, 90 + k, architecture, params || CASE k WHEN 0 THEN '{"hidden": 8192}' ELSE '{}' END::jsonb, vocab,
       CASE k WHEN 0 THEN weights ELSE '\x00010203'::bytea END, curves, metrics, device, seconds, lines, train_baskets,
       valid_baskets, split
FROM rar.models, generate_series(0, 1) k WHERE model_id = 1;
SET rar.memory_limit = '64MB';
SELECT show_error(format('SELECT count(*) FROM rar_mine(%L, method => %L, model => %s)', 'groceries', 'neural',
                         (SELECT model_id FROM rar.models WHERE version = 90)));
RESET rar.memory_limit;
SELECT regexp_replace(show_error(format('SELECT count(*) FROM rar_mine(%L, method => %L, model => %s)', 'groceries', 'neural',
                         (SELECT model_id FROM rar.models WHERE version = 91))), 'model \d+', 'model N');
DELETE FROM rar.models WHERE version >= 90;
-- Tuning: every trial recorded, only the best kept as a new version.
SELECT trial, trial_params, recall_at_10 > 0 AS scored, (model_id IS NOT NULL) = best AS kept_if_best
FROM rar_tune('groceries', 'mlp', '{"hidden": [16, 32], "learning_rate": [0.005]}', params => '{"epochs": 1, "device": "cpu"}');
SELECT count(*) AS models FROM rar.models;
SELECT count(*) AS trials, count(*) FILTER (WHERE best) AS best FROM rar.tuning_trials;
SELECT count(*) AS random_trials FROM rar_tune_plan('{"a": [1, 2, 3], "b": [4, 5]}', 'random', trials => 4, seed => 3);
SELECT show_error($$SELECT * FROM rar_tune('groceries', 'mlp', '{"hidden": []}', search => 'bayes')$$);
SELECT show_error($$SELECT * FROM rar_tune('groceries', 'mlp', '[16, 32]')$$);
SELECT show_error($$SELECT * FROM rar_tune('groceries', 'mlp', '{"hidden": [16]}', params => '{"epochs": 0}')$$);
