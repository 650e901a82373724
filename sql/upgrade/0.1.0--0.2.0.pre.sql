-- Hand-written changes of the catalog from 0.1.0 to 0.2.0, before the code.

-- rar_restore records when a cleaning run was undone.
ALTER TABLE rar.clean_log ADD COLUMN restored_at timestamptz, ADD COLUMN restored_by name;
-- Its key is per table, and so is the tuning trials'.
ALTER TABLE rar.clean_log DROP CONSTRAINT clean_log_pkey, ADD PRIMARY KEY (relation, run);
ALTER TABLE rar.tuning_trials DROP CONSTRAINT tuning_trials_pkey, ADD PRIMARY KEY (source, tuning_id, trial);

-- 0.1.0's row-level security let any role that could read a table write its
-- catalog rows; its policies go, the new ones come at the end.
DROP POLICY readers ON rar.clean_log;
DROP POLICY writers ON rar.clean_log;
DROP POLICY readers ON rar.splits;
DROP POLICY writers ON rar.splits;
DROP POLICY readers ON rar.encodings;
DROP POLICY writers ON rar.encodings;
DROP POLICY readers ON rar.models;
DROP POLICY writers ON rar.models;
DROP POLICY by_relation ON rar.sources;
DROP POLICY by_source ON rar.rule_sets;
DROP POLICY by_set ON rar.rule_store;
DROP POLICY by_relation ON rar.tuning_trials;

-- Per-source grants of the rules, for BI logins.
CREATE TABLE rar.source_grants (
    source     text NOT NULL REFERENCES rar.sources (name) ON DELETE CASCADE ON UPDATE CASCADE,
    relation   regclass NOT NULL,
    grantee    regrole NOT NULL,
    granted_by name NOT NULL DEFAULT current_user,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, grantee)
);
ALTER TABLE rar.source_grants ENABLE ROW LEVEL SECURITY;

-- Rule lookup keys are no longer joined by U+001F; the index is on a hash,
-- a column of its own.
DROP INDEX rar.rule_store_antecedent_key;
ALTER TABLE rar.rule_store ADD COLUMN antecedent_hash bigint
    GENERATED ALWAYS AS (pg_catalog.hashtextextended(antecedent_key, 0)) STORED;

-- rar_deploy and rar_rollback answer a summary row instead of the whole
-- model (weights included): a new return type.
DROP FUNCTION rar_deploy(bigint);
DROP FUNCTION rar_rollback(regclass);

-- One naming rule (src/sources.rs): the functions that took a regclass take
-- text, a registered source's name or a table's. The old signatures go
-- (their C symbols now read text); a view of the user's that calls one of
-- them stops the upgrade with PostgreSQL's dependency error, nothing lost.
DROP FUNCTION rar_mine(regclass, float8, float8, integer, text, text, integer, float8, integer, text, text, text, bigint, float8, float8);
DROP FUNCTION rar_mine_segments(regclass, text, float8, float8, integer, text, text);
DROP FUNCTION rar_clean(regclass, text, text, text, text, boolean, text, boolean, boolean, text, boolean, text[], text, boolean, float8, integer, float8, boolean);
DROP FUNCTION rar_restore(regclass, bigint);
DROP FUNCTION rar_split(regclass, float8, float8, float8, integer, text, text, text, integer);
DROP FUNCTION rar_profile(regclass, text, text, integer, integer);
DROP FUNCTION rar_encode(regclass, text[], text, integer, boolean, text, text);
DROP FUNCTION rar_columns(regclass, text, text);
DROP FUNCTION rar_train(regclass, text, jsonb, text, text);
DROP FUNCTION rar_tune(regclass, text, jsonb, jsonb, text, integer, bigint);
-- rar_diff shows labels too (new result columns).
DROP FUNCTION rar_diff(text, bigint, bigint);
-- rar_recommend takes a customer (for the sequence model).
DROP FUNCTION rar_recommend(text[], integer, text, text, bigint);

-- The model neural and hybrid rule sets were read off.
ALTER TABLE rar.rule_sets ADD COLUMN model_id bigint;
-- What a model saw: the fingerprint of its training split.
ALTER TABLE rar.models ADD COLUMN train_checksum text;
-- The columns a model was trained on (the sequence model's customer and time).
ALTER TABLE rar.models ADD COLUMN read_columns jsonb;
-- A source's product hierarchy (rar_hierarchy).
ALTER TABLE rar.sources ADD COLUMN hierarchy_table regclass, ADD COLUMN hierarchy_key text, ADD COLUMN hierarchy_levels text[],
    ADD CONSTRAINT sources_hierarchy_check CHECK (
        (hierarchy_table IS NULL) = (hierarchy_key IS NULL) AND (hierarchy_table IS NULL) = (hierarchy_levels IS NULL)
        AND (hierarchy_levels IS NULL OR (pg_catalog.cardinality(hierarchy_levels) BETWEEN 1 AND 32
             AND pg_catalog.array_position(hierarchy_levels, NULL) IS NULL AND NOT 'all' = ANY (hierarchy_levels))));

CREATE TYPE rar.deployment AS (model_id bigint, source regclass, version integer, architecture text, deployed boolean,
                               recall_at_10 float8, replaced bigint, replaced_recall_at_10 float8);

-- The deployment history.
CREATE TABLE rar.deployments (
    deployment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        regclass NOT NULL,
    model_id      bigint NOT NULL,
    replaced      bigint,
    action        text NOT NULL CHECK (action IN ('train', 'deploy', 'rollback', 'tune')),
    deployed_by   name NOT NULL DEFAULT current_user,
    deployed_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE rar.deployments ENABLE ROW LEVEL SECURITY;

-- rar.basket_state and rar.baskets_shared (new in 0.2.0).
-- include: sql/basket_state.sql

-- include: sql/tracking.sql
