-- Fixes of the second session of 2026-12-01 (leftovers of earlier reviews,
-- and the reviews of this session).

-- 1. rar_tune: a value given twice for one key is one trial, not two.
SELECT count(*) AS trials FROM rar_tune_plan('{"hidden": [8, 8, 16], "epochs": [1, 1]}');
SELECT count(*) AS trials FROM rar_tune_plan('{"hidden": [8, 8, 16], "epochs": [1, 1]}', 'random', 10);
