-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- Catalog of the rar extension, created first by CREATE EXTENSION.
-- Everything here is in the schema `rar`; the SQL functions stay in the
-- schema the extension is created in, so that they are callable unqualified.
-- Items are text of any language: rar reads them as UTF-8.
DO $$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'rar needs a database with UTF8 encoding'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = pg_catalog.format('This database uses %s.', pg_catalog.getdatabaseencoding()),
                  HINT = 'Create the database with ENCODING ''UTF8'' (CREATE DATABASE ... ENCODING ''UTF8'' TEMPLATE template0).';
    END IF;
END
$$;
CREATE SCHEMA rar;
COMMENT ON SCHEMA rar IS 'Catalog of the rar extension: cleaning runs, splits, encodings';
GRANT USAGE ON SCHEMA rar TO PUBLIC;

-- One row per rar_clean call (dry runs included).
CREATE SEQUENCE rar.clean_run_seq;
CREATE TABLE rar.clean_log (
    run          bigint NOT NULL,
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
    run_at       timestamptz NOT NULL DEFAULT now(),
    -- Set by rar_restore when the run was undone.
    restored_at  timestamptz,
    restored_by  name,
    -- Runs are numbered by one sequence; the key is per table, so that rows
    -- about one table can never block runs on another.
    PRIMARY KEY (relation, run)
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

-- Who may do what (SECURITY.md). Catalog rows are data about a table:
-- everyone who may read the table (and, where the table has row-level
-- security, sees all of its rows) may read them; only the table's owner
-- (or a member of the owning role) may write them. These functions are
-- bound at creation (SQL-standard bodies), so the caller's search_path
-- cannot stand in for anything they call.
CREATE FUNCTION rar.may_manage(rel regclass) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce((SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE') FROM pg_catalog.pg_class c WHERE c.oid = rel), false)
    OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER AND r.rolsuper);
COMMENT ON FUNCTION rar.may_manage(regclass) IS 'Whether the current role owns the table (or is a member of its owning role): who may write its rar catalog rows';

-- Whether a relation, or one a view of it reads (through views, down to
-- tables; a materialized view is data of its own: the walk stops there),
-- has row-level security.
-- Whether the relation may show each role other rows; row-level security
-- below it counts only `with_rls` (a role with BYPASSRLS skips policies,
-- not a view's own conditions).
CREATE FUNCTION rar.reads_by_reader(rel regclass, with_rls boolean) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- No backslash in its literals: PL/pgSQL parses them under the session's
-- standard_conforming_strings, which any role may turn off.
-- PL/pgSQL keeps its plans for the session (an SQL function's body is
-- planned again in every statement that calls it: about 9 ms each for a
-- role granted SELECT on the table), generic from the first call (the plan
-- cache would plan each of a session's first five calls for its values);
-- never compiled (a large pg_inherits made its cost cross jit_above_cost:
-- 1 s a call).
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $fn$
DECLARE
    rel_kind "char";
    rel_rls boolean;
    rel_children boolean;
BEGIN
-- A table or materialized view without children (most sources): the walk
-- below would find the relation alone, so its answer is its own row
-- security (relhassubclass is set in the transaction that adds a child, so
-- it is true in every snapshot that sees one).
SELECT c.relkind, c.relrowsecurity, c.relhassubclass INTO rel_kind, rel_rls, rel_children
FROM pg_catalog.pg_class c WHERE c.oid = rel;
IF rel_kind IN ('r', 'm') AND NOT rel_children THEN
    RETURN coalesce(with_rls AND rel_rls, false);
END IF;
RETURN EXISTS (
    -- The relation and the relations its views read, through any depth of
    -- views (each view once at each depth, 10,000 at most: the walk stops
    -- there and counts as filtering).
    WITH RECURSIVE read_by_views(oid, relkind, rls, depth) AS (
        SELECT c.oid, c.relkind, c.relrowsecurity, 0 FROM pg_catalog.pg_class c WHERE c.oid = rel
        UNION
        SELECT c.oid, c.relkind, c.relrowsecurity, b.depth + 1
        FROM read_by_views b
        JOIN pg_catalog.pg_rewrite w ON w.ev_class = b.oid AND b.relkind = 'v'
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = w.oid
             AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> b.oid
        JOIN pg_catalog.pg_class c ON c.oid = d.refobjid
        WHERE b.depth < 32
    ),
    walked AS MATERIALIZED (SELECT * FROM read_by_views LIMIT 10001),
    -- Then the partitions and inheritance children of those, each once
    -- however many paths lead to it (10,000 at most, as above).
    children(oid) AS (
        SELECT i.inhrelid FROM (SELECT DISTINCT w.oid FROM walked w) r JOIN pg_catalog.pg_inherits i ON i.inhparent = r.oid
        UNION
        SELECT i.inhrelid FROM children ch JOIN pg_catalog.pg_inherits i ON i.inhparent = ch.oid
    ),
    inherited AS MATERIALIZED (SELECT * FROM children LIMIT 10001),
    below(oid, relkind, rls, inherited, depth) AS (
        SELECT w.oid, w.relkind, w.rls, false, w.depth FROM walked w
        UNION ALL
        SELECT c.oid, c.relkind, c.relrowsecurity, true, 0 FROM inherited i JOIN pg_catalog.pg_class c ON c.oid = i.oid
    ),
    views AS (SELECT DISTINCT b.oid, b.relkind FROM below b WHERE b.relkind = 'v'),
    -- Past what is read here, cheaply, for every reader (the policies call
    -- this on every row): views over 32 levels deep, or whose stored
    -- queries are over 256 kB of text in all, count as filtering.
    too_big AS (
        SELECT COALESCE(pg_catalog.sum(pg_catalog.octet_length(w.ev_action::pg_catalog.text)), 0) > 262144 AS big
        FROM views v JOIN pg_catalog.pg_rewrite w ON w.ev_class = v.oid
    )
    SELECT 1 FROM below b
    -- Row-level security (of a table read directly: a partition's own
    -- policies do not apply when its parent is read).
    WHERE (with_rls AND b.rls AND NOT b.inherited)
       OR b.depth >= 32
       -- A foreign table whose server maps roles to remote users one by one:
       -- each role may see other remote rows.
       OR (b.relkind = 'f' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_foreign_table ft
               JOIN pg_catalog.pg_user_mappings um ON um.srvid = ft.ftserver
               WHERE ft.ftrelid = b.oid AND um.umuser <> 0))
    UNION ALL
    SELECT 1 FROM too_big WHERE big
    UNION ALL
    SELECT 1 WHERE (SELECT pg_catalog.count(*) FROM walked) > 10000 OR (SELECT pg_catalog.count(*) FROM inherited) > 10000
    UNION ALL
    -- Each view once, however many paths lead to it.
    SELECT 1 FROM views b, too_big WHERE NOT too_big.big AND (false
       -- A view that may show each role other rows. Its functions (also
       -- those of its operators, aggregates and window functions) are read
       -- off its stored query, as PostgreSQL records no dependency on its
       -- built-in functions. Safe are only the built-in functions that
       -- depend on their arguments alone (IMMUTABLE), and those that also
       -- read the clock or settings every role sets for itself (time zone,
       -- date style, locale, text search configuration) and run no code of
       -- a user's (not the JSON makers: they call a type's cast to json,
       -- which may be a user's function). Any other (a
       -- function of a user's, one that asks who is reading, reads the
       -- session's state or the statistics of backends, or runs a query
       -- given as text, such as query_to_xml) counts as row-level security.
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_rewrite w
               CROSS JOIN LATERAL (
                   SELECT m[1]::pg_catalog.oid AS fn
                   FROM pg_catalog.regexp_matches(w.ev_action::pg_catalog.text,
                        ':(?:funcid|opfuncid|aggfnoid|winfnoid|hashfuncid|negfuncid) ([0-9]+)', 'g') m
                   UNION ALL
                   SELECT o.oprcode::pg_catalog.oid
                   FROM pg_catalog.regexp_matches(w.ev_action::pg_catalog.text, ':(?:opno|sortop|eqop) ([0-9]+)', 'g') m
                   JOIN pg_catalog.pg_operator o ON o.oid = m[1]::pg_catalog.oid
                   UNION ALL
                   SELECT o.oprcode::pg_catalog.oid
                   FROM pg_catalog.regexp_matches(w.ev_action::pg_catalog.text, ':opnos [(]o ([0-9 ]+)[)]', 'g') m,
                        pg_catalog.unnest(pg_catalog.string_to_array(m[1], ' ')) x
                   JOIN pg_catalog.pg_operator o ON o.oid = x::pg_catalog.oid
               ) u
               JOIN pg_catalog.pg_proc f ON f.oid = u.fn
               WHERE w.ev_class = b.oid AND pg_catalog.octet_length(w.ev_action::pg_catalog.text) <= 262144
                 AND NOT (f.pronamespace IN ('pg_catalog'::pg_catalog.regnamespace, 'information_schema'::pg_catalog.regnamespace)
                          AND (f.provolatile = 'i'
                               OR f.proname IN ('now', 'transaction_timestamp', 'statement_timestamp', 'clock_timestamp',
                                                'timeofday', 'age', 'date', 'date_part', 'date_trunc', 'extract',
                                                'make_timestamptz', 'overlaps', 'time', 'timetz', 'timestamp', 'timestamptz',
                                                'timezone', 'to_char', 'to_date', 'to_number', 'to_timestamp', 'generate_series',
                                                'in_range', 'interval_pl_timestamptz', 'timestamptz_pl_interval',
                                                'timestamptz_mi_interval', 'money', 'numeric', 'anytextcat', 'textanycat',
                                                'concat', 'concat_ws', 'format', 'quote_literal', 'quote_nullable', 'length',
                                                'array_to_string', 'json_populate_record', 'json_populate_recordset', 'json_to_record',
                                                'json_to_recordset', 'jsonb_populate_record', 'jsonb_populate_recordset',
                                                'jsonb_to_record', 'jsonb_to_recordset', 'jsonb_path_exists_tz',
                                                'jsonb_path_match_tz', 'jsonb_path_query_tz', 'jsonb_path_query_array_tz',
                                                'jsonb_path_query_first_tz', 'to_tsvector', 'to_tsquery', 'plainto_tsquery',
                                                'phraseto_tsquery', 'websearch_to_tsquery', 'ts_headline', 'ts_match_tq',
                                                'ts_match_tt', 'json_to_tsvector', 'jsonb_to_tsvector', 'convert', 'convert_from',
                                                'convert_to', 'enum_first', 'enum_last', 'enum_range', 'pg_typeof',
                                                'format_type', 'current_database', 'getdatabaseencoding', 'pg_client_encoding',
                                                'pg_collation_for')
                               OR f.proname ~ '^(date|timestamp)_(cmp|eq|ne|lt|le|gt|ge)_timestamptz$'
                               OR f.proname ~ '^timestamptz_(cmp|eq|ne|lt|le|gt|ge)_(date|timestamp)$'))))
       -- The catalog views of roles, settings and sessions.
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_rewrite w,
                    pg_catalog.regexp_matches(w.ev_action::pg_catalog.text, ':relid ([0-9]+)', 'g') m
               JOIN pg_catalog.pg_class c ON c.oid = m[1]::pg_catalog.oid
               WHERE w.ev_class = b.oid AND pg_catalog.octet_length(w.ev_action::pg_catalog.text) <= 262144
                 AND c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace
                 AND c.relname IN ('pg_settings', 'pg_stat_activity', 'pg_roles', 'pg_user', 'pg_authid', 'pg_auth_members',
                                   'pg_shadow', 'pg_group', 'pg_locks')))
       -- CURRENT_USER, SESSION_USER, CURRENT_ROLE, USER, CURRENT_SCHEMA.
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_rewrite w
               WHERE w.ev_class = b.oid AND pg_catalog.octet_length(w.ev_action::pg_catalog.text) <= 262144
                 AND w.ev_action::pg_catalog.text ~ '[{]SQLVALUEFUNCTION :op (9|10|11|12|14) '))
       -- A security barrier view (a view made to hide rows), and a security
       -- invoker view (whose tables each reader's own rights decide).
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_class v, pg_catalog.unnest(v.reloptions) o
               WHERE v.oid = b.oid AND (pg_catalog.starts_with(o, 'security_barrier=') OR pg_catalog.starts_with(o, 'security_invoker='))
                 AND pg_catalog.lower(pg_catalog.split_part(o, '=', 2)) !~ '^(f|fa|fal|fals|false|n|no|of|off|0)$'))));
