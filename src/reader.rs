//! Streams a source's rows into compact baskets through an SPI cursor, a
//! batch at a time, so that memory grows with the baskets (8 bytes a line
//! while reading) and not with the table's rows.
//!
//! The query is built from quoted identifiers only and runs with the
//! caller's privileges: a caller without SELECT on the source gets
//! PostgreSQL's own `permission denied`.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::varlena;
use pgrx::datum::DatumWithOid;
use rar_core::baskets::{Baskets, BasketsBuilder};
use rar_core::layout::Layout;

use crate::error::RarError;
use crate::relation::Source;

const BATCH: i64 = 10_000;

/// What reading saw besides the baskets.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Rows skipped for a NULL basket id or item (NULL array elements count
    /// one each).
    pub null_lines: u64,
}

fn query(src: &Source, layout: &Layout, filter: Option<&str>) -> String {
    let select = match layout {
        Layout::Long { tid, item } => format!(
            "SELECT {}::pg_catalog.text, {}::pg_catalog.text FROM {}",
            quote_identifier(tid),
            quote_identifier(item),
            src.quoted
        ),
        Layout::Baskets { tid, items } => format!(
            "SELECT {}, {}::pg_catalog.text[] FROM {}",
            tid.as_deref().map_or("NULL::pg_catalog.text".to_string(), |t| format!("{}::pg_catalog.text", quote_identifier(t))),
            quote_identifier(items),
            src.quoted
        ),
    };
    match filter {
        Some(f) => format!("{select} WHERE {f}"),
        None => select,
    }
}

/// A text datum as `&str`, detoasted when needed. The database encoding is
/// UTF8 (checked by `read_baskets`).
unsafe fn text_str<'a>(d: pg_sys::Datum) -> &'a str {
    let mut p = d.cast_mut_ptr::<pg_sys::varlena>();
    if varlena::varatt_is_4b_c(p) || varlena::varatt_is_1b_e(p) {
        p = pg_sys::pg_detoast_datum_packed(p);
    }
    varlena::text_to_rust_str_unchecked(p)
}

/// Pushes the (basket, item) text pairs of the current SPI tuple table.
unsafe fn push_text_pairs(builder: &mut BasketsBuilder, stats: &mut ReadStats) {
    let tt = pg_sys::SPI_tuptable;
    let desc = (*tt).tupdesc;
    for r in 0..(*tt).numvals as usize {
        let tup = *(*tt).vals.add(r);
        let (mut null_t, mut null_i) = (false, false);
        let t = pg_sys::heap_getattr(tup, 1, desc, &mut null_t);
        let i = pg_sys::heap_getattr(tup, 2, desc, &mut null_i);
        if null_t || null_i {
            stats.null_lines += 1;
        } else {
            builder.push(text_str(t), text_str(i));
        }
    }
}

/// Reads all baskets of `src`. Checks for cancellation after every batch and
/// stops with an error when the baskets outgrow `memory_limit` bytes.
/// `filter`: a WHERE clause with its parameters (a split set).
pub fn read_baskets(
    src: &Source,
    layout: &Layout,
    filter: Option<(String, Vec<DatumWithOid<'static>>)>,
    memory_limit: u64,
) -> Result<(Baskets, ReadStats), RarError> {
    if unsafe { pg_sys::GetDatabaseEncoding() } != pg_sys::pg_enc::PG_UTF8 as i32 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "rar_mine needs a database with UTF8 encoding",
            "Create the database with ENCODING 'UTF8', or mine from a UTF8 database through postgres_fdw."
        );
    }
    let (cond, args) = match filter {
        Some((c, a)) => (Some(c), a),
        None => (None, Vec::new()),
    };
    let sql = query(src, layout, cond.as_deref());
    let mut builder = BasketsBuilder::default();
    let mut stats = ReadStats::default();
    let basket_form = matches!(layout, Layout::Baskets { .. });
    let keyed = matches!(layout, Layout::Baskets { tid: Some(_), .. });
    let outcome: Result<(), RarError> = Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &args);
        loop {
            let table = cursor.fetch(BATCH).unwrap_or_else(|e| panic!("fetching rows failed: {e}"));
            if table.is_empty() {
                break;
            }
            if basket_form {
                for row in table {
                    let tid: Option<&str> = row.get(1).unwrap_or(None);
                    let items: Option<Array<&str>> = row.get(2).unwrap_or(None);
                    let (Some(items), false) = (items, keyed && tid.is_none()) else {
                        stats.null_lines += 1;
                        continue;
                    };
                    stats.null_lines += items.iter().filter(Option::is_none).count() as u64;
                    match tid {
                        Some(t) => items.iter().flatten().for_each(|i| builder.push(t, i)),
                        None => builder.push_basket(items.iter().flatten()),
                    }
                }
            } else {
                // The hot path: two text columns per row, read straight off
                // the SPI tuple table (pgrx's typed getters cost more than
                // the mining itself on small jobs).
                // SAFETY: `table` keeps SPI_tuptable alive; the query makes
                // both columns text.
                unsafe { push_text_pairs(&mut builder, &mut stats) };
            }
            check_for_interrupts!();
            if builder.heap_bytes() as u64 > memory_limit {
                return Err(RarError::InputTooLarge { lines: builder.n_lines(), limit_bytes: memory_limit });
            }
        }
        Ok(())
    });
    outcome?;
    Ok((builder.build(), stats))
}
