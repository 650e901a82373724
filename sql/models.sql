-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- The model lifecycle: the registry `rar.models`, live training progress,
-- deployment and rollback, and the hyperparameter search `rar_tune` with its
-- trials. Training itself is the Rust function rar_train (src/api/train.rs).
-- Every function here pins its search_path and names the extension's own
-- objects by schema (@extschema@ for the functions, rar for the catalog).

-- The model registry: every model rar_train trained, with its weights,
-- vocabulary, settings, curves and metrics; versions per source, one of
-- them deployed (the one later calls use).
CREATE TABLE rar.models (
    model_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       regclass NOT NULL,
    version      integer NOT NULL,
    architecture text NOT NULL,
    params       jsonb NOT NULL,
    vocab        text[] NOT NULL,
    weights      bytea NOT NULL,
    curves       jsonb NOT NULL,
    metrics      jsonb NOT NULL,
    device       text NOT NULL,
    seconds      float8 NOT NULL,
    lines        bigint NOT NULL,
    train_baskets bigint NOT NULL,
    valid_baskets bigint NOT NULL,
    split        text NOT NULL,
    deployed     boolean NOT NULL DEFAULT false,
    deployed_at  timestamptz,
    trained_by   name NOT NULL DEFAULT current_user,
    trained_at   timestamptz NOT NULL DEFAULT now(),
    -- The fingerprint of the training split (Baskets::checksum, hex):
    -- rar_evaluate tells when the table changed since (NULL: 0.1.0).
    train_checksum text,
    -- The columns it was trained on: tid_column and item_column, and for
    -- the sequence model customer_column and time_column, through which
    -- rar_recommend and rar_evaluate read a customer's earlier baskets
    -- (NULL: 0.1.0).
    read_columns jsonb,
    UNIQUE (source, version)
);
CREATE UNIQUE INDEX models_one_deployed ON rar.models (source) WHERE deployed;
COMMENT ON TABLE rar.models IS 'Models trained by rar_train: weights, vocabulary, settings, curves, metrics; one deployed per source';
-- A model is data of its table: read by those who may read the table,
-- written (trained, deployed, deleted) by its owner only.
ALTER TABLE rar.models ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON rar.models FOR SELECT USING (rar.may_read(source));
-- Ids come from the identity sequence only (no OVERRIDING SYSTEM VALUE), so
-- nobody can take another table's next ids.
CREATE POLICY insert ON rar.models FOR INSERT
    WITH CHECK (rar.may_manage(source) AND model_id = pg_catalog.currval('rar.models_model_id_seq'::pg_catalog.regclass));
CREATE POLICY update ON rar.models FOR UPDATE USING (rar.may_manage(source))
    WITH CHECK (rar.may_manage(source) AND model_id IS NOT NULL);
CREATE POLICY delete ON rar.models FOR DELETE USING (rar.may_manage(source) OR rar.orphan_of(source, trained_by));
GRANT SELECT, INSERT, UPDATE, DELETE ON rar.models TO PUBLIC;
GRANT USAGE ON SEQUENCE rar.models_model_id_seq TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('rar.models', '');
SELECT pg_catalog.pg_extension_config_dump('rar.models_model_id_seq', '');

-- Training in progress, from any session: rar_train reports its epoch,
-- loss and time left as the activity of its backend.
CREATE VIEW rar.training WITH (security_invoker = true) AS
SELECT pid, usename, datname, query_start, now() - query_start AS running_for, query AS progress
FROM pg_catalog.pg_stat_activity
WHERE query LIKE 'rar_train:%';
COMMENT ON VIEW rar.training IS 'rar_train calls running now: epoch, batch, loss, validation recall and time left';
GRANT SELECT ON rar.training TO PUBLIC;

