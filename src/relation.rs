//! Looking up a source relation: its quoted name and its columns, and which
//! of them hold baskets and items (the rules themselves live in
//! `rar_core::layout`).

use pgrx::prelude::*;
use rar_core::layout::{self, ColumnInfo, ColumnKind, Layout, LayoutError};

use crate::args::Relation;
use crate::bindings::Binding;
use crate::error::{OrRaise, RarError};

/// The relations a read (or, `$2`, a change in place) of the relation `$1`
/// reaches: itself, its partitions and inheritance children, and the
/// relations the views among them read (for a change: that any rule on
/// them names), at any depth. The body of a recursive `tree(oid)`, shared
/// by [`TREE`] and [`ROLE_CODE`].
macro_rules! tree_cte {
    () => {
        "tree(oid) AS ( \
             SELECT $1::pg_catalog.oid \
             UNION \
             SELECT x.oid FROM tree r CROSS JOIN LATERAL ( \
                 SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent OPERATOR(pg_catalog.=) r.oid \
                 UNION ALL \
                 SELECT d.refobjid FROM pg_catalog.pg_rewrite w \
                 JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass \
                      AND d.objid OPERATOR(pg_catalog.=) w.oid \
                      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass \
                      AND d.refobjid OPERATOR(pg_catalog.<>) r.oid \
                 WHERE w.ev_class OPERATOR(pg_catalog.=) r.oid \
                   AND ($2 OR (w.ev_type OPERATOR(pg_catalog.=) '1'::pg_catalog.\"char\" \
                        AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) r.oid \
                                    AND c.relkind OPERATOR(pg_catalog.=) 'v'::pg_catalog.\"char\"))) \
                 UNION ALL \
                 SELECT f.refobjid FROM pg_catalog.pg_rewrite w \
                 JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass \
                      AND d.objid OPERATOR(pg_catalog.=) w.oid \
                      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass \
                 JOIN pg_catalog.pg_depend f ON f.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass \
                      AND f.objid OPERATOR(pg_catalog.=) d.refobjid \
                      AND f.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass \
                 WHERE w.ev_class OPERATOR(pg_catalog.=) r.oid \
                   AND ($2 OR w.ev_type OPERATOR(pg_catalog.=) '1'::pg_catalog.\"char\") \
             ) x(oid))"
    };
}

/// The relations a superuser's read (or, `$2`, change in place) of `$1`
/// locks before its checks ([`lock_for_read`]): see [`tree_cte`].
const TREE: &str = concat!("WITH RECURSIVE ", tree_cte!(), " SELECT r.oid FROM tree r ORDER BY r.oid");

