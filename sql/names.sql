-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- The functions of sql/models.sql that take a source, under the one naming
-- rule (src/sources.rs): a registered source's name, or a table or view as
-- the caller's search path finds it. A function with a pinned search path
-- no longer sees the caller's, so these thin wrappers resolve the name
-- first (with rar.relation_of or rar.resolved_name, schema-qualified like
-- everything they call) and hand the table, or a name any search path
-- resolves the same way, to the pinned function.

CREATE FUNCTION @extschema@.rar_rollback(source text)
RETURNS SETOF rar.deployment LANGUAGE sql VOLATILE
AS $fn$
    SELECT * FROM rar.rollback(rar.relation_of(source)::pg_catalog.regclass)
$fn$;

CREATE FUNCTION @extschema@.rar_tune(
    source text,
    model text,
    grid jsonb,
    params jsonb DEFAULT '{}',
    search text DEFAULT 'grid',
    trials integer DEFAULT 10,
    seed bigint DEFAULT 0,
    customer_column text DEFAULT NULL,
    time_column text DEFAULT NULL
) RETURNS TABLE (tuning_id bigint, trial integer, trial_params jsonb, recall_at_10 float8, ndcg_at_10 float8,
                 valid_loss float8, seconds float8, best boolean, model_id bigint)
LANGUAGE sql VOLATILE
AS $fn$
    SELECT * FROM rar.tune(rar.resolved_name(source), model, grid, params, search, trials, seed,
                           customer_column, time_column)
$fn$;

SET LOCAL search_path = @extschema@, pg_temp;
