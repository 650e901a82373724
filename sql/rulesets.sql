-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- Rule sets as database objects: registered sources, rule sets with history,
-- the atomic refresh procedure, the views for BI tools and the reporting
-- role. Runs after the functions it calls (rar_mine, rar_explain).
-- Every function here pins its search_path and names the extension's own
-- objects by schema (@extschema@ for the functions, rar for the catalog),
-- so that nothing on the caller's search_path can stand in for them.

-- Registered sources: a name for a table and how to read it.
CREATE TABLE rar.sources (
    name         text PRIMARY KEY,
    relation     regclass NOT NULL,
    tid_column   text NOT NULL,
    item_column  text NOT NULL,
    label_column text,
    defaults     jsonb NOT NULL DEFAULT '{}',
    keep_sets    integer NOT NULL DEFAULT 10 CHECK (keep_sets >= 1),
    created_by   name NOT NULL DEFAULT current_user,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Labels from a lookup table (label_table.label_key = item,
    -- label_table.label_column = label) instead of a column of the source.
    label_table  regclass,
    label_key    text,
    -- A product hierarchy (rar_hierarchy): hierarchy_table.hierarchy_key =
    -- item, and one column of it per level, lowest first.
    hierarchy_table  regclass,
    hierarchy_key    text,
    hierarchy_levels text[],
    CONSTRAINT sources_hierarchy_check CHECK (
        (hierarchy_table IS NULL) = (hierarchy_key IS NULL) AND (hierarchy_table IS NULL) = (hierarchy_levels IS NULL)
        AND (hierarchy_levels IS NULL OR (pg_catalog.cardinality(hierarchy_levels) BETWEEN 1 AND 32
             AND pg_catalog.array_position(hierarchy_levels, NULL) IS NULL AND NOT 'all' = ANY (hierarchy_levels))))
);
COMMENT ON TABLE rar.sources IS 'Sources registered with rar_register: table, columns, item labels, mining defaults';

-- One row per rule set mined by rar_refresh; `current` marks the one the
-- views show.
CREATE TABLE rar.rule_sets (
    set_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL REFERENCES rar.sources (name) ON DELETE CASCADE,
    method       text NOT NULL,
    params       jsonb NOT NULL,
    rules        bigint NOT NULL,
    baskets      bigint NOT NULL,
    current      boolean NOT NULL DEFAULT false,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    seconds      float8 NOT NULL,
    refreshed_by name NOT NULL DEFAULT current_user,
    -- The model neural and hybrid rules were read off (NULL for exact rules).
    model_id     bigint
);
CREATE UNIQUE INDEX rule_sets_one_current ON rar.rule_sets (source) WHERE current;
COMMENT ON TABLE rar.rule_sets IS 'Rule sets kept per source (the last keep_sets of them), with parameters, counts and timing';

CREATE TABLE rar.rule_store (
    set_id            bigint NOT NULL REFERENCES rar.rule_sets (set_id) ON DELETE CASCADE,
    rule_id           integer NOT NULL,
    antecedent        text[] NOT NULL,
    consequent        text[] NOT NULL,
    antecedent_labels text[] NOT NULL,
    consequent_labels text[] NOT NULL,
    support           float8 NOT NULL,
    confidence        float8 NOT NULL,
    lift              float8 NOT NULL,
    leverage          float8 NOT NULL,
    conviction        float8 NOT NULL,
    count             bigint NOT NULL,
    explanation       text NOT NULL,
    -- rar.rule_key(antecedent): the key rar_recommend looks rules up by,
    -- one subset of the basket at a time.
    antecedent_key    text NOT NULL,
    PRIMARY KEY (set_id, rule_id),
    -- A hash of the key, indexed: items may be of any length. A column of
    -- its own so that a role under the table's row-level security looks it
    -- up through the index: = on bigint is leakproof, hashtextextended on
    -- the key is not, and PostgreSQL applies no such function before the
    -- policy has passed each row.
    antecedent_hash   bigint GENERATED ALWAYS AS (pg_catalog.hashtextextended(antecedent_key, 0)) STORED
);
COMMENT ON TABLE rar.rule_store IS 'The rules of every kept rule set';
-- rar_recommend finds the rules whose antecedent is in a basket.
CREATE INDEX rule_store_antecedent_key ON rar.rule_store (set_id, antecedent_hash);

