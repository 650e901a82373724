-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- The extension's life: a plain DROP EXTENSION rar refuses while the
-- catalog holds user work (src/lifecycle.rs); CASCADE deletes it.
CREATE FUNCTION rar.drop_guard() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'rar_drop_guard';
COMMENT ON FUNCTION rar.drop_guard() IS 'Refuses DROP EXTENSION rar without CASCADE, DROP SCHEMA ... CASCADE of its schema and DROP OWNED BY its owner while models, rule sets, sources, splits, encodings, cleaning runs or tuning trials exist';
CREATE EVENT TRIGGER rar_drop_guard ON ddl_command_start WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
EXECUTE FUNCTION rar.drop_guard();
-- Also in sessions that replicate (session_replication_role = replica).
ALTER EVENT TRIGGER rar_drop_guard ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER rar_drop_guard IS 'Calls rar.drop_guard: DROP EXTENSION rar, DROP SCHEMA and DROP OWNED keep the work rar holds unless CASCADE';

SET LOCAL search_path = @extschema@, pg_temp;
