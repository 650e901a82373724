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
CREATE FUNCTION rar.row_security_below(rel regclass) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (
    WITH RECURSIVE below(oid, relkind, rls) AS (
        SELECT c.oid, c.relkind, c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = rel
        UNION
        SELECT c.oid, c.relkind, c.relrowsecurity
        FROM below b
        JOIN pg_catalog.pg_rewrite w ON w.ev_class = b.oid
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = w.oid
             AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> b.oid
        JOIN pg_catalog.pg_class c ON c.oid = d.refobjid
        WHERE b.relkind = 'v'
    )
    SELECT 1 FROM below b
    WHERE b.rls
       -- A view that may show each role other rows counts as row-level
       -- security: one whose query calls a function of a user's (which may
       -- read anything, also through an operator or an aggregate) or asks
       -- who is reading (CURRENT_USER, SESSION_USER, CURRENT_ROLE, USER,
       -- CURRENT_SCHEMA, pg_has_role, has_*_privilege, a setting, the
       -- backend), one that reads the catalog views of roles, settings or
       -- sessions, a security barrier view (a view made to hide rows), and
       -- a security invoker view (whose tables each reader's own rights
       -- decide). Functions are read off the view's query tree:
       -- PostgreSQL records no dependency on its built-in functions.
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_rewrite w,
                    pg_catalog.regexp_matches(w.ev_action::pg_catalog.text, ':(?:funcid|opfuncid|aggfnoid|winfnoid) ([0-9]+)', 'g') m
               JOIN pg_catalog.pg_proc f ON f.oid = m[1]::pg_catalog.oid
               WHERE w.ev_class = b.oid
                 AND (f.pronamespace NOT IN ('pg_catalog'::pg_catalog.regnamespace, 'information_schema'::pg_catalog.regnamespace)
                      OR f.proname IN ('pg_has_role', 'row_security_active', 'current_setting', 'current_user', 'session_user',
                                       'current_role', 'user', 'getpgusername', 'current_schema', 'current_schemas',
                                       'pg_my_temp_schema', 'pg_backend_pid', 'inet_client_addr', 'inet_client_port',
                                       'pg_current_xact_id', 'txid_current', 'pg_show_all_settings', 'pg_stat_get_activity')
                      OR f.proname LIKE 'has\_%\_privilege')))
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_rewrite w,
                    pg_catalog.regexp_matches(w.ev_action::pg_catalog.text, ':relid ([0-9]+)', 'g') m
               JOIN pg_catalog.pg_class c ON c.oid = m[1]::pg_catalog.oid
               WHERE w.ev_class = b.oid AND c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace
                 AND c.relname IN ('pg_settings', 'pg_stat_activity', 'pg_roles', 'pg_user', 'pg_authid', 'pg_auth_members',
                                   'pg_shadow', 'pg_group', 'pg_locks')))
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_rewrite w
               WHERE w.ev_class = b.oid
                 AND w.ev_action::pg_catalog.text ~ '\{SQLVALUEFUNCTION :op (9|10|11|12|14) '))
       OR (b.relkind = 'v' AND EXISTS (
               SELECT 1 FROM pg_catalog.pg_class v, pg_catalog.unnest(v.reloptions) o
               WHERE v.oid = b.oid AND (o LIKE 'security\_barrier=%' OR o LIKE 'security\_invoker=%')
                 AND pg_catalog.lower(pg_catalog.split_part(o, '=', 2)) !~ '^(f|fa|fal|fals|false|n|no|of|off|0)$')));
COMMENT ON FUNCTION rar.row_security_below(regclass) IS 'Whether the relation, or a table a view of it reads (through views), may show each role other rows: row-level security, a security barrier or security invoker view, or a view that calls a function of a user''s or asks who is reading';

CREATE FUNCTION rar.may_read(rel regclass) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce((
    SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE')
        OR (pg_catalog.has_table_privilege(c.oid, 'SELECT')
            AND (NOT rar.row_security_below(c.oid)
                 OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER AND (r.rolbypassrls OR r.rolsuper))))
    FROM pg_catalog.pg_class c WHERE c.oid = rel), false);
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
CREATE FUNCTION rar_split_bucket(basket text, seed integer, train float8, validation float8)
RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE
    WHEN pg_catalog.hashtextextended(basket, seed)::float8 / 18446744073709551616.0 + 0.5 < train THEN 'train'
    WHEN pg_catalog.hashtextextended(basket, seed)::float8 / 18446744073709551616.0 + 0.5 < train + validation THEN 'validation'
    ELSE 'test'
END;
COMMENT ON FUNCTION rar_split_bucket(text, integer, float8, float8) IS 'The split set (train, validation, test) of a basket id under a seed and fractions';


-- Long calls in progress, from any session: each reports what it is doing
-- as its backend's activity ("rar_clean: run 3 on sales, item_normalized").
CREATE VIEW rar.progress WITH (security_invoker = true) AS
SELECT a.pid, a.usename, a.datname, a.query_start, pg_catalog.now() - a.query_start AS running_for,
       pg_catalog.split_part(a.query, ':', 1) AS function,
       pg_catalog.substr(a.query, pg_catalog.strpos(a.query, ':') + 2) AS progress
FROM pg_catalog.pg_stat_activity a
WHERE a.query ~ '^rar_[a-z_]+: ';
GRANT SELECT ON rar.progress TO PUBLIC;
