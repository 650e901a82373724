//! The C symbols of 0.1.0's functions that took a `regclass`, or that
//! 0.2.0 gave more arguments (`rar_recommend`).
//!
//! A server runs the new library as soon as it is installed, while a
//! database still has 0.1.0's SQL declarations until `ALTER EXTENSION rar
//! UPDATE`. 0.2.0's functions take their source as text (the naming rule of
//! [`crate::sources`]) under new symbols; these keep the old symbols, with
//! the old argument types, and call them with the table's qualified name, so
//! that a 0.1.0 declaration never reads a datum of the wrong type. They have
//! no SQL of their own (`sql = false`); the upgrade script drops the old
//! declarations.

use pgrx::prelude::*;
use pgrx::JsonB;

use crate::api::{clean, encode, mine, profile, recommend, rulesets, segments, split, train};
use crate::args::Relation;
use crate::error::{OrRaise, RarError};
use crate::srf::RuleRows;

/// The schema-qualified name of a relation given by OID.
fn name_of(rel: Option<Relation>) -> Option<String> {
    let rel = rel?;
    let name = crate::sources::qualified(rel.0).or_raise();
    if name.is_empty() {
        RarError::NoSuchRelation { oid: rel.0.to_u32() }.raise();
    }
    Some(name)
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(sql = false)]
fn rar_mine(
    source: Option<Relation>,
    min_support: Option<f64>,
    min_confidence: Option<f64>,
    max_length: Option<i32>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
    max_consequent: Option<i32>,
    min_lift: Option<f64>,
    min_length: Option<i32>,
    support_of: Option<&str>,
    split: Option<&str>,
    method: Option<&str>,
    model: Option<i64>,
    antecedent_threshold: Option<f64>,
    consequent_threshold: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Option<i64> {
    // SAFETY: pgrx hands over this call's fcinfo; 0.1.0 declared the rule
    // row's first nine columns (no p-value), which RuleRows takes.
    let mut out = unsafe { RuleRows::begin(fcinfo) };
    let name = name_of(source);
    mine::mined(mine::MineArgs {
        source: name.as_deref(),
        min_support,
        min_confidence,
        max_length,
        tid_column,
        item_column,
        max_consequent,
        min_lift,
        min_length,
        support_of,
        split,
        method,
        model,
        antecedent_threshold,
        consequent_threshold,
        max_p_value: None,
        p_adjust: Some("holm"),
        min_improvement: None,
        level: None,
        min_interest: None,
    })
    .put(&mut out);
    None
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(sql = false)]
fn rar_mine_segments(
    source: Option<Relation>,
    segment_column: Option<&str>,
    min_support: Option<f64>,
    min_confidence: Option<f64>,
    max_length: Option<i32>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
) -> TableIterator<'static, (Option<String>, Vec<String>, Vec<String>, f64, f64, f64, f64, f64, i64)> {
    let name = name_of(source);
    segments::mine_segments(
        name.as_deref(),
        segment_column,
        min_support,
        min_confidence,
        max_length,
        tid_column,
        item_column,
        Some(1),
    )
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(sql = false)]
fn rar_clean(
    target: Option<Relation>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
    quantity_column: Option<&str>,
    price_column: Option<&str>,
    drop_nulls: Option<bool>,
    cancelled_basket_pattern: Option<&str>,
    drop_nonpositive_quantity: Option<bool>,
    normalize_items: Option<bool>,
    case_fold: Option<&str>,
    fix_mojibake: Option<bool>,
    placeholder_items: Option<Vec<Option<String>>>,
    placeholder_pattern: Option<&str>,
    merge_duplicates: Option<bool>,
    outlier_mad: Option<f64>,
    max_basket_size: Option<i32>,
    basket_size_quantile: Option<f64>,
    dry_run: Option<bool>,
) -> TableIterator<'static, (String, String, i64, String)> {
    let name = name_of(target);
    clean::clean(
        name.as_deref(),
        tid_column,
        item_column,
        quantity_column,
        price_column,
        drop_nulls,
        cancelled_basket_pattern,
        drop_nonpositive_quantity,
        normalize_items,
        case_fold,
        fix_mojibake,
        placeholder_items,
        placeholder_pattern,
        merge_duplicates,
        outlier_mad,
        max_basket_size,
        basket_size_quantile,
        dry_run,
    )
}

#[pg_extern(sql = false)]
fn rar_restore(target: Option<Relation>, run: Option<i64>) -> i64 {
    clean::restore(name_of(target).as_deref(), run)
}

#[allow(clippy::too_many_arguments)]
#[pg_extern(sql = false)]
fn rar_split(
    target: Option<Relation>,
    train: Option<f64>,
    validation: Option<f64>,
    test: Option<f64>,
    seed: Option<i32>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
    time_column: Option<&str>,
    test_days: Option<i32>,
) -> TableIterator<'static, (String, i64, i64)> {
    let name = name_of(target);
    split::split(name.as_deref(), train, validation, test, seed, tid_column, item_column, time_column, test_days)
}

#[pg_extern(sql = false)]
fn rar_profile(
    source: Option<Relation>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
    top: Option<i32>,
    rare_below: Option<i32>,
) -> JsonB {
    profile::profile(name_of(source).as_deref(), tid_column, item_column, top, rare_below)
}

#[pg_extern(sql = false)]
fn rar_encode(
    target: Option<Relation>,
    columns: Option<Vec<Option<String>>>,
    method: Option<&str>,
    bins: Option<i32>,
    as_columns: Option<bool>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
) -> TableIterator<'static, (String, String, String, String)> {
    let name = name_of(target);
    encode::encode(name.as_deref(), columns, method, bins, as_columns, tid_column, item_column)
}

#[pg_extern(sql = false)]
fn rar_columns(
    source: Option<Relation>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
) -> TableIterator<'static, (String, String)> {
    rulesets::columns(name_of(source).as_deref(), tid_column, item_column)
}

#[pg_extern(sql = false)]
fn rar_train(
    source: Option<Relation>,
    model: Option<&str>,
    params: Option<crate::args::Json>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
) -> TableIterator<'static, (i64, i32, String, String, i64, i64, f64, f64, f64, f64, f64, f64, f64, bool)> {
    train::train(name_of(source).as_deref(), model, params, tid_column, item_column, None, None)
}

/// 0.1.0's `rar_recommend` (no `customer`; also the declaration of 0.2.0
/// before `customer`, which had the same symbol).
#[pg_extern(sql = false)]
fn rar_recommend(
    items: Option<Vec<Option<String>>>,
    k: Option<i32>,
    source: Option<&str>,
    method: Option<&str>,
    model_id: Option<i64>,
) -> TableIterator<'static, (i32, String, f64, String)> {
    recommend::recommend(items, k, source, method, model_id, None)
}
