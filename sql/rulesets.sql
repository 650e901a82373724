-- Rule sets as database objects: registered sources, rule sets with history,
-- the atomic refresh procedure, the views for BI tools and the reporting
-- role. Runs after the functions it calls (rar_mine, rar_explain).

-- Registered sources: a name for a table and how to read it.
CREATE TABLE rar.sources (
    name         text PRIMARY KEY,
    relation     regclass NOT NULL,
    tid_column   text NOT NULL,
    item_column  text NOT NULL,
    label_column text,
    defaults     jsonb NOT NULL DEFAULT '{}',
    keep_sets    integer NOT NULL DEFAULT 10 CHECK (keep_sets >= 1),
    created_by   name NOT NULL DEFAULT current_user,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Labels from a lookup table (label_table.label_key = item,
    -- label_table.label_column = label) instead of a column of the source.
    label_table  regclass,
    label_key    text
);
COMMENT ON TABLE rar.sources IS 'Sources registered with rar_register: table, columns, item labels, mining defaults';

-- One row per rule set mined by rar_refresh; `current` marks the one the
-- views show.
CREATE TABLE rar.rule_sets (
    set_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL REFERENCES rar.sources (name) ON DELETE CASCADE,
    method       text NOT NULL,
    params       jsonb NOT NULL,
    rules        bigint NOT NULL,
    baskets      bigint NOT NULL,
    current      boolean NOT NULL DEFAULT false,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    seconds      float8 NOT NULL,
    refreshed_by name NOT NULL DEFAULT current_user
);
CREATE UNIQUE INDEX rule_sets_one_current ON rar.rule_sets (source) WHERE current;
COMMENT ON TABLE rar.rule_sets IS 'Rule sets kept per source (the last keep_sets of them), with parameters, counts and timing';

CREATE TABLE rar.rule_store (
    set_id            bigint NOT NULL REFERENCES rar.rule_sets (set_id) ON DELETE CASCADE,
    rule_id           integer NOT NULL,
    antecedent        text[] NOT NULL,
    consequent        text[] NOT NULL,
    antecedent_labels text[] NOT NULL,
    consequent_labels text[] NOT NULL,
    support           float8 NOT NULL,
    confidence        float8 NOT NULL,
    lift              float8 NOT NULL,
    leverage          float8 NOT NULL,
    conviction        float8 NOT NULL,
    count             bigint NOT NULL,
    explanation       text NOT NULL,
    -- The antecedent's items joined by the unit separator (U+001F): the
    -- key rar_recommend looks rules up by, one subset of the basket at a time.
    antecedent_key    text NOT NULL,
    PRIMARY KEY (set_id, rule_id)
);
COMMENT ON TABLE rar.rule_store IS 'The rules of every kept rule set';
-- rar_recommend finds the rules whose antecedent is in a basket.
CREATE INDEX rule_store_antecedent_key ON rar.rule_store (set_id, antecedent_key);

ALTER TABLE rar.sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.rule_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE rar.rule_store ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_relation ON rar.sources
    USING (pg_catalog.has_table_privilege(relation, 'SELECT'))
    WITH CHECK (pg_catalog.has_table_privilege(relation, 'SELECT'));
CREATE POLICY by_source ON rar.rule_sets
    USING (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = source))
    WITH CHECK (EXISTS (SELECT 1 FROM rar.sources s WHERE s.name = source));
