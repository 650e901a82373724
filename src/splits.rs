//! Train/validation/test splits of a table: the one `rar_split` recorded in
//! `rar.splits`, or the default, and the WHERE clause that selects a set.
//! Used by `rar_mine(..., split => ...)`, `rar_train` and `rar_evaluate`.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;

use crate::error::{OrRaise, RarError};
use crate::reader::Filter;
use crate::relation::Source;
use crate::spi::{count, ext_schema};

/// The split used when a table has none recorded: 80/10/10 by a hash of the
/// basket id, seed 0 (as `rar_split`'s defaults).
pub const DEFAULT_SPLIT: &str = "default: 80/10/10 by a hash of the basket id, seed 0";

/// A recorded split, read back from `rar.splits`.
pub struct Split {
    pub tid_column: String,
    pub seed: i32,
    pub train: f64,
    pub validation: f64,
    pub time_column: Option<String>,
    pub test_from: Option<pgrx::datum::TimestampWithTimeZone>,
}

/// A time column as an absolute time, whatever the session's TimeZone: a
/// `timestamptz` as it is, a `timestamp` or `date` read as UTC.
pub fn absolute_time(src: &Source, column: &str) -> String {
    // Checked again on every use: a split recorded on a timestamp column
    // stays recorded when the owner later gives the column a type of its
    // own, whose cast to timestamp would run in the caller's name.
    src.time_column(column, "time of a basket", "of type date, timestamp or timestamptz");
    let quoted = quote_identifier(column);
    // A timestamptz (or a domain over one) is absolute already; a date or
    // timestamp is read as UTC, whatever the session's time zone.
    if src.base_type(column) == Some(pg_sys::TIMESTAMPTZOID) {
        format!("({quoted}::pg_catalog.timestamptz)")
    } else {
        format!("({quoted}::pg_catalog.timestamp AT TIME ZONE 'UTC')")
    }
}

/// A WHERE clause (with its parameters) selecting the lines of `set` under
/// `split`. Baskets stay whole: the set is a function of the basket id (and,
/// for a time split, of the basket's first line's time).
pub fn filter(src: &Source, split: &Split, set: &str) -> Filter {
    let (clause, args) = clause(src, split, set);
    let key = format!(
        "{clause} | {set} {} {} {} {:?}",
        split.seed,
        split.train,
        split.validation,
        split.test_from.map(|t| t.to_iso_string())
    );
    let columns = src.basket_column_names(&split.tid_column).into_iter().chain(split.time_column.clone()).collect();
    Filter { clause, args, key, label: format!("split {set}"), columns }
}

/// The WHERE clause of [`filter`] and its parameters.
fn clause(src: &Source, split: &Split, set: &str) -> (String, Vec<pgrx::datum::DatumWithOid<'static>>) {
    let tid = src.basket_key(&split.tid_column);
    let tid_text = src.basket_text(&split.tid_column);
    let ext = ext_schema().or_raise();
    match (&split.time_column, split.test_from) {
        (Some(time), Some(from)) => {
            // A basket's time is its first line's; a basket without one is
            // never a test basket.
            let time = absolute_time(src, time);
            let early = format!(
                "{tid} IN (SELECT {tid} FROM {tab} GROUP BY {tid} HAVING {cond})",
                tab = src.quoted,
                cond = if set == "test" {
                    format!("pg_catalog.min({time}) >= $1")
                } else {
                    format!("pg_catalog.min({time}) < $1 OR pg_catalog.min({time}) IS NULL")
                }
            );
            if set == "test" {
                (early, vec![from.into()])
            } else {
                let share = split.train / (split.train + split.validation);
                (
                    format!("{early} AND {ext}.rar_split_bucket({tid_text}, $2::pg_catalog.int4, $3::pg_catalog.float8, $4::pg_catalog.float8) = $5"),
                    vec![from.into(), split.seed.into(), share.into(), (1.0 - share).into(), set.to_string().into()],
                )
            }
        }
        _ => (
            format!("{ext}.rar_split_bucket({tid_text}, $1::pg_catalog.int4, $2::pg_catalog.float8, $3::pg_catalog.float8) = $4"),
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
    .or_raise();
    row.unwrap_or_else(|| RarError::NoSplit { relation: src.display.clone() }.raise())
}

/// The split of `src`: the recorded one, else the default over the basket
/// column `tid`; with a description for the model registry.
pub fn for_source(src: &Source, tid: &str) -> (Split, &'static str) {
    let recorded_one =
        count("SELECT pg_catalog.count(*) FROM rar.splits WHERE relation = $1", &[src.oid.into()]).or_raise() > 0;
    if recorded_one {
        (recorded(src), "recorded by rar_split")
    } else {
        (
            Split {
                tid_column: tid.to_string(),
                seed: 0,
                train: 0.8,
                validation: 0.1,
                time_column: None,
                test_from: None,
            },
            DEFAULT_SPLIT,
        )
    }
}
