-- Made with only pg_catalog on the path (SECURITY.md: nothing planted in the
-- extension's schema is bound); the extension's objects are named by schema.
SET LOCAL search_path = pg_catalog, pg_temp;
-- rar.basket_state: partial baskets as a value (src/api/basket_state.rs),
-- and rar.baskets_shared, the aggregate rar_mine reads a Citus table
-- through. Its state type is not `internal`, so Citus runs the transition
-- on the workers and only the combine on the coordinator: each worker sends
-- its shards' baskets as one state (the type's text: base64 of the bytes).
CREATE TYPE rar.basket_state;
CREATE FUNCTION rar.basket_state_in(cstring) RETURNS rar.basket_state
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'basket_state_in_wrapper';
CREATE FUNCTION rar.basket_state_out(rar.basket_state) RETURNS cstring
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'basket_state_out_wrapper';
CREATE TYPE rar.basket_state (
    INPUT = rar.basket_state_in, OUTPUT = rar.basket_state_out,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
CREATE FUNCTION rar.basket_state_combine(rar.basket_state, rar.basket_state) RETURNS rar.basket_state
    PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'basket_state_combine_wrapper';
CREATE FUNCTION rar.basket_state_final(rar.basket_state) RETURNS bytea
    PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'basket_state_final_wrapper';
DO $gen$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('text', 'text', ''), ('bigint', 'text', '_bi'),
                                   ('text', 'bigint', '_ib'), ('bigint', 'bigint', '_bb')) AS v(b, i, suffix)
    LOOP
        EXECUTE format('CREATE FUNCTION rar.basket_state_sfunc%s(rar.basket_state, %s, %s) RETURNS rar.basket_state '
                       'PARALLEL SAFE LANGUAGE c AS %L, %L',
                       t.suffix, t.b, t.i, 'MODULE_PATHNAME', 'basket_state_sfunc' || t.suffix || '_wrapper');
        EXECUTE format('CREATE AGGREGATE rar.baskets_shared(basket %s, item %s) (SFUNC = rar.basket_state_sfunc%s, '
                       'STYPE = rar.basket_state, COMBINEFUNC = rar.basket_state_combine, '
                       'FINALFUNC = rar.basket_state_final, FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE)',
                       t.b, t.i, t.suffix);
        EXECUTE format('COMMENT ON AGGREGATE rar.baskets_shared(%s, %s) IS %L', t.b, t.i,
                       'Internal to rar_mine on a Citus table: the baskets of (basket, item) lines, encoded on each worker');
        EXECUTE format('COMMENT ON FUNCTION rar.basket_state_sfunc%s(rar.basket_state, %s, %s) IS %L', t.suffix, t.b, t.i,
                       'Transition function of rar.baskets_shared: adds a line to the baskets');
    END LOOP;
END
$gen$;
COMMENT ON TYPE rar.basket_state IS 'Partial baskets (the encoded lines of a shard): the state rar.baskets_shared passes from Citus workers to the coordinator';
COMMENT ON FUNCTION rar.basket_state_in(cstring) IS 'Input function of rar.basket_state (base64 of its bytes, checked)';
COMMENT ON FUNCTION rar.basket_state_out(rar.basket_state) IS 'Output function of rar.basket_state (base64 of its bytes)';
COMMENT ON FUNCTION rar.basket_state_combine(rar.basket_state, rar.basket_state) IS 'Combine function of rar.baskets_shared: merges two partial baskets';
COMMENT ON FUNCTION rar.basket_state_final(rar.basket_state) IS 'Final function of rar.baskets_shared: hands the baskets to rar_mine, or returns them as bytes';

-- rar.shard_itemsets and rar.shard_counts (src/api/shards.rs): the two
-- rounds of counting on the workers. rar_mine on a Citus table distributed
-- by its basket column runs them on every shard (run_command_on_shards):
-- each shard's frequent itemsets, then every candidate's count on each
-- shard; only itemsets and counts reach the coordinator.
CREATE FUNCTION rar.shard_itemsets(shard pg_catalog.regclass, basket_column text, item_column text,
                                   share float8, max_length integer, memory_limit bigint, threads integer) RETURNS text
    LANGUAGE c AS 'MODULE_PATHNAME', 'shard_itemsets_wrapper';
CREATE FUNCTION rar.shard_counts(shard pg_catalog.regclass, basket_column text, item_column text,
                                 candidates text, memory_limit bigint) RETURNS text
    LANGUAGE c AS 'MODULE_PATHNAME', 'shard_counts_wrapper';
COMMENT ON FUNCTION rar.shard_itemsets(pg_catalog.regclass, text, text, float8, integer, bigint, integer) IS 'Internal to rar_mine on a Citus table: round 1 on one shard, the itemsets of at most max_length items in at least share of its baskets (base64)';
COMMENT ON FUNCTION rar.shard_counts(pg_catalog.regclass, text, text, text, bigint) IS 'Internal to rar_mine on a Citus table: round 2 on one shard, the count of each candidate itemset on its baskets (base64)';

SET LOCAL search_path = @extschema@, pg_temp;