/// Whether a superuser's call on a relation would run a role's code (`$2`:
/// whether the call changes the table in place). The relations it reaches
/// are [`tree_cte`]'s: the relation, its partitions and children, and what
/// the views among them read. Reading runs: a foreign table or view among
/// them (but the relation itself, judged by its caller) that a role without
/// superuser owns (its server's connection, or the view's definition, runs
/// as the reader); and any function or operator such a role owns that the
/// views' definitions, or the index expressions and predicates, check
/// constraints, partition keys and statistics of any of them name, and the
/// partition keys of their ancestors (a partition's constraint holds its
/// parents' keys; the planner simplifies those, calling IMMUTABLE functions
/// as the reader, and a change in place checks them on every row), as
/// well as a domain such a role owns that they name (its check), and,
/// for any column type of those relations or type they name (through
/// domains, arrays and ranges), a function such a role owns among its input,
/// output, analyze or subscript functions or a range's `subtype_diff` and
/// canonical functions (the planner's estimates call `subtype_diff`). What
/// they name is read off `pg_depend`, where PostgreSQL records every
/// function, aggregate, operator and type an expression uses (not a list of
/// node kinds). Changing (`rar_clean`, `rar_restore`, `rar_encode`), also:
/// any relation such a role owns (its triggers, rules and defaults are its
/// own to change), the functions, operators and types named by triggers
/// (their WHEN conditions too), rules, defaults and generated columns, and a
/// column type such a role owns (a domain's check, an enum's cast from
/// text: writing a converted value runs them), followed through domains and
/// arrays. Chains (of domains, of functions whose `BEGIN ATOMIC` bodies
/// name functions) are followed to their ends: the recursion stops when it
/// finds nothing new.
///
/// Speed: `rels`, `dependers` and `types` pass their rows through an array
/// (`array_agg`, then `unnest`), which the planner counts as ten rows. Its
/// guesses for the recursive parts themselves (thousands of rows, where a
/// table has a handful) made it hash all of `pg_type`, `pg_proc` and
/// `pg_depend`, and replan on every call: about 12 ms a call on an empty
/// catalog, where the index lookups of the ten-row plan take under 1 ms.
const ROLE_CODE: &str = concat!(
    "WITH RECURSIVE ",
    tree_cte!(),
    ", \
     rels(oid) AS (SELECT u.oid FROM (SELECT pg_catalog.array_agg(t.oid) a FROM tree t) s \
         CROSS JOIN LATERAL pg_catalog.unnest(s.a) u(oid)), \
     depender_rows(classid, objid, own) AS ( \
         SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, r.oid, true FROM rels r \
         UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, a.relid, true \
             FROM rels r CROSS JOIN LATERAL pg_catalog.pg_partition_ancestors(r.oid) a \
             WHERE a.relid OPERATOR(pg_catalog.<>) r.oid \
         UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, x.indexrelid, false \
             FROM pg_catalog.pg_index x JOIN rels r ON x.indrelid OPERATOR(pg_catalog.=) r.oid \
         UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid, c.oid, false \
             FROM pg_catalog.pg_constraint c JOIN rels r ON c.conrelid OPERATOR(pg_catalog.=) r.oid \
         UNION ALL SELECT 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass::pg_catalog.oid, s.oid, false \
             FROM pg_catalog.pg_statistic_ext s JOIN rels r ON s.stxrelid OPERATOR(pg_catalog.=) r.oid \
         UNION ALL SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass::pg_catalog.oid, w.oid, false \
             FROM pg_catalog.pg_rewrite w JOIN rels r ON w.ev_class OPERATOR(pg_catalog.=) r.oid \
             JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.oid \
             WHERE $2 OR (w.ev_type OPERATOR(pg_catalog.=) '1'::pg_catalog.\"char\" \
                          AND c.relkind OPERATOR(pg_catalog.=) 'v'::pg_catalog.\"char\") \
         UNION ALL SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass::pg_catalog.oid, t.oid, false \
             FROM pg_catalog.pg_trigger t JOIN rels r ON t.tgrelid OPERATOR(pg_catalog.=) r.oid WHERE $2 \
         UNION ALL SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass::pg_catalog.oid, a.oid, false \
             FROM pg_catalog.pg_attrdef a JOIN rels r ON a.adrelid OPERATOR(pg_catalog.=) r.oid WHERE $2), \
     dependers(classid, objid, own) AS ( \
         SELECT u.classid, u.objid, u.own FROM (SELECT pg_catalog.array_agg(t.classid) c, pg_catalog.array_agg(t.objid) o, \
             pg_catalog.array_agg(t.own) w FROM depender_rows t) s \
         CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(s.c), pg_catalog.unnest(s.o), pg_catalog.unnest(s.w)) u(classid, objid, own)), \
     refs(classid, objid, own) AS ( \
         SELECT d.refclassid, d.refobjid, o.own AND d.objsubid OPERATOR(pg_catalog.<>) 0 FROM dependers o \
         JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) o.classid AND d.objid OPERATOR(pg_catalog.=) o.objid \
         UNION SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid, t.tgfoid, false \
             FROM pg_catalog.pg_trigger t JOIN rels r ON t.tgrelid OPERATOR(pg_catalog.=) r.oid WHERE $2 \
         UNION SELECT d.refclassid, d.refobjid, false FROM refs \
         JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) refs.classid AND d.objid OPERATOR(pg_catalog.=) refs.objid \
         WHERE refs.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass), \
     owners(owner) AS ( \
         SELECT f.proowner FROM refs JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) refs.objid \
             WHERE refs.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass \
         UNION ALL SELECT o.oprowner FROM refs JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) refs.objid \
             WHERE refs.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass \
         UNION ALL SELECT f.proowner FROM refs JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) refs.objid \
             JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) o.oprcode \
             WHERE refs.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass \
         UNION ALL SELECT f.proowner FROM types JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) types.typ \
             CROSS JOIN LATERAL (VALUES (y.typinput::pg_catalog.oid), (y.typoutput::pg_catalog.oid), \
                 (y.typreceive::pg_catalog.oid), (y.typsend::pg_catalog.oid), (y.typmodin::pg_catalog.oid), \
                 (y.typmodout::pg_catalog.oid), (y.typanalyze::pg_catalog.oid), (y.typsubscript::pg_catalog.oid)) x(fn) \
             JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) x.fn \
         UNION ALL SELECT f.proowner FROM types JOIN pg_catalog.pg_range g ON g.rngtypid OPERATOR(pg_catalog.=) types.typ \
             JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) g.rngsubdiff::pg_catalog.oid \
                 OR f.oid OPERATOR(pg_catalog.=) g.rngcanonical::pg_catalog.oid \
         UNION ALL SELECT y.typowner FROM types JOIN pg_catalog.pg_type y ON y.oid OPERATOR(pg_catalog.=) types.typ \
             WHERE $2 OR (NOT types.own AND y.typtype OPERATOR(pg_catalog.=) 'd'::pg_catalog.\"char\") \
         UNION ALL SELECT f.proowner FROM types JOIN pg_catalog.pg_constraint c ON c.contypid OPERATOR(pg_catalog.=) types.typ \
             JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass \
                  AND d.objid OPERATOR(pg_catalog.=) c.oid \
             LEFT JOIN pg_catalog.pg_operator o ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass \
                  AND o.oid OPERATOR(pg_catalog.=) d.refobjid \
             JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) coalesce(o.oprcode::pg_catalog.oid, \
                  CASE WHEN d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN d.refobjid END) \
             WHERE $2 OR NOT types.own), \
     type_tree(typ, own) AS ( \
         SELECT a.atttypid, true FROM pg_catalog.pg_attribute a JOIN rels r ON a.attrelid OPERATOR(pg_catalog.=) r.oid \
         WHERE a.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2 AND NOT a.attisdropped \
         UNION \
         SELECT refs.objid, false FROM refs \
         WHERE refs.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass AND NOT refs.own \
         UNION \
         SELECT x.t, types.own FROM type_tree types \
         CROSS JOIN LATERAL (VALUES \
             ((SELECT d.typbasetype FROM pg_catalog.pg_type d WHERE d.oid OPERATOR(pg_catalog.=) types.typ)), \
             ((SELECT d.typelem FROM pg_catalog.pg_type d WHERE d.oid OPERATOR(pg_catalog.=) types.typ)), \
             ((SELECT g.rngsubtype FROM pg_catalog.pg_range g WHERE g.rngtypid OPERATOR(pg_catalog.=) types.typ)), \
             ((SELECT g.rngtypid FROM pg_catalog.pg_range g WHERE g.rngmultitypid OPERATOR(pg_catalog.=) types.typ))) x(t) \
         WHERE x.t IS NOT NULL AND x.t OPERATOR(pg_catalog.<>) 0::pg_catalog.oid), \
     types(typ, own) AS ( \
         SELECT u.typ, u.own FROM (SELECT pg_catalog.array_agg(t.typ) a, pg_catalog.array_agg(t.own) o FROM type_tree t) s \
         CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(s.a), pg_catalog.unnest(s.o)) u(typ, own)) \
     SELECT EXISTS (SELECT 1 FROM owners JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) owners.owner \
                    WHERE NOT o.rolsuper) \
         OR EXISTS (SELECT 1 FROM rels r JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.oid \
                    JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) c.relowner \
                    WHERE NOT o.rolsuper AND ($2 OR (r.oid OPERATOR(pg_catalog.<>) $1 AND c.relkind IN ('f', 'v')))) \
"
);

