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

pub use rar_core::hierarchy::ACROSS;

/// Rows of the lookup table fetched at a time (the memory budget is
/// checked after each row, so a batch is what can pass it).
const BATCH: i64 = 100;

/// Most levels a hierarchy may have (the ancestors of an item grow with
/// their square).
pub const MAX_LEVELS: usize = 32;

/// Baskets at `level` of the hierarchy of the source `target` designates:
/// items replaced by their label at a level, or (`'all'`) items with all
/// their ancestors. The lookup is read with the caller's rights.
pub fn baskets_at(
    target: &Target,
    name: &str,
    level: &str,
    baskets: &Baskets,
    memory_limit: u64,
) -> Result<Baskets, RarError> {
    let source = match target.sources.as_slice() {
        [one] => one,
        [] => return Err(RarError::NoHierarchy { source: name.to_string() }),
        several => {
            return Err(RarError::SeveralSources {
                name: name.to_string(),
                sources: several.iter().map(|s| s.name.clone()).collect(),
            })
        }
    };
    let h = load(&source.name, level, memory_limit, "rar_mine")?;
    let mut tick = || {
        check_for_interrupts!();
    };
    let Some(k) = level_of(&h, &source.name, level)? else {
        let unlabelled = (0..baskets.n_items() as u32).filter(|&i| !h.has(baskets.item_name(i))).count();
        if unlabelled > 0 {
            pgrx::notice!(
                "{unlabelled} of the {} items of source \"{}\" {} no labels in its hierarchy, so no ancestors",
                baskets.n_items(),
                source.name,
                if unlabelled == 1 { "has" } else { "have" }
            );
        }
        return Ok(across_levels(baskets, &h, memory_limit, &mut tick)?);
    };
    let out = at_level(baskets, &h, k, &mut tick);
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

/// The level `level` names in the hierarchy `h` of source `source`: its
/// index, or None for [`ACROSS`] (items and every level together).
pub fn level_of(h: &Hierarchy, source: &str, level: &str) -> Result<Option<usize>, RarError> {
    if level == ACROSS {
        return Ok(None);
    }
    match h.level(level) {
        Some(k) => Ok(Some(k)),
        None => Err(RarError::NoSuchLevel {
            level: level.to_string(),
            source: source.to_string(),
            levels: h.levels().to_vec(),
        }),
    }
}

/// The hierarchy of registered source `source`, read from its lookup table
/// for `function`, which wants `level` of it (a level unknown to the source
/// is refused before the lookup is read).
pub fn load(source: &str, level: &str, memory_limit: u64, function: &'static str) -> Result<Hierarchy, RarError> {
    let row = Spi::connect(|client| {
        let t = client.select(
            "SELECT s.hierarchy_table::pg_catalog.oid, c.oid IS NOT NULL, s.hierarchy_key, s.hierarchy_levels, \
                    c.oid IS NOT NULL AND coalesce(pg_catalog.has_table_privilege(o.relowner, c.oid, 'SELECT'), false), \
                    pg_catalog.pg_get_userbyid(o.relowner)::pg_catalog.text \
             FROM rar.sources s LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.hierarchy_table \
             LEFT JOIN pg_catalog.pg_class o ON o.oid OPERATOR(pg_catalog.=) s.relation \
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
            r.get::<Vec<Option<String>>>(4)?,
            r.get::<bool>(5)?.unwrap_or(false),
            r.get::<String>(6)?.unwrap_or_default(),
        )))
    })?;
    let Some((Some(lookup), present, Some(key), Some(levels), owner_reads, owner)) = row else {
        return Err(RarError::NoHierarchy { source: source.to_string() });
    };
    if !present {
        return Err(RarError::HierarchyDropped { source: source.to_string() });
    }
    // The catalog row is the table owner's to write: checked as rar_hierarchy checks it.
    let bad = || RarError::BadHierarchy { source: source.to_string() };
    let levels: Vec<String> = levels.into_iter().collect::<Option<_>>().ok_or_else(bad)?;
    let distinct: std::collections::HashSet<&String> = levels.iter().collect();
    if levels.is_empty()
        || levels.len() > MAX_LEVELS
        || distinct.len() != levels.len()
        || levels.iter().any(|l| l == ACROSS)
    {
        return Err(bad());
    }
    if level != ACROSS && !levels.iter().any(|l| l == level) {
        return Err(RarError::NoSuchLevel { level: level.to_string(), source: source.to_string(), levels });
    }
    let table = crate::sources::qualified(lookup)?;
    // The first of the item and level columns the lookup lacks, in one query.
    let wanted: Vec<String> = std::iter::once(&key).chain(&levels).cloned().collect();
    let missing: Option<String> = crate::spi::one(
        "SELECT u.c FROM pg_catalog.unnest($2::pg_catalog.text[]) WITH ORDINALITY AS u(c, i) \
         WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) $1 \
                           AND a.attname OPERATOR(pg_catalog.=) u.c AND a.attnum OPERATOR(pg_catalog.>) 0 \
                           AND NOT a.attisdropped) \
         ORDER BY u.i LIMIT 1",
        &[lookup.into(), wanted.into()],
    )?;
    if let Some(column) = missing {
        return Err(RarError::HierarchyColumnMissing { source: source.to_string(), table, column });
    }
    // The lookup is data of its table: read only where the source table's
    // owner may read it too (a superuser reads anything; its refresh must
    // not give an owner labels it lost the right to).
    if !owner_reads {
        return Err(RarError::HierarchyNotReadableByOwner { source: source.to_string(), table, owner });
    }
    let readable: Option<bool> =
        crate::spi::one("SELECT pg_catalog.has_table_privilege($1, 'SELECT')", &[lookup.into()])?;
    if readable != Some(true) {
        return Err(RarError::HierarchyNotReadable { source: source.to_string(), table });
    }
    // Read as the source is: never a role's view, or its type's cast to
    // text, with a superuser's rights.
    let lookup_src = crate::relation::describe(crate::args::Relation(lookup), function);
    lookup_src.check_not_superuser_reading_user_view();
    let columns: Vec<String> = std::iter::once(&key).chain(&levels).map(|c| lookup_src.text_of(c)).collect();
    // By the name read under the lock, not `table` (read before it): the
    // table may have been renamed while the call waited, and a view of a
    // role's made under its old name.
    let sql = format!(
        "SELECT {} FROM {} WHERE {} IS NOT NULL",
        columns.join(", "),
        lookup_src.quoted,
        quote_identifier(&key)
    );
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
                if h.bytes() as u64 > memory_limit {
                    return Err(RarError::HierarchyTooLarge {
                        source: source.to_string(),
                        rows,
                        limit_bytes: memory_limit,
                    });
                }
            }
            check_for_interrupts!();
        }
    });
    outcome?;
    Ok(h)
}
