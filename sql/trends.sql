-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- Rules over refreshes: each rule of each kept rule set of a source beside
-- the set refreshed before it, whether it emerged, held or vanished, and a
-- test of its change in confidence (rar.confidence_change_p, the test that
-- rar_rules_over_time applies to windows of time). Runs after rulesets.sql.
CREATE VIEW rar.rule_trends WITH (security_invoker = true) AS
WITH sets AS (
    SELECT s.source, s.set_id, s.refreshed_at, s.baskets, s.params, s.model_id,
           lag(s.set_id) OVER w AS previous_set, lag(s.params) OVER w AS previous_params,
           lag(s.model_id) OVER w AS previous_model
    FROM rar.rule_sets s
    WINDOW w AS (PARTITION BY s.source ORDER BY s.set_id)
)
SELECT s.source, s.set_id, s.refreshed_at, s.previous_set,
       CASE WHEN s.previous_set IS NOT NULL
            THEN s.params IS NOT DISTINCT FROM s.previous_params AND s.model_id IS NOT DISTINCT FROM s.previous_model END AS same_params,
       x.antecedent, x.consequent,
       rar.items_text(x.antecedent_labels) AS antecedent_text,
       rar.items_text(x.consequent_labels) AS consequent_text,
       x.support, x.confidence, x.lift, x.count, s.baskets,
       x.previous_support, x.previous_confidence, x.previous_lift, x.previous_count,
       CASE WHEN s.previous_set IS NULL THEN 'first'
            WHEN x.previous_count IS NULL THEN 'emerged'
            WHEN x.count IS NULL THEN 'vanished'
            ELSE 'held' END AS change,
       -- Antecedent counts from count / confidence, capped where the test
       -- stops (2^32) so that no stored value breaks the cast.
       rar.confidence_change_p(x.previous_count, LEAST(pg_catalog.round(x.previous_count / NULLIF(x.previous_confidence, 0)), 4294967296::float8)::bigint,
                               x.count, LEAST(pg_catalog.round(x.count / NULLIF(x.confidence, 0)), 4294967296::float8)::bigint) AS p_change
FROM sets s
CROSS JOIN LATERAL (
    SELECT coalesce(n.antecedent, o.antecedent) AS antecedent, coalesce(n.consequent, o.consequent) AS consequent,
           coalesce(n.antecedent_labels, o.antecedent_labels) AS antecedent_labels,
           coalesce(n.consequent_labels, o.consequent_labels) AS consequent_labels,
           n.support, n.confidence, n.lift, n.count,
           o.support AS previous_support, o.confidence AS previous_confidence, o.lift AS previous_lift, o.count AS previous_count
    FROM (SELECT * FROM rar.rule_store r WHERE r.set_id = s.set_id) n
    FULL JOIN (SELECT * FROM rar.rule_store r WHERE r.set_id = s.previous_set) o
      ON n.antecedent = o.antecedent AND n.consequent = o.consequent
) x;
GRANT SELECT ON rar.rule_trends TO rar_reader;
GRANT SELECT ON rar.rule_trends TO PUBLIC;

SET LOCAL search_path = @extschema@, pg_temp;
