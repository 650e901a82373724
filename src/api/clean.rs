//! `rar_clean` and `rar_restore`: cleaning a sales table in place, in one
//! transaction, with every removed or changed row kept aside, and undoing a
//! run exactly.
//!
//! Removed rows move to a quarantine table beside the source (named by
//! [`quarantine_name`]: `<table>_rar_rejected`, shortened with a hash when
//! that would pass 63 bytes): the same columns plus `rar_reason`,
//! `rar_action`, `rar_run`, `rar_at` and `rar_pair`, so that for every run
//! `lines before = lines after + rows the run moved`. A row changed in place
//! (normalized item text, merged quantities) is kept twice, before
//! (`rar_action = 'changed'`) and after (`'changed_to'`), under one
//! `rar_pair` number, so that `rar_restore` can put the original back. The
//! quarantine is owned by the table's owner. The table is locked against
//! concurrent writes (SHARE ROW EXCLUSIVE) for the run; readers go on.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{quote_identifier, quote_literal};
use pgrx::JsonB;
use rar_core::layout::{self, ColumnKind, Layout, PRICE_NAMES, QUANTITY_NAMES};
use serde_json::json;

use crate::args::{no_null_elements, required};
use crate::error::{OrRaise, RarError};
use crate::progress::{report_activity, Progress};
use crate::relation::{self, Source};
use crate::sources;
use crate::spi::{count, current_user, exec, exec_count, ext_schema, one, pin_search_path};

/// Columns the quarantine adds to the table's own.
const QUARANTINE_COLUMNS: [(&str, &str); 5] = [
    ("rar_reason", "text"),
    ("rar_action", "text"),
    ("rar_run", "bigint"),
    ("rar_at", "timestamptz"),
    ("rar_pair", "bigint"),
];

/// Pair numbers of one step of a run: step `s` numbers its pairs from
/// `s * PAIRS_PER_STEP`, so that undoing goes step by step, last first.
const PAIRS_PER_STEP: i64 = 1 << 40;

/// The name of a table's quarantine (see [`rar_core::names::derived_name`]).
pub fn quarantine_name(table: &str) -> String {
    rar_core::names::derived_name(table, "_rar_rejected")
}

/// The columns a run works on, quoted.
struct Target<'a> {
    src: &'a Source,
    quarantine: String,
    quarantine_display: String,
    /// The table's columns: names, and quoted, comma-separated.
    names: Vec<String>,
    cols: String,
    tid: String,
    /// The basket id as text ([`Source::text_of`]).
    tid_text: String,
    item: String,
    /// The item as text ([`Source::text_of`]).
    item_text: String,
    item_is_text: bool,
    quantity: Option<String>,
    price: Option<String>,
}

/// One line of the report.
struct Step {
    step: &'static str,
    action: &'static str,
    rows: i64,
    detail: String,
}

struct Run<'a> {
    t: Target<'a>,
    run: i64,
    steps: Vec<Step>,
    /// Change steps so far (numbers the pairs of the next one).
    change_steps: i64,
}

impl Run<'_> {
    /// Moves the rows matching `cond` to the quarantine.
    fn remove(&mut self, step: &'static str, cond: &str, args: Vec<DatumWithOid<'static>>, detail: String) {
        let t = &self.t;
        let n = args.len();
        let sql = format!(
            "WITH moved AS (DELETE FROM {tab} WHERE {cond} RETURNING {cols}) \
             INSERT INTO {q} ({cols}, rar_reason, rar_action, rar_run, rar_at) \
             SELECT {cols}, ${a}, 'removed', ${b}, pg_catalog.now() FROM moved",
            tab = t.src.quoted,
            cols = t.cols,
            q = t.quarantine,
            a = n + 1,
            b = n + 2,
        );
        let mut all = args;
        all.push(step.into());
        all.push(self.run.into());
        report_activity(&format!("rar_clean: run {} on {}, {step}", self.run, t.src.display));
        let rows = exec_count(&sql, &all).or_raise();
        if rows > 0 {
            check_no_cascade(t.src, REMOVE_ACTION, "false", None, "rar_clean");
        }
        self.steps.push(Step { step, action: "removed", rows, detail });
    }

    /// Applies `set` to the rows matching `cond` (both see the table as
    /// `rar_t`), keeping each row's version before and after in the
    /// quarantine under one pair number.
    fn change(
        &mut self,
        step: &'static str,
        changed: &str,
        set: &str,
        cond: &str,
        args: Vec<DatumWithOid<'static>>,
        detail: String,
    ) {
        self.change_steps += 1;
        let t = &self.t;
        let n = args.len();
        let field = |row: &str| {
            t.names.iter().map(|c| format!("({row}).{}", quote_identifier(c))).collect::<Vec<_>>().join(", ")
        };
        let sql = format!(
            "WITH changed AS (UPDATE {tab} AS rar_t SET {set} \
                 FROM (SELECT rar_t.tableoid AS rar_part, rar_t.ctid AS rar_ctid, rar_t AS rar_old \
                       FROM {tab} AS rar_t WHERE {cond}) AS o \
                 WHERE rar_t.tableoid = o.rar_part AND rar_t.ctid = o.rar_ctid RETURNING o.rar_old, rar_t AS rar_new), \
             pairs AS (SELECT ${p}::pg_catalog.int8 + pg_catalog.row_number() OVER () AS pair, rar_old, rar_new FROM changed) \
             INSERT INTO {q} ({cols}, rar_reason, rar_action, rar_run, rar_at, rar_pair) \
             SELECT {old}, ${a}, 'changed', ${b}, pg_catalog.now(), pair FROM pairs \
             UNION ALL SELECT {new}, ${a}, 'changed_to', ${b}, pg_catalog.now(), pair FROM pairs",
            tab = t.src.quoted,
            cols = t.cols,
            q = t.quarantine,
            old = field("rar_old"),
            new = field("rar_new"),
            a = n + 1,
            b = n + 2,
            p = n + 3,
        );
        let mut all = args;
        all.push(step.into());
        all.push(self.run.into());
        all.push((self.change_steps * PAIRS_PER_STEP).into());
        report_activity(&format!("rar_clean: run {} on {}, {step}", self.run, t.src.display));
        let rows = exec_count(&sql, &all).or_raise() / 2;
        if rows > 0 {
            check_no_cascade(t.src, CHANGE_ACTION, CHANGE_FOLLOWS, Some(&[changed]), "rar_clean");
        }
        self.steps.push(Step { step, action: "changed", rows, detail });
    }
}

/// Options of one run, as given (for the log).
#[derive(serde::Serialize)]
struct Options<'a> {
    tid_column: &'a str,
    item_column: &'a str,
    quantity_column: Option<&'a str>,
    price_column: Option<&'a str>,
    drop_nulls: bool,
    cancelled_basket_pattern: Option<&'a str>,
    drop_nonpositive_quantity: bool,
    normalize_items: bool,
    case_fold: &'a str,
    fix_mojibake: bool,
    placeholder_items: Option<&'a [String]>,
    placeholder_pattern: Option<&'a str>,
    merge_duplicates: bool,
    outlier_mad: Option<f64>,
    max_basket_size: Option<i32>,
    basket_size_quantile: Option<f64>,
    dry_run: bool,
    /// The table's columns at the time of the run (what rar_restore matches).
    columns: &'a [String],
}

fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> RarError {
    RarError::InvalidOption { name, value: value.to_string(), expected }
}

/// Cleans `target` in place and reports one row per rule applied, then a
/// total. Every option has a default; see the README's reference table.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, name = "rar_clean")]
pub fn clean(
    target: Option<&str>,
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    quantity_column: default!(Option<&str>, "NULL"),
    price_column: default!(Option<&str>, "NULL"),
    drop_nulls: default!(Option<bool>, true),
    cancelled_basket_pattern: default!(Option<&str>, "NULL"),
    drop_nonpositive_quantity: default!(Option<bool>, true),
    normalize_items: default!(Option<bool>, true),
    case_fold: default!(Option<&str>, "'none'"),
    fix_mojibake: default!(Option<bool>, true),
    placeholder_items: default!(Option<Vec<Option<String>>>, "NULL"),
    placeholder_pattern: default!(Option<&str>, "NULL"),
    merge_duplicates: default!(Option<bool>, false),
    outlier_mad: default!(Option<f64>, "NULL"),
    max_basket_size: default!(Option<i32>, "NULL"),
    basket_size_quantile: default!(Option<f64>, "NULL"),
    dry_run: default!(Option<bool>, false),
) -> TableIterator<'static, (name!(step, String), name!(action, String), name!(rows, i64), name!(detail, String))> {
    let drop_nulls = required("drop_nulls", "true", drop_nulls);
    let drop_nonpositive_quantity = required("drop_nonpositive_quantity", "true", drop_nonpositive_quantity);
    let normalize_items = required("normalize_items", "true", normalize_items);
    let case_fold = required("case_fold", "'none'", case_fold);
    let fix_mojibake = required("fix_mojibake", "true", fix_mojibake);
    let merge_duplicates = required("merge_duplicates", "false", merge_duplicates);
    let dry_run = required("dry_run", "false", dry_run);
    let placeholder_items = placeholder_items.map(|v| no_null_elements("placeholder_items", v));
    check_options(case_fold, max_basket_size, basket_size_quantile, outlier_mad);

    let target = sources::relation_of("target", target);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe_table(target.relation, "rar_clean");
    let _pinned = pin_search_path();
    src.check_not_superuser_on_user_table();
    let _progress = Progress::start("rar_clean");
    check_privileges(&src);
    check_cleanable(&src);
    let layout = src.layout(tid_column, item_column).or_raise();
    let Layout::Long { tid, item } = layout else {
        RarError::ConflictingOptions {
            message: "rar_clean works on tables in long form (one row per basket and item)",
            hint: "Clean the table the baskets are built from, or unnest the array column into a table first.",
        }
        .raise()
    };
    src.check_one_basket_column(&tid);
    let quantity = layout::numeric_column(&src.columns, quantity_column, QUANTITY_NAMES, "quantity")
        .map_err(|e| src.layout_error(e))
        .or_raise()
        .map(|c| c.name.clone());
    let price = layout::numeric_column(&src.columns, price_column, PRICE_NAMES, "price")
        .map_err(|e| src.layout_error(e))
        .or_raise()
        .map(|c| c.name.clone());
    let item_is_text = src.column(&item).is_some_and(|c| {
        c.kind == ColumnKind::Scalar && (c.type_name == "text" || c.type_name.starts_with("character"))
    });
    let names: Vec<String> = src.columns.iter().map(|c| c.name.clone()).collect();

    let options = Options {
        tid_column: &tid,
        item_column: &item,
        quantity_column: quantity.as_deref(),
        price_column: price.as_deref(),
        drop_nulls,
        cancelled_basket_pattern,
        drop_nonpositive_quantity,
        normalize_items,
        case_fold,
        fix_mojibake,
        placeholder_items: placeholder_items.as_deref(),
        placeholder_pattern,
        merge_duplicates,
        outlier_mad,
        max_basket_size,
        basket_size_quantile,
        dry_run,
        columns: &names,
    };
    let options_json = serde_json::to_value(&options).unwrap_or(serde_json::Value::Null);
    check_patterns(&[
        ("cancelled_basket_pattern", cancelled_basket_pattern),
        ("placeholder_pattern", placeholder_pattern),
    ]);

    let quarantine_name = quarantine_name(&src.name);
    let t = Target {
        src: &src,
        quarantine: format!("{}.{}", quote_identifier(&src.schema), quote_identifier(&quarantine_name)),
        quarantine_display: format!("{}.{}", src.schema, quarantine_name),
        cols: names.iter().map(quote_identifier).collect::<Vec<_>>().join(", "),
        names: names.clone(),
        tid: quote_identifier(&tid),
        tid_text: src.text_of(&tid),
        item: quote_identifier(&item),
        item_text: src.text_of(&item),
        item_is_text,
        quantity: quantity.as_deref().map(quote_identifier),
        price: price.as_deref().map(quote_identifier),
    };
    let mut r = Run { t, run: 0, steps: Vec::new(), change_steps: 0 };
    let ext = ext_schema().or_raise();

    // The work, in the caller's transaction; a dry run does it in a
    // subtransaction and rolls it back, on success and on error alike.
    let work = |r: &mut Run| apply_rules(r, &options, &ext);
    let (before, after) = if dry_run {
        let sub = Subtransaction::begin();
        let out = PgTryBuilder::new(std::panic::AssertUnwindSafe(|| work(&mut r)))
            .catch_others(|e| {
                sub.rollback();
                e.rethrow()
            })
            .execute();
        sub.rollback();
        out
    } else {
        work(&mut r)
    };
    let removed: i64 = r.steps.iter().filter(|s| s.action == "removed").map(|s| s.rows).sum();
    let changed: i64 = r.steps.iter().filter(|s| s.action == "changed").map(|s| s.rows).sum();
    if before != after + removed {
        // Would mean a bug in a step: never commit a run that lost rows.
        RarError::LostRows { before, after, removed }.raise();
    }
    log_run(&r, options_json, dry_run, before, after, removed, changed);
    let rows = report_rows(r, dry_run, before, removed);
    TableIterator::new(rows)
}

/// Options that contradict each other or are out of range.
fn check_options(
    case_fold: &str,
    max_basket_size: Option<i32>,
    basket_size_quantile: Option<f64>,
    outlier_mad: Option<f64>,
) {
    if !matches!(case_fold, "none" | "upper" | "lower") {
        invalid("case_fold", case_fold, "'none', 'upper' and 'lower'").raise();
    }
    if max_basket_size.is_some() && basket_size_quantile.is_some() {
        RarError::ConflictingOptions {
            message: "max_basket_size and basket_size_quantile cannot both be given",
            hint: "Give a fixed size limit or a quantile of basket sizes, not both.",
        }
        .raise();
    }
    if let Some(q) = basket_size_quantile {
        if !(q > 0.0 && q < 1.0) {
            invalid("basket_size_quantile", q, "a number between 0 and 1, such as 0.99").raise();
        }
    }
    if let Some(m) = max_basket_size {
        if m < 1 {
            invalid("max_basket_size", m, "a size of at least 1").raise();
        }
    }
    if let Some(k) = outlier_mad {
        if !(k > 0.0 && k.is_finite()) {
            invalid("outlier_mad", k, "a positive number of median absolute deviations, such as 5").raise();
        }
    }
}

