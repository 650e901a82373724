//! `rar_split`: a deterministic train/validation/test split by basket,
//! recorded in `rar.splits` so that later calls (`rar_mine(..., split =>
//! 'train')`) use the same one (see `crate::splits`).

use pgrx::prelude::*;

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::{exec, one, pin_search_path};
use crate::splits::{filter, Split};
use crate::{relation, sources};

/// Splits `target`'s baskets into training, validation and test sets, by a
/// hash of the basket id and `seed` (or, with `time_column` and
/// `test_days`, the baskets of the last `test_days` days as test), records
/// the split and returns the size of each set.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, name = "rar_split")]
pub fn split(
    target: Option<&str>,
    train: default!(Option<f64>, 0.8),
    validation: default!(Option<f64>, 0.1),
    test: default!(Option<f64>, 0.1),
    seed: default!(Option<i32>, 0),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    time_column: default!(Option<&str>, "NULL"),
    test_days: default!(Option<i32>, "NULL"),
) -> TableIterator<'static, (name!(split, String), name!(baskets, i64), name!(lines, i64))> {
    let _hint = crate::error::HintOn::new(
        &[PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW],
        c"If the time is time_column's, or the test days counted back from the last of its values: these must be times PostgreSQL's timestamp holds (4713 BC to 294276 AD); leave out or fix the lines past that range, or ask for fewer test_days.",
    );
    let train = required("train", "0.8", train);
    let validation = required("validation", "0.1", validation);
    let test = required("test", "0.1", test);
    let seed = required("seed", "0", seed);
    for (name, v) in [("train", train), ("validation", validation), ("test", test)] {
        if !(0.0..=1.0).contains(&v) {
            RarError::InvalidOption { name, value: v.to_string(), expected: "shares between 0 and 1 that add up to 1" }
                .raise();
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
    if test_days.is_some() && train + validation <= 0.0 {
        RarError::ConflictingOptions {
            message: "a time split needs train or validation above 0",
            hint: "The baskets before the last test_days days are shared between train and validation: give them shares, such as train => 0.9, validation => 0.1.",
        }
        .raise();
    }
    if test_days.is_some_and(|d| d < 1) {
        RarError::InvalidOption {
            name: "test_days",
            value: test_days.unwrap_or_default().to_string(),
            expected: "a number of days of at least 1",
        }
        .raise();
    }
    let target = sources::relation_of("target", target);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe(target.relation, "rar_split");
    let _pinned = pin_search_path();
    let progress = Progress::start("rar_split");
    src.check_manage("record a split");
    src.check_not_superuser_reading_user_view();
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
    let time = time_column.map(|t| src.time_column(t, "time", "a date or timestamp").name.clone());
    // The last finite time: one line dated 'infinity' (a placeholder) must
    // not make the test set that line's basket alone.
    let test_from: Option<pgrx::datum::TimestampWithTimeZone> = match (&time, test_days) {
        (Some(t), Some(days)) => one(
            &format!(
                "SELECT pg_catalog.max({time}) FILTER (WHERE pg_catalog.isfinite({time})) \
                        - pg_catalog.make_interval(days => $1) FROM {}",
                src.quoted,
                time = crate::splits::absolute_time(&src, t),
            ),
            &[days.into()],
        )
        .or_raise(),
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
    )
    .or_raise();
    let split = Split { tid_column: tid, seed, train, validation, time_column: time, test_from };
    let mut rows = Vec::new();
    for set in ["train", "validation", "test"] {
        progress.report(&format!("counting the {set} baskets of {}", src.display));
        let part = filter(&src, &split, set);
        let (cond, args) = (part.clause, part.args);
        let (baskets, lines) = Spi::connect(|client| {
            let t = client.select(
                &format!(
                    "SELECT pg_catalog.count(DISTINCT {}), pg_catalog.count(*) FROM {} WHERE {cond}",
                    src.basket_key(&split.tid_column),
                    src.quoted
                ),
                Some(1),
                &args,
            )?;
            let r = t.first();
            Ok::<_, pgrx::spi::SpiError>((r.get::<i64>(1)?.unwrap_or(0), r.get::<i64>(2)?.unwrap_or(0)))
        })
        .or_raise();
        rows.push((set.to_string(), baskets, lines));
    }
    TableIterator::new(rows)
}