/// A relation to read from.
pub struct Source {
    /// The SQL function reading it, for hints that show a call.
    pub function: &'static str,
    pub oid: pg_sys::Oid,
    /// Schema and name as they are (quote them for SQL text).
    pub schema: String,
    pub name: String,
    /// Schema-qualified, quoted: safe to put in SQL text.
    pub quoted: String,
    /// As `regclass` prints it, for messages.
    pub display: String,
    /// The owning role's name, and whether the caller has its rights (owns
    /// the table, or is a member of the owning role).
    pub owner: String,
    pub managed: bool,
    /// Whether the relation has row-level security enabled.
    pub row_security: bool,
    /// Whether the caller is a superuser and the owner is not.
    pub superuser_on_user_table: bool,
    /// Whether it is a view or foreign table (reading it runs its
    /// definition's functions, as the reader).
    pub view_like: bool,
    pub columns: Vec<ColumnInfo>,
    /// Columns whose type is not one of `pg_catalog`'s: a role may have
    /// given it a cast to text of its own (see [`Source::text_of`]).
    user_typed: Vec<String>,
    /// The kind and the columns' types as read, checked against the
    /// relation's definition under its lock ([`Source::check_unchanged`]).
    relkind: u8,
    type_oids: Vec<pg_sys::Oid>,
    /// The SHARE UPDATE EXCLUSIVE locks a superuser's call holds while it
    /// runs ([`lock_for_read`]).
    held: HeldLocks,
    /// The schema's name bound to the schema checked while the call runs
    /// (see [`crate::bindings`]): declared after `held`, so that it ends
    /// with the locks.
    binding: Binding,
}

/// Relations locked in SHARE UPDATE EXCLUSIVE mode for the length of a call,
/// not of its transaction: given back when the call's [`Source`] is
/// dropped, so that a superuser's open transaction does not hold up another
/// superuser's call on the same table (the mode conflicts with itself). On
/// an error the (sub)transaction's abort gives them back.
#[derive(Default)]
struct HeldLocks(Vec<pg_sys::Oid>);

impl Drop for HeldLocks {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        for rel in self.0.drain(..) {
            // SAFETY: gives back one count of a lock lock_for_read took.
            unsafe { pg_sys::UnlockRelationOid(rel, pg_sys::ShareUpdateExclusiveLock as pg_sys::LOCKMODE) };
        }
    }
}

