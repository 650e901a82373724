//! `rar_encode`: categorical and numeric attributes as item tokens
//! (`country=France`, `price=high`) beside the products, optional 0/1
//! columns, and normalized numeric columns, with every parameter recorded in
//! `rar.encodings` so that the same transform applies to new rows.
//!
//! Tokens are served by a view `<table>_rar_items (basket, item)` holding
//! the table's own items plus one token per basket and encoded column; mine
//! it like any table: `rar_mine('sales_rar_items')`.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::JsonB;
use rar_core::layout::Layout;
use serde_json::json;

use crate::args::{no_null_elements, required};
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::relation::{self, Source};
use crate::sources;
use crate::spi::{count, exec, one, pin_search_path};

/// Most distinct values one-hot encoded as columns.
const MAX_ONEHOT_COLUMNS: i64 = 100;

fn literal(s: &str) -> String {
    one::<String>("SELECT pg_catalog.quote_literal($1::pg_catalog.text)", &[s.to_string().into()])
        .or_raise()
        .unwrap_or_default()
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "NULL".into()
    }
}

fn band_labels(bins: usize) -> Vec<String> {
    if bins == 3 {
        vec!["low".into(), "mid".into(), "high".into()]
    } else {
        (1..=bins).map(|i| format!("q{i}")).collect()
    }
}

