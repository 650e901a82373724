-- Cleans the demo table in place: cancelled invoices (C...), quantities
-- <= 0, NULL or blank items, item text normalized. Removed lines move to
-- sales_rar_rejected; a second run finds nothing to do.
\pset footer off
SELECT * FROM rar_clean('sales', cancelled_basket_pattern => '^C');