-- The lookup key of an item list: each item prefixed by its length in
-- characters, so that no two lists share a key whatever their text
-- (crates/rar-core/src/keys.rs builds the same keys).
CREATE FUNCTION rar.rule_key(items text[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT pg_catalog.string_agg(pg_catalog.length(x)::text || ':' || x, '' ORDER BY i)
        FROM pg_catalog.unnest(items) WITH ORDINALITY AS u(x, i));
-- An item list as one unambiguous line of text for BI tools: labels
-- trimmed, joined by ", ", and a label that holds a comma or a double quote
-- put in double quotes (inner quotes doubled), as in CSV.
CREATE FUNCTION rar.items_text(items text[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT pg_catalog.string_agg(CASE WHEN t ~ '[,"\n\r]' THEN '"' || pg_catalog.replace(t, '"', '""') || '"' ELSE t END, ', ' ORDER BY i)
        FROM (SELECT pg_catalog.btrim(x, E' \t\r\n') AS t, i FROM pg_catalog.unnest(items) WITH ORDINALITY AS u(x, i)) l);

COMMENT ON FUNCTION rar.rule_key(text[]) IS 'Lookup key of an item list: each item prefixed by its length, unambiguous for any text';

-- Rules are data of the table they were mined from. Who may read them:
-- whoever may read the whole table (rar.may_read), and the roles its owner
-- granted them to with rar_grant (for BI logins without SELECT on the
-- sales). Who may write them: the table's owner. A source's own row (table,
-- columns) says no more than pg_catalog does and is readable by everyone,
-- so that a refusal can give its true reason.
CREATE TABLE rar.source_grants (
    source     text NOT NULL REFERENCES rar.sources (name) ON DELETE CASCADE ON UPDATE CASCADE,
    relation   regclass NOT NULL,
    grantee    regrole NOT NULL,
    granted_by name NOT NULL DEFAULT current_user,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, grantee)
);
COMMENT ON TABLE rar.source_grants IS 'Roles granted the rules of a source by rar_grant, without SELECT on its table';

CREATE FUNCTION rar.may_read_rules(source text, rel regclass) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
RETURN (rar.may_read(rel)
        AND NOT EXISTS (SELECT 1 FROM rar.sources s
                        WHERE s.name = may_read_rules.source
                          AND (s.label_table IS NOT NULL AND NOT rar.may_read(s.label_table)
                               OR s.hierarchy_table IS NOT NULL AND NOT rar.may_read(s.hierarchy_table))))
    OR EXISTS (SELECT 1 FROM rar.source_grants g
               WHERE g.source = may_read_rules.source AND g.relation = rel AND pg_catalog.pg_has_role(g.grantee, 'USAGE')
                 -- A grant outlives a dropped table (or label or hierarchy
                 -- table) in the catalog, not the rules: its owner sees
                 -- none then, nor do the roles it granted them to.
                 AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = rel)
                 AND NOT EXISTS (SELECT 1 FROM rar.sources s
                                 WHERE s.name = may_read_rules.source
                                   AND (s.label_table IS NOT NULL
                                        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = s.label_table)
                                        OR s.hierarchy_table IS NOT NULL
                                        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = s.hierarchy_table))));
END
$fn$;
COMMENT ON FUNCTION rar.may_read_rules(text, regclass) IS 'Whether the current role may read the rules of a source: it may read the whole table (and its label and hierarchy tables), or was granted them';

ALTER TABLE rar.sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.source_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.rule_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.rule_store ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON rar.sources FOR SELECT USING (true);
-- The lookup tables a source's rules read (labels, hierarchy) are named only
-- by a role that may read them, as rar_register and rar_hierarchy check: a
-- direct write cannot point a source at another role's table for a
-- superuser's refresh to read (a table dropped since checks nothing: the
-- refresh checks its owner's rights again).
CREATE POLICY insert ON rar.sources FOR INSERT WITH CHECK (rar.may_manage(relation)
    AND coalesce(pg_catalog.has_table_privilege(label_table, 'SELECT'), true)
    AND coalesce(pg_catalog.has_table_privilege(hierarchy_table, 'SELECT'), true));
CREATE POLICY update ON rar.sources FOR UPDATE USING (rar.may_manage(relation) OR rar.orphan_of(relation, created_by))
    WITH CHECK (rar.may_manage(relation)
    AND coalesce(pg_catalog.has_table_privilege(label_table, 'SELECT'), true)
    AND coalesce(pg_catalog.has_table_privilege(hierarchy_table, 'SELECT'), true));
CREATE POLICY delete ON rar.sources FOR DELETE USING (rar.may_manage(relation) OR rar.orphan_of(relation, created_by));
-- A grant is about the source it names, and is the business of the owner of
-- that source's table: its relation must be the source's.
-- (The policies name the policed table's columns in full: inside the
-- subquery a bare name is the source's column where it has one.)
CREATE POLICY read ON rar.source_grants FOR SELECT USING (pg_catalog.pg_has_role(grantee, 'USAGE')
    OR EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = source_grants.source AND rar.may_manage(s.relation)));
CREATE POLICY insert ON rar.source_grants FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = source_grants.source
                        AND s.relation = source_grants.relation AND rar.may_manage(s.relation)));
CREATE POLICY update ON rar.source_grants FOR UPDATE
    USING (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = source_grants.source AND rar.may_manage(s.relation)))
    WITH CHECK (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = source_grants.source
                        AND s.relation = source_grants.relation AND rar.may_manage(s.relation)));
CREATE POLICY delete ON rar.source_grants FOR DELETE
    USING (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = source_grants.source AND rar.may_manage(s.relation)));
CREATE POLICY read ON rar.rule_sets FOR SELECT
    USING (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = rule_sets.source AND rar.may_read_rules(s.name, s.relation)));
-- Ids come from the identity sequence only (see rar.models).
CREATE POLICY insert ON rar.rule_sets FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = rule_sets.source AND rar.may_manage(s.relation))
                AND set_id = pg_catalog.currval('rar.rule_sets_set_id_seq'::pg_catalog.regclass));
CREATE POLICY update ON rar.rule_sets FOR UPDATE
    USING (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = rule_sets.source AND rar.may_manage(s.relation)))
    WITH CHECK (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = rule_sets.source AND rar.may_manage(s.relation)));
CREATE POLICY delete ON rar.rule_sets FOR DELETE
    USING (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = rule_sets.source
                   AND (rar.may_manage(s.relation) OR rar.orphan_of(s.relation, s.created_by))));