fn kind(category: &str, elem_category: &str) -> ColumnKind {
    let usable = |c: &str| !matches!(c, "C" | "G" | "P" | "R" | "X" | "A" | "");
    match category {
        "A" if usable(elem_category) => ColumnKind::Array,
        c if usable(c) => ColumnKind::Scalar,
        _ => ColumnKind::Unusable,
    }
}

/// Whether this backend holds a lock on the relation `relid` (of this
/// database) in a mode stronger than `AccessShareLock`; not counting
/// `ShareUpdateExclusiveLock` when `rar_holds_it` (the lock of a superuser's
/// call, [`lock_for_read`], which changes nothing).
fn locked_beyond_read(relid: pg_sys::Oid, rar_holds_it: bool) -> bool {
    let tag = pg_sys::LOCKTAG {
        // SAFETY: MyDatabaseId is set once the backend is connected.
        locktag_field1: unsafe { pg_sys::MyDatabaseId }.to_u32(),
        locktag_field2: relid.to_u32(),
        locktag_field3: 0,
        locktag_field4: 0,
        locktag_type: pg_sys::LockTagType::LOCKTAG_RELATION as u8,
        locktag_lockmethodid: pg_sys::DEFAULT_LOCKMETHOD as u8,
    };
    // SAFETY: looks the tag up in this backend's local lock table.
    (pg_sys::RowShareLock..=pg_sys::AccessExclusiveLock)
        .filter(|&mode| !(rar_holds_it && mode == pg_sys::ShareUpdateExclusiveLock))
        .any(|mode| unsafe { pg_sys::LockHeldByMe(&tag, mode as pg_sys::LOCKMODE) })
}

/// Reads the catalog entry of the relation `rel`. Values are passed as
/// parameters; the quoting is done by the server's `quote_ident`. Called
/// before [`crate::spi::pin_search_path`], so that `display` is the name as
/// the caller's search path shows it: its queries name every function and
/// operator by schema, so that this path cannot stand in for them either.
pub fn describe(rel: Relation, function: &'static str) -> Source {
    describe_relation(rel.0, function, false).unwrap_or_else(|e| e.raise())
}

/// As [`describe`], for functions that change a table in place: anything
/// but a (partitioned) table is an error.
pub fn describe_table(rel: Relation, function: &'static str) -> Source {
    describe_relation(rel.0, function, true).unwrap_or_else(|e| e.raise())
}

fn describe_relation(rel: pg_sys::Oid, function: &'static str, tables_only: bool) -> Result<Source, RarError> {
    // A change in place also locks what the table's rules write to.
    let held = HeldLocks(lock_for_read(rel, function, tables_only)?);
    // Read as committed now, under the lock: not as the statement's
    // snapshot (taken before any wait for the lock) shows it.
    let mut src = crate::spi::with_latest_snapshot(|| read_definition(rel, function, tables_only))?;
    src.held = held;
    src.check_unchanged()?;
    // SAFETY: a syscache lookup of the relation locked above.
    let namespace = unsafe { pg_sys::get_rel_namespace(rel) };
    src.binding = Binding::new(&src.schema, namespace, &src.display)?;
    Ok(src)
}

