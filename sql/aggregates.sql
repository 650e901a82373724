-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- The aggregates over the support functions of src/api/aggregate.rs, for
-- each type pair of (basket, item): text or bigint (smaller integers cast to
-- bigint implicitly). All share one state (partial baskets), one combine,
-- serialize and deserialize function, and are parallel safe; the final
-- functions consume the state (FINALFUNC_MODIFY = READ_WRITE), so they are
-- refused as window functions.
--   rar.baskets(basket, item)        what rar_mine reads through
--   rar.baskets_state(basket, item)  the baskets as bytes (a shard's answer)
--   rar_rules_agg(basket, item, min_support, min_confidence [, max_length])
DO $gen$
DECLARE
    t record;
    common constant text := 'STYPE = internal, COMBINEFUNC = rar.baskets_combine, '
        'SERIALFUNC = rar.baskets_serial, DESERIALFUNC = rar.baskets_deserial, '
        'FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE';
BEGIN
    FOR t IN SELECT * FROM (VALUES ('text', 'text', ''), ('bigint', 'text', '_bi'),
                                   ('text', 'bigint', '_ib'), ('bigint', 'bigint', '_bb')) AS v(b, i, suffix)
    LOOP
        EXECUTE format('CREATE AGGREGATE rar.baskets(basket %s, item %s) (SFUNC = rar.baskets_sfunc%s, FINALFUNC = rar.baskets_final, %s)',
                       t.b, t.i, t.suffix, common);
        EXECUTE format('CREATE AGGREGATE rar.baskets_state(basket %s, item %s) (SFUNC = rar.baskets_sfunc%s, FINALFUNC = rar.baskets_serial, %s)',
                       t.b, t.i, t.suffix, common);
        EXECUTE format('CREATE AGGREGATE @extschema@.rar_rules_agg(basket %s, item %s, min_support float8, min_confidence float8, max_length integer) '
                       '(SFUNC = rar.rules_sfunc%s, FINALFUNC = rar.rules_final, %s)', t.b, t.i, t.suffix, common);
        EXECUTE format('CREATE AGGREGATE @extschema@.rar_rules_agg(basket %s, item %s, min_support float8, min_confidence float8) '
                       '(SFUNC = rar.rules_sfunc4%s, FINALFUNC = rar.rules_final, %s)', t.b, t.i, t.suffix, common);
        EXECUTE format('COMMENT ON AGGREGATE rar.baskets(%s, %s) IS %L', t.b, t.i,
                       'Internal to rar_mine: collects (basket, item) lines, in parallel workers when the plan has them');
        EXECUTE format('COMMENT ON AGGREGATE rar.baskets_state(%s, %s) IS %L', t.b, t.i,
                       'The encoded baskets of a table as bytes: what a shard sends to the coordinator');
        EXECUTE format('COMMENT ON AGGREGATE @extschema@.rar_rules_agg(%s, %s, float8, float8, integer) IS %L', t.b, t.i,
                       'Association rules of each group (one consequent, up to max_length items) as a jsonb array');
        EXECUTE format('COMMENT ON AGGREGATE @extschema@.rar_rules_agg(%s, %s, float8, float8) IS %L', t.b, t.i,
                       'Association rules of each group (one consequent, up to 4 items) as a jsonb array');
    END LOOP;
END
$gen$;

SET LOCAL search_path = @extschema@, pg_temp;
