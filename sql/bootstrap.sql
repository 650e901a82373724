-- Catalog of the rar extension, created first by CREATE EXTENSION.
-- Everything here is in the schema `rar`; the SQL functions stay in the
-- schema the extension is created in, so that they are callable unqualified.
CREATE SCHEMA rar;
COMMENT ON SCHEMA rar IS 'Catalog of the rar extension: cleaning runs, splits, encodings';
GRANT USAGE ON SCHEMA rar TO PUBLIC;

-- One row per rar_clean call (dry runs included).
CREATE SEQUENCE rar.clean_run_seq;
CREATE TABLE rar.clean_log (
    run          bigint PRIMARY KEY,
    relation     regclass NOT NULL,
    quarantine   text NOT NULL,
    dry_run      boolean NOT NULL,
    options      jsonb NOT NULL,
    report       jsonb NOT NULL,
    lines_before bigint NOT NULL,
    lines_after  bigint NOT NULL,
    removed      bigint NOT NULL,
    changed      bigint NOT NULL,
    run_by       name NOT NULL DEFAULT current_user,
    run_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rar.clean_log IS 'One row per rar_clean call: options, figures per rule, lines before and after';

-- The train/validation/test split of a table, by a hash of the basket id.
CREATE TABLE rar.splits (
    relation    regclass PRIMARY KEY,
    tid_column  text NOT NULL,
    seed        integer NOT NULL,
    train       float8 NOT NULL,
    validation  float8 NOT NULL,
    test        float8 NOT NULL,
    time_column text,
    test_from   timestamptz,
    created_by  name NOT NULL DEFAULT current_user,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rar.splits IS 'The split recorded by rar_split for each table, used by later functions';

-- Parameters of rar_encode, so that the same transform applies to new rows.
CREATE TABLE rar.encodings (
    relation    regclass NOT NULL,
    column_name text NOT NULL,
    method      text NOT NULL,
    params      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relation, column_name, method)
);
COMMENT ON TABLE rar.encodings IS 'How rar_encode encoded each column: one-hot tokens, z-score, min-max or quantile bands';

-- Users see and write only the catalog rows of tables they may read or change.
ALTER TABLE rar.clean_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.splits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.encodings ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers ON rar.clean_log FOR SELECT USING (pg_catalog.has_table_privilege(relation, 'SELECT'));
CREATE POLICY writers ON rar.clean_log FOR INSERT WITH CHECK (pg_catalog.has_table_privilege(relation, 'DELETE'));
CREATE POLICY readers ON rar.splits FOR SELECT USING (pg_catalog.has_table_privilege(relation, 'SELECT'));
CREATE POLICY writers ON rar.splits FOR ALL USING (pg_catalog.has_table_privilege(relation, 'SELECT'))
    WITH CHECK (pg_catalog.has_table_privilege(relation, 'SELECT'));
CREATE POLICY readers ON rar.encodings FOR SELECT USING (pg_catalog.has_table_privilege(relation, 'SELECT'));
CREATE POLICY writers ON rar.encodings FOR ALL USING (pg_catalog.has_table_privilege(relation, 'UPDATE'))
    WITH CHECK (pg_catalog.has_table_privilege(relation, 'UPDATE'));
GRANT SELECT, INSERT ON rar.clean_log TO PUBLIC;
GRANT USAGE ON SEQUENCE rar.clean_run_seq TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON rar.splits, rar.encodings TO PUBLIC;

-- pg_dump keeps the catalog's rows.
SELECT pg_catalog.pg_extension_config_dump('rar.clean_log', '');
SELECT pg_catalog.pg_extension_config_dump('rar.clean_run_seq', '');
SELECT pg_catalog.pg_extension_config_dump('rar.splits', '');
SELECT pg_catalog.pg_extension_config_dump('rar.encodings', '');

-- The set a basket falls in: a 64-bit hash of its id and the seed, read as
-- a number in [0, 1). Deterministic, and the same on every server.
CREATE FUNCTION rar_split_bucket(basket text, seed integer, train float8, validation float8)
RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE
    WHEN pg_catalog.hashtextextended(basket, seed)::float8 / 18446744073709551616.0 + 0.5 < train THEN 'train'
    WHEN pg_catalog.hashtextextended(basket, seed)::float8 / 18446744073709551616.0 + 0.5 < train + validation THEN 'validation'
    ELSE 'test'
END;
COMMENT ON FUNCTION rar_split_bucket(text, integer, float8, float8) IS 'The split set (train, validation, test) of a basket id under a seed and fractions';

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
    UNIQUE (source, version)
);
CREATE UNIQUE INDEX models_one_deployed ON rar.models (source) WHERE deployed;
COMMENT ON TABLE rar.models IS 'Models trained by rar_train: weights, vocabulary, settings, curves, metrics; one deployed per source';
ALTER TABLE rar.models ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers ON rar.models FOR SELECT USING (pg_catalog.has_table_privilege(source, 'SELECT'));
CREATE POLICY writers ON rar.models FOR ALL USING (pg_catalog.has_table_privilege(source, 'SELECT'))
    WITH CHECK (pg_catalog.has_table_privilege(source, 'SELECT'));
GRANT SELECT, INSERT, UPDATE, DELETE ON rar.models TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('rar.models', '');

-- Training in progress, from any session: rar_train reports its epoch,
-- loss and time left as the activity of its backend.
CREATE VIEW rar.training AS
SELECT pid, usename, datname, query_start, now() - query_start AS running_for, query AS progress
FROM pg_catalog.pg_stat_activity
WHERE query LIKE 'rar_train:%';
COMMENT ON VIEW rar.training IS 'rar_train calls running now: epoch, batch, loss, validation recall and time left';
GRANT SELECT ON rar.training TO PUBLIC;

-- Marks a model as the one in use for its source.
CREATE FUNCTION rar_deploy(model_id bigint) RETURNS SETOF rar.models LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    src regclass;
BEGIN
    SELECT m.source INTO src FROM rar.models m WHERE m.model_id = rar_deploy.model_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model % does not exist', model_id
            USING ERRCODE = 'undefined_object', HINT = 'SELECT model_id, source, version FROM rar.models lists the models.';
    END IF;
    UPDATE rar.models m SET deployed = false WHERE m.source = src AND m.deployed;
    RETURN QUERY UPDATE rar.models m SET deployed = true, deployed_at = now()
                 WHERE m.model_id = rar_deploy.model_id RETURNING m.*;
END
$fn$;

-- Deploys again the model that was deployed before the current one.
CREATE FUNCTION rar_rollback(source regclass) RETURNS SETOF rar.models LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    cur rar.models;
    prev bigint;
BEGIN
    SELECT * INTO cur FROM rar.models m WHERE m.source = rar_rollback.source AND m.deployed;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no model of % is deployed', source
            USING ERRCODE = 'undefined_object', HINT = 'Train one with rar_train, or deploy one with rar_deploy(model_id).';
    END IF;
    SELECT m.model_id INTO prev FROM rar.models m
    WHERE m.source = rar_rollback.source AND m.model_id <> cur.model_id AND m.deployed_at IS NOT NULL
    ORDER BY m.deployed_at DESC LIMIT 1;
    IF prev IS NULL THEN
        RAISE EXCEPTION 'no earlier deployed model of % to roll back to', source
            USING ERRCODE = 'undefined_object', HINT = 'Deploy a given version with rar_deploy(model_id).';
    END IF;
    RETURN QUERY SELECT * FROM rar_deploy(prev);
END
$fn$;