-- Every rule of a set is readable, or writable, alike: the policies on the
-- rules ask once per set and role within a statement (src/api/rulesets.rs:
-- rar.may_read_set, rar.may_manage_set), not once per rule (a correlated
-- subquery with rar.may_read_rules took seconds for a rule view read by a
-- role other than a superuser) nor once per source of the database (an
-- uncorrelated one).
CREATE POLICY read ON rar.rule_store FOR SELECT USING (rar.may_read_set(set_id));
CREATE POLICY insert ON rar.rule_store FOR INSERT WITH CHECK (rar.may_manage_set(set_id));
CREATE POLICY update ON rar.rule_store FOR UPDATE USING (rar.may_manage_set(set_id)) WITH CHECK (rar.may_manage_set(set_id));
CREATE POLICY delete ON rar.rule_store FOR DELETE USING (rar.may_manage_set(set_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON rar.sources, rar.source_grants, rar.rule_sets, rar.rule_store TO PUBLIC;
GRANT USAGE ON SEQUENCE rar.rule_sets_set_id_seq TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('rar.sources', '');
SELECT pg_catalog.pg_extension_config_dump('rar.rule_sets', '');
SELECT pg_catalog.pg_extension_config_dump('rar.rule_store', '');
SELECT pg_catalog.pg_extension_config_dump('rar.source_grants', '');
SELECT pg_catalog.pg_extension_config_dump('rar.rule_sets_set_id_seq', '');

-- The mining defaults of a source are checked where they are given (a
-- nightly refresh should not be the first to find them wrong) and again at
-- each refresh (the owner of a table may write its row of rar.sources), by
-- rar.check_defaults (src/api/rulesets.rs: the ranges rar_mine checks).

-- Register a source under a name. Columns not given are detected now (as
-- rar_mine does) and stored, so that later calls read the same columns.
CREATE FUNCTION @extschema@.rar_register(
    name text,
    source regclass,
    tid_column text DEFAULT NULL,
    item_column text DEFAULT NULL,
    label_column text DEFAULT NULL,
    defaults jsonb DEFAULT '{}',
    keep_sets integer DEFAULT 10,
    label_table regclass DEFAULT NULL,
    label_key text DEFAULT NULL
) RETURNS SETOF rar.sources LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    cols record;
    labels regclass := coalesce(label_table, source);
BEGIN
    -- rar's functions are called by the schema name they were installed
    -- under: refuse to go on if that name now names another schema.
    PERFORM rar.check_extension_schema('@extschema@');
    IF name IS NULL OR source IS NULL THEN
        RAISE EXCEPTION 'name and source must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'For example: SELECT rar_register(''sales'', ''public.sales'');';
    END IF;
    IF name = '' OR strpos(name, '.') > 0 THEN
        RAISE EXCEPTION 'invalid source name: "%"', name
            USING ERRCODE = 'invalid_name',
                  HINT = 'A source name is not empty and holds no dot (a name with a dot reads as a schema-qualified table), for example ''sales_uk''.';
    END IF;
    PERFORM rar.check_manage(source, 'register sources');
    IF EXISTS (SELECT 1 FROM rar.sources o WHERE o.name = rar_register.name
               AND NOT (rar.may_manage(o.relation) OR rar.orphan_of(o.relation, o.created_by))) THEN
        RAISE EXCEPTION 'source "%" is registered by another role', name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another name; only the owner of the table of a source may register it again.';
    END IF;
    IF label_table IS NOT NULL AND NOT pg_catalog.has_table_privilege(label_table, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', label_table
            USING ERRCODE = 'insufficient_privilege', HINT = 'Labels are read from label_table with your rights: it needs SELECT on it.';
    END IF;
    SELECT * INTO cols FROM @extschema@.rar_columns(source::text, tid_column, item_column);
    IF (label_table IS NOT NULL OR label_key IS NOT NULL) AND label_column IS NULL THEN
        RAISE EXCEPTION 'label_table and label_key need label_column'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the column of the lookup table that holds the labels, for example: label_table => ''products'', label_key => ''product_id'', label_column => ''product_name''.';
    END IF;
    IF label_column IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = labels AND a.attname = label_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', label_column, labels
            USING ERRCODE = 'undefined_column', HINT = 'label_column names a column holding a readable label for each item, such as description: of the source, or of label_table when one is given.';
    END IF;
    IF label_table IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = label_table AND a.attname = coalesce(label_key, cols.item_column) AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', coalesce(label_key, cols.item_column), label_table
            USING ERRCODE = 'undefined_column', HINT = 'label_key names the column of label_table that holds the item (the same values as the source''s item column); it defaults to the item column''s name.';
    END IF;
    PERFORM rar.check_defaults(defaults);
    IF keep_sets IS NULL THEN
        RAISE EXCEPTION 'keep_sets must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'keep_sets is how many rule sets to keep, 1 or more (10 when left out).';
    END IF;
    IF keep_sets < 1 THEN
        RAISE EXCEPTION 'invalid value for keep_sets: %', keep_sets
            USING ERRCODE = 'invalid_parameter_value', HINT = 'keep_sets is how many rule sets to keep, 1 or more (the current one included).';
    END IF;
    -- Rule sets and grants are about the table they were mined from: a
    -- source moved to another table starts without them.
    PERFORM 1 FROM rar.sources o WHERE o.name = rar_register.name FOR NO KEY UPDATE;
    IF EXISTS (SELECT 1 FROM rar.sources o WHERE o.name = rar_register.name AND o.relation <> source) THEN
        DELETE FROM rar.rule_sets r WHERE r.source = rar_register.name;
        DELETE FROM rar.source_grants g WHERE g.source = rar_register.name;
        RAISE NOTICE 'source "%" now reads %: the rule sets and grants of its former table were deleted', name, source;
    END IF;
    RETURN QUERY
    INSERT INTO rar.sources AS s (name, relation, tid_column, item_column, label_column, defaults, keep_sets, label_table, label_key)
    VALUES (rar_register.name, source, cols.tid_column, cols.item_column, label_column, jsonb_strip_nulls(coalesce(defaults, '{}')), keep_sets,
            label_table, CASE WHEN label_table IS NOT NULL THEN coalesce(label_key, cols.item_column) END)
    ON CONFLICT ON CONSTRAINT sources_pkey DO UPDATE SET relation = EXCLUDED.relation, tid_column = EXCLUDED.tid_column,
        item_column = EXCLUDED.item_column, label_column = EXCLUDED.label_column, defaults = EXCLUDED.defaults,
        keep_sets = EXCLUDED.keep_sets, label_table = EXCLUDED.label_table, label_key = EXCLUDED.label_key
    RETURNING s.*;
END
$fn$;

-- Names the product hierarchy of a registered source: a lookup table with
-- the item (item_key, by default the source's item column) and one column
-- per level, lowest first. rar_mine(level => ...) mines at a level or, with
-- 'all', across the items and every level. A NULL lookup removes it.
CREATE FUNCTION @extschema@.rar_hierarchy(
    source text,
    lookup regclass,
    levels text[] DEFAULT NULL,
    item_key text DEFAULT NULL
) RETURNS SETOF rar.sources LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s rar.sources;
    col text;
BEGIN
    s := rar.managed_source(source, 'name a product hierarchy');
    IF lookup IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = lookup) THEN
        RAISE EXCEPTION 'relation with OID % does not exist', lookup::oid
            USING ERRCODE = 'undefined_table', HINT = 'Give the lookup table by name, for example ''products''.';
    END IF;
    IF lookup IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = lookup AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) THEN
        RAISE EXCEPTION '"%" is not a table or view', lookup
            USING ERRCODE = 'wrong_object_type', HINT = 'The lookup is a table, view, materialized view or foreign table with the item and one column per level.';
    END IF;
    IF lookup IS NULL THEN
        RETURN QUERY
        UPDATE rar.sources o SET hierarchy_table = NULL, hierarchy_key = NULL, hierarchy_levels = NULL
        WHERE o.name = s.name RETURNING o.*;
        RETURN;
    END IF;
    IF NOT pg_catalog.has_table_privilege(lookup, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', lookup
            USING ERRCODE = 'insufficient_privilege', HINT = 'The hierarchy is read from the lookup table with the rights of whoever mines: it needs SELECT on it.';
    END IF;
    IF levels IS NULL OR pg_catalog.array_ndims(levels) IS DISTINCT FROM 1 OR pg_catalog.cardinality(levels) NOT BETWEEN 1 AND 32
       OR pg_catalog.array_position(levels, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'levels must name 1 to 32 columns of %, in a one-dimensional array without NULL', lookup
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the level columns, lowest (closest to the items) first, for example levels => ''{aisle, department}''.';
    END IF;
    IF (SELECT count(DISTINCT x) FROM pg_catalog.unnest(levels) x) <> pg_catalog.cardinality(levels) THEN
        RAISE EXCEPTION 'levels name a column twice: %', levels
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Name each level column once, lowest first.';
    END IF;
    IF coalesce(item_key, s.item_column) = ANY (levels) THEN
        RAISE EXCEPTION 'column "%" cannot be both the item and a level', coalesce(item_key, s.item_column)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'levels name the lookup''s category columns, lowest first; item_key (by default the source''s item column) names its column that holds the item.';
    END IF;
    IF 'all' = ANY (levels) THEN
        RAISE EXCEPTION 'a level may not be named "all"'
            USING ERRCODE = 'reserved_name', HINT = 'rar_mine(level => ''all'') mines across every level; rename the column through a view over the lookup table.';
    END IF;
    FOREACH col IN ARRAY levels || coalesce(item_key, s.item_column) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                       WHERE a.attrelid = lookup AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of relation "%" does not exist', col, lookup
                USING ERRCODE = 'undefined_column',
                      HINT = 'levels name columns of the lookup table; item_key (by default the source''s item column) names its column that holds the item.';
        END IF;
    END LOOP;
    RETURN QUERY
    UPDATE rar.sources o SET hierarchy_table = lookup, hierarchy_key = coalesce(item_key, s.item_column), hierarchy_levels = levels
    WHERE o.name = s.name RETURNING o.*;
END
$fn$;

CREATE FUNCTION @extschema@.rar_unregister(name text) RETURNS boolean LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    rel regclass;
    creator name;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'name must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Give the source''s name: SELECT name FROM rar.sources lists them.';
    END IF;
    -- A source by its name (also when its table was dropped), or by its table.
    IF NOT EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = rar_unregister.name) THEN
        name := rar.source_name(name);
    END IF;
    SELECT s.relation, s.created_by INTO rel, creator FROM rar.sources s WHERE s.name = rar_unregister.name;
    IF FOUND AND NOT (rar.may_manage(rel) OR rar.orphan_of(rel, creator)) THEN
        PERFORM rar.check_manage(rel, 'unregister sources');
    END IF;
    DELETE FROM rar.sources s WHERE s.name = rar_unregister.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'source "%" is not registered', name
            USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM rar.sources lists the registered sources.';
    END IF;
    RETURN true;
END
$fn$;

-- The registered source `name`, checked: its table must still exist.
-- A role that may not read its rules is told so (42501), with the remedy.
CREATE FUNCTION @extschema@.rar_source(name text) RETURNS rar.sources LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s rar.sources;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Give the name of a registered source: SELECT name FROM rar.sources.';
    END IF;
    -- The one naming rule (src/sources.rs): a source's name, or its table's.
    SELECT * INTO s FROM rar.sources WHERE sources.name = (SELECT rar.source_name(rar_source.name));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'source "%" is not registered', name
            USING ERRCODE = 'undefined_object',
                  HINT = format('Register it first: SELECT rar_register(%L, ''<table>'');', name);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = s.relation) THEN
        RAISE EXCEPTION 'the table of source "%" was dropped', name
            USING ERRCODE = 'undefined_table',
                  HINT = format('Register the source again on its new table: SELECT rar_register(%L, ''<table>'');', name);
    END IF;
    IF s.label_table IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = s.label_table) THEN
        RAISE EXCEPTION 'the label table of source "%" was dropped', name
            USING ERRCODE = 'undefined_table',
                  HINT = format('Register the source again without it (or with its new label table): SELECT rar_register(%L, %L);', s.name, s.relation::text);
    END IF;
    IF s.hierarchy_table IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = s.hierarchy_table) THEN
        RAISE EXCEPTION 'the hierarchy lookup of source "%" was dropped', name
            USING ERRCODE = 'undefined_table',
                  HINT = format('Name its new lookup: SELECT rar_hierarchy(%L, ''<lookup table>'', ''{<levels>}'');', s.name);
    END IF;
    IF NOT rar.may_read_rules(s.name, s.relation) THEN
        RAISE EXCEPTION 'permission denied for the rules of source "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Rules are data of table %s: they are shown to roles that may read all of its rows, and to roles its owner granted them to.', s.relation),
                  HINT = format('Ask the owner of %s for SELECT on it, or to run SELECT rar_grant(%L, %L);', s.relation, name, CURRENT_USER);
    END IF;
    RETURN s;
