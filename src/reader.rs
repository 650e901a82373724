//! Streams a source's rows into compact baskets through an SPI cursor, a
//! batch at a time, so that memory grows with the baskets (8 bytes a line
//! while reading) and not with the table's rows.
//!
//! The query is built from quoted identifiers only and runs with the
//! caller's privileges: a caller without SELECT on the source gets
//! PostgreSQL's own `permission denied`.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
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

fn query(src: &Source, layout: &Layout) -> String {
    match layout {
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
    }
}

/// Reads all baskets of `src`. Checks for cancellation after every batch and
/// stops with an error when the baskets outgrow `memory_limit` bytes.
pub fn read_baskets(src: &Source, layout: &Layout, memory_limit: u64) -> Result<(Baskets, ReadStats), RarError> {
    let sql = query(src, layout);
    let mut builder = BasketsBuilder::default();
    let mut stats = ReadStats::default();
    let basket_form = matches!(layout, Layout::Baskets { .. });
    let keyed = matches!(layout, Layout::Baskets { tid: Some(_), .. });
    let outcome: Result<(), RarError> = Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &[]);
        loop {
            let table = cursor.fetch(BATCH).unwrap_or_else(|e| panic!("fetching rows failed: {e}"));
            if table.is_empty() {
                break;
            }
            for row in table {
                if basket_form {
                    let tid: Option<&str> = row.get(1).unwrap_or(None);
                    let items: Option<Array<&str>> = row.get(2).unwrap_or(None);
                    let (Some(items), false) = (items, keyed && tid.is_none()) else {
                        stats.null_lines += 1;
                        continue;
                    };
                    let nulls = items.iter().filter(Option::is_none).count() as u64;
                    stats.null_lines += nulls;
                    match tid {
                        Some(t) => items.iter().flatten().for_each(|i| builder.push(t, i)),
                        None => builder.push_basket(items.iter().flatten()),
                    }
                } else {
                    let tid: Option<&str> = row.get(1).unwrap_or(None);
                    let item: Option<&str> = row.get(2).unwrap_or(None);
                    match (tid, item) {
                        (Some(t), Some(i)) => builder.push(t, i),
                        _ => stats.null_lines += 1,
                    }
                }
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