/// Applies the rules `o` asks for, in their documented order; returns the
/// lines before and after.
fn apply_rules(r: &mut Run, o: &Options, ext: &str) -> (i64, i64) {
    exec(&format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", r.t.src.quoted), &[]).or_raise();
    ensure_quarantine(&r.t);
    r.run = next_run(&r.t).or_raise();
    let before = count(&format!("SELECT pg_catalog.count(*) FROM {}", r.t.src.quoted), &[]).or_raise();
    if o.drop_nulls {
        // Blank: nothing but Unicode white space (tabs, line breaks, no-break
        // and ideographic spaces), which normalizing would trim to '': one
        // run is final (rar_core::text::normalize trims the same set).
        let blank = if r.t.item_is_text {
            format!(" OR {} OPERATOR(pg_catalog.~) '{}'", r.t.item, rar_core::text::WHITE_SPACE_ONLY)
        } else {
            String::new()
        };
        let cond = format!("{} IS NULL OR {} IS NULL{blank}", r.t.tid, r.t.item);
        r.remove("null_basket_or_item", &cond, vec![], "basket id or item NULL (or blank)".into());
    }
    if let Some(p) = o.cancelled_basket_pattern {
        let cond = format!("{} OPERATOR(pg_catalog.~) $1", r.t.tid_text);
        r.remove("cancelled_basket", &cond, vec![p.to_string().into()], format!("basket id matches {p}"));
    }
    if o.drop_nonpositive_quantity {
        if let Some(q) = r.t.quantity.clone() {
            let detail = format!("{} <= 0", o.quantity_column.unwrap_or(""));
            r.remove("nonpositive_quantity", &format!("{q} <= 0"), vec![], detail);
        }
    }
    if o.normalize_items && r.t.item_is_text {
        normalize_items(r, o, ext);
    }
    if o.placeholder_items.is_some() || o.placeholder_pattern.is_some() {
        let list = o.placeholder_items.map(<[String]>::to_vec).unwrap_or_default();
        let cond = format!(
            "{item} = ANY($1) OR ($2::pg_catalog.text IS NOT NULL AND {item} OPERATOR(pg_catalog.~) $2)",
            item = r.t.item_text
        );
        let pattern = o.placeholder_pattern;
        let detail = format!("items {:?}{}", list, pattern.map(|p| format!(" or matching {p}")).unwrap_or_default());
        r.remove("placeholder_item", &cond, vec![list.into(), pattern.map(str::to_string).into()], detail);
    }
    if o.merge_duplicates {
        merge_duplicate_lines(r, o);
    }
    if let Some(k) = o.outlier_mad {
        for (col, name, step) in [
            (r.t.quantity.clone(), o.quantity_column, "outlier_quantity"),
            (r.t.price.clone(), o.price_column, "outlier_price"),
        ] {
            if let (Some(col), Some(name)) = (col, name) {
                remove_mad_outliers(r, step, &col, name, k);
            }
        }
    }
    if o.max_basket_size.is_some() || o.basket_size_quantile.is_some() {
        remove_large_baskets(r, o.max_basket_size, o.basket_size_quantile);
    }
    let after = count(&format!("SELECT pg_catalog.count(*) FROM {}", r.t.src.quoted), &[]).or_raise();
    (before, after)
}

/// Trims, collapses white space, repairs mojibake and folds case of text
/// items, with `rar_normalize_item`.
fn normalize_items(r: &mut Run, o: &Options, ext: &str) {
    let norm =
        format!("{ext}.rar_normalize_item({}::pg_catalog.text, $1::pg_catalog.text, $2::pg_catalog.bool)", r.t.item);
    let cond = format!("{} IS DISTINCT FROM {norm}", r.t.item);
    let set = format!("{} = {norm}", r.t.item);
    let detail = format!(
        "trim, collapse white space{}{}",
        if o.fix_mojibake { ", repair mojibake" } else { "" },
        match o.case_fold {
            "upper" => ", upper case",
            "lower" => ", lower case",
            _ => "",
        }
    );
    r.change(
        "item_normalized",
        o.item_column,
        &set,
        &cond,
        vec![o.case_fold.to_string().into(), o.fix_mojibake.into()],
        detail,
    );
}

/// Records the run in `rar.clean_log`.
fn log_run(r: &Run, options: serde_json::Value, dry_run: bool, before: i64, after: i64, removed: i64, changed: i64) {
    let report: Vec<_> = r
        .steps
        .iter()
        .map(|s| json!({"step": s.step, "action": s.action, "rows": s.rows, "detail": s.detail}))
        .collect();
    exec(
        "INSERT INTO rar.clean_log (run, relation, quarantine, dry_run, options, report, lines_before, lines_after, removed, changed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            r.run.into(),
            r.t.src.oid.into(),
            r.t.quarantine_display.clone().into(),
            dry_run.into(),
            JsonB(options).into(),
            JsonB(serde_json::Value::Array(report)).into(),
            before.into(),
            (if dry_run { before } else { after }).into(),
            removed.into(),
            changed.into(),
        ],
    )
    .or_raise();
}

/// The rows `rar_clean` returns: one per rule applied, then the total.
fn report_rows(r: Run, dry_run: bool, before: i64, removed: i64) -> Vec<(String, String, i64, String)> {
    let (run, quarantine) = (r.run, r.t.quarantine_display.clone());
    let mut rows: Vec<(String, String, i64, String)> =
        r.steps.into_iter().map(|s| (s.step.to_string(), s.action.to_string(), s.rows, s.detail)).collect();
    let verb = if dry_run { "would keep" } else { "kept" };
    rows.push((
        "total".into(),
        "removed".into(),
        removed,
        format!(
            "{verb} {} of {before} lines; removed lines in {quarantine} (run {run}){}",
            before - removed,
            if dry_run { "; dry run, nothing changed" } else { "" }
        ),
    ));
    rows
}

/// Tables whose rows the quarantine could not hold or give back exactly are
/// refused up front: columns named like the quarantine's own, and tables
/// with inheritance children (their rows would come back into the parent,
/// without the children's columns). Partitioned tables are fine.
fn check_cleanable(src: &Source) {
    if let Some(c) = src.columns.iter().find(|c| QUARANTINE_COLUMNS.iter().any(|(q, _)| *q == c.name)) {
        RarError::Unsupported {
            message: "the table has a column named like one rar_clean adds to its quarantine",
            hint: "Rename the columns rar_reason, rar_action, rar_run, rar_at and rar_pair of the table before cleaning it.",
        }
        .raise_with_detail(format!("Column \"{}\" of {}.", c.name, src.display));
    }
    let children = count(
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhparent \
         WHERE i.inhparent = $1 AND c.relkind = 'r'",
        &[src.oid.into()],
    )
    .or_raise();
    if children > 0 {
        RarError::Unsupported {
            message: "rar_clean does not clean a table with inheritance children",
            hint: "Clean each child table on its own (or use declarative partitioning, which rar_clean handles).",
        }
        .raise_with_detail(format!("{} has {children} child tables.", src.display));
    }
}