END
$fn$;

-- Mines the source and makes the result its current rule set, in the
-- caller's transaction: readers see the old set or the new one, never a mix
-- or none. A second refresh of the same source at the same time fails at
-- once (wait => false, the default) or waits for the first (wait => true).
CREATE PROCEDURE @extschema@.rar_refresh(
    name text,
    min_support float8 DEFAULT NULL,
    min_confidence float8 DEFAULT NULL,
    max_length integer DEFAULT NULL,
    min_lift float8 DEFAULT NULL,
    method text DEFAULT NULL,
    wait boolean DEFAULT false
) LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s rar.sources;
    p jsonb;
    new_set bigint;
    n_rules bigint;
    n_baskets bigint;
    t0 timestamptz := clock_timestamp();
BEGIN
    -- rar's functions are called by the schema name they were installed
    -- under: refuse to go on if that name now names another schema.
    PERFORM rar.check_extension_schema('@extschema@');
    -- The call's thresholds: a refresh keeps rules of two items or more;
    -- the others as rar_mine checks them (here, not from inside the refresh).
    PERFORM rar.check_thresholds(min_support, min_confidence, min_lift);
    IF max_length NOT BETWEEN 2 AND 32 THEN
        RAISE EXCEPTION 'max_length must be between 2 and 32'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value given was %s.', max_length),
                  HINT = 'A refresh keeps rules of two items or more; 2 to 5 is usual.';
    END IF;
    -- A source's name, or its table's (src/sources.rs).
    name := rar.source_name(name);
    -- One refresh (or re-registration) of a source at a time: its row,
    -- locked; only the owner of its table can lock it.
    IF wait THEN
        PERFORM 1 FROM rar.sources o WHERE o.name = rar_refresh.name FOR NO KEY UPDATE;
    ELSE
        BEGIN
            PERFORM 1 FROM rar.sources o WHERE o.name = rar_refresh.name FOR NO KEY UPDATE NOWAIT;
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION 'a refresh of source "%" is already running', name
                USING ERRCODE = 'lock_not_available',
                      HINT = 'Try again when it ends, or CALL rar_refresh(..., wait => true) to wait for it.';
        END;
    END IF;
    s := @extschema@.rar_source(name);
    PERFORM rar.check_manage(s.relation, 'refresh the rules');
    -- Every relation the refresh reads is locked before anything is decided
    -- on it, and its definition checked against this snapshot's: the owner
    -- of a table cannot change it (make it a view, change a column's type)
    -- between the checks below and the read.
    PERFORM rar.lock_for_read(s.relation), rar.lock_for_read(s.label_table), rar.lock_for_read(s.hierarchy_table);
    -- An item column renamed or dropped since the source was registered
    -- (the basket column, which may name several, rar_mine checks).
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = s.relation AND a.attname = s.item_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'source "%" reads column "%" of %, which has no such column now', name, s.item_column, s.relation
            USING ERRCODE = 'undefined_column',
                  HINT = format('Register the source again with the table''s columns now: SELECT rar_register(%L, %L, tid_column => ..., item_column => ...);',
                                name, s.relation::text);
    END IF;
    -- A superuser (a pg_cron job, say) does not read a view or foreign table
    -- that a role without superuser owns, nor a column whose type such a
    -- role owns: a function in the view, or a cast of the type to text,
    -- would run with the superuser's rights.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER AND r.rolsuper)
       AND (EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
                    WHERE c.oid IN (s.relation, s.label_table, s.hierarchy_table) AND c.relkind IN ('v', 'f') AND NOT o.rolsuper)
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                       JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                       JOIN pg_catalog.pg_roles o ON o.oid = t.typowner
                       WHERE a.attrelid IN (s.relation, s.label_table, s.hierarchy_table) AND a.attnum > 0
                         AND NOT a.attisdropped AND NOT o.rolsuper)) THEN
        RAISE EXCEPTION 'a superuser does not refresh source "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'It reads a view, foreign table or column type owned by a role without superuser; code in it (a function, a cast) would run as the superuser.',
                  HINT = format('Refresh it as the owner of its table, for example with pg_cron: SELECT cron.schedule_in_database(%L, %L, %L, current_database(), %L);',
                                'rar-' || name, '0 3 * * *', format('CALL rar_refresh(%L)', name),
                                (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c WHERE c.oid = s.relation));
    END IF;
    PERFORM rar.check_defaults(s.defaults);
    p := (rar.mine_defaults() - 'antecedent_threshold' - 'consequent_threshold')
         || jsonb_strip_nulls(s.defaults)
         || jsonb_strip_nulls(jsonb_build_object('min_support', min_support, 'min_confidence', min_confidence,
                                                 'max_length', max_length, 'min_lift', min_lift, 'method', method));
    IF p->>'method' IS NULL OR p->>'method' NOT IN ('exact', 'neural', 'hybrid') THEN
        RAISE EXCEPTION 'invalid value for method: "%"', p->>'method'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Valid values are ''exact'', ''neural'' and ''hybrid'' (these two with the deployed model of the table).';
    END IF;
    INSERT INTO rar.rule_sets (source, method, params, rules, baskets, seconds, model_id)
    VALUES (name, p->>'method', p, 0, 0, 0,
            CASE WHEN p->>'method' <> 'exact' THEN
                (SELECT m.model_id FROM rar.models m WHERE m.source = s.relation AND m.deployed) END)
    RETURNING set_id INTO new_set;
    -- The baskets mined (those with an item; the same snapshot as the
    -- rules) are what each rule's numbers say: its count over its support.
    INSERT INTO rar.rule_store (set_id, rule_id, antecedent, consequent, antecedent_labels, consequent_labels,
                                support, confidence, lift, leverage, conviction, count, explanation, antecedent_key)
    SELECT new_set, r.rule_id, r.antecedent, r.consequent, r.antecedent_labels, r.consequent_labels,
           r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count,
           @extschema@.rar_explain(r.antecedent_labels, r.consequent_labels, r.confidence, r.lift, r.support, r.count, r.baskets),
           rar.rule_key(r.antecedent)
    FROM (SELECT l.*, pg_catalog.round(l.count / NULLIF(l.support, 0))::bigint AS baskets
          FROM @extschema@.rar_labelled_rules(s, p) l) r;
    GET DIAGNOSTICS n_rules = ROW_COUNT;
    n_baskets := (SELECT pg_catalog.round(r.count / r.support)::bigint
                  FROM rar.rule_store r WHERE r.set_id = new_set AND r.support > 0 LIMIT 1);
    IF n_baskets IS NULL THEN
        -- No rules: the baskets that have an item.
        EXECUTE format($q$SELECT count(DISTINCT %s) FROM %s WHERE %I IS NOT NULL$q$,
                       rar.basket_key(s.relation, s.tid_column), s.relation, s.item_column) INTO n_baskets;
    END IF;
    UPDATE rar.rule_sets SET current = false WHERE source = name AND current;
    UPDATE rar.rule_sets SET current = true, rules = n_rules, baskets = n_baskets,
           seconds = extract(epoch FROM clock_timestamp() - t0)
    WHERE set_id = new_set;
    DELETE FROM rar.rule_sets WHERE source = name AND set_id NOT IN (
        SELECT set_id FROM rar.rule_sets WHERE source = name ORDER BY set_id DESC LIMIT s.keep_sets);
