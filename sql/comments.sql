-- Help inside the database: a COMMENT on every function, procedure,
-- aggregate, table, view and column of the extension, for \df+ and \d+.
-- Runs last, once everything it describes exists. (tests/pg_regress
-- 13_security checks that nothing of the extension is left without one.)

COMMENT ON FUNCTION @extschema@.rar_mine(text, float8, float8, integer, text, text, integer, float8, integer, text, text, text, bigint, float8, float8, float8, text, float8, text, float8) IS
'Association rules of a sales table or view (long form: one row per basket and item; or basket form: an item array per row), with support, confidence, lift, leverage, conviction and count. method: exact (default), neural or hybrid (with the table''s deployed model). p_value: one-sided Fisher''s exact test, corrected by p_adjust (holm by default) over the rules returned; max_p_value and min_improvement (0: no redundant rules) filter. level mines at a level of the source''s product hierarchy (rar_hierarchy), or across items and every level (''all'', filtered by min_interest). See the README''s reference.';
COMMENT ON FUNCTION @extschema@.rar_mine_segments(text, text, float8, float8, integer, text, text, integer) IS
'The rules of every value of segment_column (a store, a region, a month) mined separately, as rows.';
COMMENT ON FUNCTION @extschema@.rar_clean(text, text, text, text, text, boolean, text, boolean, boolean, text, boolean, text[], text, boolean, float8, integer, float8, boolean) IS
'Cleans a sales table in place (NULLs, cancellations, non-positive quantities, item text, placeholders, duplicates, outliers, huge baskets), keeping every removed or changed line in <table>_rar_rejected; one report row per rule. dry_run => true changes nothing.';
COMMENT ON FUNCTION @extschema@.rar_restore(text, bigint) IS
'Undoes a rar_clean run (the last one not restored yet, or all of them, last first): removed lines back, changed lines back to their originals. Returns the lines put back.';
COMMENT ON FUNCTION @extschema@.rar_normalize_item(text, text, boolean) IS
'The item normalization rar_clean applies: trim, collapse white space, repair mojibake, fold case (none, upper, lower).';
COMMENT ON FUNCTION @extschema@.rar_split(text, float8, float8, float8, integer, text, text, text, integer) IS
'Records a deterministic train/validation/test split of a table by basket (hash of the basket id and seed, or the last test_days days as test) in rar.splits; returns the size of each set.';
COMMENT ON FUNCTION @extschema@.rar_track_changes(text, boolean) IS
'Adds (track => false: removes) the statement trigger that records every change of a plain table, so that sessions keep its encoded baskets between calls (rar.basket_cache) and read it again only when it changed.';
COMMENT ON FUNCTION @extschema@.rar_basket_cache() IS
'The encoded baskets this session keeps (tables tracked by rar_track_changes): table, columns, canonical order, bytes, uses.';
COMMENT ON FUNCTION @extschema@.rar_profile(text, text, text, integer, integer) IS
'What a sales table looks like before choosing thresholds: lines, baskets, items, basket sizes, top and rare items, as jsonb.';
COMMENT ON FUNCTION @extschema@.rar_encode(text, text[], text, integer, boolean, text, text) IS
'Encodes attribute columns as item tokens (onehot, bins) in the view <table>_rar_items, or as normalized columns (zscore, minmax); parameters kept in rar.encodings. For the table''s owner.';
COMMENT ON FUNCTION @extschema@.rar_columns(text, text, text) IS
'The basket and item columns rar_mine would use for a relation (given, or detected by name and shape).';
COMMENT ON FUNCTION @extschema@.rar_explain(text[], text[], float8, float8, float8, bigint, bigint, float8) IS
'A rule as an English sentence with its numbers formatted for people.';
COMMENT ON FUNCTION @extschema@.rar_plot(text, text, integer) IS
'An SVG picture of a registered source''s current rules: scatter (support x confidence, coloured by lift) or graph (items joined by the top rules).';
COMMENT ON FUNCTION @extschema@.rar_recommend(text[], integer, text, text, bigint, text) IS
'The k best items to add to a basket, for a registered source: by its current rules, its deployed model, or both (hybrid); with customer, a sequence model (gru) also reads that customer''s most recent baskets in the table. Never an item already in the basket.';
COMMENT ON FUNCTION @extschema@.rar_evaluate(text, float8, float8, integer, text[], float8, float8, text) IS
'Judges a registered source''s rules (exact, neural, hybrid) and deployed model on its held-out split: rules holding, coverage, and basket completion (hit rate, recall, NDCG at 5, 10, 20) against popularity.';
COMMENT ON FUNCTION @extschema@.rar_train(text, text, jsonb, text, text, text, text) IS
'Trains a basket model (mlp, autoencoder or transformer; or gru, the sequence model over each customer''s earlier baskets, with customer_column and time_column) with libtorch inside the server, on the GPU when there is one, and stores it in rar.models (the first model of a table is deployed). For the table''s owner.';
COMMENT ON FUNCTION @extschema@.rar_tune_plan(jsonb, text, integer, bigint) IS
'The trials a hyperparameter search would run: every combination of a grid, or a seeded random sample; at most 1000.';
COMMENT ON FUNCTION @extschema@.rar_tune(text, text, jsonb, jsonb, text, integer, bigint, text, text) IS
'Hyperparameter search: trains one model per trial, records every trial in rar.tuning_trials and keeps only the best model (by validation recall@10). For the table''s owner.';
COMMENT ON FUNCTION @extschema@.rar_deploy(bigint) IS
'Makes a model the one in use for its table (rar_recommend, neural rules, rar_evaluate) and answers one summary row: the model, its validation recall@10, what it replaced. Recorded in rar.deployments. For the table''s owner.';
COMMENT ON FUNCTION rar.deploy(bigint, text) IS 'Internal to rar_deploy, rar_rollback and rar_tune: deploys a model and records how';
COMMENT ON FUNCTION @extschema@.rar_rollback(text) IS
'Deploys again the model that was deployed before the current one. For the table''s owner.';
COMMENT ON FUNCTION @extschema@.rar_register(text, regclass, text, text, text, jsonb, integer, regclass, text) IS
'Registers (or updates) a source under a name: its table, columns, item labels, mining defaults and how many rule sets to keep. For the table''s owner.';
COMMENT ON FUNCTION @extschema@.rar_hierarchy(text, regclass, text[], text) IS 'Names the product hierarchy of a registered source (a lookup table, levels lowest first), for rar_mine(level => ...)';
COMMENT ON FUNCTION @extschema@.rar_unregister(text) IS
'Forgets a registered source and its rule sets.';
COMMENT ON FUNCTION @extschema@.rar_source(text) IS
'A registered source, checked: an error says what is wrong (not registered, table dropped, or no right to read its rules).';
COMMENT ON PROCEDURE @extschema@.rar_refresh(text, float8, float8, integer, float8, text, boolean) IS
'Mines a registered source and makes the result its current rule set, in the caller''s transaction (readers see the old set or the new one). For pg_cron: CALL rar_refresh(''sales'').';
COMMENT ON FUNCTION @extschema@.rar_diff(text, bigint, bigint) IS
'Rules added, dropped or changed between two rule sets of a source (by default the previous and the current one).';
COMMENT ON FUNCTION @extschema@.rar_labelled_rules(rar.sources, jsonb) IS
'Internal to CALL rar_refresh: a source''s rules with their item labels.';
COMMENT ON FUNCTION @extschema@.rar_grant(text, regrole) IS
'Lets a role (a BI login) read the rules of a source without any right on its table. For the table''s owner.';
COMMENT ON FUNCTION @extschema@.rar_revoke(text, regrole) IS
'Takes back what rar_grant gave.';
COMMENT ON FUNCTION rar.mine_defaults() IS 'The defaults of the mining thresholds, as CALL rar_refresh applies them';
COMMENT ON FUNCTION rar.lock_for_read(regclass) IS 'Takes a read''s lock on the relation (when the caller may read it) and checks that its definition is the one this transaction''s snapshot shows: what rar_refresh checks on the relations it reads holds to the end of the transaction';
COMMENT ON FUNCTION rar.may_read_set(bigint) IS 'Policy of rar.rule_store: whether the current role may read the rule set (its rar.rule_sets row is visible); asked once per set and role within a statement';
COMMENT ON FUNCTION rar.may_manage_set(bigint) IS 'Policy of rar.rule_store: whether the current role may write the rule set (rar.may_manage of its source''s table); asked once per set and role within a statement';
COMMENT ON FUNCTION rar.check_thresholds(float8, float8, float8) IS 'Refuses (22023) thresholds rar_mine refuses, with its messages: what CALL rar_refresh checks its arguments with first; NULL is not given';
COMMENT ON FUNCTION rar.check_defaults(jsonb) IS 'Refuses (22023) mining defaults rar_register and rar_refresh cannot use; a key whose value is null stands for rar''s own default';
COMMENT ON FUNCTION rar.check_extension_schema(text) IS 'Refuses (55000) when the extension''s schema no longer has the name rar''s PL/pgSQL bodies call its functions by, and keeps that name bound to that schema to the end of the transaction: called first by each of them';
COMMENT ON FUNCTION rar.managed_source(text, text) IS 'Internal: a registered source, for a change only the owner of its table may make';
COMMENT ON FUNCTION rar.check_manage(regclass, text) IS 'Internal: raises 42501 unless the current role owns the table';
COMMENT ON FUNCTION rar.baskets_sfunc(internal, text, text) IS 'Internal: transition function of rar.baskets (text, text)';
COMMENT ON FUNCTION rar.baskets_sfunc_bi(internal, bigint, text) IS 'Internal: transition function of rar.baskets (bigint, text)';
COMMENT ON FUNCTION rar.baskets_sfunc_ib(internal, text, bigint) IS 'Internal: transition function of rar.baskets (text, bigint)';
COMMENT ON FUNCTION rar.baskets_sfunc_bb(internal, bigint, bigint) IS 'Internal: transition function of rar.baskets (bigint, bigint)';
COMMENT ON FUNCTION rar.rules_sfunc(internal, text, text, float8, float8, integer) IS 'Internal: transition function of rar_rules_agg (text, text)';
COMMENT ON FUNCTION rar.rules_sfunc_bi(internal, bigint, text, float8, float8, integer) IS 'Internal: transition function of rar_rules_agg (bigint, text)';
COMMENT ON FUNCTION rar.rules_sfunc_ib(internal, text, bigint, float8, float8, integer) IS 'Internal: transition function of rar_rules_agg (text, bigint)';
COMMENT ON FUNCTION rar.rules_sfunc_bb(internal, bigint, bigint, float8, float8, integer) IS 'Internal: transition function of rar_rules_agg (bigint, bigint)';
COMMENT ON FUNCTION rar.rules_sfunc4(internal, text, text, float8, float8) IS 'Internal: transition function of rar_rules_agg (text, text), max_length 4';
COMMENT ON FUNCTION rar.rules_sfunc4_bi(internal, bigint, text, float8, float8) IS 'Internal: transition function of rar_rules_agg (bigint, text), max_length 4';
COMMENT ON FUNCTION rar.rules_sfunc4_ib(internal, text, bigint, float8, float8) IS 'Internal: transition function of rar_rules_agg (text, bigint), max_length 4';
COMMENT ON FUNCTION rar.rules_sfunc4_bb(internal, bigint, bigint, float8, float8) IS 'Internal: transition function of rar_rules_agg (bigint, bigint), max_length 4';
COMMENT ON FUNCTION rar.baskets_combine(internal, internal) IS 'Internal: merges two parallel workers'' partial baskets';
COMMENT ON FUNCTION rar.baskets_serial(internal) IS 'Internal: partial baskets as bytes (between workers, and what a shard returns)';
COMMENT ON FUNCTION rar.baskets_deserial(bytea, internal) IS 'Internal: partial baskets from bytes';
COMMENT ON FUNCTION rar.baskets_final(internal) IS 'Internal: hands the merged baskets to the rar_mine call that ran rar.baskets';
COMMENT ON FUNCTION rar.rules_final(internal) IS 'Internal: mines one group''s baskets for rar_rules_agg';

