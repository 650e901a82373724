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
    src.check_manage("track changes");
    if track {
        check_trackable(&src);
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

/// Refuses a table whose changes a statement trigger of its own would not
/// all see, or that rar must not track.
fn check_trackable(src: &crate::relation::Source) {
    let row = Spi::connect(|client| {
        let t = client.select(
            "SELECT c.relkind::pg_catalog.text, c.relpersistence::pg_catalog.text, \
                    c.relispartition OR EXISTS (SELECT FROM pg_catalog.pg_inherits i \
                                                WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid), \
                    c.relnamespace OPERATOR(pg_catalog.=) 'rar'::pg_catalog.regnamespace \
             FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1",
            Some(1),
            &[src.oid.into()],
        )?;
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>((
            r.get::<String>(1)?.unwrap_or_default(),
            r.get::<String>(2)?.unwrap_or_default(),
            r.get::<bool>(3)?.unwrap_or(true),
            r.get::<bool>(4)?.unwrap_or(true),
        ))
    })
    .or_raise();
    let (kind, persistence, child, own) = row;
    let refuse = |message: &'static str, hint: &'static str| RarError::Unsupported { message, hint }.raise();
    if own {
        refuse("rar_track_changes does not track rar's own tables", "Track the sales tables you mine.");
    }
    if kind != "r" {
        refuse(
            "rar_track_changes tracks plain tables only",
            "A partitioned table's partitions can be changed directly, which its statement triggers do not see: its baskets are read on every call.",
        );
    }
    if child {
        refuse(
            "rar_track_changes does not track a partition or an inheritance child",
            "A change made through the parent fires only the parent's statement triggers: mine the parent (read on every call), or a plain table.",
        );
    }
    if persistence == "t" {
        refuse(
            "rar_track_changes does not track temporary tables",
            "Only this session sees a temporary table, and its writes would then need a read-write transaction: mine it without tracking.",
        );
    }
    if let Some(other) = one::<String>(
        "SELECT p.oid::pg_catalog.regprocedure::pg_catalog.text FROM pg_catalog.pg_trigger t \
         JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) t.tgfoid \
         WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 AND t.tgname OPERATOR(pg_catalog.=) $2 \
           AND t.tgfoid OPERATOR(pg_catalog.<>) 'rar.table_changed()'::pg_catalog.regprocedure",
        &[src.oid.into(), TRIGGER.into()],
    )
    .or_raise()
    {
        RarError::Unsupported {
            message: "the table has a trigger named rar_track_changes that is not rar's",
            hint: "Rename that trigger (ALTER TRIGGER rar_track_changes ON ... RENAME TO ...), then track the table.",
        }
        .raise_with_detail(format!("The trigger runs {other}."));
    }
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
/// columns and part read (`all`, a split's set, a window of time), whether
/// in canonical order, the bytes, and how often each was used.
#[pg_extern(volatile, parallel_restricted, name = "rar_basket_cache")]
#[allow(clippy::type_complexity)]
pub fn basket_cache() -> TableIterator<
    'static,
    (
        name!(relation, String),
        name!(columns, String),
        name!(part, String),
        name!(canonical, bool),
        name!(bytes, i64),
        name!(uses, i64),
    ),
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
            let part = e.key.part.map_or_else(|| "all".to_string(), |(_, label)| label);
            (relation, columns, part, e.key.canonical, e.bytes as i64, e.hits as i64)
        })
        .collect();
    TableIterator::new(rows)
}