END
$fn$;

-- What changed between two rule sets of a source (by default the one
-- before the current one, and the current one).
CREATE FUNCTION @extschema@.rar_diff(name text, old_set bigint DEFAULT NULL, new_set bigint DEFAULT NULL)
RETURNS TABLE (change text, antecedent text[], consequent text[], antecedent_text text, consequent_text text,
               old_confidence float8, new_confidence float8, old_lift float8, new_lift float8)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    o bigint := old_set;
    n bigint := new_set;
BEGIN
    -- rar's functions are called by the schema name they were installed
    -- under: refuse to go on if that name now names another schema.
    PERFORM rar.check_extension_schema('@extschema@');
    name := (@extschema@.rar_source(name)).name;
    IF n IS NULL THEN
        SELECT set_id INTO n FROM rar.rule_sets WHERE source = name AND current;
    END IF;
    IF o IS NULL THEN
        SELECT max(set_id) INTO o FROM rar.rule_sets WHERE source = name AND set_id < n;
    END IF;
    IF o IS NULL OR n IS NULL THEN
        RAISE EXCEPTION 'source "%" has fewer than two rule sets to compare', name
            USING ERRCODE = 'no_data_found', HINT = 'CALL rar_refresh(...) once more, or name the sets: SELECT set_id FROM rar.rule_sets.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM rar.rule_sets r WHERE r.set_id = o AND r.source = name)
       OR NOT EXISTS (SELECT 1 FROM rar.rule_sets r WHERE r.set_id = n AND r.source = name) THEN
        RAISE EXCEPTION 'rule set % is not a rule set of source "%"',
                        CASE WHEN EXISTS (SELECT 1 FROM rar.rule_sets r WHERE r.set_id = o AND r.source = name) THEN n ELSE o END, name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Name two of its sets: SELECT set_id, refreshed_at FROM rar.rule_sets WHERE source = %L;', name);
    END IF;
    RETURN QUERY
    SELECT CASE WHEN a.set_id IS NULL THEN 'added'
                WHEN b.set_id IS NULL THEN 'dropped'
                ELSE 'changed' END,
           coalesce(b.antecedent, a.antecedent), coalesce(b.consequent, a.consequent),
           rar.items_text(coalesce(b.antecedent_labels, a.antecedent_labels)),
           rar.items_text(coalesce(b.consequent_labels, a.consequent_labels)),
           a.confidence, b.confidence, a.lift, b.lift
    FROM (SELECT * FROM rar.rule_store WHERE set_id = o) a
    FULL JOIN (SELECT * FROM rar.rule_store WHERE set_id = n) b
      ON a.antecedent = b.antecedent AND a.consequent = b.consequent
    WHERE a.set_id IS NULL OR b.set_id IS NULL
       OR abs(a.confidence - b.confidence) > 1e-12 OR abs(a.lift - b.lift) > 1e-12
    ORDER BY 1, 2, 3;