COMMENT ON TABLE rar.tuning_trials IS 'Every trial of every rar_tune search: settings and validation metrics; only the best trial keeps its model';
COMMENT ON VIEW rar.rule_trends IS 'Each rule of each kept rule set beside the set refreshed before it: emerged, held or vanished, and a test of its change in confidence';
COMMENT ON FUNCTION rar.confidence_change_p(bigint, bigint, bigint, bigint) IS 'Two-sided p-value that a rule''s confidence (count of antecedent count baskets) is the same before and after: a test of two proportions';
COMMENT ON COLUMN rar.rule_trends.source IS 'The registered source';
COMMENT ON COLUMN rar.rule_trends.set_id IS 'The rule set';
COMMENT ON COLUMN rar.rule_trends.refreshed_at IS 'When it was mined';
COMMENT ON COLUMN rar.rule_trends.previous_set IS 'The set refreshed before it (NULL for the first kept)';
COMMENT ON COLUMN rar.rule_trends.same_params IS 'Whether both sets were mined with the same thresholds and model (compare like with like)';
COMMENT ON COLUMN rar.rule_trends.antecedent IS 'Items of the left-hand side';
COMMENT ON COLUMN rar.rule_trends.consequent IS 'Items of the right-hand side';
COMMENT ON COLUMN rar.rule_trends.antecedent_text IS 'Labels of the left-hand side, as one line';
COMMENT ON COLUMN rar.rule_trends.consequent_text IS 'Labels of the right-hand side, as one line';
COMMENT ON COLUMN rar.rule_trends.support IS 'Support in this set (NULL when the rule vanished)';
COMMENT ON COLUMN rar.rule_trends.confidence IS 'Confidence in this set';
COMMENT ON COLUMN rar.rule_trends.lift IS 'Lift in this set';
COMMENT ON COLUMN rar.rule_trends.count IS 'Baskets holding the rule in this set';
COMMENT ON COLUMN rar.rule_trends.baskets IS 'Baskets of the table when this set was mined';
COMMENT ON COLUMN rar.rule_trends.previous_support IS 'Support in the previous set (NULL when the rule emerged)';
COMMENT ON COLUMN rar.rule_trends.previous_confidence IS 'Confidence in the previous set';
COMMENT ON COLUMN rar.rule_trends.previous_lift IS 'Lift in the previous set';
COMMENT ON COLUMN rar.rule_trends.previous_count IS 'Baskets holding the rule in the previous set';
COMMENT ON COLUMN rar.rule_trends.change IS 'first (no previous set), emerged, held or vanished';
COMMENT ON COLUMN rar.rule_trends.p_change IS 'Two-sided p-value that the confidence did not change (held rules only)';
COMMENT ON VIEW rar.rule_history IS 'The kept rule sets of every registered source, current or not';
COMMENT ON SEQUENCE rar.clean_run_seq IS 'Numbers the runs of rar_clean';
COMMENT ON SEQUENCE rar.table_change_seq IS 'Numbers the rows of rar.table_changes';
COMMENT ON COLUMN rar.table_changes.relid IS 'The tracked table (an OID: the row outlives a dropped table harmlessly)';
COMMENT ON COLUMN rar.table_changes.change IS 'The row''s number, from rar.table_change_seq';
COMMENT ON COLUMN rar.table_changes.weight IS 'How many changes the row stands for (more than 1 once older rows are folded into it)';
COMMENT ON SEQUENCE rar.tuning_seq IS 'Numbers the searches of rar_tune';
COMMENT ON SEQUENCE rar.models_model_id_seq IS 'Numbers the models of rar.models';
COMMENT ON SEQUENCE rar.rule_sets_set_id_seq IS 'Numbers the rule sets of rar.rule_sets';

