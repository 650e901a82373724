//! `rar_split`: a deterministic train/validation/test split by basket,
//! recorded in `rar.splits` so that later calls (`rar_mine(..., split =>
//! 'train')`) use the same one.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::PgRelation;

use crate::error::{OrRaise, RarError};
use crate::relation::{self, Source};
use crate::sql::exec;

/// A recorded split, read back from `rar.splits`.
pub struct Split {
    pub tid_column: String,
    pub seed: i32,
    pub train: f64,
    pub validation: f64,
    pub time_column: Option<String>,
    pub test_from: Option<pgrx::datum::TimestampWithTimeZone>,
}

/// A WHERE clause (with its parameters) selecting the lines of `set` under
/// `split`. Baskets stay whole: the set is a function of the basket id (and,
/// for a time split, of the basket's first line's time).
pub fn filter(src: &Source, split: &Split, set: &str) -> (String, Vec<pgrx::datum::DatumWithOid<'static>>) {
    let tid = quote_identifier(&split.tid_column);
    match (&split.time_column, split.test_from) {
        (Some(time), Some(from)) => {
            let time = quote_identifier(time);
            let early = format!(
                "{tid} IN (SELECT {tid} FROM {tab} GROUP BY {tid} HAVING pg_catalog.min({time}) {op} $1)",
                tab = src.quoted,
                op = if set == "test" { ">=" } else { "<" }
            );
            if set == "test" {
                (early, vec![from.into()])
            } else {
                let share = split.train / (split.train + split.validation);
                (
                    format!("{early} AND rar_split_bucket({tid}::pg_catalog.text, $2, $3, $4) = $5"),
                    vec![from.into(), split.seed.into(), share.into(), (1.0 - share).into(), set.to_string().into()],
                )
            }
        }
        _ => (
            format!("rar_split_bucket({tid}::pg_catalog.text, $1, $2, $3) = $4"),
            vec![split.seed.into(), split.train.into(), split.validation.into(), set.to_string().into()],
        ),
    }
}

/// The split recorded for `src`, or an error saying how to make one.
pub fn recorded(src: &Source) -> Split {
    let row = Spi::connect(|client| {
        let t = client.select(
            "SELECT tid_column, seed, train, validation, time_column, test_from FROM rar.splits WHERE relation = $1",
            Some(1),
            &[src.oid.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some(Split {
            tid_column: r.get(1)?.unwrap_or_default(),
            seed: r.get(2)?.unwrap_or(0),
            train: r.get(3)?.unwrap_or(0.0),
            validation: r.get(4)?.unwrap_or(0.0),
            time_column: r.get(5)?,
            test_from: r.get(6)?,
        }))
    })
    .unwrap_or_else(|e| panic!("reading rar.splits failed: {e}"));
    row.unwrap_or_else(|| RarError::NoSplit { relation: src.display.clone() }.raise())
}

/// Splits `target`'s baskets into training, validation and test sets, by a
/// hash of the basket id and `seed` (or, with `time_column` and
/// `test_days`, the baskets of the last `test_days` days as test), records
/// the split and returns the size of each set.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn rar_split(
    target: Option<PgRelation>,
    train: default!(f64, 0.8),
    validation: default!(f64, 0.1),
    test: default!(f64, 0.1),
    seed: default!(i32, 0),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    time_column: default!(Option<&str>, "NULL"),
    test_days: default!(Option<i32>, "NULL"),
) -> TableIterator<'static, (name!(split, String), name!(baskets, i64), name!(lines, i64))> {
    let Some(target) = target else {
        RarError::NullArgument { name: "target", default: "" }.raise()
    };
    for (name, v) in [("train", train), ("validation", validation), ("test", test)] {
        if !(0.0..=1.0).contains(&v) {
            RarError::InvalidOption { name, value: v.to_string(), expected: "shares between 0 and 1 that add up to 1" }.raise();
        }
    }
    if (train + validation + test - 1.0).abs() > 1e-9 {
        RarError::ConflictingOptions {
            message: "train, validation and test must add up to 1",
            hint: "For example train => 0.8, validation => 0.1, test => 0.1.",
        }
        .raise();
    }
    if time_column.is_some() != test_days.is_some() {
        RarError::ConflictingOptions {
            message: "time_column and test_days go together",
            hint: "Give both for a time split (the last test_days days as test), or neither for a hash split.",
        }
        .raise();
    }
    if test_days.is_some_and(|d| d < 1) {
        RarError::InvalidOption { name: "test_days", value: format!("{test_days:?}"), expected: "a number of days of at least 1" }.raise();
    }
    let src = relation::describe(target.oid(), "rar_split");
    drop(target);
    let layout = src.layout(tid_column, item_column).or_raise();
    let tid = match layout {
        rar_core::layout::Layout::Long { tid, .. } => tid,
        rar_core::layout::Layout::Baskets { tid: Some(tid), .. } => tid,
        rar_core::layout::Layout::Baskets { tid: None, .. } => RarError::ConflictingOptions {
            message: "rar_split needs a basket id column",
            hint: "Name it with tid_column.",
        }
        .raise(),
    };
    let time = time_column.map(|t| {
        let c = src
            .columns
            .iter()
            .find(|c| c.name == t)
            .unwrap_or_else(|| RarError::UndefinedColumn { function: src.function, relation: src.display.clone(), column: t.into(), columns: src.columns.iter().map(|c| c.name.clone()).collect() }.raise());
        if !(c.type_name.starts_with("timestamp") || c.type_name == "date") {
            RarError::WrongType { column: c.name.clone(), type_name: c.type_name.clone(), role: "time", expected: "a date or timestamp" }.raise();
        }
        c.name.clone()
    });
    let test_from: Option<pgrx::datum::TimestampWithTimeZone> = match (&time, test_days) {
        (Some(t), Some(days)) => Spi::get_one_with_args(
            &format!("SELECT pg_catalog.max({})::timestamptz - pg_catalog.make_interval(days => $1) FROM {}", quote_identifier(t), src.quoted),
            &[days.into()],
        )
        .ok()
        .flatten(),
        _ => None,
    };
    exec(
        "INSERT INTO rar.splits (relation, tid_column, seed, train, validation, test, time_column, test_from) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (relation) DO UPDATE SET tid_column = EXCLUDED.tid_column, seed = EXCLUDED.seed, train = EXCLUDED.train, \
         validation = EXCLUDED.validation, test = EXCLUDED.test, time_column = EXCLUDED.time_column, \
         test_from = EXCLUDED.test_from, created_by = current_user, created_at = pg_catalog.now()",
        &[
            src.oid.into(),
            tid.clone().into(),
            seed.into(),
            train.into(),
            validation.into(),
            test.into(),
            time.clone().into(),
            test_from.into(),
        ],
    );
    let split = Split { tid_column: tid, seed, train, validation, time_column: time, test_from };
    let mut rows = Vec::new();
    for set in ["train", "validation", "test"] {
        let (cond, args) = filter(&src, &split, set);
        let (baskets, lines) = Spi::connect(|client| {
            let t = client.select(
                &format!("SELECT pg_catalog.count(DISTINCT {}), pg_catalog.count(*) FROM {} WHERE {cond}", quote_identifier(&split.tid_column), src.quoted),
                Some(1),
                &args,
            )?;
            let r = t.first();
            Ok::<_, pgrx::spi::SpiError>((r.get::<i64>(1)?.unwrap_or(0), r.get::<i64>(2)?.unwrap_or(0)))
        })
        .unwrap_or_else(|e| panic!("counting the split failed: {e}"));
        rows.push((set.to_string(), baskets, lines));
    }
    TableIterator::new(rows)
}