END
$fn$;

-- The rules of a source's table, with item labels from the label column (of
-- the source, or of its lookup table).
CREATE FUNCTION @extschema@.rar_labelled_rules(s rar.sources, p jsonb)
RETURNS TABLE (rule_id integer, antecedent text[], consequent text[], antecedent_labels text[], consequent_labels text[],
               support float8, confidence float8, lift float8, leverage float8, conviction float8, count bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    tab regclass := coalesce(s.label_table, s.relation);
    col text;
    plain boolean;
    texts text[] := '{}';
BEGIN
    -- rar's functions are called by the schema name they were installed
    -- under: refuse to go on if that name now names another schema.
    PERFORM rar.check_extension_schema('@extschema@');
    IF s.label_column IS NULL THEN
        RETURN QUERY
        SELECT (row_number() OVER ())::int, r.antecedent, r.consequent, r.antecedent, r.consequent,
               r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count
        FROM @extschema@.rar_mine(CASE WHEN p->>'level' IS NULL THEN s.relation::text ELSE s.name END, min_support => (p->>'min_support')::float8, min_confidence => (p->>'min_confidence')::float8,
                      max_length => (p->>'max_length')::int, min_lift => (p->>'min_lift')::float8, min_length => 2, method => p->>'method',
                      tid_column => s.tid_column, item_column => s.item_column,
                      level => p->>'level', min_interest => (p->>'min_interest')::float8) r;
    ELSE
        -- Labels are data of their table: read only where the source table's
        -- owner may read them (a superuser's refresh included).
        IF s.label_table IS NOT NULL AND NOT coalesce(pg_catalog.has_table_privilege(
               (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) s.relation), s.label_table, 'SELECT'), false) THEN
            RAISE EXCEPTION 'the owner of % may not read label table %', s.relation, s.label_table
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'GRANT SELECT on the label table to the owner of the source''s table, or register the source again without it.';
        END IF;
        -- Called on its own (not only by rar_refresh, which checks first):
        -- the label table is locked and checked as rar_refresh does, and a
        -- superuser does not read a role's view or foreign table.
        PERFORM rar.lock_for_read(tab);
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER AND r.rolsuper)
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) c.relowner
                       WHERE c.oid OPERATOR(pg_catalog.=) tab AND c.relkind IN ('v', 'f') AND NOT o.rolsuper) THEN
            RAISE EXCEPTION 'a superuser does not read the labels of source "%" in %', s.name, tab
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'It is a view or foreign table owned by a role without superuser: code in it would run as the superuser.',
                      HINT = 'Read the labelled rules as the owner of the source''s table: SET ROLE ...; then call again.';
        END IF;
        -- The key and label as text as rar_mine reads items: a cast for
        -- pg_catalog's types (and domains over them), else the type's output
        -- function, never a cast a role wrote for its own type (or under a
        -- domain over it).
        FOREACH col IN ARRAY ARRAY[coalesce(s.label_key, s.item_column), s.label_column] LOOP
            WITH RECURSIVE chain(typ, n) AS (
                SELECT a.atttypid, 0 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid OPERATOR(pg_catalog.=) tab AND a.attname OPERATOR(pg_catalog.=) col AND NOT a.attisdropped
                UNION ALL
                SELECT d.typbasetype, chain.n OPERATOR(pg_catalog.+) 1 FROM chain
                JOIN pg_catalog.pg_type d ON d.oid OPERATOR(pg_catalog.=) chain.typ
                WHERE d.typtype OPERATOR(pg_catalog.=) 'd' AND chain.n OPERATOR(pg_catalog.<) 16)
            SELECT b.typnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace INTO plain
            FROM chain JOIN pg_catalog.pg_type b ON b.oid OPERATOR(pg_catalog.=) chain.typ
            ORDER BY chain.n DESC LIMIT 1;
            texts := texts OPERATOR(pg_catalog.||) CASE WHEN coalesce(plain, false)
                THEN pg_catalog.format('%I::pg_catalog.text', col)
                ELSE pg_catalog.format('(CASE WHEN %1$I IS NULL THEN NULL ELSE pg_catalog.format(%2$L, %1$I) END)', col, '%s') END;
        END LOOP;
        -- Each item's label (the least, where an item has several; trimmed of
        -- spaces, tabs and line breaks as rar.items_text trims it, a blank
        -- one as none: the item shows itself), joined to the rules' items by
        -- hash: no table of the caller's is touched.
        RETURN QUERY EXECUTE format(
            $q$WITH r AS MATERIALIZED (
                   SELECT (row_number() OVER ())::int AS rule_id, m.*
                   FROM @extschema@.rar_mine(CASE WHEN $2->>'level' IS NULL THEN ($1).relation::text ELSE ($1).name END,
                                 min_support => ($2->>'min_support')::float8, min_confidence => ($2->>'min_confidence')::float8,
                                 max_length => ($2->>'max_length')::int, min_lift => ($2->>'min_lift')::float8, min_length => 2,
                                 method => $2->>'method', tid_column => ($1).tid_column, item_column => ($1).item_column,
                                 level => $2->>'level', min_interest => ($2->>'min_interest')::float8) m),
               labels AS MATERIALIZED (SELECT %1$s AS item, min(NULLIF(pg_catalog.btrim(%2$s, E' \t\r\n'), '')) AS label
                                   FROM %3$s WHERE %4$I IS NOT NULL GROUP BY 1),
               sides AS MATERIALIZED (
                   SELECT u.rule_id, u.side, array_agg(coalesce(l.label, u.x) ORDER BY u.i) AS labels
                   FROM (SELECT r.rule_id, 'a' AS side, a.x, a.i FROM r, unnest(r.antecedent) WITH ORDINALITY a(x, i)
                         UNION ALL
                         SELECT r.rule_id, 'c', c.x, c.i FROM r, unnest(r.consequent) WITH ORDINALITY c(x, i)) u
                   LEFT JOIN labels l ON l.item = u.x
                   GROUP BY u.rule_id, u.side)
             SELECT r.rule_id, r.antecedent, r.consequent,
                    coalesce(sa.labels, '{}'::text[]), coalesce(sc.labels, '{}'::text[]),
                    r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count
             FROM r
             LEFT JOIN sides sa ON sa.rule_id = r.rule_id AND sa.side = 'a'
             LEFT JOIN sides sc ON sc.rule_id = r.rule_id AND sc.side = 'c'
             ORDER BY r.rule_id$q$,
            texts[1], texts[2], tab, coalesce(s.label_key, s.item_column))
        USING s, p;
    END IF;
