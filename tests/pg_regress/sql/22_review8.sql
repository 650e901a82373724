-- The eighth review's probes: each must fail with a proper SQLSTATE or give
-- the right answer.
SET client_min_messages = warning;
CREATE ROLE rar_r8_owner;
CREATE SCHEMA r8 AUTHORIZATION rar_r8_owner;
SET ROLE rar_r8_owner;
CREATE TABLE r8.p (tid int, item text);
INSERT INTO r8.p VALUES (1, 'a'), (1, 'b'), (2, 'a'), (3, 'b'), (3, 'c'), (4, 'b'), (4, 'c');
SELECT (rar_register('r8_plot', 'r8.p')).name;
CALL rar_refresh('r8_plot', min_support => 0.2, min_confidence => 0.1);

-- 1. A support the owner wrote into its rules (1.7e308, NaN, negative) is
-- drawn at the edge: the log axis asked for 2^31 powers of ten, without end.
UPDATE rar.rule_store SET support = 1.7e308
 WHERE rule_id = 1 AND set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current);
UPDATE rar.rule_store SET support = 'NaN', confidence = -5
 WHERE rule_id = 2 AND set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current);
SET statement_timeout = '20s';
SELECT rar_plot('r8_plot') LIKE '%</svg>' AS scatter_drawn,
       rar_plot('r8_plot', 'graph') LIKE '%</svg>' AS graph_drawn;

-- 2. Rules with many labels each: the graph's layout costs the edges (it
-- rescanned every rule for every item), and its memory is bounded.
DELETE FROM rar.rule_store WHERE set_id = (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current);
INSERT INTO rar.rule_store (set_id, rule_id, antecedent, consequent, antecedent_labels, consequent_labels,
                            support, confidence, lift, leverage, conviction, count, explanation, antecedent_key)
SELECT (SELECT set_id FROM rar.rule_sets WHERE source = 'r8_plot' AND current), r, '{a}', '{b}',
       array(SELECT 'x' || r || '_' || j FROM generate_series(1, 30) j), array['y' || r],
       0.5, 0.5, 1, 0, 1, 1, '', rar.rule_key('{a}')
FROM generate_series(1, 1000) r;
SELECT (length(rar_plot('r8_plot', 'graph', 1000)) - length(replace(rar_plot('r8_plot', 'graph', 1000), 'class="edge"', ''))) / 12 AS edges;
SET rar.memory_limit = '1MB';
SELECT length(rar_plot('r8_plot', 'graph', 1000));
RESET rar.memory_limit;
RESET statement_timeout;

-- 3. rar.lock_for_read takes no lock on a relation the caller may not read,
-- and nothing for NULL.
RESET ROLE;
CREATE ROLE rar_r8_other;
GRANT USAGE ON SCHEMA r8 TO rar_r8_other;
BEGIN;
SET LOCAL ROLE rar_r8_other;
SELECT rar.lock_for_read('r8.p'), rar.lock_for_read(NULL);
SELECT count(*) AS locks_held FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'r8.p'::regclass;
ROLLBACK;
BEGIN;
SET LOCAL ROLE rar_r8_owner;
SELECT rar.lock_for_read('r8.p');
SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'r8.p'::regclass;
ROLLBACK;

RESET ROLE;
DROP SCHEMA r8 CASCADE;
DELETE FROM rar.sources WHERE name = 'r8_plot';
DROP ROLE rar_r8_other;
DROP ROLE rar_r8_owner;
