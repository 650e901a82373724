-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- Change tracking of tables whose encoded baskets a session may keep
-- between calls (src/basket_cache.rs). rar_track_changes('sales') adds one
-- statement-level trigger to the table; every statement that inserts,
-- updates, deletes or truncates then adds one row here, in its own
-- transaction, so that a snapshot sees the row exactly when it sees the
-- change. A session keeps a table's baskets with the sum of the weights it
-- saw: a later snapshot of the same session sees every row an earlier one
-- saw (or the row they were folded into), so an equal sum means that no
-- change became visible since. Writers only insert rows (concurrent writers
-- do not wait for each other). When a row's number is a multiple of 1024
-- (about every 1024th change of a table), its writer folds the table's
-- older rows into one of the same total weight, skipping rows another
-- transaction holds; a SERIALIZABLE writer does not fold (the fold's reads
-- could make unrelated serializable writers fail).
CREATE SEQUENCE rar.table_change_seq;
CREATE TABLE rar.table_changes (
    relid    oid NOT NULL,
    change   bigint NOT NULL DEFAULT pg_catalog.nextval('rar.table_change_seq'::pg_catalog.regclass),
    -- How many changes the row stands for (more than 1 once folded).
    weight   bigint NOT NULL DEFAULT 1
);
CREATE INDEX table_changes_relid ON rar.table_changes (relid, change);
COMMENT ON TABLE rar.table_changes IS
    'One row per statement that changed a table tracked by rar_track_changes (older rows folded into one): what tells a session that the baskets it keeps are still current';
GRANT SELECT ON rar.table_changes TO PUBLIC;

-- The trigger of rar_track_changes. SECURITY DEFINER: the writers of a
-- table need not write rar's catalog, and no role but the extension's
-- owner may (a row removed or forged by hand could make a session keep
-- stale baskets). It writes only rows of the table it fires on, and only
-- as an AFTER ... FOR EACH STATEMENT trigger. Any role may attach it to a
-- table it may add triggers to: that only adds rows for that table.
CREATE FUNCTION rar.table_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    added bigint;
BEGIN
    IF TG_LEVEL OPERATOR(pg_catalog.<>) 'STATEMENT' OR TG_WHEN OPERATOR(pg_catalog.<>) 'AFTER' THEN
        RAISE EXCEPTION 'rar.table_changed must fire AFTER ... FOR EACH STATEMENT'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add the trigger with SELECT rar_track_changes(''table'').';
    END IF;
    INSERT INTO rar.table_changes (relid) VALUES (TG_RELID) RETURNING change INTO added;
    IF added OPERATOR(pg_catalog.%) 1024 OPERATOR(pg_catalog.=) 0
       AND pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'serializable' THEN
        BEGIN
            -- Locked and deleted in one statement: rows another fold holds
            -- are skipped, never waited for.
            WITH gone AS (
                DELETE FROM rar.table_changes c
                WHERE c.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(
                    SELECT o.ctid FROM rar.table_changes o
                    WHERE o.relid OPERATOR(pg_catalog.=) TG_RELID AND o.change OPERATOR(pg_catalog.<) added
                    FOR UPDATE SKIP LOCKED))
                RETURNING c.weight
            )
            INSERT INTO rar.table_changes (relid, weight)
            SELECT TG_RELID, pg_catalog.sum(gone.weight)::pg_catalog.int8 FROM gone
            HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0;
        EXCEPTION WHEN serialization_failure THEN
            -- A repeatable-read writer met rows changed since its snapshot:
            -- leave them to a later fold.
            NULL;
        END;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION rar.table_changed() IS
    'Trigger of rar_track_changes: records that a statement changed the table, for the baskets sessions keep';

-- A change of a tracked table's definition (ALTER TABLE) counts as a change
-- of the table: rows changed through a parent it inherited from for a
-- moment (ALTER TABLE ... INHERIT, then NO INHERIT) fire none of its own
-- triggers, and with a parent without columns nothing in its catalog rows
-- changes either. SECURITY DEFINER to write rar.table_changes, as the
-- trigger does; the tables are those the ALTER TABLE just changed, which
-- PostgreSQL let its caller change.
CREATE FUNCTION rar.table_altered() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tracked pg_catalog.oid[];
BEGIN
    -- Read first: an ALTER TABLE of an untracked table (nearly all of them)
    -- takes no lock on rar.table_changes, so no role queued for that table
    -- can hold up the database's ALTER TABLEs.
    SELECT pg_catalog.array_agg(DISTINCT c.objid) INTO tracked
    FROM pg_catalog.pg_event_trigger_ddl_commands() c
    WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
      AND EXISTS (SELECT FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) c.objid
                  AND t.tgfoid OPERATOR(pg_catalog.=) 'rar.table_changed()'::pg_catalog.regprocedure);
    IF tracked IS NOT NULL THEN
        INSERT INTO rar.table_changes (relid) SELECT pg_catalog.unnest(tracked);
    END IF;
END
$fn$;
COMMENT ON FUNCTION rar.table_altered() IS
    'Event trigger of rar_track_changes: records that ALTER TABLE changed a tracked table, for the baskets sessions keep';
CREATE EVENT TRIGGER rar_table_altered ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
EXECUTE FUNCTION rar.table_altered();
-- Like the tracking trigger, whatever session_replication_role says.
ALTER EVENT TRIGGER rar_table_altered ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER rar_table_altered IS 'Calls rar.table_altered: an ALTER TABLE of a table tracked by rar_track_changes is a change of it';

SET LOCAL search_path = @extschema@, pg_temp;