END
$fn$;

-- The current rules of every registered source, one row per rule, in plain
-- columns that BI tools filter and sort.
CREATE VIEW rar.rules WITH (security_invoker = true) AS
SELECT s.source, r.rule_id, r.antecedent, r.consequent,
       rar.items_text(r.antecedent_labels) AS antecedent_text,
       rar.items_text(r.consequent_labels) AS consequent_text,
       r.antecedent_labels, r.consequent_labels,
       r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count,
       s.method, (SELECT m.version FROM rar.models m WHERE m.model_id = s.model_id) AS model_version,
       s.refreshed_at, r.explanation
FROM rar.rule_sets s JOIN rar.rule_store r USING (set_id)
WHERE s.current;
COMMENT ON VIEW rar.rules IS 'The current rules of every registered source, for BI tools';

-- Nodes (items) and edges (antecedent item -> consequent item, one per rule
-- and antecedent item) of the current rules, for graph panels.
-- Each branch reads the rules itself, so that a filter on source reaches
-- both (over a CTE both read, PostgreSQL built the graph of every source
-- and filtered it after).
CREATE VIEW rar.rule_graph WITH (security_invoker = true) AS
SELECT nodes.source, 'node'::text AS kind, nodes.id, nodes.label, NULL::text AS from_id, NULL::text AS to_id,
       NULL::integer AS rule_id, nodes.rules::float8 AS weight, NULL::float8 AS lift
