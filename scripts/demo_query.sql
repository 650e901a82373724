-- The demo's query: the ten strongest rules, with the stock codes of
-- UCI Online Retail shown with their descriptions.
\pset footer off
WITH rules AS (
    SELECT * FROM rar_mine('sales') LIMIT 10
), labels AS (
    SELECT stock_code, min(description) AS label FROM sales GROUP BY stock_code
)
SELECT (SELECT string_agg(l.label, ' + ' ORDER BY l.label)
          FROM unnest(r.antecedent) AS a JOIN labels l ON l.stock_code = a) AS "baskets with",
       (SELECT string_agg(l.label, ' + ')
          FROM unnest(r.consequent) AS c JOIN labels l ON l.stock_code = c) AS "also hold",
       round(r.support::numeric, 4) AS support,
       round(r.confidence::numeric, 3) AS confidence,
       round(r.lift::numeric, 1) AS lift,
       r.count
FROM rules r;
SELECT count(*) AS "rules at min_support 0.01, min_confidence 0.5" FROM rar_mine('sales');
-- The same rules as a registered rule set, refreshed into the view BI
-- tools read (CALL rar_refresh is what pg_cron runs every night).
SELECT name FROM rar_register('sales', 'sales', label_column => 'description');
CALL rar_refresh('sales');
SELECT rule_id, antecedent_text, consequent_text, round(confidence::numeric, 2) AS confidence, round(lift::numeric, 1) AS lift
FROM rar.rules WHERE source = 'sales' ORDER BY rule_id LIMIT 3;
SELECT explanation FROM rar.rules WHERE source = 'sales' ORDER BY rule_id LIMIT 1;
-- A basket model trained in the server (once: later set-ups keep it).
SELECT NOT EXISTS (SELECT 1 FROM rar.models WHERE source = 'sales'::regclass) AS need_model \gset
\if :need_model
SELECT model_id, version, model, device, epochs, round(recall_at_10::numeric, 4) AS recall_at_10,
       round(popularity_recall_at_10::numeric, 4) AS popularity_recall_at_10, round(seconds::numeric, 1) AS seconds
FROM rar_train('sales');
\endif
SELECT model_id, version, architecture, round((metrics->'validation'->>'recall_at_10')::numeric, 4) AS recall_at_10,
       round((metrics->'popularity'->>'recall_at_10')::numeric, 4) AS popularity_recall_at_10, deployed
FROM rar.models WHERE source = 'sales'::regclass ORDER BY model_id;
