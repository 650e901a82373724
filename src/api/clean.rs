//! `rar_clean` and `rar_restore`: cleaning a sales table in place, in one
//! transaction, with every removed row kept aside.
//!
//! Removed rows move to a quarantine table beside the source
//! (`<table>_rar_rejected`: the same columns plus `rar_reason`,
//! `rar_action`, `rar_run`, `rar_at`), so that for every run
//! `lines before = lines after + rows the run moved`. Rows changed in place
//! (normalized item text, merged quantities) keep their original version in
//! the quarantine too, with `rar_action = 'changed'`. The table is locked
//! against concurrent writes (SHARE ROW EXCLUSIVE) for the run; readers go on.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::{JsonB, PgRelation};
use rar_core::layout::{self, ColumnKind, Layout, PRICE_NAMES, QUANTITY_NAMES};
use serde_json::json;

use crate::error::{OrRaise, RarError};
use crate::relation::{self, Source};
use crate::sql::{count, exec, exec_count};
use pgrx::datum::DatumWithOid;

/// The columns a run works on, quoted.
struct Target<'a> {
    src: &'a Source,
    quarantine: String,
    quarantine_display: String,
    /// All columns of the table, quoted, comma-separated.
    cols: String,
    tid: String,
    item: String,
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
        let rows = exec_count(&sql, &all);
        self.steps.push(Step { step, action: "removed", rows, detail });
    }

    /// Keeps the original of the rows matching `cond` in the quarantine,
    /// then applies `set` to them.
    fn change(&mut self, step: &'static str, set: &str, cond: &str, args: Vec<DatumWithOid<'static>>, detail: String) {
        let t = &self.t;
        let n = args.len();
        let keep = format!(
            "INSERT INTO {q} ({cols}, rar_reason, rar_action, rar_run, rar_at) \
             SELECT {cols}, ${a}, 'changed', ${b}, pg_catalog.now() FROM {tab} WHERE {cond}",
            tab = t.src.quoted,
            cols = t.cols,
            q = t.quarantine,
            a = n + 1,
            b = n + 2,
        );
        let mut all = args;
        all.push(step.into());
        all.push(self.run.into());
        let rows = exec_count(&keep, &all);
        // The same parameters: the last two are unused here.
        exec(&format!("UPDATE {} SET {set} WHERE {cond}", t.src.quoted), &all);
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
}

fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> RarError {
    RarError::InvalidOption { name, value: value.to_string(), expected }
}

