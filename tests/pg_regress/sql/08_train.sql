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
SET rar.memory_limit = '1MB';
SELECT show_error($$SELECT * FROM rar_train('groceries', 'mlp', '{"hidden": 4096}')$$);
RESET rar.memory_limit;
SELECT show_error($$SELECT * FROM rar_deploy(999)$$);
SELECT show_error($$SELECT * FROM rar_rollback('tiny')$$);
-- A failed training stores nothing.
SELECT count(*) AS models FROM rar.models;
