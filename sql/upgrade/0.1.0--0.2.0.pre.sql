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

-- Rule lookup keys are no longer joined by U+001F; the index is on a hash.
DROP INDEX rar.rule_store_antecedent_key;

-- rar_deploy and rar_rollback answer a summary row instead of the whole
-- model (weights included): a new return type.
DROP FUNCTION rar_deploy(bigint);
DROP FUNCTION rar_rollback(regclass);

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