/// Cleans `target` in place and reports one row per rule applied, then a
/// total. Every option has a default; see the README's reference table.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn rar_clean(
    target: Option<PgRelation>,
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    quantity_column: default!(Option<&str>, "NULL"),
    price_column: default!(Option<&str>, "NULL"),
    drop_nulls: default!(bool, true),
    cancelled_basket_pattern: default!(Option<&str>, "NULL"),
    drop_nonpositive_quantity: default!(bool, true),
    normalize_items: default!(bool, true),
    case_fold: default!(&str, "'none'"),
    fix_mojibake: default!(bool, true),
    placeholder_items: default!(Option<Vec<String>>, "NULL"),
    placeholder_pattern: default!(Option<&str>, "NULL"),
    merge_duplicates: default!(bool, false),
    outlier_mad: default!(Option<f64>, "NULL"),
    max_basket_size: default!(Option<i32>, "NULL"),
    basket_size_quantile: default!(Option<f64>, "NULL"),
    dry_run: default!(bool, false),
) -> TableIterator<'static, (name!(step, String), name!(action, String), name!(rows, i64), name!(detail, String))> {
    let Some(target) = target else {
        RarError::NullArgument { name: "target", default: "" }.raise()
    };
    // Options that contradict each other or are out of range.
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

    let src = relation::describe_table(target.oid(), "rar_clean");
    drop(target);
    check_privileges(&src);
    let layout = src.layout(tid_column, item_column).or_raise();
    let Layout::Long { tid, item } = layout else {
        RarError::ConflictingOptions {
            message: "rar_clean works on tables in long form (one row per basket and item)",
            hint: "Clean the table the baskets are built from, or unnest the array column into a table first.",
        }
        .raise()
    };
    let quantity = layout::numeric_column(&src.columns, quantity_column, QUANTITY_NAMES, "quantity")
        .map_err(|e| src.layout_error(e))
        .or_raise()
        .map(|c| c.name.clone());
    let price = layout::numeric_column(&src.columns, price_column, PRICE_NAMES, "price")
        .map_err(|e| src.layout_error(e))
        .or_raise()
        .map(|c| c.name.clone());
    let item_info = src.column(&item).expect("resolved column");
    let item_is_text = item_info.kind == ColumnKind::Scalar
        && (item_info.type_name == "text" || item_info.type_name.starts_with("character"));

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
    };
    let options_json = serde_json::to_value(&options).expect("options serialize");

    let quarantine_name = format!("{}_rar_rejected", src.name);
    let t = Target {
        src: &src,
        quarantine: format!("{}.{}", quote_identifier(&src.schema), quote_identifier(&quarantine_name)),
        quarantine_display: format!("{}.{}", src.schema, quarantine_name),
        cols: src.columns.iter().map(|c| quote_identifier(&c.name)).collect::<Vec<_>>().join(", "),
        tid: quote_identifier(&tid),
        item: quote_identifier(&item),
        item_is_text,
        quantity: quantity.as_deref().map(quote_identifier),
        price: price.as_deref().map(quote_identifier),
    };
    let run: i64 = Spi::get_one("SELECT pg_catalog.nextval('rar.clean_run_seq')").ok().flatten().unwrap_or(0);
    let mut r = Run { t, run, steps: Vec::new() };

    // A dry run does the same work in a subtransaction and rolls it back.
    let sub = dry_run.then(Subtransaction::begin);
    exec(&format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", r.t.src.quoted), &[]);
    ensure_quarantine(&r.t);
    let before = count(&format!("SELECT count(*) FROM {}", r.t.src.quoted), &[]);

    if drop_nulls {
        let blank = if r.t.item_is_text { format!(" OR pg_catalog.btrim({}) = ''", r.t.item) } else { String::new() };
        let cond = format!("{} IS NULL OR {} IS NULL{blank}", r.t.tid, r.t.item);
        r.remove("null_basket_or_item", &cond, vec![], "basket id or item NULL (or blank)".into());
    }
    if let Some(p) = cancelled_basket_pattern {
        let cond = format!("{}::pg_catalog.text OPERATOR(pg_catalog.~) $1", r.t.tid);
        r.remove("cancelled_basket", &cond, vec![p.to_string().into()], format!("basket id matches {p}"));
    }
    if drop_nonpositive_quantity {
        if let Some(q) = r.t.quantity.clone() {
            r.remove("nonpositive_quantity", &format!("{q} <= 0"), vec![], format!("{} <= 0", quantity.as_deref().unwrap_or("")));
        }
    }
    if normalize_items && r.t.item_is_text {
        let norm = format!("rar_normalize_item({}::pg_catalog.text, $1, $2)", r.t.item);
        let cond = format!("{} IS DISTINCT FROM {norm}", r.t.item);
        let set = format!("{} = {norm}", r.t.item);
        let detail = format!("trim, collapse white space{}{}", if fix_mojibake { ", repair mojibake" } else { "" },
            match case_fold { "upper" => ", upper case", "lower" => ", lower case", _ => "" });
        r.change("item_normalized", &set, &cond, vec![case_fold.to_string().into(), fix_mojibake.into()], detail);
    }
    if placeholder_items.is_some() || placeholder_pattern.is_some() {
        let list = placeholder_items.clone().unwrap_or_default();
        let cond = format!(
            "{item}::pg_catalog.text = ANY($1) OR ($2::pg_catalog.text IS NOT NULL AND {item}::pg_catalog.text OPERATOR(pg_catalog.~) $2)",
            item = r.t.item
        );
        let detail = format!("items {:?}{}", list, placeholder_pattern.map(|p| format!(" or matching {p}")).unwrap_or_default());
        r.remove("placeholder_item", &cond, vec![list.into(), placeholder_pattern.map(str::to_string).into()], detail);
    }
    if merge_duplicates {
        merge_duplicate_lines(&mut r);
    }
    if let Some(k) = outlier_mad {
        for (col, name, step) in [(r.t.quantity.clone(), quantity.clone(), "outlier_quantity"), (r.t.price.clone(), price.clone(), "outlier_price")] {
            if let (Some(col), Some(name)) = (col, name) {
                remove_mad_outliers(&mut r, step, &col, &name, k);
            }
        }
    }
    if max_basket_size.is_some() || basket_size_quantile.is_some() {
        remove_large_baskets(&mut r, max_basket_size, basket_size_quantile);
    }

    let after = count(&format!("SELECT count(*) FROM {}", r.t.src.quoted), &[]);
    let removed: i64 = r.steps.iter().filter(|s| s.action == "removed").map(|s| s.rows).sum();
    let changed: i64 = r.steps.iter().filter(|s| s.action == "changed").map(|s| s.rows).sum();
    if before != after + removed {
        // Would mean a bug in a step: never commit a run that lost rows.
        ereport!(ERROR, PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, "rar_clean lost rows: the run was rolled back");
    }
    if let Some(sub) = sub {
        sub.rollback();
    }
    let report: Vec<_> = r
        .steps
        .iter()
        .map(|s| json!({"step": s.step, "action": s.action, "rows": s.rows, "detail": s.detail}))
        .collect();
    exec(
        "INSERT INTO rar.clean_log (run, relation, quarantine, dry_run, options, report, lines_before, lines_after, removed, changed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            run.into(),
            src.oid.into(),
            r.t.quarantine_display.clone().into(),
            dry_run.into(),
            JsonB(options_json).into(),
            JsonB(serde_json::Value::Array(report)).into(),
            before.into(),
            (if dry_run { before } else { after }).into(),
            removed.into(),
            changed.into(),
        ],
    );
    let mut rows: Vec<(String, String, i64, String)> =
        r.steps.into_iter().map(|s| (s.step.to_string(), s.action.to_string(), s.rows, s.detail)).collect();
    let verb = if dry_run { "would keep" } else { "kept" };
    rows.push((
        "total".into(),
        "removed".into(),
        removed,
        format!("{verb} {} of {before} lines; removed lines in {} (run {run}){}", before - removed, r.t.quarantine_display, if dry_run { "; dry run, nothing changed" } else { "" }),
    ));
    TableIterator::new(rows)
}

