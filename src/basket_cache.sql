-- The rest of the stamp query of the baskets a session keeps (src/basket_cache.rs),
-- read in one query, under the call's snapshot. $1: the relation (a table, or a
-- view over tables at any depth); $2: the names of the columns read.
--
-- Answers no row when the relation's baskets may not be kept, else the stamp and
-- the tables under it. Every relation under $1 (itself, and what the rules of the
-- views among them read) must be either
--   * a view that is not security_invoker (its reads are checked against its
--     owner, whose rights are part of the tables' catalog rows below), or
--   * a plain, permanent table without row security, inheritance or partitions,
--     not a subscription's, tracked by rar.table_changed() firing ALWAYS on
--     every statement, whose columns all have plain types when a view reads it;
-- and the views' rules may reference only those relations, immutable functions
-- and operators, plain types and collations (a view over now(), random(), a
-- sequence or a function that reads other tables is read on every call).
-- The stamp joins, per relation, its file node and catalog row version, its
-- rules' row versions, its tracking trigger's row version and the sum of its
-- change weights; then the read columns' numbers and types.
-- (follows src/relations_under.sql, which defines rels)
,
plain(oid) AS (
    SELECT pg_catalog.unnest('{pg_catalog.int2,pg_catalog.int4,pg_catalog.int8,pg_catalog.numeric,
        pg_catalog.text,pg_catalog.varchar,pg_catalog.bpchar,pg_catalog.name,pg_catalog.char,pg_catalog.uuid,
        pg_catalog.bool,pg_catalog.oid,pg_catalog.date,pg_catalog.timestamp,pg_catalog.timestamptz,
        pg_catalog.float4,pg_catalog.float8}'::pg_catalog.regtype[])::pg_catalog.oid
),
-- Everything the views' rules reference.
deps AS (
    SELECT d.refclassid, d.refobjid, d.refobjsubid
    FROM rels
    JOIN pg_catalog.pg_rewrite r ON r.ev_class OPERATOR(pg_catalog.=) rels.oid
    JOIN pg_catalog.pg_depend d
      ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
     AND d.objid OPERATOR(pg_catalog.=) r.oid
),
-- The views' rules, and the functions and operators they call, read off
-- their trees (built-in ones, now() and random() among them, have no
-- pg_depend rows).
rules AS MATERIALIZED (
    SELECT r.ev_action::pg_catalog.text AS tree
    FROM rels JOIN pg_catalog.pg_rewrite r ON r.ev_class OPERATOR(pg_catalog.=) rels.oid
),
calls AS (
    SELECT m[1] AS kind, m[2]::pg_catalog.oid AS oid
    FROM rules, LATERAL pg_catalog.regexp_matches(rules.tree,
                                                  ':(funcid|opfuncid|aggfnoid|winfnoid|tsmhandler|opno) ([0-9]+)', 'g') m
),
parts AS (
    SELECT c.oid, c.relkind,
           pg_catalog.concat_ws(':', c.oid, c.relkind, c.relfilenode, c.xmin,
               (SELECT pg_catalog.string_agg(w.xmin::pg_catalog.text, ',' ORDER BY w.oid)
                FROM pg_catalog.pg_rewrite w WHERE w.ev_class OPERATOR(pg_catalog.=) c.oid),
               t.oid, t.xmin,
               (SELECT COALESCE(pg_catalog.sum(v.weight), 0) FROM rar.table_changes v
                WHERE v.relid OPERATOR(pg_catalog.=) c.oid)) AS part,
           CASE c.relkind
               WHEN 'v' THEN NOT EXISTS (
                   SELECT FROM pg_catalog.unnest(c.reloptions) o(opt)
                   WHERE o.opt OPERATOR(pg_catalog.~~) 'security\_invoker=%'
                     AND o.opt NOT IN ('security_invoker=false', 'security_invoker=off', 'security_invoker=0',
                                       'security_invoker=no'))
               WHEN 'r' THEN t.oid IS NOT NULL
                   AND c.relpersistence OPERATOR(pg_catalog.<>) 't' AND NOT c.relrowsecurity
                   AND NOT c.relhassubclass AND NOT c.relispartition
                   AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid)
                   AND NOT EXISTS (SELECT FROM pg_catalog.pg_subscription_rel s
                                   WHERE s.srrelid OPERATOR(pg_catalog.=) c.oid)
                   AND (c.oid OPERATOR(pg_catalog.=) $1 OR NOT EXISTS (
                       SELECT FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) a.atttypid
                       WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
                         AND (CASE WHEN ty.typcategory OPERATOR(pg_catalog.=) 'A' THEN ty.typelem ELSE ty.oid END)
                             NOT IN (SELECT plain.oid FROM plain)))
               ELSE false
           END AS ok
    FROM rels
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) rels.oid
    LEFT JOIN LATERAL (
        SELECT t.oid, t.xmin FROM pg_catalog.pg_trigger t
        WHERE t.tgrelid OPERATOR(pg_catalog.=) c.oid
          AND t.tgfoid OPERATOR(pg_catalog.=) 'rar.table_changed()'::pg_catalog.regprocedure
          AND t.tgenabled OPERATOR(pg_catalog.=) 'A' AND t.tgtype OPERATOR(pg_catalog.=) 60::pg_catalog.int2
          AND t.tgqual IS NULL AND pg_catalog.cardinality(t.tgattr::pg_catalog.int2[]) OPERATOR(pg_catalog.=) 0
        ORDER BY t.oid LIMIT 1
    ) t ON true
)
SELECT pg_catalog.concat_ws('/',
           (SELECT pg_catalog.string_agg(parts.part, ';' ORDER BY parts.oid) FROM parts),
           (SELECT pg_catalog.string_agg(a.attnum::pg_catalog.text OPERATOR(pg_catalog.||) ':'
                                         OPERATOR(pg_catalog.||) a.atttypid::pg_catalog.text, ',' ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) ANY ($2))),
       (SELECT pg_catalog.array_agg(parts.oid ORDER BY parts.oid) FROM parts WHERE parts.relkind OPERATOR(pg_catalog.=) 'r')
