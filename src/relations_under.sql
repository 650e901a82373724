-- The start of a query over `rels`: the relation $1 and every relation the
-- rules of the views among them read, at any depth (a view's rule depends on
-- each relation it reads). Completed by src/reader.rs (Citus tables under a
-- source) and src/basket_cache.sql (the stamp of kept baskets).
WITH RECURSIVE rels(oid) AS (
    SELECT $1::pg_catalog.oid
    UNION
    SELECT d.refobjid
    FROM rels
    JOIN pg_catalog.pg_rewrite r ON r.ev_class OPERATOR(pg_catalog.=) rels.oid
    JOIN pg_catalog.pg_depend d
      ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
     AND d.objid OPERATOR(pg_catalog.=) r.oid
     AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
)