/// The caller must be able to read, delete and update the table: checked up
/// front so that the error says what to grant.
fn check_privileges(src: &Source) {
    let ok: bool = Spi::get_one_with_args(
        "SELECT pg_catalog.has_table_privilege($1, 'SELECT') AND pg_catalog.has_table_privilege($1, 'DELETE') \
         AND pg_catalog.has_table_privilege($1, 'UPDATE')",
        &[src.oid.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false);
    if !ok {
        let user = Spi::get_one::<String>("SELECT current_user::text").ok().flatten().unwrap_or_default();
        RarError::CannotModify { relation: src.display.clone(), user }.raise();
    }
}

/// Creates the quarantine table when missing and adds any column the source
/// gained since.
fn ensure_quarantine(t: &Target) {
    let existing: Vec<String> = Spi::connect(|client| {
        let rows = client.select(
            "SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
            None,
            &[t.quarantine.clone().into()],
        )?;
        rows.map(|r| r.get::<String>(1).map(Option::unwrap_or_default)).collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| panic!("reading the quarantine's columns failed: {e}"));
    if existing.is_empty() {
        exec(&format!("CREATE TABLE {} (LIKE {})", t.quarantine, t.src.quoted), &[]);
    }
    let mut alter = Vec::new();
    for (name, ty) in [("rar_reason", "text"), ("rar_action", "text"), ("rar_run", "bigint"), ("rar_at", "timestamptz")] {
        if !existing.iter().any(|e| e == name) {
            alter.push(format!("ADD COLUMN {name} {ty}"));
        }
    }
    for c in &t.src.columns {
        if !existing.is_empty() && !existing.contains(&c.name) {
            alter.push(format!("ADD COLUMN {} {}", quote_identifier(&c.name), c.type_name));
        }
        // Constraints copied by LIKE (NOT NULL) must not stop a row from moving.
        alter.push(format!("ALTER COLUMN {} DROP NOT NULL", quote_identifier(&c.name)));
    }
    exec(&format!("ALTER TABLE {} {}", t.quarantine, alter.join(", ")), &[]);
}

/// The same item more than once in a basket: one line kept (the first in
/// physical order), its quantity the sum of the lines'; the others removed.
fn merge_duplicate_lines(r: &mut Run) {
    let (tab, tid, item) = (r.t.src.quoted.clone(), r.t.tid.clone(), r.t.item.clone());
    let total = r.t.quantity.as_ref().map_or(String::new(), |q| format!(", pg_catalog.sum({q}) OVER w AS total"));
    drop_duplicates_table();
    exec(
        &format!(
            "CREATE TEMP TABLE rar_duplicates AS SELECT * FROM (SELECT ctid AS line, pg_catalog.row_number() OVER (w ORDER BY ctid) AS rn, \
             pg_catalog.count(*) OVER w AS n{total} FROM {tab} WINDOW w AS (PARTITION BY {tid}, {item})) d WHERE n > 1"
        ),
        &[],
    );
    if let Some(q) = r.t.quantity.clone() {
        let cond = format!("ctid IN (SELECT line FROM pg_temp.rar_duplicates WHERE rn = 1)");
        let set = format!("{q} = (SELECT total FROM pg_temp.rar_duplicates d WHERE d.line = {tab}.ctid)");
        r.change("duplicate_item", &set, &cond, vec![], "quantity of the kept line set to the sum of the basket's lines of the item".into());
    }
    let cond = "ctid IN (SELECT line FROM pg_temp.rar_duplicates WHERE rn > 1)".to_string();
    r.remove("duplicate_item", &cond, vec![], "item already in the basket: one line kept".into());
    drop_duplicates_table();
}

fn drop_duplicates_table() {
    let exists = Spi::get_one::<bool>("SELECT pg_catalog.to_regclass('pg_temp.rar_duplicates') IS NOT NULL").ok().flatten();
    if exists == Some(true) {
        exec("DROP TABLE pg_temp.rar_duplicates", &[]);
    }
}

/// Lines whose value lies more than `k` median absolute deviations from the
/// median.
fn remove_mad_outliers(r: &mut Run, step: &'static str, col: &str, name: &str, k: f64) {
    let tab = r.t.src.quoted.clone();
    let median: Option<f64> = Spi::get_one(&format!(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {col}::float8) FROM {tab}"
    ))
    .ok()
    .flatten();
    let Some(median) = median else { return };
    let mad: f64 = Spi::get_one_with_args(
        &format!("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs({col}::float8 - $1)) FROM {tab}"),
        &[median.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(0.0);
    if mad == 0.0 {
        r.steps.push(Step { step, action: "removed", rows: 0, detail: format!("{name}: median absolute deviation is 0, rule skipped") });
        return;
    }
    let cond = format!("abs({col}::float8 - $1) > $2");
    let detail = format!("{name} beyond {k} MAD of the median ({median}; MAD {mad})");
    r.remove(step, &cond, vec![median.into(), (k * mad).into()], detail);
}

/// Whole baskets with more distinct items than a size or a quantile of the
/// basket sizes.
fn remove_large_baskets(r: &mut Run, max: Option<i32>, quantile: Option<f64>) {
    let (tab, tid, item) = (r.t.src.quoted.clone(), r.t.tid.clone(), r.t.item.clone());
    let limit: f64 = match (max, quantile) {
        (Some(m), _) => m as f64,
        (None, Some(q)) => Spi::get_one_with_args(
            &format!("SELECT percentile_cont($1) WITHIN GROUP (ORDER BY n) FROM (SELECT pg_catalog.count(DISTINCT {item}) AS n FROM {tab} GROUP BY {tid}) s"),
            &[q.into()],
        )
        .ok()
        .flatten()
        .unwrap_or(f64::INFINITY),
        (None, None) => return,
    };
    let cond = format!("{tid} IN (SELECT {tid} FROM {tab} GROUP BY {tid} HAVING pg_catalog.count(DISTINCT {item}) > $1)");
    let detail = match quantile {
        Some(q) => format!("baskets with more than {limit} distinct items (the {q} quantile of basket sizes)"),
        None => format!("baskets with more than {limit} distinct items"),
    };
    r.remove("outlier_basket", &cond, vec![limit.into()], detail);
}

/// An internal subtransaction for dry runs.
struct Subtransaction {
    context: pg_sys::MemoryContext,
    owner: pg_sys::ResourceOwner,
}

impl Subtransaction {
    fn begin() -> Self {
        // SAFETY: the standard pattern of PL/pgSQL's exception blocks.
        unsafe {
            let s = Subtransaction { context: pg_sys::CurrentMemoryContext, owner: pg_sys::CurrentResourceOwner };
            pg_sys::BeginInternalSubTransaction(std::ptr::null());
            pg_sys::MemoryContextSwitchTo(s.context);
            s
        }
    }

    fn rollback(self) {
        // SAFETY: undoes `begin` in the same function call.
        unsafe {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(self.context);
            pg_sys::CurrentResourceOwner = self.owner;
        }
    }
}

/// Moves the rows that `rar_clean` removed back into `target`: those of run
/// `run`, or of every run when NULL. Returns the number of rows restored.
#[pg_extern(volatile, parallel_unsafe)]
fn rar_restore(target: Option<PgRelation>, run: default!(Option<i64>, "NULL")) -> i64 {
    let Some(target) = target else {
        RarError::NullArgument { name: "target", default: "" }.raise()
    };
    let src = relation::describe_table(target.oid(), "rar_restore");
    drop(target);
    let quarantine_name = format!("{}_rar_rejected", src.name);
    let exists: bool = Spi::get_one_with_args(
        "SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2)) IS NOT NULL",
        &[src.schema.clone().into(), quarantine_name.clone().into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false);
    if !exists {
        RarError::NoQuarantine { relation: src.display.clone(), quarantine: format!("{}.{}", src.schema, quarantine_name) }
            .raise();
    }
    let q = format!("{}.{}", quote_identifier(&src.schema), quote_identifier(&quarantine_name));
    let cols = src.columns.iter().map(|c| quote_identifier(&c.name)).collect::<Vec<_>>().join(", ");
    exec_count(
        &format!(
            "WITH back AS (DELETE FROM {q} WHERE rar_action = 'removed' AND ($1::bigint IS NULL OR rar_run = $1) RETURNING {cols}) \
             INSERT INTO {} ({cols}) SELECT {cols} FROM back",
            src.quoted
        ),
        &[run.into()],
    )
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
