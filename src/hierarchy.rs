//! A registered source's product hierarchy (`rar_hierarchy`), read for
//! `rar_mine`'s `level`, and the baskets it turns the source's into
//! (`rar_core::hierarchy` does the work).

use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use rar_core::baskets::Baskets;
use rar_core::hierarchy::{across_levels, at_level, Hierarchy};

use crate::error::RarError;
use crate::sources::Target;

/// `level => 'all'`: items and every level of the hierarchy together.
pub const ACROSS: &str = "all";

/// Rows of the lookup table fetched at a time.
const BATCH: i64 = 10_000;

/// Baskets at `level` of the hierarchy of the source `target` designates:
/// items replaced by their label at a level, or (`'all'`) items with all
/// their ancestors. The lookup is read with the caller's rights.
pub fn baskets_at(
    target: &Target,
    name: &str,
    level: &str,
    baskets: Baskets,
    memory_limit: u64,
) -> Result<Baskets, RarError> {
    let source = target.source().ok_or_else(|| RarError::NoHierarchy { source: name.to_string() })?;
    let h = load(&source.name, memory_limit)?;
    let mut tick = || {
        check_for_interrupts!();
    };
    if level == ACROSS {
        // Items and their ancestors: at most one line per item and level.
        let lines = baskets.heap_bytes() as u64 / 4 * (1 + h.levels().len() as u64);
        if lines.saturating_mul(12) > memory_limit {
            return Err(RarError::Mine(rar_core::MineError::MemoryLimit { limit_bytes: memory_limit }));
        }
        return Ok(across_levels(&baskets, &h, &mut tick)?);
    }
    let Some(k) = h.level(level) else {
        return Err(RarError::NoSuchLevel {
            level: level.to_string(),
            source: source.name.clone(),
            levels: h.levels().to_vec(),
        });
    };
    let out = at_level(&baskets, &h, k, &mut tick);
    if out.unlabelled_lines > 0 {
        let n = out.unlabelled_lines;
        pgrx::notice!(
            "rar_mine left out {n} line{} whose item has no {level} in the hierarchy of source \"{}\"",
            if n == 1 { "" } else { "s" },
            source.name
        );
    }
    Ok(out.baskets)
}

/// The hierarchy of registered source `source`, read from its lookup table.
pub fn load(source: &str, memory_limit: u64) -> Result<Hierarchy, RarError> {
    let row = Spi::connect(|client| {
        let t = client.select(
            "SELECT s.hierarchy_table::pg_catalog.oid, c.oid IS NOT NULL, s.hierarchy_key, s.hierarchy_levels \
             FROM rar.sources s LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.hierarchy_table \
             WHERE s.name OPERATOR(pg_catalog.=) $1",
            Some(1),
            &[source.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((
            r.get::<pg_sys::Oid>(1)?,
            r.get::<bool>(2)?.unwrap_or(false),
            r.get::<String>(3)?,
            r.get::<Vec<String>>(4)?,
        )))
    })?;
    let Some((Some(lookup), present, Some(key), Some(levels))) = row else {
        return Err(RarError::NoHierarchy { source: source.to_string() });
    };
    if !present {
        return Err(RarError::HierarchyDropped { source: source.to_string() });
    }
    let table = crate::sources::qualified(lookup)?;
    let readable: Option<bool> =
        crate::spi::one("SELECT pg_catalog.has_table_privilege($1, 'SELECT')", &[lookup.into()])?;
    if readable != Some(true) {
        return Err(RarError::HierarchyNotReadable { source: source.to_string(), table });
    }
    let columns: Vec<String> =
        std::iter::once(&key).chain(&levels).map(|c| format!("{}::pg_catalog.text", quote_identifier(c))).collect();
    let sql = format!("SELECT {} FROM {table} WHERE {} IS NOT NULL", columns.join(", "), quote_identifier(&key));
    let mut h = Hierarchy::new(levels.clone());
    let outcome: Result<(), RarError> = Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &[]);
        let mut rows = 0usize;
        loop {
            let batch = cursor.fetch(BATCH)?;
            if batch.is_empty() {
                return Ok(());
            }
            for row in batch {
                let item: String = row.get(1)?.unwrap_or_default();
                let mut labels = Vec::with_capacity(levels.len());
                for k in 0..levels.len() {
                    labels.push(row.get::<String>(k + 2)?);
                }
                h.add(&item, labels)?;
                rows += 1;
            }
            check_for_interrupts!();
            if h.bytes() as u64 > memory_limit {
                return Err(RarError::InputTooLarge { lines: rows, limit_bytes: memory_limit });
            }
        }
    });
    outcome?;
    Ok(h)
}
