-- The stamp of a table for the baskets a session keeps (src/basket_cache.rs),
-- read in one query under the call's snapshot. $1: the table; $2: the names of
-- the columns read.
--
-- Answers no row when the table's baskets may not be kept: it must be a plain,
-- permanent table without row security, inheritance or partitions, not a
-- subscription's, tracked by rar.table_changed() firing ALWAYS on every
-- statement; the columns read must all be there, readable by the caller (with
-- USAGE on the schema), of types whose text depends on the value alone.
-- The stamp joins the table's file node and catalog row version, its tracking
-- trigger's row version, the sum of its change weights, and the read columns'
-- numbers and types.
WITH plain(oid) AS (
    SELECT pg_catalog.unnest('{pg_catalog.int2,pg_catalog.int4,pg_catalog.int8,pg_catalog.numeric,
        pg_catalog.text,pg_catalog.varchar,pg_catalog.bpchar,pg_catalog.name,pg_catalog.char,pg_catalog.uuid,
        pg_catalog.bool,pg_catalog.oid,pg_catalog.date,pg_catalog.timestamp,pg_catalog.timestamptz,
        pg_catalog.float4,pg_catalog.float8}'::pg_catalog.regtype[])::pg_catalog.oid
)
SELECT pg_catalog.concat_ws('/', c.relfilenode, c.xmin, t.oid, t.xmin,
           (SELECT COALESCE(pg_catalog.sum(v.weight), 0) FROM rar.table_changes v
            WHERE v.relid OPERATOR(pg_catalog.=) c.oid),
           (SELECT pg_catalog.string_agg(a.attnum::pg_catalog.text OPERATOR(pg_catalog.||) ':'
                                         OPERATOR(pg_catalog.||) a.atttypid::pg_catalog.text, ',' ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) ANY ($2)))
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) c.oid
WHERE c.oid OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) 'r'
  AND c.relpersistence OPERATOR(pg_catalog.<>) 't' AND NOT c.relrowsecurity
  AND NOT c.relhassubclass AND NOT c.relispartition
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_subscription_rel s WHERE s.srrelid OPERATOR(pg_catalog.=) c.oid)
  AND pg_catalog.has_schema_privilege(c.relnamespace, 'USAGE')
  AND t.tgfoid OPERATOR(pg_catalog.=) 'rar.table_changed()'::pg_catalog.regprocedure
  AND t.tgenabled OPERATOR(pg_catalog.=) 'A' AND t.tgtype OPERATOR(pg_catalog.=) 60::pg_catalog.int2
  AND t.tgqual IS NULL AND pg_catalog.cardinality(t.tgattr::pg_catalog.int2[]) OPERATOR(pg_catalog.=) 0
  AND (SELECT pg_catalog.count(*) OPERATOR(pg_catalog.=) pg_catalog.cardinality($2)
              AND pg_catalog.bool_and(pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')
                  AND (CASE WHEN ty.typcategory OPERATOR(pg_catalog.=) 'A' THEN ty.typelem ELSE ty.oid END)
                      IN (SELECT plain.oid FROM plain))
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) a.atttypid
       WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) ANY ($2)
         AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
ORDER BY t.oid LIMIT 1