/// Keys that react to lines removed: they cascade, or set NULL or a default.
const REMOVE_ACTION: &str = "k.confdeltype IN ('c', 'n', 'd')";
/// Keys that react to lines changed (see [`check_no_cascade`] for `own`,
/// `touched` and `moves`): on the table, those on the columns changed
/// that set NULL or a default on update; and, on a partition, those that
/// react to a removal, where a change of the partition key may move a line
/// (a removal from its partition). Further down (tables the change
/// cascades to), any such key: their lines may move too.
const CHANGE_ACTION: &str = "(k.confupdtype IN ('n', 'd') \
     AND (k.confrelid NOT IN (SELECT rel FROM own) OR k.oid IN (SELECT fk FROM touched))) \
     OR (k.confdeltype IN ('c', 'n', 'd') \
         AND (k.confrelid NOT IN (SELECT rel FROM own) OR (SELECT moves FROM moves)) \
         AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = k.confrelid))";
/// Keys that carry a change on to their own table: ON UPDATE CASCADE, on
/// the table's columns changed.
const CHANGE_FOLLOWS: &str = "k.confupdtype = 'c' \
     AND (k.confrelid NOT IN (SELECT rel FROM own) OR k.oid IN (SELECT fk FROM touched))";

/// After a step removed or changed lines (or rar_restore changed them
/// back): raises (undoing the whole run, cascades included) when a foreign
/// key of another table reacts to it by deleting or changing that table's
/// rows (`action`: a condition on the key `k`), which rar_restore could not
/// put back. `own`: the table, its partitions and the tables it is a
/// partition of; `changed`: the columns changed (`None`: any); `touched`:
/// the keys on `own` whose referenced columns were changed (a generated
/// column may be computed from them; a key of the table on itself that
/// cascades may change any of its columns: then every key); `moves`:
/// whether a changed column is in a partition key of the table's tree (a
/// line may change partition). Keys that carry the change on to their own
/// table (`follow`: ON UPDATE CASCADE) are followed there, where a key may
/// set NULL in a third table.
fn check_no_cascade(src: &Source, action: &str, follow: &str, changed: Option<&[&str]>, who: &'static str) {
    let changed: Option<Vec<String>> = changed.map(|c| c.iter().map(|s| s.to_string()).collect());
    let keys: Option<String> = one(
        &format!(
            "WITH RECURSIVE own(rel) AS ( \
                 SELECT $1::pg_catalog.regclass \
                 UNION SELECT t.relid FROM pg_catalog.pg_partition_tree($1) t \
                 UNION SELECT a.relid FROM pg_catalog.pg_partition_ancestors($1) a), \
             selfc(cascades) AS ( \
                 SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.contype = 'f' \
                                AND k.confupdtype = 'c' AND k.conrelid IN (SELECT rel FROM own) \
                                AND k.confrelid IN (SELECT rel FROM own))), \
             touched(fk) AS ( \
                 SELECT k.oid FROM pg_catalog.pg_constraint k \
                 WHERE k.contype = 'f' AND k.confrelid IN (SELECT rel FROM own) \
                   AND ($2::pg_catalog.text[] IS NULL OR (SELECT cascades FROM selfc) OR EXISTS ( \
                       SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = k.confrelid \
                       AND a.attnum = ANY (k.confkey) \
                       AND (a.attname = ANY ($2::pg_catalog.text[]) OR a.attgenerated <> '')))), \
             moves(moves) AS ( \
                 SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_partitioned_table p, \
                                pg_catalog.unnest(p.partattrs::pg_catalog.int2[]) pa \
                                WHERE p.partrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree($1) t) \
                                  AND (pa = 0 OR $2::pg_catalog.text[] IS NULL OR EXISTS ( \
                                      SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = p.partrelid \
                                      AND a.attnum = pa AND a.attname = ANY ($2::pg_catalog.text[]))))), \
             reached(rel) AS ( \
                 SELECT rel FROM own \
                 UNION SELECT n.rel FROM reached r CROSS JOIN LATERAL ( \
                     SELECT k.conrelid AS rel FROM pg_catalog.pg_constraint k \
                     WHERE k.contype = 'f' AND k.confrelid = r.rel AND ({follow}) \
                     UNION ALL SELECT a.relid FROM pg_catalog.pg_partition_ancestors(r.rel) a \
                     UNION ALL SELECT t.relid FROM pg_catalog.pg_partition_tree(r.rel) t) n) \
             SELECT pg_catalog.string_agg(pg_catalog.format('%s (%I)', k.conrelid::pg_catalog.regclass, k.conname), ', ' \
             ORDER BY k.conrelid, k.conname) FROM pg_catalog.pg_constraint k \
             WHERE k.contype = 'f' AND k.conparentid = 0 AND ({action}) AND k.confrelid IN (SELECT rel FROM reached)"
        ),
        &[src.oid.into(), changed.into()],
    )
    .or_raise();
    if let Some(keys) = keys {
        let (message, hint) = if who == "rar_restore" {
            (
                "rar_restore would delete or change rows of tables whose foreign keys reference this one",
                "Their keys cascade (or set NULL or a default): make them NO ACTION or RESTRICT first. Nothing was restored.",
            )
        } else {
            (
                "rar_clean would delete or change rows of tables whose foreign keys reference this one",
                "Their keys cascade (or set NULL or a default), which rar_restore could not undo: \
                 make them NO ACTION or RESTRICT first, or clean a copy of the table. Nothing was changed.",
            )
        };
        RarError::Unsupported { message, hint }.raise_with_detail(format!("Referenced by {keys}."));
    }
}

/// The caller must be able to read, delete and update the table: checked up
/// front so that the error says what to grant.
fn check_privileges(src: &Source) {
    let ok: Option<bool> = one(
        "SELECT pg_catalog.has_table_privilege($1, 'SELECT') AND pg_catalog.has_table_privilege($1, 'DELETE') \
         AND pg_catalog.has_table_privilege($1, 'UPDATE')",
        &[src.oid.into()],
    )
    .or_raise();
    if ok != Some(true) {
        let user = current_user().or_raise();
        RarError::CannotModify { relation: src.display.clone(), user }.raise();
    }
}

/// The next run number: the sequence's next value, or past every run
/// recorded for this table in the catalog and in its quarantine (which
/// outlives the catalog when the extension is dropped and created again),
/// whichever is greater. The key of `rar.clean_log` is (relation, run), so
/// numbers only need to be new for this table.
fn next_run(t: &Target) -> Result<i64, RarError> {
    let run = one::<i64>("SELECT pg_catalog.nextval('rar.clean_run_seq')", &[])?.unwrap_or(1);
    let logged = one::<i64>("SELECT pg_catalog.max(run) FROM rar.clean_log WHERE relation = $1", &[t.src.oid.into()])?
        .unwrap_or(0);
    let quarantined = if exists(&t.quarantine)? {
        one::<i64>(&format!("SELECT pg_catalog.max(rar_run)::pg_catalog.int8 FROM {}", t.quarantine), &[])?.unwrap_or(0)
    } else {
        0
    };
    Ok(run.max(logged.saturating_add(1)).max(quarantined.saturating_add(1)))
}

fn exists(quoted: &str) -> Result<bool, RarError> {
    Ok(one::<bool>("SELECT pg_catalog.to_regclass($1) IS NOT NULL", &[quoted.to_string().into()])?.unwrap_or(false))
}

