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