/// Takes a read's lock on `rel` (to the end of the transaction), before
/// anything is decided on its definition: a role holding a stronger lock
/// on its own table could otherwise change the definition (make the table
/// a view, give a column a type with a cast of its own) between the checks
/// made on it and the read, which waits for the lock and then reads the
/// new definition, running the role's code as the caller. Holding the lock,
/// the definition cannot change until the transaction ends. Taken only by
/// a caller who may read the relation (some column of it), as `LOCK TABLE`
/// asks: a call that reads nothing of it (the rules of a source granted
/// with `rar_grant`) must not hold up its owner's `ALTER TABLE`. While it
/// waits, `rar.progress` shows `function` waiting for the lock.
fn lock_for_read(rel: pg_sys::Oid, function: &'static str, writing: bool) -> Result<Vec<pg_sys::Oid>, RarError> {
    // SAFETY: catalog lookups of an OID (none raises for a missing one),
    // and locks kept to the end of the transaction as a query's would be;
    // the syscache is brought up to date by each lock.
    unsafe {
        if pg_sys::get_rel_relkind(rel) == 0 {
            return Err(RarError::NoSuchRelation { oid: rel.to_u32() });
        }
        let user = pg_sys::GetUserId();
        let may_read = pg_sys::pg_class_aclcheck(rel, user, pg_sys::ACL_SELECT) == pg_sys::AclResult::ACLCHECK_OK
            || pg_sys::pg_attribute_aclcheck_all(rel, user, pg_sys::ACL_SELECT, pg_sys::AclMaskHow::ACLMASK_ANY)
                == pg_sys::AclResult::ACLCHECK_OK;
        if !may_read {
            return Ok(Vec::new());
        }
        // A superuser's call also keeps out, to its end, every change that
        // could give the table code to run (an index, a trigger, a
        // statistics object, a partition attached, a parent inherited):
        // all take a lock that conflicts with SHARE UPDATE EXCLUSIVE, on the
        // table, on each partition and child, and on each relation a view
        // among them reads ([`TREE`]). (Two such calls on one
        // table run one after the other; a standby takes no such lock, and
        // sees no DDL but the primary's.)
        let guard = pg_sys::superuser() && !pg_sys::RecoveryInProgress();
        let mode = if guard { pg_sys::ShareUpdateExclusiveLock } else { pg_sys::AccessShareLock } as pg_sys::LOCKMODE;
        let mut waited = lock_waiting(rel, mode, function);
        let mut held = if guard { vec![rel] } else { Vec::new() };
        if pg_sys::get_rel_relkind(rel) == 0 {
            return Err(RarError::NoSuchRelation { oid: rel.to_u32() });
        }
        // Every relation the read reaches, locked before the checks; listed
        // again after each round of locks, as committed then (a partition
        // attached, or a view replaced, while the call waited for a lock
        // is locked too), until no new one appears. Each round locks at
        // least one more, and a locked relation takes no new partition or
        // child (ATTACH and INHERIT lock the parent in a conflicting mode).
        if guard {
            loop {
                let tree = crate::spi::with_latest_snapshot(|| {
                    Spi::connect(|client| {
                        crate::spi::select_kept(client, TREE, None, &[rel.into(), writing.into()])?
                            .map(|row| row.get::<pg_sys::Oid>(1))
                            .collect::<Result<Vec<_>, _>>()
                    })
                })?;
                let new: Vec<pg_sys::Oid> = tree.into_iter().flatten().filter(|r| !held.contains(r)).collect();
                if new.is_empty() {
                    break;
                }
                for r in new {
                    waited |= lock_waiting(r, mode, function);
                    held.push(r);
                }
            }
        }
        // Without a fresh snapshot (parallel mode), what was committed
        // during the wait would not show in the checks: refused.
        if waited && pg_sys::IsInParallelMode() {
            return Err(RarError::ChangedWhileLocking { relation: rel_name(rel) });
        }
        Ok(held)
    }
}

/// A relation's name, or its OID when it has none (dropped).
fn rel_name(rel: pg_sys::Oid) -> String {
    // SAFETY: a syscache lookup; the name is copied before it is freed.
    unsafe {
        let name = pg_sys::get_rel_name(rel);
        if name.is_null() {
            rel.to_u32().to_string()
        } else {
            let out = std::ffi::CStr::from_ptr(name).to_string_lossy().into_owned();
            pg_sys::pfree(name.cast());
            out
        }
    }
}

/// Locks `rel` in `mode`; when it must wait, `rar.progress` says so while
/// it does. Whether it waited.
fn lock_waiting(rel: pg_sys::Oid, mode: pg_sys::LOCKMODE, function: &'static str) -> bool {
    // SAFETY: a lock kept to the end of the transaction.
    unsafe {
        if pg_sys::ConditionalLockRelationOid(rel, mode) {
            return false;
        }
        crate::progress::report_activity(&format!("{function}: waiting for a lock on {}", rel_name(rel)));
        pg_sys::LockRelationOid(rel, mode);
        crate::progress::report_activity(&format!("{function}: starting"));
        true
    }
}