-- Every deployment of a model: which one, of which table, what it replaced,
-- and how (trained first, deployed, rolled back, chosen by a search).
CREATE TABLE rar.deployments (
    deployment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        regclass NOT NULL,
    model_id      bigint NOT NULL,
    replaced      bigint,
    action        text NOT NULL CHECK (action IN ('train', 'deploy', 'rollback', 'tune')),
    deployed_by   name NOT NULL DEFAULT current_user,
    deployed_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rar.deployments IS 'The deployment history of the models of every table: what was deployed, when, by whom, replacing what';
ALTER TABLE rar.deployments ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON rar.deployments FOR SELECT USING (rar.may_read(source));
CREATE POLICY insert ON rar.deployments FOR INSERT
    WITH CHECK (rar.may_manage(source) AND deployment_id = pg_catalog.currval('rar.deployments_deployment_id_seq'::pg_catalog.regclass)
                AND EXISTS (SELECT 1 FROM rar.models m WHERE m.model_id = deployments.model_id AND m.source = deployments.source));
CREATE POLICY delete ON rar.deployments FOR DELETE USING (rar.may_manage(source) OR rar.orphan_of(source, deployed_by));
GRANT SELECT, INSERT, DELETE ON rar.deployments TO PUBLIC;
GRANT USAGE ON SEQUENCE rar.deployments_deployment_id_seq TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('rar.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('rar.deployments_deployment_id_seq', '');

-- What rar_deploy, rar_rollback answer: one row, without the weights.
CREATE TYPE rar.deployment AS (model_id bigint, source regclass, version integer, architecture text, deployed boolean,
                               recall_at_10 float8, replaced bigint, replaced_recall_at_10 float8);
COMMENT ON TYPE rar.deployment IS 'A deployment as rar_deploy and rar_rollback answer it: the model, its validation recall@10, the model it replaced and its recall';
COMMENT ON COLUMN rar.deployment.model_id IS 'The model deployed (or rolled back to)';
COMMENT ON COLUMN rar.deployment.source IS 'Its table';
COMMENT ON COLUMN rar.deployment.version IS 'Its version among the table''s models';
COMMENT ON COLUMN rar.deployment.architecture IS 'mlp, autoencoder, transformer or gru';
COMMENT ON COLUMN rar.deployment.deployed IS 'Whether it is the table''s deployed model now';
COMMENT ON COLUMN rar.deployment.recall_at_10 IS 'Its recall@10 on the validation set';
COMMENT ON COLUMN rar.deployment.replaced IS 'The model deployed before it (NULL: none)';
COMMENT ON COLUMN rar.deployment.replaced_recall_at_10 IS 'That model''s recall@10 on the validation set';

-- Deploys model `model_id` for its table, records it in rar.deployments
-- (`action`: deploy, rollback, tune) and answers one summary row: the model,
-- its validation recall@10, and the model it replaced with its recall.
CREATE FUNCTION rar.deploy(model bigint, how text)
RETURNS SETOF rar.deployment
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    m rar.models;
    old rar.models;
BEGIN
    SELECT * INTO m FROM rar.models x WHERE x.model_id = deploy.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model % does not exist', coalesce(deploy.model::text, 'NULL')
            USING ERRCODE = 'undefined_object', HINT = 'SELECT model_id, source, version FROM rar.models lists the models.';
    END IF;
    PERFORM rar.check_manage(m.source, 'deploy models');
    -- One deployment of a table's models at a time: their rows, locked
    -- (only the table's owner can lock them).
    PERFORM 1 FROM rar.models x WHERE x.source = m.source FOR NO KEY UPDATE;
    -- The model it replaces: none when it is deployed already.
    SELECT * INTO old FROM rar.models x WHERE x.source = m.source AND x.deployed AND x.model_id <> m.model_id;
    UPDATE rar.models x SET deployed = false WHERE x.source = m.source AND x.deployed AND x.model_id <> m.model_id;
    UPDATE rar.models x SET deployed = true, deployed_at = now() WHERE x.model_id = m.model_id;
    INSERT INTO rar.deployments (source, model_id, replaced, action) VALUES (m.source, m.model_id, old.model_id, deploy.how);
    RETURN QUERY SELECT m.model_id, m.source, m.version, m.architecture, true,
                        (m.metrics->'validation'->>'recall_at_10')::float8,
                        old.model_id, (old.metrics->'validation'->>'recall_at_10')::float8;
END
$fn$;

-- Marks a model as the one in use for its table; a summary row.
CREATE FUNCTION @extschema@.rar_deploy(model_id bigint)
RETURNS SETOF rar.deployment
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF rar_deploy.model_id IS NULL THEN
        RAISE EXCEPTION 'model_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'SELECT model_id, source, version FROM rar.models lists the models.';
    END IF;
    RETURN QUERY SELECT * FROM rar.deploy(rar_deploy.model_id, 'deploy');
END
$fn$;

-- Deploys again the model that was deployed before the current one
-- (rar_rollback(source text) in sql/names.sql resolves the name first).
CREATE FUNCTION rar.rollback(source regclass)
RETURNS SETOF rar.deployment
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    cur rar.models;
    prev bigint;
BEGIN
    IF rollback.source IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Give the table whose model to roll back, for example source => ''sales''.';
    END IF;
    PERFORM rar.check_manage(rollback.source, 'roll back models');
    SELECT * INTO cur FROM rar.models m WHERE m.source = rollback.source AND m.deployed;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model of % is deployed', rollback.source
            USING ERRCODE = 'undefined_object', HINT = 'Train one with rar_train, or deploy one with rar_deploy(model_id).';
    END IF;
    SELECT m.model_id INTO prev FROM rar.models m
    WHERE m.source = rollback.source AND m.model_id <> cur.model_id AND m.deployed_at IS NOT NULL
    ORDER BY m.deployed_at DESC LIMIT 1;
    IF prev IS NULL THEN
        RAISE EXCEPTION 'no earlier deployed model of % to roll back to', rollback.source
            USING ERRCODE = 'undefined_object', HINT = 'Deploy a given version with rar_deploy(model_id).';
    END IF;
    RETURN QUERY SELECT * FROM rar.deploy(prev, 'rollback');
END
$fn$;

-- Hyperparameter search: one trial per combination (grid) or per draw
-- (random), each a full rar_train on the training split scored on the
-- validation split; every trial is recorded, and only the best model (by
-- validation recall@10) is kept as a new version.
CREATE TABLE rar.tuning_trials (
    tuning_id    bigint NOT NULL,
    trial        integer NOT NULL,
    source       regclass NOT NULL,
    model        text NOT NULL,
    params       jsonb NOT NULL,
    recall_at_10 float8 NOT NULL,
    ndcg_at_10   float8 NOT NULL,
    valid_loss   float8 NOT NULL,
    seconds      float8 NOT NULL,
    best         boolean NOT NULL DEFAULT false,
    model_id     bigint,
    tuned_at     timestamptz NOT NULL DEFAULT now(),
    -- Keyed per table: rows a role writes about its own tables never meet
    -- another table's searches.
    PRIMARY KEY (source, tuning_id, trial)
);
CREATE SEQUENCE rar.tuning_seq;
ALTER TABLE rar.tuning_trials ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON rar.tuning_trials FOR SELECT USING (rar.may_read(source));
CREATE POLICY insert ON rar.tuning_trials FOR INSERT WITH CHECK (rar.may_manage(source)
    AND (model_id IS NULL OR EXISTS (SELECT 1 FROM rar.models m WHERE m.model_id = tuning_trials.model_id AND m.source = tuning_trials.source)));
CREATE POLICY update ON rar.tuning_trials FOR UPDATE USING (rar.may_manage(source)) WITH CHECK (rar.may_manage(source)
    AND (model_id IS NULL OR EXISTS (SELECT 1 FROM rar.models m WHERE m.model_id = tuning_trials.model_id AND m.source = tuning_trials.source)));
CREATE POLICY delete ON rar.tuning_trials FOR DELETE USING (rar.may_manage(source));
GRANT SELECT, INSERT, UPDATE, DELETE ON rar.tuning_trials TO PUBLIC;
GRANT USAGE ON SEQUENCE rar.tuning_seq TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('rar.tuning_trials', '');
SELECT pg_catalog.pg_extension_config_dump('rar.tuning_seq', '');

-- (rar_tune(source text, ...) in sql/names.sql resolves the name first.)
CREATE FUNCTION rar.tune(
    source_name text,
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
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    t bigint;
    p jsonb;
    n integer := 0;
    r record;
    best_trial integer;
    had_deployed boolean;
    rel regclass;
BEGIN
    -- rar's functions are called by the schema name they were installed
    -- under: refuse to go on if that name now names another schema.
    PERFORM rar.check_extension_schema('@extschema@');
    IF source_name IS NULL OR model IS NULL OR grid IS NULL THEN
        RAISE EXCEPTION 'source, model and grid must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For example: SELECT * FROM rar_tune(''sales'', ''mlp'', ''{"hidden": [64, 128]}'');';
    END IF;
    IF jsonb_typeof(coalesce(params, '{}')) <> 'object' THEN
        RAISE EXCEPTION 'params must be a jsonb object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Settings shared by every trial, for example ''{"epochs": 5}''.';
    END IF;
    rel := rar.relation_of(source_name);
    PERFORM rar.check_manage(rel, 'tune models');
    t := nextval('rar.tuning_seq');
    SELECT EXISTS (SELECT 1 FROM rar.models m WHERE m.source = rel AND m.deployed) INTO had_deployed;
    FOR p IN SELECT * FROM @extschema@.rar_tune_plan(grid, coalesce(search, 'grid'), coalesce(trials, 10), coalesce(seed, 0)) LOOP
        n := n + 1;
        PERFORM pg_catalog.set_config('application_name', pg_catalog.left(format('rar_tune %s: trial %s', t, n), 63), true);
        RAISE NOTICE 'rar_tune %: trial % with %', t, n, p;
        -- The sequence model's columns go to every trial (rar_train checks them).
        SELECT * INTO r FROM @extschema@.rar_train(source_name, model, coalesce(tune.params, '{}') || p,
                                                   customer_column => tune.customer_column,
                                                   time_column => tune.time_column);
        INSERT INTO rar.tuning_trials (tuning_id, trial, source, model, params, recall_at_10, ndcg_at_10, valid_loss, seconds, model_id)
        VALUES (t, n, rel, model, p, r.recall_at_10, r.ndcg_at_10, r.valid_loss, r.seconds, r.model_id);
    END LOOP;
    IF n = 0 THEN
        RAISE EXCEPTION 'the grid has no trials' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Give each hyperparameter a list of values, for example ''{"hidden": [64, 128]}''.';
    END IF;
    SELECT tt.trial INTO best_trial FROM rar.tuning_trials tt WHERE tt.source = rel AND tt.tuning_id = t
    ORDER BY tt.recall_at_10 DESC, tt.ndcg_at_10 DESC, tt.trial LIMIT 1;
    UPDATE rar.tuning_trials tt SET best = (tt.trial = best_trial) WHERE tt.source = rel AND tt.tuning_id = t;
    -- Only the best trial's model stays in the registry.
    DELETE FROM rar.models m USING rar.tuning_trials tt
    WHERE tt.source = rel AND tt.tuning_id = t AND NOT tt.best AND m.model_id = tt.model_id
      AND m.source = rel;
    UPDATE rar.tuning_trials tt SET model_id = NULL WHERE tt.source = rel AND tt.tuning_id = t AND NOT tt.best;
    IF NOT had_deployed AND NOT EXISTS (SELECT 1 FROM rar.models m WHERE m.source = rel AND m.deployed) THEN
        PERFORM rar.deploy((SELECT tt.model_id FROM rar.tuning_trials tt
                            WHERE tt.source = rel AND tt.tuning_id = t AND tt.best), 'tune');
    END IF;
    RETURN QUERY SELECT tt.tuning_id, tt.trial, tt.params, tt.recall_at_10, tt.ndcg_at_10, tt.valid_loss, tt.seconds, tt.best, tt.model_id
                 FROM rar.tuning_trials tt WHERE tt.source = rel AND tt.tuning_id = t ORDER BY tt.trial;
END
$fn$;

SET LOCAL search_path = @extschema@, pg_temp;
