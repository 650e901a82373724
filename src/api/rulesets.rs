//! The Rust side of rule sets as database objects (the SQL side, with
//! `rar_register`, `CALL rar_refresh`, `rar_diff` and the views, is in
//! `sql/rulesets.sql`): column resolution for registration, rule
//! explanations, and pictures.

use pgrx::prelude::*;
use rar_core::layout::Layout;
use rar_core::plot::{self, PlotRule};

use crate::args::{no_null_elements, required};
use crate::error::{OrRaise, RarError};
use crate::spi::{ext_schema, pin_search_path};
use crate::{relation, sources};

/// Most rules one picture draws.
const MAX_PLOT_RULES: i32 = 10_000;

/// The basket and item columns of `source`, given or detected as
/// `rar_mine` does.
#[pg_extern(stable, parallel_unsafe, name = "rar_columns")]
pub fn columns(
    source: Option<&str>,
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(tid_column, String), name!(item_column, String))> {
    let target = sources::relation_of("source", source);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe(target.relation, "rar_register");
    let _pinned = pin_search_path();
    match src.layout(tid_column, item_column).or_raise() {
        Layout::Long { tid, item } => TableIterator::once((tid, item)),
        Layout::Baskets { tid: Some(tid), items } => TableIterator::once((tid, items)),
        Layout::Baskets { tid: None, .. } => RarError::ConflictingOptions {
            message: "a registered source needs a basket id column",
            hint: "Name it with tid_column, or register a view that adds one.",
        }
        .raise(),
    }
}

/// A rule as an English sentence with numbers formatted for people, for
/// example "Baskets with A also hold B in 62% of cases, 14.3 times as often
/// as usual; seen in 1.2% of 20,728 baskets (251)."
#[allow(clippy::too_many_arguments)]
#[pg_extern(immutable, parallel_safe)]
fn rar_explain(
    antecedent: Option<Vec<Option<String>>>,
    consequent: Option<Vec<Option<String>>>,
    confidence: Option<f64>,
    lift: Option<f64>,
    support: Option<f64>,
    count: Option<i64>,
    baskets: Option<i64>,
    test_confidence: default!(Option<f64>, "NULL"),
) -> Option<String> {
    // NULL measures mean no rule to explain: NULL, as a strict function gives.
    let (Some(antecedent), Some(consequent), Some(confidence), Some(lift), Some(support), Some(count), Some(baskets)) =
        (antecedent, consequent, confidence, lift, support, count, baskets)
    else {
        return None;
    };
    // A rule's measures, as rar_mine gives them: shares between 0 and 1, a
    // finite lift, counts of baskets (text with NaN% or a count clamped
    // to 0 would explain nothing).
    for (name, value, share) in [
        ("confidence", Some(confidence), true),
        ("support", Some(support), true),
        ("test_confidence", test_confidence, true),
        ("lift", Some(lift), false),
    ] {
        if let Some(v) = value.filter(|v| !(v.is_finite() && *v >= 0.0 && (!share || *v <= 1.0))) {
            let expected = if share { "a share between 0 and 1" } else { "a finite number of at least 0" };
            RarError::InvalidOption { name, value: v.to_string(), expected }.raise();
        }
    }
    for (name, value) in [("count", count), ("baskets", baskets)] {
        if value < 0 {
            RarError::InvalidOption { name, value: value.to_string(), expected: "a number of baskets, at least 0" }
                .raise();
        }
    }
    if count > baskets {
        RarError::InvalidOption { name: "count", value: count.to_string(), expected: "at most the number of baskets" }
            .raise();
    }
    // Support is count / baskets (rar_mine's rows): numbers more than a
    // percentage point apart (more than rounding) are arguments in another
    // order (support given for confidence).
    if baskets > 0 && (support - count as f64 / baskets as f64).abs() > 0.01 {
        RarError::ConflictingOptions {
            message: "support does not match count / baskets",
            hint: "Pass antecedent, consequent, confidence, lift, support, count and baskets in that order, as rar_mine returns them (support is count / baskets).",
        }
        .raise();
    }
    // Counts are at least 0 here (checked above).
    let impossible = rar_core::explain::impossible_measures(confidence, lift, support, count as u64, baskets as u64);
    if let Some(message) = impossible {
        RarError::ConflictingOptions {
            message,
            hint: "Pass the measures of one rule as rar_mine returns them: antecedent, consequent, confidence, lift, support, count, baskets.",
        }
        .raise();
    }
    let antecedent = no_null_elements("antecedent", antecedent);
    let consequent = no_null_elements("consequent", consequent);
    if consequent.is_empty() {
        RarError::ConflictingOptions {
            message: "consequent must name at least one item",
            hint: "A rule says which items come with the antecedent, for example consequent => ARRAY['milk'].",
        }
        .raise();
    }
    let a: Vec<&str> = antecedent.iter().map(String::as_str).collect();
    let c: Vec<&str> = consequent.iter().map(String::as_str).collect();
    Some(rar_core::explain::explain(
        &a,
        &c,
        confidence,
        lift,
        support,
        count.max(0) as u64,
        baskets.max(0) as u64,
        test_confidence,
    ))
}