fn read_definition(rel: pg_sys::Oid, function: &'static str, tables_only: bool) -> Result<Source, RarError> {
    Spi::connect(|client| {
        let head = crate::spi::select_kept(
            client,
            "SELECT pg_catalog.concat(pg_catalog.quote_ident(n.nspname), '.', pg_catalog.quote_ident(c.relname)), \
                    c.oid::pg_catalog.regclass::pg_catalog.text, c.relkind::pg_catalog.text, \
                    n.nspname::pg_catalog.text, c.relname::pg_catalog.text, \
                    pg_catalog.pg_get_userbyid(c.relowner)::pg_catalog.text, pg_catalog.pg_has_role(c.relowner, 'USAGE'), \
                    c.relrowsecurity, \
                    (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) \
                    AND NOT (SELECT o.rolsuper FROM pg_catalog.pg_roles o WHERE o.oid OPERATOR(pg_catalog.=) c.relowner) \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace \
             WHERE c.oid OPERATOR(pg_catalog.=) $1",
            Some(1),
            &[rel.into()],
        )?;
        if head.is_empty() {
            return Err(RarError::NoSuchRelation { oid: rel.to_u32() });
        }
        let head = head.first();
        let quoted: String = head.get(1)?.unwrap_or_default();
        let display: String = head.get(2)?.unwrap_or_default();
        let relkind: String = head.get(3)?.unwrap_or_default();
        let schema: String = head.get(4)?.unwrap_or_default();
        let name: String = head.get(5)?.unwrap_or_default();
        let owner: String = head.get(6)?.unwrap_or_default();
        let managed: bool = head.get(7)?.unwrap_or(false);
        let row_security: bool = head.get(8)?.unwrap_or(false);
        let superuser_on_user_table: bool = head.get(9)?.unwrap_or(false);
        if !matches!(relkind.as_str(), "r" | "v" | "m" | "p" | "f")
            || (tables_only && !matches!(relkind.as_str(), "r" | "p"))
        {
            let (what, hint) = if tables_only {
                (
                    "a table",
                    "Give the name of the table itself: this function changes rows in place, which a view cannot take.",
                )
            } else {
                (
                    "a table, view, materialized view or foreign table",
                    "Give the name of a table, view, materialized view or foreign table holding the sales lines.",
                )
            };
            return Err(RarError::WrongObject { display, what, hint });
        }
        let (mut columns, mut user_typed, mut type_oids) = (Vec::new(), Vec::new(), Vec::new());
        let rows = crate::spi::select_kept(
            client,
            "SELECT a.attname::pg_catalog.text, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid, \
                    t.typcategory::pg_catalog.text, coalesce(e.typcategory::pg_catalog.text, ''), \
                    (WITH RECURSIVE chain(typ, n) AS ( \
                         SELECT a.atttypid, 0 \
                         UNION ALL \
                         SELECT d.typbasetype, chain.n OPERATOR(pg_catalog.+) 1 \
                         FROM chain JOIN pg_catalog.pg_type d ON d.oid OPERATOR(pg_catalog.=) chain.typ \
                         WHERE d.typtype OPERATOR(pg_catalog.=) 'd'::pg_catalog.\"char\" \
                               AND chain.n OPERATOR(pg_catalog.<) 16) \
                     SELECT b.typnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace \
                     FROM chain JOIN pg_catalog.pg_type b ON b.oid OPERATOR(pg_catalog.=) chain.typ \
                     ORDER BY chain.n DESC LIMIT 1) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid \
             LEFT JOIN pg_catalog.pg_type e ON e.oid OPERATOR(pg_catalog.=) t.typelem \
                  AND t.typcategory OPERATOR(pg_catalog.=) 'A'::pg_catalog.\"char\" \
             WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2 \
                   AND NOT a.attisdropped ORDER BY a.attnum",
            None,
            &[rel.into()],
        )?;
        for row in rows {
            let name: String = row.get(1)?.unwrap_or_default();
            let type_name: String = row.get(2)?.unwrap_or_default();
            type_oids.push(row.get::<pg_sys::Oid>(3)?.unwrap_or(pg_sys::InvalidOid));
            let cat: String = row.get(4)?.unwrap_or_default();
            let elem: String = row.get(5)?.unwrap_or_default();
            if !row.get::<bool>(6)?.unwrap_or(false) {
                user_typed.push(name.clone());
            }
            columns.push(ColumnInfo { name, type_name, kind: kind(&cat, &elem), numeric: cat == "N" });
        }
        Ok(Source {
            function,
            oid: rel,
            schema,
            name,
            quoted,
            display,
            owner,
            managed,
            row_security,
            superuser_on_user_table,
            view_like: matches!(relkind.as_str(), "v" | "f"),
            columns,
            user_typed,
            relkind: relkind.bytes().next().unwrap_or(0),
            type_oids,
            held: HeldLocks::default(),
            binding: Binding::default(),
        })
    })
}

impl Source {
    /// Keeps the call's locks to the end of the transaction (what
    /// `rar_refresh` decides in SQL after `rar.lock_for_read` returns must
    /// hold until its read).
    pub fn keep_locks(&mut self) {
        self.held.0.clear();
        self.binding.keep_to_transaction_end();
    }

    /// Checks the definition read (by SQL, as committed when read) against
    /// the syscache's, which the planner uses: its kind and each column's
    /// type. Both are read under the lock, so that they differ only when a
    /// change was committed in between.
    fn check_unchanged(&self) -> Result<(), RarError> {
        // SAFETY: syscache lookups of a relation this transaction holds a
        // lock on; names are NUL-terminated copies.
        let same = unsafe {
            pg_sys::get_rel_relkind(self.oid) as u8 == self.relkind
                && self.columns.iter().zip(&self.type_oids).all(|(c, &typ)| {
                    let Ok(name) = std::ffi::CString::new(c.name.as_str()) else { return false };
                    let attnum = pg_sys::get_attnum(self.oid, name.as_ptr());
                    attnum > 0 && pg_sys::get_atttype(self.oid, attnum) == typ
                })
        };
        if same {
            Ok(())
        } else {
            Err(RarError::ChangedWhileLocking { relation: self.display.clone() })
        }
    }

    /// The column named `name` (exactly, as resolved by the layout).
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The type of column `name` under its domains, if it has the column.
    pub fn base_type(&self, name: &str) -> Option<pg_sys::Oid> {
        let typ = self.columns.iter().position(|c| c.name == name).and_then(|k| self.type_oids.get(k).copied());
        // SAFETY: a syscache lookup of a type this relation's column has
        // (the relation is locked since describe).
        typ.map(|t| unsafe { pg_sys::getBaseType(t) })
    }