CREATE POLICY by_set ON rar.rule_store
    USING (EXISTS (SELECT 1 FROM rar.rule_sets s WHERE s.set_id = rule_store.set_id))
    WITH CHECK (EXISTS (SELECT 1 FROM rar.rule_sets s WHERE s.set_id = rule_store.set_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON rar.sources, rar.rule_sets, rar.rule_store TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('rar.sources', '');
SELECT pg_catalog.pg_extension_config_dump('rar.rule_sets', '');
SELECT pg_catalog.pg_extension_config_dump('rar.rule_store', '');

-- Register a source under a name. Columns not given are detected now (as
-- rar_mine does) and stored, so that later calls read the same columns.
CREATE FUNCTION rar_register(
    name text,
    source regclass,
    tid_column text DEFAULT NULL,
    item_column text DEFAULT NULL,
    label_column text DEFAULT NULL,
    defaults jsonb DEFAULT '{}',
    keep_sets integer DEFAULT 10,
    label_table regclass DEFAULT NULL,
    label_key text DEFAULT NULL
) RETURNS SETOF rar.sources LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    cols record;
    labels regclass := coalesce(label_table, source);
BEGIN
    IF name IS NULL OR source IS NULL THEN
        RAISE EXCEPTION 'name and source must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'For example: SELECT rar_register(''sales'', ''public.sales'');';
    END IF;
    SELECT * INTO cols FROM rar_columns(source, tid_column, item_column);
    IF (label_table IS NOT NULL OR label_key IS NOT NULL) AND label_column IS NULL THEN
        RAISE EXCEPTION 'label_table and label_key need label_column'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the column of the lookup table that holds the labels, for example: label_table => ''products'', label_key => ''product_id'', label_column => ''product_name''.';
    END IF;
    IF label_column IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = labels AND a.attname = label_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', label_column, labels
            USING ERRCODE = 'undefined_column', HINT = 'label_column names a column holding a readable label for each item, such as description: of the source, or of label_table when one is given.';
    END IF;
    IF label_table IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = label_table AND a.attname = coalesce(label_key, cols.item_column) AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', coalesce(label_key, cols.item_column), label_table
            USING ERRCODE = 'undefined_column', HINT = 'label_key names the column of label_table that holds the item (the same values as the source''s item column); it defaults to the item column''s name.';
    END IF;
    IF jsonb_typeof(coalesce(defaults, '{}')) <> 'object' THEN
        RAISE EXCEPTION 'defaults must be a jsonb object'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'For example: ''{"min_support": 0.005, "min_confidence": 0.6}''.';
    END IF;
    RETURN QUERY
    INSERT INTO rar.sources AS s (name, relation, tid_column, item_column, label_column, defaults, keep_sets, label_table, label_key)
    VALUES (rar_register.name, source, cols.tid_column, cols.item_column, label_column, coalesce(defaults, '{}'), keep_sets,
            label_table, CASE WHEN label_table IS NOT NULL THEN coalesce(label_key, cols.item_column) END)
    ON CONFLICT ON CONSTRAINT sources_pkey DO UPDATE SET relation = EXCLUDED.relation, tid_column = EXCLUDED.tid_column,
        item_column = EXCLUDED.item_column, label_column = EXCLUDED.label_column, defaults = EXCLUDED.defaults,
        keep_sets = EXCLUDED.keep_sets, label_table = EXCLUDED.label_table, label_key = EXCLUDED.label_key
    RETURNING s.*;
END
$fn$;

CREATE FUNCTION rar_unregister(name text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    DELETE FROM rar.sources s WHERE s.name = rar_unregister.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'source "%" is not registered', name
            USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM rar.sources lists the registered sources.';
    END IF;
    RETURN true;
END
$fn$;

-- The registered source `name`, checked: its table must still exist.
CREATE FUNCTION rar_source(name text) RETURNS rar.sources LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    s rar.sources;
BEGIN
    SELECT * INTO s FROM rar.sources WHERE sources.name = rar_source.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'source "%" is not registered', name
            USING ERRCODE = 'undefined_object',
                  HINT = format('Register it first: SELECT rar_register(%L, ''<table>'');', name);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = s.relation) THEN
        RAISE EXCEPTION 'the table of source "%" was dropped', name
            USING ERRCODE = 'undefined_table',
                  HINT = format('Register the source again on its new table: SELECT rar_register(%L, ''<table>'');', name);
    END IF;
    RETURN s;
END
$fn$;

-- Mines the source and makes the result its current rule set, in the
-- caller's transaction: readers see the old set or the new one, never a mix
-- or none. A second refresh of the same source at the same time fails at
-- once (wait => false, the default) or waits for the first (wait => true).
CREATE PROCEDURE rar_refresh(
    name text,
    min_support float8 DEFAULT NULL,
    min_confidence float8 DEFAULT NULL,
    max_length integer DEFAULT NULL,
    min_lift float8 DEFAULT NULL,
    method text DEFAULT NULL,
    wait boolean DEFAULT false
) LANGUAGE plpgsql AS $fn$
DECLARE
    s rar.sources;
    p jsonb;
    new_set bigint;
    n_rules bigint;
    n_baskets bigint;
    t0 timestamptz := clock_timestamp();
    lock_key bigint;
BEGIN
    s := rar_source(name);
    lock_key := pg_catalog.hashtextextended('rar_refresh:' || name, 0);
    IF wait THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(lock_key);
    ELSIF NOT pg_catalog.pg_try_advisory_xact_lock(lock_key) THEN
        RAISE EXCEPTION 'a refresh of source "%" is already running', name
            USING ERRCODE = 'lock_not_available',
                  HINT = 'Try again when it ends, or CALL rar_refresh(..., wait => true) to wait for it.';
    END IF;
    p := jsonb_build_object('min_support', 0.01, 'min_confidence', 0.5, 'max_length', 4, 'min_lift', 0, 'method', 'exact')
         || s.defaults
         || jsonb_strip_nulls(jsonb_build_object('min_support', min_support, 'min_confidence', min_confidence,
                                                 'max_length', max_length, 'min_lift', min_lift, 'method', method));
    IF p->>'method' <> 'exact' THEN
        RAISE EXCEPTION 'method "%" is not available yet', p->>'method'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use method => ''exact''; neural and hybrid rules come with the basket model.';
    END IF;
    INSERT INTO rar.rule_sets (source, method, params, rules, baskets, seconds)
    VALUES (name, 'exact', p, 0, 0, 0) RETURNING set_id INTO new_set;
    EXECUTE format($q$SELECT count(DISTINCT %I) FROM %s$q$, s.tid_column, s.relation) INTO n_baskets;
    INSERT INTO rar.rule_store (set_id, rule_id, antecedent, consequent, antecedent_labels, consequent_labels,
                                support, confidence, lift, leverage, conviction, count, explanation, antecedent_key)
    SELECT new_set, r.rule_id, r.antecedent, r.consequent, r.antecedent_labels, r.consequent_labels,
           r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count,
           rar_explain(r.antecedent_labels, r.consequent_labels, r.confidence, r.lift, r.support, r.count, n_baskets),
           array_to_string(r.antecedent, E'\x1f')
    FROM rar_labelled_rules(s, p) r;
    GET DIAGNOSTICS n_rules = ROW_COUNT;
    UPDATE rar.rule_sets SET current = false WHERE source = name AND current;
    UPDATE rar.rule_sets SET current = true, rules = n_rules, baskets = n_baskets,
           seconds = extract(epoch FROM clock_timestamp() - t0)
    WHERE set_id = new_set;
    DELETE FROM rar.rule_sets WHERE source = name AND set_id NOT IN (
        SELECT set_id FROM rar.rule_sets WHERE source = name ORDER BY set_id DESC LIMIT s.keep_sets);
END
$fn$;

-- What changed between two rule sets of a source (by default the one
-- before the current one, and the current one).
CREATE FUNCTION rar_diff(name text, old_set bigint DEFAULT NULL, new_set bigint DEFAULT NULL)
RETURNS TABLE (change text, antecedent text[], consequent text[], old_confidence float8, new_confidence float8,
               old_lift float8, new_lift float8)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    o bigint := old_set;
    n bigint := new_set;
BEGIN
    PERFORM rar_source(name);
    IF n IS NULL THEN
        SELECT set_id INTO n FROM rar.rule_sets WHERE source = name AND current;
    END IF;
    IF o IS NULL THEN
        SELECT max(set_id) INTO o FROM rar.rule_sets WHERE source = name AND set_id < n;
    END IF;
    IF o IS NULL OR n IS NULL THEN
        RAISE EXCEPTION 'source "%" has fewer than two rule sets to compare', name
            USING ERRCODE = 'no_data_found', HINT = 'CALL rar_refresh(...) once more, or name the sets: SELECT set_id FROM rar.rule_sets.';
    END IF;
    RETURN QUERY
    SELECT CASE WHEN a.set_id IS NULL THEN 'added'
                WHEN b.set_id IS NULL THEN 'dropped'
                ELSE 'changed' END,
           coalesce(b.antecedent, a.antecedent), coalesce(b.consequent, a.consequent),
           a.confidence, b.confidence, a.lift, b.lift
    FROM (SELECT * FROM rar.rule_store WHERE set_id = o) a
    FULL JOIN (SELECT * FROM rar.rule_store WHERE set_id = n) b
      ON a.antecedent = b.antecedent AND a.consequent = b.consequent
    WHERE a.set_id IS NULL OR b.set_id IS NULL
       OR abs(a.confidence - b.confidence) > 1e-12 OR abs(a.lift - b.lift) > 1e-12
    ORDER BY 1, 2, 3;
END
$fn$;

-- The rules of a source's table, with item labels from the label column (of
-- the source, or of its lookup table).
CREATE FUNCTION rar_labelled_rules(s rar.sources, p jsonb)
RETURNS TABLE (rule_id integer, antecedent text[], consequent text[], antecedent_labels text[], consequent_labels text[],
               support float8, confidence float8, lift float8, leverage float8, conviction float8, count bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    IF s.label_column IS NULL THEN
        RETURN QUERY
        SELECT (row_number() OVER ())::int, r.antecedent, r.consequent, r.antecedent, r.consequent,
               r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count
        FROM rar_mine(s.relation, min_support => (p->>'min_support')::float8, min_confidence => (p->>'min_confidence')::float8,
                      max_length => (p->>'max_length')::int, min_lift => (p->>'min_lift')::float8, min_length => 2,
                      tid_column => s.tid_column, item_column => s.item_column) r;
    ELSE
        CREATE TEMP TABLE IF NOT EXISTS rar_labels (item text PRIMARY KEY, label text) ON COMMIT DROP;
        TRUNCATE rar_labels;
        EXECUTE format('INSERT INTO rar_labels SELECT %I::text, min(%I::text) FROM %s WHERE %I IS NOT NULL GROUP BY 1',
                       coalesce(s.label_key, s.item_column), s.label_column, coalesce(s.label_table, s.relation),
                       coalesce(s.label_key, s.item_column));
        RETURN QUERY
        SELECT (row_number() OVER ())::int, r.antecedent, r.consequent,
               ARRAY(SELECT coalesce(l.label, x) FROM unnest(r.antecedent) WITH ORDINALITY u(x, i) LEFT JOIN rar_labels l ON l.item = x ORDER BY i),
               ARRAY(SELECT coalesce(l.label, x) FROM unnest(r.consequent) WITH ORDINALITY u(x, i) LEFT JOIN rar_labels l ON l.item = x ORDER BY i),
               r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count
        FROM rar_mine(s.relation, min_support => (p->>'min_support')::float8, min_confidence => (p->>'min_confidence')::float8,
                      max_length => (p->>'max_length')::int, min_lift => (p->>'min_lift')::float8, min_length => 2,
                      tid_column => s.tid_column, item_column => s.item_column) r;
    END IF;
END
$fn$;

-- The current rules of every registered source, one row per rule, in plain
-- columns that BI tools filter and sort.
CREATE VIEW rar.rules AS
SELECT s.source, r.rule_id, r.antecedent, r.consequent,
       array_to_string(r.antecedent_labels, ', ') AS antecedent_text,
       array_to_string(r.consequent_labels, ', ') AS consequent_text,
       r.antecedent_labels, r.consequent_labels,
       r.support, r.confidence, r.lift, r.leverage, r.conviction, r.count,
       s.method, NULL::integer AS model_version, s.refreshed_at, r.explanation
FROM rar.rule_sets s JOIN rar.rule_store r USING (set_id)
WHERE s.current;
COMMENT ON VIEW rar.rules IS 'The current rules of every registered source, for BI tools';

-- Nodes (items) and edges (antecedent item -> consequent item, one per rule
-- and antecedent item) of the current rules, for graph panels.
CREATE VIEW rar.rule_graph AS
WITH cur AS (
    SELECT s.source, r.* FROM rar.rule_sets s JOIN rar.rule_store r USING (set_id) WHERE s.current
), edges AS (
    SELECT c.source, a.item AS from_id, a.label AS from_label, k.item AS to_id, k.label AS to_label,
           c.rule_id, c.confidence, c.lift, c.support
    FROM cur c
    CROSS JOIN LATERAL unnest(c.antecedent, c.antecedent_labels) AS a(item, label)
    CROSS JOIN LATERAL unnest(c.consequent, c.consequent_labels) AS k(item, label)
)
SELECT source, 'node'::text AS kind, id, label, NULL::text AS from_id, NULL::text AS to_id,
       NULL::integer AS rule_id, rules::float8 AS weight, NULL::float8 AS lift
FROM (SELECT source, id, min(label) AS label, count(*) AS rules
      FROM (SELECT source, from_id AS id, from_label AS label FROM edges
            UNION ALL SELECT source, to_id, to_label FROM edges) n
      GROUP BY source, id) nodes
UNION ALL
SELECT source, 'edge', from_id || '->' || to_id || '#' || rule_id, from_label || ' -> ' || to_label,
       from_id, to_id, rule_id, confidence, lift
FROM edges;
COMMENT ON VIEW rar.rule_graph IS 'Items (kind node, weight = rules) and rules (kind edge, weight = confidence) of the current rules';

CREATE VIEW rar.rule_history AS
SELECT set_id, source, method, params, rules, baskets, current, refreshed_at, seconds, refreshed_by
FROM rar.rule_sets;

-- The reporting role: reads the rule views and nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rar_reader') THEN
        CREATE ROLE rar_reader NOLOGIN;
    END IF;
END
$$;
COMMENT ON ROLE rar_reader IS 'Reads the rule views of the rar extension (rar.rules, rar.rule_graph, rar.rule_history) and nothing else';
GRANT SELECT ON rar.rules, rar.rule_graph, rar.rule_history TO rar_reader;

-- Hyperparameter search: one trial per combination (grid) or per draw
-- (random), each a full rar_train on the training split scored on the
-- validation split; every trial is recorded, and only the best model (by
-- validation recall@10) is kept as a new version.
CREATE TABLE rar.tuning_trials (
    tuning_id    bigint NOT NULL,
    trial        integer NOT NULL,
    source       regclass NOT NULL,
    model        text NOT NULL,
    params       jsonb NOT NULL,
    recall_at_10 float8 NOT NULL,
    ndcg_at_10   float8 NOT NULL,
    valid_loss   float8 NOT NULL,
    seconds      float8 NOT NULL,
    best         boolean NOT NULL DEFAULT false,
    model_id     bigint,
    tuned_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tuning_id, trial)
);
CREATE SEQUENCE rar.tuning_seq;
ALTER TABLE rar.tuning_trials ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_relation ON rar.tuning_trials USING (pg_catalog.has_table_privilege(source, 'SELECT'))
    WITH CHECK (pg_catalog.has_table_privilege(source, 'SELECT'));
GRANT SELECT, INSERT, UPDATE ON rar.tuning_trials TO PUBLIC;
GRANT USAGE ON SEQUENCE rar.tuning_seq TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('rar.tuning_trials', '');

CREATE FUNCTION rar_tune(
    source regclass,
    model text,
    grid jsonb,
    params jsonb DEFAULT '{}',
    search text DEFAULT 'grid',
    trials integer DEFAULT 10,
    seed bigint DEFAULT 0
) RETURNS TABLE (tuning_id bigint, trial integer, trial_params jsonb, recall_at_10 float8, ndcg_at_10 float8,
                 valid_loss float8, seconds float8, best boolean, model_id bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    t bigint := nextval('rar.tuning_seq');
    p jsonb;
    n integer := 0;
    r record;
    best_trial integer;
    had_deployed boolean;
BEGIN
    IF jsonb_typeof(coalesce(params, '{}')) <> 'object' THEN
        RAISE EXCEPTION 'params must be a jsonb object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Settings shared by every trial, for example ''{"epochs": 5}''.';
    END IF;
    SELECT EXISTS (SELECT 1 FROM rar.models m WHERE m.source = rar_tune.source AND m.deployed) INTO had_deployed;
    FOR p IN SELECT * FROM rar_tune_plan(grid, search, trials, seed) LOOP
        n := n + 1;
        SELECT * INTO r FROM rar_train(source, model, coalesce(rar_tune.params, '{}') || p);
        INSERT INTO rar.tuning_trials (tuning_id, trial, source, model, params, recall_at_10, ndcg_at_10, valid_loss, seconds, model_id)
        VALUES (t, n, source, model, p, r.recall_at_10, r.ndcg_at_10, r.valid_loss, r.seconds, r.model_id);
    END LOOP;
    IF n = 0 THEN
        RAISE EXCEPTION 'the grid has no trials' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Give each hyperparameter a list of values, for example ''{"hidden": [64, 128]}''.';
    END IF;
    SELECT tt.trial INTO best_trial FROM rar.tuning_trials tt WHERE tt.tuning_id = t
    ORDER BY tt.recall_at_10 DESC, tt.ndcg_at_10 DESC, tt.trial LIMIT 1;
    UPDATE rar.tuning_trials tt SET best = (tt.trial = best_trial) WHERE tt.tuning_id = t;
    -- Only the best trial's model stays in the registry.
    DELETE FROM rar.models m USING rar.tuning_trials tt
    WHERE tt.tuning_id = t AND NOT tt.best AND m.model_id = tt.model_id;
    UPDATE rar.tuning_trials tt SET model_id = NULL WHERE tt.tuning_id = t AND NOT tt.best;
    IF NOT had_deployed AND NOT EXISTS (SELECT 1 FROM rar.models m WHERE m.source = rar_tune.source AND m.deployed) THEN
        PERFORM rar_deploy((SELECT tt.model_id FROM rar.tuning_trials tt WHERE tt.tuning_id = t AND tt.best));
    END IF;
    RETURN QUERY SELECT tt.tuning_id, tt.trial, tt.params, tt.recall_at_10, tt.ndcg_at_10, tt.valid_loss, tt.seconds, tt.best, tt.model_id
                 FROM rar.tuning_trials tt WHERE tt.tuning_id = t ORDER BY tt.trial;
END
$fn$;