/// Encodes `columns` of `target` with `method`: 'onehot' (tokens
/// `column=value`; with `as_columns`, also 0/1 columns), 'bins' (quantile
/// bands as tokens, `bins` of them), 'zscore' or 'minmax' (a new float8
/// column `<column>_z` or `<column>_minmax`). Returns what was added.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, name = "rar_encode")]
pub fn encode(
    target: Option<&str>,
    columns: Option<Vec<Option<String>>>,
    method: default!(Option<&str>, "'onehot'"),
    bins: default!(Option<i32>, 3),
    as_columns: default!(Option<bool>, false),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (name!(column_name, String), name!(method, String), name!(added, String), name!(detail, String)),
> {
    let method = required("method", "'onehot'", method);
    let bins = required("bins", "3", bins);
    let as_columns = required("as_columns", "false", as_columns);
    let Some(columns) = columns.map(|c| no_null_elements("columns", c)) else {
        RarError::NullArgument { name: "columns", default: "none" }.raise()
    };
    if columns.is_empty() {
        RarError::ConflictingOptions {
            message: "columns must name at least one column",
            hint: "Name the columns to encode, for example columns => ARRAY['country'].",
        }
        .raise();
    }
    if let Some(twice) = columns.iter().enumerate().find_map(|(i, c)| columns[..i].contains(c).then_some(c)) {
        RarError::InvalidOption {
            name: "columns",
            value: format!("{twice} (named twice)"),
            expected: "distinct column names",
        }
        .raise();
    }
    if !matches!(method, "onehot" | "bins" | "zscore" | "minmax") {
        RarError::InvalidOption {
            name: "method",
            value: method.into(),
            expected: "'onehot', 'bins', 'zscore' and 'minmax'",
        }
        .raise();
    }
    if !(2..=20).contains(&bins) {
        RarError::InvalidOption { name: "bins", value: bins.to_string(), expected: "between 2 and 20" }.raise();
    }
    if as_columns && method != "onehot" {
        RarError::ConflictingOptions {
            message: "as_columns applies to method 'onehot' only",
            hint: "Leave as_columns out for this method.",
        }
        .raise();
    }
    let target = sources::relation_of("target", target);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe_table(target.relation, "rar_encode");
    let _pinned = pin_search_path();
    let progress = Progress::start("rar_encode");
    src.check_not_superuser_on_user_table();
    src.check_manage("encode columns");
    let Layout::Long { tid, item } = src.layout(tid_column, item_column).or_raise() else {
        RarError::ConflictingOptions {
            message: "rar_encode works on tables in long form (one row per basket and item)",
            hint: "Encode the table the baskets are built from.",
        }
        .raise()
    };
    src.check_one_basket_column(&tid);
    let mut out = Vec::new();
    for name in &columns {
        progress.report(&format!("encoding {name} of {}", src.display));
        let Some(col) = src.column(name) else { src.undefined_column(name).raise() };
        if method != "onehot" && !col.numeric {
            RarError::WrongType {
                column: col.name.clone(),
                type_name: col.type_name.clone(),
                role: "values to normalize or bin",
                expected: "of a number type",
            }
            .raise();
        }
        let q = quote_identifier(&col.name);
        let tab = &src.quoted;
        let (params, added, detail) = match method {
            "onehot" => onehot(&src, &col.name, as_columns),
            "bins" => {
                let fractions: Vec<f64> = (1..bins).map(|i| i as f64 / bins as f64).collect();
                let cuts: Vec<f64> = one::<Vec<Option<f64>>>(
                    &format!(
                        "SELECT pg_catalog.percentile_cont($1::pg_catalog.float8[]) WITHIN GROUP (ORDER BY {q}::pg_catalog.float8) \
                         FROM {tab} WHERE {q}::pg_catalog.float8 OPERATOR(pg_catalog.<>) ALL ('{{NaN,Infinity,-Infinity}}'::pg_catalog.float8[])"
                    ),
                    &[fractions.into()],
                )
                .or_raise()
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect();
                if cuts.is_empty() {
                    RarError::NoValues { column: col.name.clone(), relation: src.display.clone() }.raise();
                }
                let labels = band_labels(bins as usize);
                let detail = format!("cut points {cuts:?}, bands {labels:?}");
                (json!({"cuts": cuts, "labels": labels}), format!("tokens in {}", items_view_display(&src)), detail)
            }
            _ => {
                let stats = Spi::connect(|c| {
                    let t = c.select(
                        &format!(
                            "SELECT pg_catalog.avg({q})::pg_catalog.float8, pg_catalog.stddev_pop({q})::pg_catalog.float8, \
                             pg_catalog.min({q})::pg_catalog.float8, pg_catalog.max({q})::pg_catalog.float8 FROM {tab} \
                             WHERE {q}::pg_catalog.float8 OPERATOR(pg_catalog.<>) ALL ('{{NaN,Infinity,-Infinity}}'::pg_catalog.float8[])"
                        ),
                        Some(1),
                        &[],
                    )?;
                    let r = t.first();
                    Ok::<_, pgrx::spi::SpiError>((r.get::<f64>(1)?, r.get::<f64>(2)?, r.get::<f64>(3)?, r.get::<f64>(4)?))
                })
                .or_raise();
                let (mean, sd, min, max) =
                    (stats.0.unwrap_or(0.0), stats.1.unwrap_or(0.0), stats.2.unwrap_or(0.0), stats.3.unwrap_or(0.0));
                let (suffix, expr, params, detail) = if method == "zscore" {
                    let sd1 = if sd > 0.0 { sd } else { 1.0 };
                    (
                        "_z",
                        format!("({q} - {})::float8 / {}", number(mean), number(sd1)),
                        json!({"mean": mean, "sd": sd1}),
                        format!("mean {mean}, standard deviation {sd}"),
                    )
                } else {
                    let span = if max > min { max - min } else { 1.0 };
                    (
                        "_minmax",
                        format!("({q} - {})::float8 / {}", number(min), number(span)),
                        json!({"min": min, "max": max}),
                        format!("min {min}, max {max}"),
                    )
                };
                let new_col = rar_core::names::derived_name(&col.name, suffix);
                own_column(&src, &new_col, &col.name, method, "pg_catalog.float8", "double precision");
                exec(&format!("UPDATE {tab} SET {} = {expr}", quote_identifier(&new_col)), &[]).or_raise();
                let mut params = params;
                params["columns"] = json!([new_col]);
                params["marked"] = json!(true);
                (params, format!("column {new_col}"), detail)
            }
        };
        exec(
            "INSERT INTO rar.encodings (relation, column_name, method, params) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (relation, column_name, method) DO UPDATE SET params = EXCLUDED.params, created_at = pg_catalog.now()",
            &[src.oid.into(), col.name.clone().into(), method.to_string().into(), JsonB(params).into()],
        )
        .or_raise();
        out.push((col.name.clone(), method.to_string(), added, detail));
    }
    rebuild_items_view(&src, &tid, &item);
    TableIterator::new(out)
}

fn items_view_name(src: &Source) -> String {
    rar_core::names::derived_name(&src.name, "_rar_items")
}

fn items_view_display(src: &Source) -> String {
    format!("{}.{}", src.schema, items_view_name(src))
}

/// A column rar_encode is about to write must be new, or one an earlier
/// rar_encode of `column` by `method` made (`rar.encodings`, and the
/// column's comment, which [`own_column`] wrote): never a column of the user's
/// that happens to have its name, nor one the user dropped and added again
/// under it (its comment went with the first).
fn check_ours(src: &Source, target: &str, column: &str, method: &str, of_type: &str) {
    let refuse =
        |relation: String, why: &'static str| RarError::ColumnExists { relation, column: target.to_string(), why };
    // A column of an inheritance child of its own, or one it has from
    // another parent, not one this table gave it: a new column of the
    // parent would merge with it, and the parent's UPDATE would overwrite
    // it. (A partition's rows are the partitioned table's: its column is
    // recomputed with theirs.)
    let child: Option<String> = one(
        "WITH RECURSIVE kids(rel) AS (SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = $1 \
             UNION SELECT i.inhrelid FROM kids k JOIN pg_catalog.pg_inherits i ON i.inhparent = k.rel) \
         SELECT k.rel::pg_catalog.regclass::pg_catalog.text FROM kids k \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = k.rel AND a.attname = $2 AND NOT a.attisdropped \
         WHERE a.attislocal OR EXISTS ( \
             SELECT 1 FROM pg_catalog.pg_inherits i \
             JOIN pg_catalog.pg_attribute pa ON pa.attrelid = i.inhparent AND pa.attname = $2 AND NOT pa.attisdropped \
             WHERE i.inhrelid = k.rel AND i.inhparent <> $1 AND i.inhparent NOT IN (SELECT rel FROM kids)) \
         LIMIT 1",
        &[src.oid.into(), target.to_string().into()],
    )
    .or_raise();
    if let Some(child) = child {
        refuse(child, "it is a column of the child table, which rar_encode would overwrite through its parent").raise();
    }
    if src.column(target).is_none() {
        return;
    }
    // A column rar made has rar's type and rar's comment.
    let (same_type, comment) = Spi::connect(|c| {
        let t = c.select(
            "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) = $3, pg_catalog.col_description(a.attrelid, a.attnum) \
             FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 AND a.attname = $2 AND NOT a.attisdropped",
            Some(1),
            &[src.oid.into(), target.to_string().into(), of_type.to_string().into()],
        )?;
        if t.is_empty() {
            return Ok((false, None));
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>((r.get::<bool>(1)?.unwrap_or(false), r.get::<String>(2)?))
    })
    .or_raise();
    let params = one::<JsonB>(
        "SELECT params FROM rar.encodings WHERE relation = $1 AND column_name = $2 AND method = $3",
        &[src.oid.into(), column.to_string().into(), method.to_string().into()],
    )
    .or_raise();
    // The columns an earlier run made (recorded since 0.2.0; a row of
    // 0.1.0, without the list, is taken at its word), with the comment
    // they were made with where the run marked them.
    let recorded = params.as_ref().map(|p| match p.0.get("columns").and_then(|c| c.as_array()) {
        Some(made) => (
            made.iter().any(|c| c.as_str() == Some(target)),
            p.0.get("marked") != Some(&json!(true)) || comment.as_deref() == Some(marker(column, method).as_str()),
        ),
        None => (true, true),
    });
    let why = match recorded {
        None | Some((false, _)) => {
            Some("rar.encodings does not record it as one an earlier rar_encode of this column made")
        }
        _ if !same_type => Some("it is not of the type rar_encode makes for it"),
        Some((true, false)) => Some(
            "it lacks the comment rar_encode marks its columns with (a COMMENT ON COLUMN, or a restore with --no-comments, removes it; a column dropped and added again never had it)",
        ),
        Some((true, true)) => None,
    };
    if let Some(why) = why {
        refuse(src.display.clone(), why).raise();
    }
}

/// The comment on a column rar_encode made.
fn marker(column: &str, method: &str) -> String {
    format!("made by rar_encode ({method} of {column})")
}

/// The column `target` that rar_encode of `column` by `method` writes:
/// checked to be rar's ([`check_ours`]), or added (of type `sql_type`,
/// which `format_type` names `type_name`) and marked as rar's with its
/// comment.
fn own_column(src: &Source, target: &str, column: &str, method: &str, sql_type: &str, type_name: &str) {
    check_ours(src, target, column, method, type_name);
    if src.column(target).is_some() {
        return;
    }
    let made = quote_identifier(target);
    exec(&format!("ALTER TABLE {} ADD COLUMN {made} {sql_type}", src.quoted), &[]).or_raise();
    let comment = pgrx::spi::quote_literal(marker(column, method));
    exec(&format!("COMMENT ON COLUMN {}.{made} IS {comment}", src.quoted), &[]).or_raise();
}

/// One-hot: tokens always; 0/1 columns when asked.
fn onehot(src: &Source, name: &str, as_columns: bool) -> (serde_json::Value, String, String) {
    let q = quote_identifier(name);
    let text = src.text_of(name);
    let n_values = count(&format!("SELECT pg_catalog.count(DISTINCT {text}) FROM {}", src.quoted), &[]).or_raise();
    let mut added = format!("tokens in {}", items_view_display(src));
    // The columns made, recorded in rar.encodings (see `check_ours`).
    let mut names: Vec<String> = Vec::new();
    if as_columns {
        if n_values > MAX_ONEHOT_COLUMNS {
            RarError::TooManyValues { column: name.to_string(), values: n_values, limit: MAX_ONEHOT_COLUMNS }.raise();
        }
        let values: Vec<String> = Spi::connect(|c| {
            let t = c.select(
                &format!("SELECT DISTINCT {text} FROM {} WHERE {q} IS NOT NULL ORDER BY 1", src.quoted),
                None,
                &[],
            )?;
            t.map(|r| r.get::<String>(1).map(Option::unwrap_or_default)).collect::<Result<Vec<_>, _>>()
        })
        .or_raise();
        for v in &values {
            let col = rar_core::names::derived_name(&format!("{}={v}", name.to_lowercase()), "");
            // Two values whose columns would be one (names cut to 63 bytes
            // with a hash tag, or told apart by case only).
            if names.contains(&col) {
                RarError::ColumnExists {
                    relation: src.display.clone(),
                    column: col,
                    why: "two values of the column would share it",
                }
                .raise();
            }
            own_column(src, &col, name, "onehot", "pg_catalog.int2", "smallint");
            exec(
                &format!(
                    "UPDATE {} SET {} = ({text} IS NOT DISTINCT FROM $1::pg_catalog.text)::pg_catalog.int4",
                    src.quoted,
                    quote_identifier(&col)
                ),
                &[v.clone().into()],
            )
            .or_raise();
            names.push(col);
        }
        added = format!("{added}; columns {}", names.join(", "));
    }
    (json!({"values": n_values, "columns": names, "marked": true}), added, format!("{n_values} distinct values"))
}

/// (Re)creates `<table>_rar_items`: the table's items plus the tokens of
/// every one-hot or binned column recorded for it.
fn rebuild_items_view(src: &Source, tid: &str, item: &str) {
    let (t, i) = (src.text_of(tid), src.text_of(item));
    let mut parts = vec![format!("SELECT {t} AS basket, {i} AS item FROM {}", src.quoted)];
    let encodings: Vec<(String, String, serde_json::Value)> = Spi::connect(|c| {
        let rows = c.select(
            "SELECT column_name, method, params FROM rar.encodings WHERE relation = $1 AND method IN ('onehot', 'bins') ORDER BY column_name",
            None,
            &[src.oid.into()],
        )?;
        rows.map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<String>(2)?.unwrap_or_default(), r.get::<crate::args::Json>(3)?.map_or(json!({}), |j| j.0))))
            .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .or_raise();
    for (col, method, params) in encodings {
        if src.column(&col).is_none() {
            continue; // dropped since
        }
        let q = quote_identifier(&col);
        let prefix = literal(&format!("{}=", col.to_lowercase()));
        let value = if method == "onehot" {
            src.text_of(&col)
        } else {
            let cuts: Vec<f64> = serde_json::from_value(params["cuts"].clone()).unwrap_or_default();
            let labels: Vec<String> = serde_json::from_value(params["labels"].clone()).unwrap_or_default();
            if cuts.is_empty() || labels.is_empty() {
                continue; // nothing to band by
            }
            let mut case = String::from("CASE");
            for (cut, label) in cuts.iter().zip(&labels) {
                case.push_str(&format!(" WHEN {q}::float8 < {} THEN {}", number(*cut), literal(label)));
            }
            case.push_str(&format!(" ELSE {} END", literal(labels.last().map_or("high", |s| s))));
            case
        };
        parts.push(format!("SELECT DISTINCT {t}, {prefix} || {value} FROM {} WHERE {q} IS NOT NULL", src.quoted));
    }
    let view = format!("{}.{}", quote_identifier(&src.schema), quote_identifier(items_view_name(src)));
    // A view of that name made by anybody but the table's owner is not
    // replaced (nor used): the owner is told.
    let owner: Option<String> = one(
        "SELECT pg_catalog.pg_get_userbyid(c.relowner)::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)",
        &[view.clone().into()],
    )
    .or_raise();
    if owner.is_some_and(|o| o != src.owner) {
        RarError::ItemsViewNotOwned { view: items_view_display(src), relation: src.display.clone() }.raise();
    }
    exec(&format!("CREATE OR REPLACE VIEW {view} AS {}", parts.join(" UNION ALL ")), &[]).or_raise();
}
