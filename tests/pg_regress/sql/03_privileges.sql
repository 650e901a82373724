-- Privileges stay the caller's: no SELECT on the table, no rules.
CREATE ROLE rar_test_nobody;
CREATE TABLE private_sales (tid int, item text);
INSERT INTO private_sales VALUES (1, 'a'), (1, 'b'), (2, 'a'), (2, 'b');
SET ROLE rar_test_nobody;
SELECT show_error($$SELECT * FROM rar_mine('private_sales')$$);
RESET ROLE;
GRANT SELECT ON private_sales TO rar_test_nobody;
SET ROLE rar_test_nobody;
SELECT antecedent, consequent, count FROM rar_mine('private_sales', min_support => 0.5, min_length => 2);
RESET ROLE;
-- Column-level grants are honoured too.
REVOKE SELECT ON private_sales FROM rar_test_nobody;
GRANT SELECT (tid) ON private_sales TO rar_test_nobody;
SET ROLE rar_test_nobody;
SELECT show_error($$SELECT * FROM rar_mine('private_sales')$$);
RESET ROLE;
-- No function of the extension is SECURITY DEFINER but the change-tracking
-- trigger and event trigger (13_security checks their pinned search path).
SELECT count(*) FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rar'
WHERE p.prosecdef AND p.oid NOT IN ('rar.table_changed()'::regprocedure, 'rar.table_altered()'::regprocedure);
DROP TABLE private_sales;
DROP ROLE rar_test_nobody;
