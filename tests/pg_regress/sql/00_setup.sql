-- Set-up shared by the regression files: the extension, and a helper that
-- shows an error as SQLSTATE, message, DETAIL and HINT, so that the
-- expected output pins all four.
CREATE EXTENSION rar;
CREATE FUNCTION show_error(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hnt text;
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN st || ' ' || msg
        || coalesce(E'\nDETAIL: ' || nullif(det, ''), '')
        || coalesce(E'\nHINT: ' || nullif(hnt, ''), '');
END $$;
-- The function is callable unqualified and labelled as a reader of tables.
SELECT p.provolatile, p.proparallel, p.prosecdef, p.proretset
FROM pg_proc p WHERE p.proname = 'rar_mine';
-- The Groceries data (9,835 baskets, 169 items), read by several files;
-- each file that changes anything works on its own copy.
CREATE TABLE groceries (transaction_id int, item text);
\copy groceries FROM '../../data/groceries.csv' WITH (FORMAT csv, HEADER true)
