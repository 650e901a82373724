-- The extension's life: a plain DROP EXTENSION rar refuses while the
-- catalog holds user work (src/lifecycle.rs); CASCADE deletes it.
CREATE FUNCTION rar.drop_guard() RETURNS event_trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'rar_drop_guard';
COMMENT ON FUNCTION rar.drop_guard() IS 'Refuses DROP EXTENSION rar without CASCADE while models, rule sets, sources, splits, encodings, cleaning runs or tuning trials exist';
CREATE EVENT TRIGGER rar_drop_guard ON ddl_command_start WHEN TAG IN ('DROP EXTENSION')
EXECUTE FUNCTION rar.drop_guard();