FROM pg_catalog.pg_class top
WHERE top.oid OPERATOR(pg_catalog.=) $1
  AND pg_catalog.has_schema_privilege(top.relnamespace, 'USAGE')
  AND (SELECT pg_catalog.bool_and(parts.ok) FROM parts)
  -- The columns read: all there, readable by the caller, of plain types.
  AND (SELECT pg_catalog.count(*) OPERATOR(pg_catalog.=) pg_catalog.cardinality($2)
              AND pg_catalog.bool_and(pg_catalog.has_column_privilege(top.oid, a.attnum, 'SELECT')
                  AND (CASE WHEN ty.typcategory OPERATOR(pg_catalog.=) 'A' THEN ty.typelem ELSE ty.oid END)
                      IN (SELECT plain.oid FROM plain))
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) a.atttypid
       WHERE a.attrelid OPERATOR(pg_catalog.=) top.oid AND a.attname OPERATOR(pg_catalog.=) ANY ($2)
         AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)
  -- What the views' rules call: immutable functions and operators only, and
  -- no CURRENT_DATE, CURRENT_USER, nextval or row comparison (whose
  -- operators the tree lists apart).
  AND NOT EXISTS (
      SELECT FROM calls
      WHERE calls.kind OPERATOR(pg_catalog.<>) 'opno' AND calls.oid OPERATOR(pg_catalog.<>) 0
        AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) calls.oid
                                                          AND p.provolatile OPERATOR(pg_catalog.=) 'i'))
  AND NOT EXISTS (
      SELECT FROM calls
      WHERE calls.kind OPERATOR(pg_catalog.=) 'opno'
        AND NOT EXISTS (SELECT FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) o.oprcode
                        WHERE o.oid OPERATOR(pg_catalog.=) calls.oid AND p.provolatile OPERATOR(pg_catalog.=) 'i'))
  AND NOT EXISTS (
      SELECT FROM rules
      WHERE rules.tree OPERATOR(pg_catalog.~) '[{](SQLVALUEFUNCTION|NEXTVALUEEXPR|ROWCOMPARE|CURRENTOFEXPR)')
  -- What the views' rules reference.
  AND NOT EXISTS (
      SELECT FROM deps
      WHERE deps.refclassid NOT IN ('pg_catalog.pg_class'::pg_catalog.regclass, 'pg_catalog.pg_proc'::pg_catalog.regclass,
                                    'pg_catalog.pg_operator'::pg_catalog.regclass, 'pg_catalog.pg_type'::pg_catalog.regclass,
                                    'pg_catalog.pg_collation'::pg_catalog.regclass))
  AND NOT EXISTS (
      SELECT FROM deps JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) deps.refobjid
      WHERE deps.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
        AND p.provolatile OPERATOR(pg_catalog.<>) 'i')
  AND NOT EXISTS (
      SELECT FROM deps
      JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) deps.refobjid
      JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) o.oprcode
      WHERE deps.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass
        AND p.provolatile OPERATOR(pg_catalog.<>) 'i')
  AND NOT EXISTS (
      SELECT FROM deps JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) deps.refobjid
      WHERE deps.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
        AND (CASE WHEN ty.typcategory OPERATOR(pg_catalog.=) 'A' THEN ty.typelem ELSE ty.oid END)
            NOT IN (SELECT plain.oid FROM plain))