    /// The time column `name`: it must exist and hold dates or timestamps
    /// (not arrays of them); `role` and `expected` word the error for the
    /// calling function.
    pub fn time_column(&self, name: &str, role: &'static str, expected: &'static str) -> &ColumnInfo {
        let col = self.column(name).unwrap_or_else(|| self.undefined_column(name).raise());
        let scalar = col.kind == ColumnKind::Scalar;
        // By its type (through domains), not its name: a role's type named
        // timestamp_x would be cast with the role's own cast, and a domain
        // over text of that name is not a time.
        let base = self.base_type(name);
        let time =
            matches!(base, Some(b) if b == pg_sys::DATEOID || b == pg_sys::TIMESTAMPOID || b == pg_sys::TIMESTAMPTZOID);
        if !(scalar && time && !self.is_user_typed(name)) {
            RarError::WrongType { column: col.name.clone(), type_name: col.type_name.clone(), role, expected }.raise();
        }
        col
    }

    /// Maps a layout error to the SQL error that names this relation.
    /// A column the relation does not have, with its columns and a call
    /// naming plausible ones.
    pub fn undefined_column(&self, column: &str) -> RarError {
        RarError::UndefinedColumn {
            function: self.function,
            relation: self.display.clone(),
            column: column.to_string(),
            columns: self.columns.iter().map(|c| c.name.clone()).collect(),
            suggestion: Box::new(layout::suggest(&self.columns)),
        }
    }

    pub fn layout_error(&self, e: LayoutError) -> RarError {
        let names = || self.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        match e {
            LayoutError::UndefinedColumn { column } => self.undefined_column(&column),
            LayoutError::NotDetected { role, candidates } => RarError::ColumnsNotDetected {
                function: self.function,
                relation: self.display.clone(),
                role,
                candidates,
                columns: names(),
                suggestion: Box::new(layout::suggest(&self.columns)),
            },
            LayoutError::WrongType { column, type_name, role, expected } => {
                RarError::WrongType { column, type_name, role, expected }
            }
            LayoutError::SameColumn { column } => RarError::SameColumn { column, roles: ["basket id", "items"] },
        }
    }

    /// Raises 42501 unless the caller owns the table (or is a member of
    /// its owning role): what rar keeps about a table is its owner's.
    pub fn check_manage(&self, action: &'static str) {
        if !self.managed {
            let user = crate::spi::current_user().or_raise();
            RarError::NotOwner { relation: self.display.clone(), action, user }.raise();
        }
    }

    /// Raises 42501 when a superuser would change a table a role without
    /// superuser owns: the table's triggers, rules, defaults, constraints and
    /// index expressions would run with the superuser's rights.
    pub fn check_not_superuser_on_user_table(&self) {
        if self.superuser_on_user_table {
            RarError::SuperuserOnUserTable {
                function: self.function,
                relation: self.display.clone(),
                owner: self.owner.clone(),
            }
            .raise();
        }
        // A superuser's own table may hold a role's partition, a role's
        // function in an index, trigger or default, or a column of a role's
        // type: what planning or writing the change runs.
        self.check_no_role_code(true);
    }

    /// Raises 42501 when a superuser would read a view or foreign table a
    /// role without superuser owns: the functions in its definition would
    /// run with the superuser's rights (as `CALL rar_refresh` refuses).
    pub fn check_not_superuser_reading_user_view(&self) {
        if self.superuser_on_user_table && self.view_like {
            RarError::SuperuserReadsUserView {
                function: self.function,
                relation: self.display.clone(),
                owner: self.owner.clone(),
            }
            .raise();
        }
        self.check_not_superuser_running_owner_code();
    }

    /// Raises 42501 when a superuser's read of the relation would run a
    /// role's code (see [`ROLE_CODE`]), whoever owns the relation.
    pub fn check_not_superuser_running_owner_code(&self) {
        self.check_no_role_code(false);
    }

    /// Raises 42501 when a superuser's read (or, `writing`, change in
    /// place) of the relation would run a role's code ([`ROLE_CODE`]), read
    /// as committed now (the lock is held since describe).
    fn check_no_role_code(&self, writing: bool) {
        // SAFETY: reads the current user's superuser flag.
        if !unsafe { pg_sys::superuser() } {
            return;
        }
        let runs = crate::spi::with_latest_snapshot(|| {
            crate::spi::one_kept::<bool>(ROLE_CODE, &[self.oid.into(), writing.into()])
        })
        .or_raise();
        if runs != Some(false) {
            RarError::SuperuserRunsOwnerCode {
                function: self.function,
                relation: self.display.clone(),
                owner: self.owner.clone(),
            }
            .raise();
        }
    }