COMMENT ON COLUMN rar.clean_log.run IS 'Run number (rar_restore takes it)';
COMMENT ON COLUMN rar.clean_log.relation IS 'The table cleaned';
COMMENT ON COLUMN rar.clean_log.quarantine IS 'The table that holds the lines the run removed or changed';
COMMENT ON COLUMN rar.clean_log.dry_run IS 'Whether the run changed nothing (dry_run => true)';
COMMENT ON COLUMN rar.clean_log.options IS 'The options of the call, and the table''s columns at the time';
COMMENT ON COLUMN rar.clean_log.report IS 'One object per rule applied: step, action, rows, detail';
COMMENT ON COLUMN rar.clean_log.lines_before IS 'Lines of the table before the run';
COMMENT ON COLUMN rar.clean_log.lines_after IS 'Lines after the run (= lines_before - removed)';
COMMENT ON COLUMN rar.clean_log.removed IS 'Lines moved to the quarantine';
COMMENT ON COLUMN rar.clean_log.changed IS 'Lines changed in place (their originals are in the quarantine)';
COMMENT ON COLUMN rar.clean_log.run_by IS 'The role that ran it';
COMMENT ON COLUMN rar.clean_log.run_at IS 'When it ran';
COMMENT ON COLUMN rar.clean_log.restored_at IS 'When rar_restore undid it (NULL: not undone)';
COMMENT ON COLUMN rar.clean_log.restored_by IS 'The role that undid it';
COMMENT ON COLUMN rar.encodings.relation IS 'The table encoded';
COMMENT ON COLUMN rar.encodings.column_name IS 'The column encoded';
COMMENT ON COLUMN rar.encodings.method IS 'onehot, bins, zscore or minmax';
COMMENT ON COLUMN rar.encodings.params IS 'What the encoding needs to apply to new rows: values, cut points, mean and deviation, minimum and maximum';
COMMENT ON COLUMN rar.encodings.created_at IS 'When it was last computed';
COMMENT ON COLUMN rar.models.model_id IS 'Model number (rar_deploy takes it)';
COMMENT ON COLUMN rar.models.source IS 'The table the model was trained on';
COMMENT ON COLUMN rar.models.version IS 'Version of the model among those of its table (1, 2, ...)';
COMMENT ON COLUMN rar.models.architecture IS 'mlp, autoencoder, transformer, or gru (the sequence model)';
COMMENT ON COLUMN rar.models.params IS 'Every hyperparameter it was trained with';
COMMENT ON COLUMN rar.models.vocab IS 'The items the model knows, in the order of its outputs';
COMMENT ON COLUMN rar.models.weights IS 'The trained weights as safetensors (models saved before 0.2.0: libtorch archives, read as data, their code never run)';
COMMENT ON COLUMN rar.models.curves IS 'Per epoch: training loss, validation metrics, time';
COMMENT ON COLUMN rar.models.metrics IS 'Validation metrics of the kept epoch, and of the popularity baseline';
COMMENT ON COLUMN rar.models.device IS 'cpu or cuda';
COMMENT ON COLUMN rar.models.seconds IS 'Training time';
COMMENT ON COLUMN rar.models.lines IS 'Lines read';
COMMENT ON COLUMN rar.models.train_baskets IS 'Baskets trained on';
COMMENT ON COLUMN rar.models.valid_baskets IS 'Baskets validated on';
COMMENT ON COLUMN rar.models.split IS 'Which split was used (recorded by rar_split, or the default)';
COMMENT ON COLUMN rar.models.deployed IS 'Whether it is the model in use for its table (one per table)';
COMMENT ON COLUMN rar.models.deployed_at IS 'When it was last deployed';
COMMENT ON COLUMN rar.models.trained_by IS 'The role that trained it';
COMMENT ON COLUMN rar.models.trained_at IS 'When it was trained';
COMMENT ON COLUMN rar.models.train_checksum IS 'Fingerprint of the training split (a checksum of its baskets); rar_evaluate compares it with the table''s now (NULL for models of 0.1.0)';
COMMENT ON COLUMN rar.models.read_columns IS 'The columns it was trained on: tid_column and item_column, and for the sequence model customer_column and time_column, through which rar_recommend and rar_evaluate read a customer''s earlier baskets (NULL for models of 0.1.0)';
COMMENT ON COLUMN rar.rule_sets.set_id IS 'Rule set number (rar_diff takes it)';
COMMENT ON COLUMN rar.rule_sets.source IS 'The registered source';
COMMENT ON COLUMN rar.rule_sets.method IS 'exact, neural or hybrid';
COMMENT ON COLUMN rar.rule_sets.params IS 'The thresholds it was mined with';
COMMENT ON COLUMN rar.rule_sets.rules IS 'Number of rules';
COMMENT ON COLUMN rar.rule_sets.baskets IS 'Baskets of the table when mined';
COMMENT ON COLUMN rar.rule_sets.current IS 'Whether it is the set the views show (one per source)';
COMMENT ON COLUMN rar.rule_sets.refreshed_at IS 'When it was mined';
COMMENT ON COLUMN rar.rule_sets.seconds IS 'How long the refresh took';
COMMENT ON COLUMN rar.rule_sets.refreshed_by IS 'The role that refreshed it';
COMMENT ON COLUMN rar.rule_sets.model_id IS 'The model neural and hybrid rules were read off (NULL for exact rules)';
COMMENT ON COLUMN rar.rule_store.set_id IS 'The rule set';
COMMENT ON COLUMN rar.rule_store.rule_id IS 'Rank of the rule in its set (by lift, confidence, count)';
COMMENT ON COLUMN rar.rule_store.antecedent IS 'Items of the left-hand side (as in the table)';
COMMENT ON COLUMN rar.rule_store.consequent IS 'Items of the right-hand side';
COMMENT ON COLUMN rar.rule_store.antecedent_labels IS 'Labels of the left-hand side''s items';
COMMENT ON COLUMN rar.rule_store.consequent_labels IS 'Labels of the right-hand side''s items';
COMMENT ON COLUMN rar.rule_store.support IS 'Share of baskets holding both sides';
COMMENT ON COLUMN rar.rule_store.confidence IS 'Share of the baskets holding the left side that hold the right side too';
COMMENT ON COLUMN rar.rule_store.lift IS 'Confidence divided by the right side''s support (1: independent)';
COMMENT ON COLUMN rar.rule_store.leverage IS 'Support minus what independence predicts';
COMMENT ON COLUMN rar.rule_store.conviction IS '(1 - support of the right side) / (1 - confidence); Infinity when confidence is 1';
COMMENT ON COLUMN rar.rule_store.count IS 'Baskets holding both sides';
COMMENT ON COLUMN rar.rule_store.explanation IS 'The rule as an English sentence';
COMMENT ON COLUMN rar.rule_store.antecedent_key IS 'Internal: lookup key of the left side (rar.rule_key)';
COMMENT ON COLUMN rar.rule_store.antecedent_hash IS 'Internal: hash of antecedent_key, indexed for rar_recommend''s lookups';
COMMENT ON COLUMN rar.source_grants.source IS 'The registered source';
COMMENT ON COLUMN rar.source_grants.relation IS 'Its table (a grant is about that table''s rules)';
COMMENT ON COLUMN rar.source_grants.grantee IS 'The role that may read the rules';
COMMENT ON COLUMN rar.source_grants.granted_by IS 'The role that granted them';
COMMENT ON COLUMN rar.source_grants.granted_at IS 'When';
COMMENT ON COLUMN rar.sources.name IS 'The source''s name (rar_refresh, rar_recommend, rar_plot... take it)';
COMMENT ON COLUMN rar.sources.relation IS 'Its table or view';
COMMENT ON COLUMN rar.sources.tid_column IS 'The basket id column';
COMMENT ON COLUMN rar.sources.item_column IS 'The item column';
COMMENT ON COLUMN rar.sources.label_column IS 'The column with a readable label per item (of the table, or of label_table)';
COMMENT ON COLUMN rar.sources.defaults IS 'Mining thresholds of its refreshes (over rar.mine_defaults())';
COMMENT ON COLUMN rar.sources.keep_sets IS 'How many rule sets to keep';
COMMENT ON COLUMN rar.sources.created_by IS 'The role that registered it';
COMMENT ON COLUMN rar.sources.created_at IS 'When';
COMMENT ON COLUMN rar.sources.label_table IS 'A lookup table holding the labels, when they are not in the table itself';
COMMENT ON COLUMN rar.sources.label_key IS 'The column of label_table that holds the item';
COMMENT ON COLUMN rar.sources.hierarchy_table IS 'The lookup table of its product hierarchy (rar_hierarchy), if any';
COMMENT ON COLUMN rar.sources.hierarchy_key IS 'The column of hierarchy_table that holds the item';
COMMENT ON COLUMN rar.sources.hierarchy_levels IS 'The columns of hierarchy_table that hold the levels, lowest first';
COMMENT ON COLUMN rar.splits.relation IS 'The table split';
COMMENT ON COLUMN rar.splits.tid_column IS 'The basket id column hashed';
COMMENT ON COLUMN rar.splits.seed IS 'Seed of the hash';
COMMENT ON COLUMN rar.splits.train IS 'Share of baskets for training';
COMMENT ON COLUMN rar.splits.validation IS 'Share for validation';
COMMENT ON COLUMN rar.splits.test IS 'Share for test';
COMMENT ON COLUMN rar.splits.time_column IS 'For a time split: the time column';
COMMENT ON COLUMN rar.splits.test_from IS 'For a time split: baskets from this time on are the test set';
COMMENT ON COLUMN rar.splits.created_by IS 'The role that recorded it';
COMMENT ON COLUMN rar.splits.created_at IS 'When';
COMMENT ON COLUMN rar.tuning_trials.tuning_id IS 'The search';
COMMENT ON COLUMN rar.tuning_trials.trial IS 'Trial number within the search';
COMMENT ON COLUMN rar.tuning_trials.source IS 'The table';
COMMENT ON COLUMN rar.tuning_trials.model IS 'The architecture';
COMMENT ON COLUMN rar.tuning_trials.params IS 'The trial''s hyperparameters';
COMMENT ON COLUMN rar.tuning_trials.recall_at_10 IS 'Validation recall@10';
COMMENT ON COLUMN rar.tuning_trials.ndcg_at_10 IS 'Validation NDCG@10';
COMMENT ON COLUMN rar.tuning_trials.valid_loss IS 'Validation loss';
COMMENT ON COLUMN rar.tuning_trials.seconds IS 'Training time';
COMMENT ON COLUMN rar.tuning_trials.best IS 'Whether it was the best trial (its model is kept)';
COMMENT ON COLUMN rar.tuning_trials.model_id IS 'The kept model (best trial only)';
COMMENT ON COLUMN rar.tuning_trials.tuned_at IS 'When';
COMMENT ON COLUMN rar.rules.source IS 'The registered source';
COMMENT ON COLUMN rar.rules.rule_id IS 'Rank of the rule (by lift, confidence, count)';
COMMENT ON COLUMN rar.rules.antecedent IS 'Items of the left-hand side';
COMMENT ON COLUMN rar.rules.consequent IS 'Items of the right-hand side';
COMMENT ON COLUMN rar.rules.antecedent_text IS 'Labels of the left-hand side as one line (rar.items_text: trimmed, joined by ", ", a label with a comma or quote in double quotes)';
COMMENT ON COLUMN rar.rules.consequent_text IS 'Labels of the right-hand side as one line (rar.items_text)';
COMMENT ON COLUMN rar.rules.antecedent_labels IS 'Labels of the left-hand side, as an array';
COMMENT ON COLUMN rar.rules.consequent_labels IS 'Labels of the right-hand side, as an array';
COMMENT ON COLUMN rar.rules.support IS 'Share of baskets holding both sides';
COMMENT ON COLUMN rar.rules.confidence IS 'Share of the baskets holding the left side that hold the right side too';
COMMENT ON COLUMN rar.rules.lift IS 'Confidence divided by the right side''s support (1: independent)';
COMMENT ON COLUMN rar.rules.leverage IS 'Support minus what independence predicts';
COMMENT ON COLUMN rar.rules.conviction IS '(1 - support of the right side) / (1 - confidence); Infinity when confidence is 1';
COMMENT ON COLUMN rar.rules.count IS 'Baskets holding both sides';
COMMENT ON COLUMN rar.rules.method IS 'exact, neural or hybrid';
COMMENT ON COLUMN rar.rules.model_version IS 'Version of the model neural and hybrid rules were read off (NULL for exact rules)';
COMMENT ON COLUMN rar.rules.refreshed_at IS 'When the rule set was mined';
COMMENT ON COLUMN rar.rules.explanation IS 'The rule as an English sentence';
COMMENT ON COLUMN rar.rule_graph.source IS 'The registered source';
COMMENT ON COLUMN rar.rule_graph.kind IS 'node (an item) or edge (an item of a rule''s left side to an item of its right side)';
COMMENT ON COLUMN rar.rule_graph.id IS 'Item, or from->to#rule';
COMMENT ON COLUMN rar.rule_graph.label IS 'Label of the item, or from -> to';
COMMENT ON COLUMN rar.rule_graph.from_id IS 'Edges: the left-hand item';
COMMENT ON COLUMN rar.rule_graph.to_id IS 'Edges: the right-hand item';
COMMENT ON COLUMN rar.rule_graph.rule_id IS 'Edges: the rule';
COMMENT ON COLUMN rar.rule_graph.weight IS 'Nodes: rules the item is in; edges: confidence';
COMMENT ON COLUMN rar.rule_graph.lift IS 'Edges: lift of the rule';
COMMENT ON COLUMN rar.rule_history.set_id IS 'Rule set number';
COMMENT ON COLUMN rar.rule_history.source IS 'The registered source';
COMMENT ON COLUMN rar.rule_history.method IS 'exact, neural or hybrid';
COMMENT ON COLUMN rar.rule_history.params IS 'The thresholds it was mined with';
COMMENT ON COLUMN rar.rule_history.rules IS 'Number of rules';
COMMENT ON COLUMN rar.rule_history.baskets IS 'Baskets of the table when mined';
COMMENT ON COLUMN rar.rule_history.current IS 'Whether it is the set the views show';
COMMENT ON COLUMN rar.rule_history.refreshed_at IS 'When it was mined';
COMMENT ON COLUMN rar.rule_history.seconds IS 'How long the refresh took';
COMMENT ON COLUMN rar.rule_history.refreshed_by IS 'The role that refreshed it';
COMMENT ON COLUMN rar.rule_history.model_id IS 'The model neural and hybrid rules were read off (NULL for exact rules)';
COMMENT ON COLUMN rar.training.pid IS 'The training backend';
COMMENT ON COLUMN rar.training.usename IS 'Its role';
COMMENT ON COLUMN rar.training.datname IS 'Its database';
COMMENT ON COLUMN rar.training.query_start IS 'When the call started';
COMMENT ON COLUMN rar.training.running_for IS 'How long it has run';
COMMENT ON COLUMN rar.training.progress IS 'Epoch, batch, loss, validation recall@10 and time left';
COMMENT ON VIEW rar.progress IS 'rar calls running now (rar_mine, rar_clean, rar_restore, rar_evaluate, rar_train): what each is doing';
COMMENT ON COLUMN rar.progress.pid IS 'The backend';
COMMENT ON COLUMN rar.progress.usename IS 'Its role';
COMMENT ON COLUMN rar.progress.datname IS 'Its database';
COMMENT ON COLUMN rar.progress.query_start IS 'When the call started';
COMMENT ON COLUMN rar.progress.running_for IS 'How long it has run';
COMMENT ON COLUMN rar.progress.function IS 'The function';
COMMENT ON COLUMN rar.progress.progress IS 'What it is doing now';
COMMENT ON SEQUENCE rar.deployments_deployment_id_seq IS 'Numbers the deployments of rar.deployments';
COMMENT ON COLUMN rar.deployments.deployment_id IS 'Deployment number';
COMMENT ON COLUMN rar.deployments.source IS 'The table';
COMMENT ON COLUMN rar.deployments.model_id IS 'The model deployed';
COMMENT ON COLUMN rar.deployments.replaced IS 'The model it replaced (NULL: none was deployed)';
COMMENT ON COLUMN rar.deployments.action IS 'train (first model of the table), deploy, rollback or tune';
COMMENT ON COLUMN rar.deployments.deployed_by IS 'The role that deployed it';
COMMENT ON COLUMN rar.deployments.deployed_at IS 'When';
COMMENT ON FUNCTION rar.items_text(text[]) IS 'An item list as one unambiguous line for BI tools: labels trimmed, joined by ", ", a label holding a comma or double quote in double quotes (as in CSV)';
COMMENT ON FUNCTION rar.source_name(text) IS 'The registered source a name designates: the source of that name, or the one source registered on the table of that name';
COMMENT ON FUNCTION rar.relation_of(text) IS 'The table or view a source argument designates: a registered source''s table, or the table of that name as the search path finds it';
COMMENT ON FUNCTION rar.rollback(regclass) IS 'Internal to rar_rollback, after the name is resolved';
COMMENT ON FUNCTION rar.tune(text, text, jsonb, jsonb, text, integer, bigint, text, text) IS 'Internal to rar_tune, after the name is resolved';
COMMENT ON FUNCTION rar.resolved_name(text) IS 'A name that designates what the given name does under any search path: the source''s name when a source was named, else the table''s schema-qualified name';
COMMENT ON FUNCTION rar.basket_key(regclass, text) IS 'The SQL expression of a relation''s basket id (quoted identifiers only): its basket column, or the text of the row of several';
COMMENT ON FUNCTION @extschema@.rar_rules_over_time(text, text, text, float8, float8, integer, text, text) IS
'The rules of the whole source counted in each window (period: day, week, month, quarter, year; a basket in the window of its first line, UTC) of time_column: baskets, count, support, confidence, lift, whether the rule holds there, emerged/vanished/held/absent against the window before, and p_change, the two-sided two-proportion test of its confidence against that window.';