FROM (SELECT s.source, n.id, min(n.label) AS label, sum(side.edges) AS rules
      -- An item of a rule's antecedent leaves one edge for each item of its
      -- consequent, and one of its consequent is reached from each item of
      -- its antecedent: each side unnested once, not their product twice.
      FROM rar.rule_sets s JOIN rar.rule_store r USING (set_id)
      CROSS JOIN LATERAL (VALUES
          (r.antecedent, r.antecedent_labels, greatest(cardinality(r.consequent), cardinality(r.consequent_labels))),
          (r.consequent, r.consequent_labels, greatest(cardinality(r.antecedent), cardinality(r.antecedent_labels)))
      ) AS side(items, labels, edges)
      CROSS JOIN LATERAL unnest(side.items, side.labels) AS n(id, label)
      WHERE s.current AND side.edges > 0
      GROUP BY s.source, n.id) nodes
UNION ALL
SELECT s.source, 'edge', a.item || '->' || k.item || '#' || r.rule_id, a.label || ' -> ' || k.label,
       a.item, k.item, r.rule_id, r.confidence, r.lift
FROM rar.rule_sets s JOIN rar.rule_store r USING (set_id)
CROSS JOIN LATERAL unnest(r.antecedent, r.antecedent_labels) AS a(item, label)
CROSS JOIN LATERAL unnest(r.consequent, r.consequent_labels) AS k(item, label)
WHERE s.current;
COMMENT ON VIEW rar.rule_graph IS 'Items (kind node, weight = rules) and rules (kind edge, weight = confidence) of the current rules';

CREATE VIEW rar.rule_history WITH (security_invoker = true) AS
SELECT set_id, source, method, params, rules, baskets, current, refreshed_at, seconds, refreshed_by, model_id
FROM rar.rule_sets;

-- The reporting role: reads the rule views and nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rar_reader') THEN
        CREATE ROLE rar_reader NOLOGIN;
    END IF;
END
$$;
COMMENT ON ROLE rar_reader IS 'Reads the rule views of the rar extension (rar.rules, rar.rule_graph, rar.rule_history, rar.rule_trends); which rules it sees follows the rights on the tables and rar_grant';
GRANT SELECT ON rar.rules, rar.rule_graph, rar.rule_history TO rar_reader;
-- The views run with the reader's rights (security_invoker), so the rules a
-- role sees through them follow the policies above, whoever it is.
GRANT SELECT ON rar.rules, rar.rule_graph, rar.rule_history TO PUBLIC;

-- The registered source `name`, for a change only the owner of its table
-- may make (`action` says which, in the error).
CREATE FUNCTION rar.managed_source(name text, action text) RETURNS rar.sources LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s rar.sources;
BEGIN
    SELECT * INTO s FROM rar.sources o WHERE o.name = (SELECT rar.source_name(managed_source.name));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'source "%" is not registered', name
            USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM rar.sources lists the registered sources.';
    END IF;
    PERFORM rar.check_manage(s.relation, action);
    RETURN s;
END
$fn$;

-- Lets `role` read the rules (and rule sets) of source `name` without any
-- right on its table: for BI logins. Only the table's owner may grant.
CREATE FUNCTION @extschema@.rar_grant(name text, role regrole) RETURNS boolean LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s rar.sources;
BEGIN
    IF name IS NULL OR role IS NULL THEN
        RAISE EXCEPTION 'name and role must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'For example: SELECT rar_grant(''sales'', ''metabase'');';
    END IF;
    s := rar.managed_source(name, 'grant the rules');
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role) THEN
        RAISE EXCEPTION 'role with OID % does not exist', role::oid
            USING ERRCODE = 'undefined_object', HINT = 'Name an existing role, for example: SELECT rar_grant(''sales'', ''metabase'');';
    END IF;
    INSERT INTO rar.source_grants (source, relation, grantee) VALUES (s.name, s.relation, role)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$fn$;

-- Takes back what rar_grant gave.
CREATE FUNCTION @extschema@.rar_revoke(name text, role regrole) RETURNS boolean LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s rar.sources;
BEGIN
    IF name IS NULL OR role IS NULL THEN
        RAISE EXCEPTION 'name and role must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'For example: SELECT rar_revoke(''sales'', ''metabase'');';
    END IF;
    s := rar.managed_source(name, 'revoke the rules');
    DELETE FROM rar.source_grants g WHERE g.source = s.name AND g.grantee = role;
    RETURN FOUND;
END
$fn$;

SET LOCAL search_path = @extschema@, pg_temp;