END
$fn$;
COMMENT ON FUNCTION rar.reads_by_reader(regclass, boolean) IS 'Whether the relation may show each role other rows, counting row-level security below it or not: see rar.row_security_below';

CREATE FUNCTION rar.row_security_below(rel regclass) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN rar.reads_by_reader(rel, true);
COMMENT ON FUNCTION rar.row_security_below(regclass) IS 'Whether the relation, or a relation a view of it reads (through views, partitions and inheritance), may show each role other rows: row-level security, a foreign table with per-role user mappings, a security barrier or security invoker view, or a view that calls a function other than the built-ins that depend on their arguments, the clock and each session''s own formatting settings';

CREATE FUNCTION rar.may_read(rel regclass) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
RETURN coalesce((
    SELECT (pg_catalog.pg_has_role(c.relowner, 'USAGE')
        OR (pg_catalog.has_table_privilege(c.oid, 'SELECT')
            AND (NOT rar.row_security_below(c.oid)
                 OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER AND r.rolsuper)
                 -- BYPASSRLS skips policies, not a view's own conditions.
                 OR (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER AND r.rolbypassrls)
                     AND NOT rar.reads_by_reader(c.oid, false)))))
        -- A table in a schema the role may not use is hidden from it, as
        -- PostgreSQL hides it: so is what rar derived from it.
        AND pg_catalog.has_schema_privilege(c.relnamespace, 'USAGE')
    FROM pg_catalog.pg_class c WHERE c.oid = rel), false);
