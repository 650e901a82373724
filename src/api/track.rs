//! `rar_track_changes`: the trigger that lets sessions keep a table's
//! encoded baskets between calls (`crate::basket_cache`,
//! `sql/tracking.sql`), and `rar_basket_cache`, what this session keeps.

use pgrx::prelude::*;
use rar_core::layout::Layout;

use crate::error::{OrRaise, RarError};
use crate::spi::{exec, one, pin_search_path};
use crate::{basket_cache, relation, sources};

/// The trigger's name on a tracked table.
const TRIGGER: &str = "rar_track_changes";

/// Adds (or, with `track => false`, removes) the statement trigger that
/// records every change of `source`, a plain table the caller owns.
/// Returns whether the table is tracked after the call.
#[pg_extern(volatile, parallel_unsafe, name = "rar_track_changes")]
pub fn track_changes(source: Option<&str>, track: default!(Option<bool>, true)) -> bool {
    let track = crate::args::required("track", "true", track);
    let target = sources::relation_of("source", source);
    let src = relation::describe_table(target.relation, "rar_track_changes");
    let _pinned = pin_search_path();
    src.check_manage("track its changes");
    let kind = one::<String>(
        "SELECT relkind::pg_catalog.text FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) $1",
        &[src.oid.into()],
    )
    .or_raise();
    if kind.as_deref() != Some("r") {
        RarError::Unsupported {
            message: "rar_track_changes tracks plain tables only",
            hint: "A partitioned table's partitions can be changed directly, which its statement triggers do not see: track each partition and mine it, or mine the partitioned table without a cache.",
        }
        .raise();
    }
    let triggers = tracking_triggers(src.oid);
    if track {
        if triggers.is_empty() {
            exec(
                &format!(
                    "CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} \
                     FOR EACH STATEMENT EXECUTE FUNCTION rar.table_changed()",
                    src.quoted
                ),
                &[],
            )
            .or_raise();
            // Fire in every replication role: a change made with
            // session_replication_role = replica must count too.
            exec(&format!("ALTER TABLE {} ENABLE ALWAYS TRIGGER {TRIGGER}", src.quoted), &[]).or_raise();
        } else {
            for name in &triggers {
                exec(
                    &format!("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}", src.quoted, pgrx::spi::quote_identifier(name)),
                    &[],
                )
                .or_raise();
            }
        }
    } else {
        for name in &triggers {
            exec(&format!("DROP TRIGGER {} ON {}", pgrx::spi::quote_identifier(name), src.quoted), &[]).or_raise();
        }
    }
    track
}

/// The names of the triggers on `relid` that run `rar.table_changed()`.
fn tracking_triggers(relid: pg_sys::Oid) -> Vec<String> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT t.tgname::pg_catalog.text FROM pg_catalog.pg_trigger t \
                 WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 \
                   AND t.tgfoid OPERATOR(pg_catalog.=) 'rar.table_changed()'::pg_catalog.regprocedure \
                 ORDER BY t.oid",
                None,
                &[relid.into()],
            )?
            .map(|row| row.get::<String>(1).map(Option::unwrap_or_default))
            .collect::<Result<Vec<_>, _>>()
    })
    .or_raise()
}

/// The baskets this session keeps, most recently used first: the table, the
/// columns read, the baskets, lines and bytes, and how often each was used.
#[pg_extern(volatile, parallel_restricted, name = "rar_basket_cache")]
#[allow(clippy::type_complexity)]
pub fn basket_cache() -> TableIterator<
    'static,
    (name!(relation, String), name!(columns, String), name!(canonical, bool), name!(bytes, i64), name!(uses, i64)),
> {
    let rows: Vec<_> = basket_cache::entries()
        .into_iter()
        .map(|e| {
            let columns = match &e.key.layout {
                Layout::Long { tid, item } => format!("{tid}, {item}"),
                Layout::Baskets { tid: Some(tid), items } => format!("{tid}, {items}"),
                Layout::Baskets { tid: None, items } => items.clone(),
            };
            let relation = one::<String>(
                "SELECT $1::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text",
                &[pg_sys::Oid::from(e.key.relid).into()],
            )
            .or_raise()
            .unwrap_or_default();
            (relation, columns, e.key.canonical, e.bytes as i64, e.hits as i64)
        })
        .collect();
    TableIterator::new(rows)
}