    /// The SQL text of column `name`'s value: a cast to text for
    /// `pg_catalog`'s types (and domains over them, however nested:
    /// PostgreSQL ignores casts from a domain), else the type's output
    /// function (`format`), which no role but a superuser defines: a cast to
    /// text a role created for its own type (an enum's, say, or an array of
    /// its domain: casts from that array type are not ignored) never runs in
    /// the caller's name. NULL stays NULL.
    pub fn text_of(&self, name: &str) -> String {
        let quoted = pgrx::spi::quote_identifier(name);
        if self.is_user_typed(name) {
            format!("(CASE WHEN {quoted} IS NULL THEN NULL ELSE pg_catalog.format('%s', {quoted}) END)")
        } else {
            format!("{quoted}::pg_catalog.text")
        }
    }

    /// Whether column `name`'s type (followed through domains, not array
    /// elements: an array of a role's domain is a type of the role's) is not
    /// one of `pg_catalog`'s.
    pub fn is_user_typed(&self, name: &str) -> bool {
        self.user_typed.iter().any(|c| c == name)
    }

    /// As [`Source::text_of`], for an array column: a `text[]` of its
    /// elements' text (NULL elements and a NULL array stay NULL).
    pub fn array_text_of(&self, name: &str) -> String {
        let quoted = pgrx::spi::quote_identifier(name);
        if self.is_user_typed(name) {
            format!(
                "(CASE WHEN {quoted} IS NULL THEN NULL ELSE ARRAY(\
                 SELECT CASE WHEN e IS NULL THEN NULL ELSE pg_catalog.format('%s', e) END \
                 FROM pg_catalog.unnest({quoted}) WITH ORDINALITY AS u(e, n) ORDER BY u.n) END)"
            )
        } else {
            format!("{quoted}::pg_catalog.text[]")
        }
    }

    /// The SQL text of the basket id of `tid`: [`Source::text_of`] its
    /// column, or the row of several columns as text (record output).
    pub fn basket_text(&self, tid: &str) -> String {
        match self.basket_columns(tid).as_slice() {
            [one] => self.text_of(&one.name),
            _ => self.basket_key(tid),
        }
    }

    /// The basket and item columns, given or detected.
    pub fn layout(&self, tid: Option<&str>, item: Option<&str>) -> Result<Layout, RarError> {
        layout::resolve(&self.columns, tid, item).map_err(|e| self.layout_error(e))
    }

    /// The basket columns a layout's `tid` names (one, or several listed).
    fn basket_columns(&self, tid: &str) -> Vec<&ColumnInfo> {
        layout::basket_columns(&self.columns, tid).unwrap_or_else(|e| self.layout_error(e).raise())
    }

    /// The names of the basket columns of `tid`.
    pub fn basket_column_names(&self, tid: &str) -> Vec<String> {
        self.basket_columns(tid).into_iter().map(|c| c.name.clone()).collect()
    }

    /// Whether this transaction holds a lock stronger than a read's on the
    /// relation or one of its partitions (it changed, truncated or locked
    /// it): its changes are not committed, and queries in other
    /// connections, or state kept from other transactions, would miss them.
    /// Read off this backend's own lock table (not `pg_locks`, which takes
    /// every lock partition's lock).
    pub fn changed_here(&self) -> Result<bool, RarError> {
        let partitions = Spi::connect(|client| {
            crate::spi::select_kept(
                client,
                "SELECT t.relid FROM pg_catalog.pg_partition_tree($1) t",
                None,
                &[self.oid.into()],
            )?
            .map(|row| row.get::<pg_sys::Oid>(1))
            .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(partitions.into_iter().flatten().chain([self.oid]).any(|r| locked_beyond_read(r, self.held.0.contains(&r))))
    }

    /// Whether the basket is keyed by several columns.
    pub fn several_basket_columns(&self, tid: &str) -> bool {
        self.basket_columns(tid).len() > 1
    }

    /// The SQL expression of the basket id (quoted identifiers only): the
    /// column, or the row of several columns as text.
    pub fn basket_key(&self, tid: &str) -> String {
        layout::basket_key_sql(&self.basket_columns(tid), |c| pgrx::spi::quote_identifier(c))
    }

    /// The first basket column (for the planner's statistics).
    pub fn first_basket_column(&self, tid: &str) -> String {
        self.basket_columns(tid).first().map(|c| c.name.clone()).unwrap_or_default()
    }

    /// Refuses several basket columns in a function that changes the table
    /// basket by basket.
    pub fn check_one_basket_column(&self, tid: &str) {
        if self.several_basket_columns(tid) {
            RarError::ConflictingOptions {
                message: "this function needs one basket id column",
                hint: "Add a column that keys the basket (for example with ALTER TABLE ... ADD COLUMN basket text GENERATED ALWAYS AS (...) STORED), or mine a view that adds one.",
            }
            .raise();
        }
    }
}