/// An SVG picture of a registered source's current rules: `'scatter'`
/// (support × confidence, coloured by lift; the `top` rules by lift) or
/// `'graph'` (items joined by the `top` rules by lift, width by confidence).
#[pg_extern(stable, parallel_restricted)]
fn rar_plot(name: Option<&str>, kind: default!(Option<&str>, "'scatter'"), top: default!(Option<i32>, 100)) -> String {
    let name = required("name", "none", name);
    let kind = required("kind", "'scatter'", kind);
    let top = required("top", "100", top);
    if !matches!(kind, "scatter" | "graph") {
        RarError::InvalidOption { name: "kind", value: kind.into(), expected: "'scatter' and 'graph'" }.raise();
    }
    if !(1..=MAX_PLOT_RULES).contains(&top) {
        RarError::InvalidOption { name: "top", value: top.to_string(), expected: "a number of rules from 1 to 10000" }
            .raise();
    }
    // A source's name, or its table's (the naming rule of crate::sources).
    let name = sources::source_of(name).or_raise().name;
    let name = name.as_str();
    let _pinned = pin_search_path();
    let ext = ext_schema().or_raise();
    let rules: Vec<PlotRule> = Spi::connect(|client| {
        // rar_source raises the errors for unknown or dropped sources, and
        // for roles that may not read the rules.
        client.select(&format!("SELECT {ext}.rar_source($1::pg_catalog.text)"), None, &[name.to_string().into()])?;
        let rows = client.select(
            "SELECT r.antecedent_labels, r.consequent_labels, r.support, r.confidence, r.lift \
             FROM rar.rule_sets s JOIN rar.rule_store r USING (set_id) \
             WHERE s.source = $1 AND s.current ORDER BY r.lift DESC, r.rule_id LIMIT $2",
            None,
            &[name.to_string().into(), (top as i64).into()],
        )?;
        rows.map(|r| {
            Ok(PlotRule {
                // Labels are the owner's rows to edit: a NULL one is shown empty.
                antecedent: r
                    .get::<Vec<Option<String>>>(1)?
                    .unwrap_or_default()
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect(),
                consequent: r
                    .get::<Vec<Option<String>>>(2)?
                    .unwrap_or_default()
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect(),
                support: r.get::<f64>(3)?.unwrap_or(0.0),
                confidence: r.get::<f64>(4)?.unwrap_or(0.0),
                lift: r.get::<f64>(5)?.unwrap_or(0.0),
            })
        })
        .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .or_raise();
    // The drawing holds each label a few times (node, title, text) with a
    // few hundred bytes of markup around it: bounded before drawing.
    let needed: u64 = rules
        .iter()
        .flat_map(|r| r.antecedent.iter().chain(&r.consequent))
        .map(|l| l.len() as u64 * 8 + 256)
        .sum::<u64>()
        + rules.len() as u64 * 512;
    let limit = crate::gucs::memory_limit_bytes();
    if needed > limit {
        RarError::PlotTooLarge { source: name.to_string(), needed, limit_bytes: limit }.raise();
    }
    let title = format!("{name}: top {} rules by lift", rules.len());
    match kind {
        "graph" => plot::graph(&title, &rules),
        _ => plot::scatter(&title, &rules),
    }
}

/// Most answers [`per_statement`] keeps for one call site.
const PER_STATEMENT_MAX: usize = 4096;

/// What [`per_statement`] keeps in a call site: the answers, and the
/// statement they hold for.
#[derive(Default)]
struct Answers {
    statement: (i64, u32),
    known: std::collections::HashMap<(u32, i64), bool>,
}

/// The answer of the query `check` (one boolean, `$1` the set) for `set_id`
/// and the current role, kept for the rest of the statement (false for a
/// NULL set): in the call site's `fn_extra`, whose memory lives as long as
/// the plan state (the map is dropped with it), and cleared when the
/// top-level statement or the command changes (a PL/pgSQL expression's
/// state lives for the transaction). The role is part of the key: a
/// function called by the same statement may `SET ROLE`. At most
/// [`PER_STATEMENT_MAX`] answers are kept (a query may call it with any
/// numbers). The query runs through a plan kept for the backend: planning
/// it was most of its cost.
///
/// # Safety
/// `fcinfo` must be the current call's.
unsafe fn per_statement(fcinfo: pg_sys::FunctionCallInfo, set_id: Option<i64>, check: &str) -> bool {
    let Some(key) = set_id else { return false };
    let user = pg_sys::GetUserId().to_u32();
    let statement = (pg_sys::GetCurrentStatementStartTimestamp(), pg_sys::GetCurrentCommandId(false));
    let flinfo = (*fcinfo).flinfo;
    let answers: Option<&mut Answers> = if flinfo.is_null() {
        None
    } else {
        if (*flinfo).fn_extra.is_null() {
            let map = pgrx::PgMemoryContexts::For((*flinfo).fn_mcxt).leak_and_drop_on_delete(Answers::default());
            (*flinfo).fn_extra = map.cast();
        }
        let a = &mut *(*flinfo).fn_extra.cast::<Answers>();
        if a.statement != statement {
            a.known.clear();
            a.statement = statement;
        }
        Some(a)
    };
    if let Some(&known) = answers.as_ref().and_then(|a| a.known.get(&(user, key))) {
        return known;
    }
    let answer = crate::spi::one_kept::<bool>(check, &[key.into()]).or_raise().unwrap_or(false);
    if let Some(a) = answers {
        if a.known.len() >= PER_STATEMENT_MAX {
            a.known.clear();
        }
        a.known.insert((user, key), answer);
    }
    answer
}

/// SQL functions of the catalog schema `rar`.
#[pg_schema]
mod rar {
    use pgrx::prelude::*;
    use pgrx::JsonB;
    use rar_core::params::defaults;
    use serde_json::json;

    /// Takes a read's lock on `rel` and checks that its definition is still
    /// the one this transaction's snapshot shows
    /// (`crate::relation::describe`): what `rar_refresh` checks on a table,
    /// its label table and its hierarchy table then holds until the
    /// transaction ends. NULL: nothing.
    #[pg_extern(volatile, parallel_unsafe)]
    fn lock_for_read(rel: Option<crate::args::Relation>) {
        if let Some(rel) = rel {
            let mut src = crate::relation::describe(rel, "rar_refresh");
            src.check_not_superuser_running_owner_code();
            src.keep_locks();
        }
    }

    /// Refuses (55000) to go on when the extension's schema no longer has
    /// the name `installed`, which rar's PL/pgSQL bodies (passing
    /// `'@extschema@'`) call its functions by, and keeps that name bound to
    /// that schema to the end of the transaction (see
    /// `crate::bindings::bind_extension_schema`).
    #[pg_extern(volatile, parallel_safe)]
    fn check_extension_schema(installed: &str) {
        crate::bindings::bind_extension_schema(installed).unwrap_or_else(|e| e.raise());
    }

    /// Refuses (22023, with a HINT) mining defaults of a registered source
    /// that `CALL rar_refresh` could not mine with
    /// (`rar_core::params::check_source_defaults`: the ranges `rar_mine`
    /// checks). Called by `rar_register` and by each refresh, since a
    /// table's owner may write its row of `rar.sources`. NULL: nothing.
    #[pg_extern(immutable, parallel_safe)]
    fn check_defaults(defaults: Option<crate::args::JsonText>) {
        if let Some(d) = defaults {
            rar_core::params::check_source_defaults(&d.0).unwrap_or_else(|e| crate::error::RarError::from(e).raise());
        }
    }

    /// Refuses thresholds `rar_mine` would refuse, with its messages
    /// (`MineParams::validate`): `CALL rar_refresh` checks its arguments
    /// first, so that the error does not come from deep inside the refresh
    /// with its statements as CONTEXT. NULL: not given.
    #[pg_extern(immutable, parallel_safe)]
    fn check_thresholds(min_support: Option<f64>, min_confidence: Option<f64>, min_lift: Option<f64>) {
        let d = rar_core::params::MineParams::default();
        let params = rar_core::params::MineParams {
            min_support: min_support.unwrap_or(d.min_support),
            min_confidence: min_confidence.unwrap_or(d.min_confidence),
            min_lift: min_lift.unwrap_or(d.min_lift),
            ..d
        };
        use crate::error::OrRaise;
        params.validate().or_raise();
    }

    /// Whether the current role may read the rules of rule set `set_id`
    /// (its row of `rar.rule_sets` is visible to it: `rar.may_read_rules`
    /// of its source), for the policy on `rar.rule_store`. Once per set and
    /// role within a statement (see [`super::per_statement`]): the policy
    /// holds for every rule of a set, and a correlated subquery ran the
    /// check once per rule (seconds for a rule view read by a role other
    /// than a superuser), an uncorrelated one once per source of the
    /// database.
    #[pg_extern(stable, parallel_safe)]
    fn may_read_set(set_id: Option<i64>, fcinfo: pg_sys::FunctionCallInfo) -> bool {
        // SAFETY: fcinfo is this call's.
        unsafe {
            super::per_statement(
                fcinfo,
                set_id,
                "SELECT EXISTS (SELECT FROM rar.rule_sets s WHERE s.set_id OPERATOR(pg_catalog.=) $1)",
            )
        }
    }

    /// Whether the current role may write the rules of rule set `set_id`
    /// (`rar.may_manage` of its source's table), for the policies on
    /// `rar.rule_store`: once per set and role within a statement, as
    /// [`may_read_set`].
    #[pg_extern(stable, parallel_safe)]
    fn may_manage_set(set_id: Option<i64>, fcinfo: pg_sys::FunctionCallInfo) -> bool {
        // SAFETY: fcinfo is this call's.
        unsafe {
            super::per_statement(
                fcinfo,
                set_id,
                "SELECT EXISTS (SELECT FROM rar.rule_sets s JOIN rar.sources o ON o.name OPERATOR(pg_catalog.=) s.source \
                 WHERE s.set_id OPERATOR(pg_catalog.=) $1 AND rar.may_manage(o.relation))",
            )
        }
    }

    /// The defaults of the mining thresholds, as `CALL rar_refresh` applies
    /// them (under a source's own defaults and the call's arguments).
    #[pg_extern(immutable, parallel_safe)]
    fn mine_defaults() -> JsonB {
        JsonB(json!({
            "min_support": defaults::MIN_SUPPORT,
            "min_confidence": defaults::MIN_CONFIDENCE,
            "max_length": defaults::MAX_LENGTH,
            "min_lift": defaults::MIN_LIFT,
            "method": "exact",
            "antecedent_threshold": defaults::ANTECEDENT_THRESHOLD,
            // None: each item's own threshold from the model's scores.
            "consequent_threshold": null,
        }))
    }
}