END
$fn$;
COMMENT ON FUNCTION rar.may_read(regclass) IS 'Whether the current role may read every row of the table: who may read what rar derived from it';

-- Rows about a table that was dropped since: writable by the role that made them.
CREATE FUNCTION rar.orphan_of(rel regclass, creator name) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN creator = CURRENT_USER AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = rel);
COMMENT ON FUNCTION rar.orphan_of(regclass, name) IS 'Whether the row is about a dropped table and was made by the current role';

-- Raises the error for a role that may not change what rar keeps about `src`.
CREATE FUNCTION rar.check_manage(src regclass, what text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NOT rar.may_manage(src) THEN
        RAISE EXCEPTION 'permission denied to % of table %', what, src
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only the owner of the table (or a member of its owning role) may change what rar keeps about it.',
                  HINT = format('Ask the owner of %s to do it, or to GRANT its owning role to %s.', src, CURRENT_USER);
    END IF;
END
$fn$;

ALTER TABLE rar.clean_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.splits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.encodings ENABLE ROW LEVEL SECURITY;
-- Cleaning needs DELETE on the table (rar_clean checks more); so does
-- marking a run restored.
CREATE POLICY read ON rar.clean_log FOR SELECT USING (rar.may_read(relation));
CREATE POLICY insert ON rar.clean_log FOR INSERT
    WITH CHECK (pg_catalog.has_table_privilege(relation, 'DELETE') AND run_by = CURRENT_USER);
CREATE POLICY update ON rar.clean_log FOR UPDATE USING (pg_catalog.has_table_privilege(relation, 'DELETE'))
    WITH CHECK (pg_catalog.has_table_privilege(relation, 'DELETE'));
CREATE POLICY read ON rar.splits FOR SELECT USING (rar.may_read(relation));
CREATE POLICY insert ON rar.splits FOR INSERT WITH CHECK (rar.may_manage(relation));
CREATE POLICY update ON rar.splits FOR UPDATE USING (rar.may_manage(relation)) WITH CHECK (rar.may_manage(relation));
CREATE POLICY delete ON rar.splits FOR DELETE USING (rar.may_manage(relation) OR rar.orphan_of(relation, created_by));
CREATE POLICY read ON rar.encodings FOR SELECT USING (rar.may_read(relation));
CREATE POLICY insert ON rar.encodings FOR INSERT WITH CHECK (rar.may_manage(relation));
CREATE POLICY update ON rar.encodings FOR UPDATE USING (rar.may_manage(relation)) WITH CHECK (rar.may_manage(relation));
CREATE POLICY delete ON rar.encodings FOR DELETE USING (rar.may_manage(relation));
CREATE POLICY delete ON rar.clean_log FOR DELETE USING (rar.may_manage(relation) OR rar.orphan_of(relation, run_by));
-- Only the restore columns may change: the rest is a record.
GRANT SELECT, INSERT, DELETE ON rar.clean_log TO PUBLIC;
GRANT UPDATE (restored_at, restored_by) ON rar.clean_log TO PUBLIC;
GRANT USAGE ON SEQUENCE rar.clean_run_seq TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON rar.splits, rar.encodings TO PUBLIC;

-- pg_dump keeps the catalog's rows.
SELECT pg_catalog.pg_extension_config_dump('rar.clean_log', '');
SELECT pg_catalog.pg_extension_config_dump('rar.clean_run_seq', '');
SELECT pg_catalog.pg_extension_config_dump('rar.splits', '');
SELECT pg_catalog.pg_extension_config_dump('rar.encodings', '');

-- The set a basket falls in: a 64-bit hash of its id and the seed, read as
-- a number in [0, 1). Deterministic, and the same on every server.
CREATE FUNCTION @extschema@.rar_split_bucket(basket text, seed integer, train float8, validation float8)
RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE
    -- Shares rar_split would refuse (negative, NaN, adding up past 1): no set.
    WHEN NOT (train >= 0 AND validation >= 0 AND train + validation <= 1.000000001) THEN NULL
    WHEN pg_catalog.hashtextextended(basket, seed)::float8 / 18446744073709551616.0 + 0.5 < train THEN 'train'
    WHEN pg_catalog.hashtextextended(basket, seed)::float8 / 18446744073709551616.0 + 0.5 < train + validation THEN 'validation'
    ELSE 'test'
END;
COMMENT ON FUNCTION @extschema@.rar_split_bucket(text, integer, float8, float8) IS 'The split set (train, validation, test) of a basket id under a seed and fractions (NULL for fractions rar_split refuses)';


-- Long calls in progress, from any session: each reports what it is doing
-- as its backend's activity ("rar_clean: run 3 on sales, item_normalized").
CREATE VIEW rar.progress WITH (security_invoker = true) AS
SELECT a.pid, a.usename, a.datname, a.query_start, pg_catalog.now() - a.query_start AS running_for,
       pg_catalog.split_part(a.query, ':', 1) AS function,
       pg_catalog.substr(a.query, pg_catalog.strpos(a.query, ':') + 2) AS progress
FROM pg_catalog.pg_stat_activity a
WHERE a.query ~ '^rar_[a-z_]+: ';
GRANT SELECT ON rar.progress TO PUBLIC;

SET LOCAL search_path = @extschema@, pg_temp;