/// What the quarantine's COMMENT says: the table it serves, by OID.
fn quarantine_comment(src: &Source) -> String {
    format!("rar quarantine of table {} (OID {})", src.display, src.oid.to_u32())
}

/// The quarantine's owner, or None when it does not exist; refuses one
/// owned by anybody but the table's owner, one that serves another table
/// (of the same name, dropped since), and one the caller cannot use.
/// The quarantine made for this table under another name (the table was
/// renamed or moved since): its comment names the table's OID and the
/// cleaning log a run of this table into it. The one of its latest run,
/// quoted and as shown.
fn renamed_quarantine(src: &Source) -> Result<Option<(String, String)>, RarError> {
    Ok(Spi::connect(|client| {
        let t = client.select(
            "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), n.nspname || '.' || c.relname \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass \
                  AND d.objsubid = 0 \
             CROSS JOIN LATERAL (SELECT pg_catalog.max(l.run) AS run FROM rar.clean_log l \
                                 WHERE l.relation = $1 AND l.quarantine = n.nspname || '.' || c.relname) last \
             WHERE c.relkind IN ('r', 'p') AND c.relowner = (SELECT o.relowner FROM pg_catalog.pg_class o WHERE o.oid = $1) \
                   AND pg_catalog.starts_with(d.description, 'rar quarantine of table ') \
                   AND pg_catalog.right(d.description, pg_catalog.length($2)) = $2 \
                   AND last.run IS NOT NULL \
             ORDER BY last.run DESC, c.oid DESC \
             LIMIT 1",
            Some(1),
            &[src.oid.into(), format!("(OID {})", src.oid.to_u32()).into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((r.get(1)?.unwrap_or_default(), r.get(2)?.unwrap_or_default())))
    })?)
}

fn quarantine_owner(src: &Source, quarantine: &str, display: &str) -> Result<Option<String>, RarError> {
    let row: Option<(String, Option<String>, bool)> = Spi::connect(|client| {
        let t = client.select(
            "SELECT pg_catalog.pg_get_userbyid(c.relowner)::pg_catalog.text, pg_catalog.obj_description(c.oid, 'pg_class'), \
                    pg_catalog.has_table_privilege(c.oid, 'SELECT') AND pg_catalog.has_table_privilege(c.oid, 'INSERT') \
                    AND pg_catalog.has_table_privilege(c.oid, 'DELETE') \
             FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)",
            Some(1),
            &[quarantine.to_string().into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((r.get(1)?.unwrap_or_default(), r.get(2)?, r.get(3)?.unwrap_or(false))))
    })?;
    let Some((owner, comment, usable)) = row else { return Ok(None) };
    if owner != src.owner {
        return Err(RarError::QuarantineNotOwned { quarantine: display.to_string(), relation: src.display.clone() });
    }
    // A table restored from a dump has a new OID but its cleaning log came
    // with it (the log names it); a table dropped and created again has none.
    let oid_tag = format!("(OID {})", src.oid.to_u32());
    if comment.as_deref().is_some_and(|c| c.starts_with("rar quarantine of table ") && !c.ends_with(&oid_tag)) {
        let logged = count("SELECT pg_catalog.count(*) FROM rar.clean_log WHERE relation = $1", &[src.oid.into()])?;
        if logged == 0 {
            return Err(RarError::QuarantineOfAnother {
                quarantine: display.to_string(),
                relation: src.display.clone(),
            });
        }
        if src.managed {
            exec(&format!("COMMENT ON TABLE {quarantine} IS {}", quote_literal(quarantine_comment(src))), &[])?;
        }
    }
    if !usable {
        let user = current_user()?;
        return Err(RarError::QuarantinePrivilege { quarantine: display.to_string(), user });
    }
    Ok(Some(owner))
}

/// Creates the quarantine table when missing (owned by the table's owner)
/// and adds any column the source gained since.
fn ensure_quarantine(t: &Target) {
    let owner = quarantine_owner(t.src, &t.quarantine, &t.quarantine_display).or_raise();
    if owner.is_none() {
        t.src.check_manage("create the quarantine table");
        exec(&format!("CREATE TABLE {} (LIKE {})", t.quarantine, t.src.quoted), &[]).or_raise();
        // Which table it serves (a table dropped and created again under the
        // same name is another table), and, for a table with row-level
        // security, no rows for anybody but the owner.
        exec(&format!("COMMENT ON TABLE {} IS {}", t.quarantine, quote_literal(quarantine_comment(t.src))), &[])
            .or_raise();
        if t.src.row_security {
            exec(&format!("ALTER TABLE {} ENABLE ROW LEVEL SECURITY", t.quarantine), &[]).or_raise();
        }
        exec(&format!("ALTER TABLE {} OWNER TO {}", t.quarantine, quote_identifier(&t.src.owner)), &[]).or_raise();
    }
    let existing: Vec<(String, bool)> = Spi::connect(|client| {
        let rows = client.select(
            "SELECT a.attname::pg_catalog.text, a.attnotnull FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
            None,
            &[t.quarantine.clone().into()],
        )?;
        rows.map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<bool>(2)?.unwrap_or(false))))
            .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .or_raise();
    let mut alter = Vec::new();
    for (name, ty) in QUARANTINE_COLUMNS {
        if !existing.iter().any(|(e, _)| e == name) {
            alter.push(format!("ADD COLUMN {name} {ty}"));
        }
    }
    for c in &t.src.columns {
        match existing.iter().find(|(e, _)| e == &c.name) {
            None => alter.push(format!("ADD COLUMN {} {}", quote_identifier(&c.name), c.type_name)),
            // Constraints copied by LIKE (NOT NULL) must not stop a row from moving.
            Some((_, true)) => alter.push(format!("ALTER COLUMN {} DROP NOT NULL", quote_identifier(&c.name))),
            Some((_, false)) => {}
        }
    }
    if !alter.is_empty() {
        exec(&format!("ALTER TABLE {} {}", t.quarantine, alter.join(", ")), &[]).or_raise();
    }
}

/// The same item more than once in a basket: one line kept (the first in
/// physical order), its quantity the sum of the lines'; the others removed.
fn merge_duplicate_lines(r: &mut Run, o: &Options) {
    let (tab, tid, item) = (r.t.src.quoted.clone(), r.t.tid.clone(), r.t.item.clone());
    let total = r.t.quantity.as_ref().map_or(String::new(), |q| format!(", pg_catalog.sum({q}) OVER w AS total"));
    // Its work table has a fixed name in the session's temporary schema: a
    // table of the user's by that name is theirs, never dropped.
    if exists("pg_temp.rar_duplicates").or_raise() {
        RarError::TempNameTaken { name: "rar_duplicates" }.raise();
    }
    exec(
        &format!(
            "CREATE TEMP TABLE rar_duplicates AS SELECT * FROM (SELECT tableoid AS part, ctid AS line, \
             pg_catalog.row_number() OVER (w ORDER BY tableoid, ctid) AS rn, \
             pg_catalog.count(*) OVER w AS n{total} FROM {tab} WINDOW w AS (PARTITION BY {tid}, {item})) d WHERE n > 1"
        ),
        &[],
    )
    .or_raise();
    // Each kept line looks its total up by its ctid: through an index, not a
    // scan of the whole list per line (which made the step quadratic in
    // the number of duplicates).
    exec("CREATE INDEX ON pg_temp.rar_duplicates (line, part)", &[]).or_raise();
    exec("ANALYZE pg_temp.rar_duplicates", &[]).or_raise();
    if let (Some(q), Some(q_name)) = (r.t.quantity.clone(), o.quantity_column) {
        check_merged_quantities(r, &q);
        let cond = "(rar_t.tableoid, rar_t.ctid) IN (SELECT part, line FROM pg_temp.rar_duplicates WHERE rn = 1)";
        let set = format!(
            "{q} = (SELECT total FROM pg_temp.rar_duplicates d WHERE d.part = rar_t.tableoid AND d.line = rar_t.ctid)"
        );
        let detail = "quantity of the kept line set to the sum of the basket's lines of the item".to_string();
        r.change("duplicate_item", q_name, &set, cond, vec![], detail);
    }
    let cond = "(tableoid, ctid) IN (SELECT part, line FROM pg_temp.rar_duplicates WHERE rn > 1)".to_string();
    r.remove("duplicate_item", &cond, vec![], "item already in the basket: one line kept".into());
    drop_duplicates_table();
}

/// Refuses, before any line changes, sums of merged quantities that an
/// integer column cannot hold (PostgreSQL's own error would name no column
/// and give no way out).
fn check_merged_quantities(r: &Run, quoted: &str) {
    let Some(col) = r.t.src.columns.iter().find(|c| quote_identifier(&c.name) == quoted) else { return };
    let limit = match col.type_name.as_str() {
        "smallint" => i16::MAX as i64,
        "integer" => i32::MAX as i64,
        "bigint" => i64::MAX,
        _ => return,
    };
    let largest: Option<String> = one(
        "SELECT pg_catalog.max(pg_catalog.abs(total))::pg_catalog.text FROM pg_temp.rar_duplicates \
         WHERE rn = 1 AND (total > $1::pg_catalog.numeric OR total < -$1::pg_catalog.numeric - 1)",
        &[limit.into()],
    )
    .or_raise();
    if let Some(largest) = largest {
        drop_duplicates_table();
        RarError::QuantityOverflow { column: col.name.clone(), type_name: col.type_name.clone(), largest }.raise();
    }
}

fn drop_duplicates_table() {
    if exists("pg_temp.rar_duplicates").or_raise() {
        exec("DROP TABLE pg_temp.rar_duplicates", &[]).or_raise();
    }
}

/// Lines whose value lies more than `k` median absolute deviations from the
/// median. Values are read through numeric: money, of the numeric category,
/// has a cast to numeric and none to float8.
fn remove_mad_outliers(r: &mut Run, step: &'static str, col: &str, name: &str, k: f64) {
    let tab = r.t.src.quoted.clone();
    let median: Option<f64> = one(
        &format!("SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY {col}::pg_catalog.numeric::pg_catalog.float8) FROM {tab}"),
        &[],
    )
    .or_raise();
    let Some(median) = median else { return };
    let mad: f64 = one(
        &format!("SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY pg_catalog.abs({col}::pg_catalog.numeric::pg_catalog.float8 - $1)) FROM {tab}"),
        &[median.into()],
    )
    .or_raise()
    .unwrap_or(0.0);
    if mad == 0.0 {
        r.steps.push(Step {
            step,
            action: "removed",
            rows: 0,
            detail: format!("{name}: median absolute deviation is 0, rule skipped"),
        });
        return;
    }
    let cond = format!("pg_catalog.abs({col}::pg_catalog.numeric::pg_catalog.float8 - $1) > $2");
    let detail = format!("{name} beyond {k} MAD of the median ({median}; MAD {mad})");
    r.remove(step, &cond, vec![median.into(), (k * mad).into()], detail);
}

/// Whole baskets with more distinct items than a size or a quantile of the
/// basket sizes.
fn remove_large_baskets(r: &mut Run, max: Option<i32>, quantile: Option<f64>) {
    let (tab, tid, item) = (r.t.src.quoted.clone(), r.t.tid.clone(), r.t.item.clone());
    let limit: f64 = match (max, quantile) {
        (Some(m), _) => m as f64,
        (None, Some(q)) => one(
            &format!(
                "SELECT pg_catalog.percentile_cont($1) WITHIN GROUP (ORDER BY n) \
                 FROM (SELECT pg_catalog.count(DISTINCT {item}) AS n FROM {tab} GROUP BY {tid}) s"
            ),
            &[q.into()],
        )
        .or_raise()
        .unwrap_or(f64::INFINITY),
        (None, None) => return,
    };
    let cond =
        format!("{tid} IN (SELECT {tid} FROM {tab} GROUP BY {tid} HAVING pg_catalog.count(DISTINCT {item}) > $1)");
    let detail = match quantile {
        Some(q) => format!("baskets with more than {limit} distinct items (the {q} quantile of basket sizes)"),
        None => format!("baskets with more than {limit} distinct items"),
    };
    r.remove("outlier_basket", &cond, vec![limit.into()], detail);
}

/// Refuses, before any work, a pattern that is empty (it would match every
/// line) or that PostgreSQL's regular expressions cannot compile (its own
/// error, with a HINT).
fn check_patterns(patterns: &[(&'static str, Option<&str>)]) {
    for &(name, pattern) in patterns {
        match pattern {
            Some("") => RarError::EmptyPattern { name }.raise(),
            Some(p) => {
                let _hint = crate::error::HintOn::new(
                    &[PgSqlErrorCode::ERRCODE_INVALID_REGULAR_EXPRESSION],
                    c"cancelled_basket_pattern and placeholder_pattern are POSIX regular expressions, as for the ~ operator: '^C' matches ids starting with C; a bracket or parenthesis meant literally needs a backslash before it.",
                );
                crate::spi::one::<bool>("SELECT '' OPERATOR(pg_catalog.~) $1", &[p.into()]).or_raise();
            }
            None => {}
        }
    }
}

/// An internal subtransaction for dry runs, rolled back on every path.
struct Subtransaction {
    context: pg_sys::MemoryContext,
    owner: pg_sys::ResourceOwner,
}

impl Subtransaction {
    fn begin() -> Self {
        // SAFETY: the pattern of PL/pgSQL's exception blocks: remember the
        // memory context and resource owner, open the subtransaction, and
        // keep allocating in the caller's context.
        unsafe {
            let s = Subtransaction { context: pg_sys::CurrentMemoryContext, owner: pg_sys::CurrentResourceOwner };
            pg_sys::BeginInternalSubTransaction(std::ptr::null());
            pg_sys::MemoryContextSwitchTo(s.context);
            s
        }
    }

    /// Rolls the subtransaction back (after an error too: PL/pgSQL does the
    /// same before re-raising) and returns to the caller's context.
    fn rollback(&self) {
        // SAFETY: undoes `begin` in the same function call, once.
        unsafe {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(self.context);
            pg_sys::CurrentResourceOwner = self.owner;
        }
    }
}

/// Undoes cleaning runs of `target`: run `run`, which must be the last run
/// not restored yet, or, when NULL, every run not restored yet, last first.
/// Removed lines go back, and lines changed in place get their original
/// values back (merged quantities split back as they were). Returns the
/// number of lines put back or restored; a NOTICE says it per run.
#[pg_extern(volatile, parallel_unsafe, name = "rar_restore")]
pub fn restore(target: Option<&str>, run: default!(Option<i64>, "NULL")) -> i64 {
    let src = relation::describe_table(sources::relation_of("target", target).relation, "rar_restore");
    let _pinned = pin_search_path();
    src.check_not_superuser_on_user_table();
    let progress = Progress::start("rar_restore");
    let name = quarantine_name(&src.name);
    let mut q = format!("{}.{}", quote_identifier(&src.schema), quote_identifier(&name));
    let mut q_display = format!("{}.{}", src.schema, name);
    if quarantine_owner(&src, &q, &q_display).or_raise().is_none() {
        // Renamed (or moved) since it was cleaned: its quarantine keeps the
        // old name, and its comment this table's OID.
        match renamed_quarantine(&src).or_raise() {
            Some((quoted, display)) if quarantine_owner(&src, &quoted, &display).or_raise().is_some() => {
                (q, q_display) = (quoted, display)
            }
            _ => RarError::NoQuarantine { relation: src.display.clone(), quarantine: q_display }.raise(),
        }
    }
    // No run may start or end while the runs to undo are chosen and undone.
    exec(&format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", src.quoted), &[]).or_raise();
    // Runs with something left to undo, last first.
    let pending: Vec<i64> = Spi::connect(|client| {
        let rows = client.select(
            &format!("SELECT DISTINCT rar_run::pg_catalog.int8 FROM {q} WHERE rar_action IN ('removed', 'changed_to') AND rar_run IS NOT NULL ORDER BY 1 DESC"),
            None,
            &[],
        )?;
        rows.map(|r| r.get::<i64>(1).map(Option::unwrap_or_default)).collect::<Result<Vec<_>, _>>()
    })
    .or_raise();
    let runs: Vec<i64> = match run {
        None => pending,
        Some(r) if pending.first() == Some(&r) => vec![r],
        Some(r) => {
            let (reason, hint) = match pending.first() {
                None => (
                    "No run of rar_clean on it has anything left to restore.".to_string(),
                    "SELECT * FROM rar.clean_log lists the runs.".to_string(),
                ),
                Some(last) if pending.contains(&r) => (
                    format!("Run {last} cleaned the table after run {r}; runs are undone last first."),
                    format!(
                        "Restore run {last} first, or every run with rar_restore('{}').",
                        src.display.replace('\'', "''")
                    ),
                ),
                Some(_) => (
                    format!("Run {r} has nothing left to restore in {q_display}."),
                    "SELECT DISTINCT rar_run FROM the quarantine table lists the runs that can be restored."
                        .to_string(),
                ),
            };
            RarError::CannotRestore { relation: src.display.clone(), run: r, reason, hint }.raise()
        }
    };
    let quarantine_cols = column_names(&q).or_raise();
    let mut total = 0;
    for r in runs {
        progress.report(&format!("run {r} of {}", src.display));
        let (back, reverted) = restore_run(&src, &q, &quarantine_cols, r).or_raise();
        exec(
            "UPDATE rar.clean_log SET restored_at = pg_catalog.now(), restored_by = CURRENT_USER WHERE run = $1 AND relation = $2",
            &[r.into(), src.oid.into()],
        )
        .or_raise();
        pgrx::notice!(
            "rar_restore: run {r}: {back} removed lines put back, {reverted} changed lines restored to their originals"
        );
        total += back + reverted;
    }
    total
}

fn column_names(rel: &str) -> Result<Vec<String>, RarError> {
    Ok(Spi::connect(|client| {
        let rows = client.select(
            "SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            None,
            &[rel.to_string().into()],
        )?;
        rows.map(|r| r.get::<String>(1).map(Option::unwrap_or_default)).collect::<Result<Vec<_>, _>>()
    })?)
}

/// Columns of a table that restoring must not write: generated ones, which
/// the table computes, and identity columns `GENERATED ALWAYS` (written
/// back with `OVERRIDING SYSTEM VALUE` when lines are inserted).
fn special_columns(src: &Source) -> Result<(Vec<String>, Vec<String>), RarError> {
    Ok(Spi::connect(|client| {
        let rows = client.select(
            "SELECT a.attname::pg_catalog.text, a.attgenerated <> '', a.attidentity = 'a' FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND (a.attgenerated <> '' OR a.attidentity = 'a')",
            None,
            &[src.oid.into()],
        )?;
        let (mut generated, mut identity) = (Vec::new(), Vec::new());
        for r in rows {
            let name = r.get::<String>(1)?.unwrap_or_default();
            if r.get::<bool>(2)?.unwrap_or(false) {
                generated.push(name);
            } else if r.get::<bool>(3)?.unwrap_or(false) {
                identity.push(name);
            }
        }
        Ok::<_, pgrx::spi::SpiError>((generated, identity))
    })?)
}

/// Undoes one run: returns (removed lines put back, changed lines restored).
/// Refuses, changing nothing, when a column the run saw is gone from the
/// table or the quarantine, when a trigger keeps a line from going back, or
/// when a changed line was changed again since.
fn restore_run(src: &Source, q: &str, quarantine_cols: &[String], run: i64) -> Result<(i64, i64), RarError> {
    let refuse =
        |reason: String, hint: String| RarError::CannotRestore { relation: src.display.clone(), run, reason, hint };
    // The columns the run saw, as its log row recorded them (since 0.2.0),
    // when that row was written by the table's owner or by the caller: a
    // role with DELETE on the table can write log rows too. Otherwise the
    // quarantine's own columns, each of which the table must still have.
    let logged: Option<(pgrx::JsonB, bool)> = Spi::connect(|client| {
        let t = client.select(
            "SELECT l.options->'columns', \
                    l.run_by = CURRENT_USER OR (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = l.run_by) \
                    AND pg_catalog.pg_has_role(l.run_by, c.relowner, 'USAGE')) \
             FROM rar.clean_log l JOIN pg_catalog.pg_class c ON c.oid = l.relation \
             WHERE l.run = $1 AND l.relation = $2",
            Some(1),
            &[run.into(), src.oid.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        let trusted = r.get::<bool>(2)?.unwrap_or(false);
        Ok::<_, pgrx::spi::SpiError>(r.get::<crate::args::Json>(1)?.map(|j| (pgrx::JsonB(j.0), trusted)))
    })?;
    let recorded: Option<Vec<String>> =
        logged.filter(|(_, trusted)| *trusted).and_then(|(j, _)| serde_json::from_value(j.0).ok());
    let table_cols: Vec<String> = src.columns.iter().map(|c| c.name.clone()).collect();
    let data_cols = |cols: &[String]| -> Vec<String> {
        cols.iter().filter(|c| !QUARANTINE_COLUMNS.iter().any(|(q, _)| q == *c)).cloned().collect()
    };
    let cols: Vec<String> = match recorded {
        Some(r) => {
            let missing: Vec<&String> =
                r.iter().filter(|c| !table_cols.contains(c) || !quarantine_cols.contains(c)).collect();
            if !missing.is_empty() {
                return Err(refuse(
                    format!("The run saw the columns {missing:?}, which the table or its quarantine no longer has."),
                    "Put the columns back (or rename them back), then restore.".into(),
                ));
            }
            r
        }
        None => {
            let kept = data_cols(quarantine_cols);
            let missing: Vec<&String> = kept.iter().filter(|c| !table_cols.contains(c)).collect();
            if !missing.is_empty() {
                return Err(refuse(
                    format!("The quarantine holds the columns {missing:?}, which the table no longer has."),
                    "Put the columns back (or rename them back), then restore.".into(),
                ));
            }
            kept
        }
    };
    let (generated, identity) = special_columns(src)?;
    let writable: Vec<&String> = cols.iter().filter(|c| !generated.contains(c)).collect();
    let list = writable.iter().map(quote_identifier).collect::<Vec<_>>().join(", ");
    let overriding = if writable.iter().any(|c| identity.contains(c)) { " OVERRIDING SYSTEM VALUE" } else { "" };
    let tab = &src.quoted;
    // Removed lines, back; every one of them, or nothing (a trigger may
    // keep a line out). A row-level security policy of the table may refuse
    // one (PostgreSQL's 42501, given a HINT while this statement runs).
    let rls_hint = crate::error::HintOn::new(
        &[PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE],
        c"rar_restore writes the lines back with your rights: where a row-level security policy of the table refuses one, allow those lines (or restore as a role it lets write them); the run stays in the quarantine until then.",
    );
    let moved: Option<(i64, i64)> = Spi::connect_mut(|client| {
        let t = client.update(
            &format!(
                "WITH back AS (DELETE FROM {q} WHERE rar_action = 'removed' AND rar_run = $1 RETURNING {list}), \
                      ins AS (INSERT INTO {tab} ({list}){overriding} SELECT {list} FROM back RETURNING 1) \
                 SELECT (SELECT pg_catalog.count(*) FROM back), (SELECT pg_catalog.count(*) FROM ins)"
            ),
            Some(1),
            &[run.into()],
        )?;
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((r.get::<i64>(1)?.unwrap_or(0), r.get::<i64>(2)?.unwrap_or(0))))
    })?;
    drop(rls_hint);
    let (back, inserted) = moved.unwrap_or((0, 0));
    if back != inserted {
        return Err(refuse(
            format!(
                "{} of the {back} lines the run removed were kept from going back (a trigger on the table?).",
                back - inserted
            ),
            format!("Nothing was restored. The lines are in {q} (rar_action = 'removed', rar_run = {run})."),
        ));
    }
    // Changes, step by step, the last step first: each line's version after
    // the step gets its version before it back, in place (an UPDATE: no
    // delete triggers, no foreign key cascades). Lines equal in every column
    // cannot be told apart, so any one of them serves.
    let steps: Vec<i64> = Spi::connect(|client| {
        let rows = client.select(
            &format!(
                "SELECT DISTINCT (rar_pair / $2)::pg_catalog.int8 FROM {q} WHERE rar_run = $1 AND rar_action = 'changed_to' ORDER BY 1 DESC"
            ),
            None,
            &[run.into(), PAIRS_PER_STEP.into()],
        )?;
        rows.map(|r| r.get::<i64>(1).map(Option::unwrap_or_default)).collect::<Result<Vec<_>, _>>()
    })?;
    let key = |alias: &str| {
        format!(
            "ROW({})::pg_catalog.text",
            cols.iter().map(|c| format!("{alias}.{}", quote_identifier(c))).collect::<Vec<_>>().join(", ")
        )
    };
    let assign = writable
        .iter()
        .filter(|c| !identity.contains(c))
        .map(|c| format!("{0} = o.{0}", quote_identifier(c)))
        .collect::<Vec<_>>()
        .join(", ");
    // A quarantine just filled has no statistics: the planner would take
    // it for one row and join it once per changed line (quadratic). ANALYZE
    // gives the sizes, where the caller owns it (PostgreSQL skips another
    // role's with a WARNING): the quarantine's owner is the table's
    // (`quarantine_owner`), which the caller manages or not.
    if !steps.is_empty() && src.managed {
        exec(&format!("ANALYZE {q}"), &[])?;
    }
    let mut reverted = 0;
    for step in steps {
        let (lo, hi) = (step * PAIRS_PER_STEP, (step + 1) * PAIRS_PER_STEP);
        let args: [DatumWithOid; 3] = [run.into(), lo.into(), hi.into()];
        let expected = count(
            &format!(
                "SELECT pg_catalog.count(*) FROM {q} WHERE rar_run = $1 AND rar_action = 'changed_to' AND rar_pair >= $2 AND rar_pair < $3"
            ),
            &args,
        )?;
        let done = exec_count(
            &format!(
                "WITH want AS (SELECT w.rar_pair, {wkey} AS key, pg_catalog.row_number() OVER (PARTITION BY {wkey} ORDER BY w.rar_pair) AS k \
                               FROM {q} w WHERE w.rar_run = $1 AND w.rar_action = 'changed_to' AND w.rar_pair >= $2 AND w.rar_pair < $3), \
                      have AS (SELECT t.tableoid AS part, t.ctid AS line, {tkey} AS key, \
                                      pg_catalog.row_number() OVER (PARTITION BY {tkey}) AS k \
                               FROM {tab} t WHERE {tkey} IN (SELECT key FROM want)), \
                      matched AS (SELECT h.part, h.line, w.rar_pair FROM want w JOIN have h ON h.key = w.key AND h.k = w.k) \
                 UPDATE {tab} AS t SET {assign} \
                 FROM matched m JOIN {q} o ON o.rar_pair = m.rar_pair AND o.rar_run = $1 AND o.rar_action = 'changed' \
                 WHERE t.tableoid = m.part AND t.ctid = m.line",
                wkey = key("w"),
                tkey = key("t"),
            ),
            &args,
        )?;
        if done != expected {
            return Err(refuse(
                format!("{} of the {expected} lines one of its steps changed were changed again or deleted since.", expected - done),
                format!("Nothing was restored. The originals are in {q} (rar_action = 'changed', rar_run = {run}); put them back by hand."),
            ));
        }
        exec(&format!("DELETE FROM {q} WHERE rar_run = $1 AND rar_pair >= $2 AND rar_pair < $3"), &args)?;
        reverted += done;
    }
    // A key made since the run may react to the changes back.
    if reverted > 0 {
        check_no_cascade(src, CHANGE_ACTION, CHANGE_FOLLOWS, None, "rar_restore");
    }
    Ok((back, reverted))
}

/// The normalized form of an item: trimmed, inner white space collapsed,
/// mojibake repaired (when `fix_mojibake`), case folded (`case_fold`:
/// 'none', 'upper' or 'lower').
#[pg_extern(immutable, parallel_safe, strict)]
fn rar_normalize_item(item: &str, case_fold: default!(&str, "'none'"), fix_mojibake: default!(bool, true)) -> String {
    let fold = match case_fold {
        "none" => rar_core::text::CaseFold::None,
        "upper" => rar_core::text::CaseFold::Upper,
        "lower" => rar_core::text::CaseFold::Lower,
        other => invalid("case_fold", other, "'none', 'upper' and 'lower'").raise(),
    };
    rar_core::text::normalize(item, fold, fix_mojibake)
}
