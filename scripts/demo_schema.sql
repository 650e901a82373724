-- The demo's table: UCI Online Retail (Chen, Sain and Guo 2012, CC BY 4.0),
-- one row per invoice line.
CREATE EXTENSION IF NOT EXISTS rar;
-- pg_cron runs its jobs in this database (cron.database_name).
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE TABLE IF NOT EXISTS sales (
    invoice_no   text,
    stock_code   text,
    description  text,
    quantity     integer,
    invoice_date timestamp,
    unit_price   numeric(10, 3),
    customer_id  text,
    country      text
);
-- Sessions keep the encoded baskets of sales between calls, and read it
-- again only after a change (see "Exploring thresholds" in the README).
DO $$ BEGIN PERFORM rar_track_changes('sales'); END $$;
