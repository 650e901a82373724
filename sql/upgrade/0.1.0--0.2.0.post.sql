-- Hand-written data migrations of 0.1.0 to 0.2.0, after the code.

-- Keys of the stored rules in the new, unambiguous form.
UPDATE rar.rule_store SET antecedent_key = rar.rule_key(antecedent);
CREATE INDEX rule_store_antecedent_key ON rar.rule_store (set_id, antecedent_hash);

-- Quarantine tables of 0.1.0 gain rar_pair on their next rar_clean run.

-- The guard on DROP EXTENSION.
CREATE EVENT TRIGGER rar_drop_guard ON ddl_command_start WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
EXECUTE FUNCTION rar.drop_guard();
-- Also in sessions that replicate (session_replication_role = replica).
ALTER EVENT TRIGGER rar_drop_guard ENABLE ALWAYS;
