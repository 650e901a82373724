-- Reads the CSV from standard input. Until rar_clean exists, only real
-- sales are loaded: no cancelled invoices (C...), no quantity <= 0.
BEGIN;
CREATE TEMP TABLE sales_csv (LIKE sales) ON COMMIT DROP;
\copy sales_csv FROM pstdin WITH (FORMAT csv, HEADER true)
INSERT INTO sales
SELECT * FROM sales_csv WHERE quantity > 0 AND invoice_no NOT LIKE 'C%';
COMMIT;
ANALYZE sales;
