//! The one naming rule for sources: every function that reads sales takes
//! the same `source` argument (text), resolved here the same way.
//!
//! A name is, in this order:
//! 1. the name of a registered source (`rar.sources.name`): its table, and
//!    its basket, item and label columns as defaults. Source names hold no
//!    dot, so a schema-qualified name is always a table;
//! 2. a table or view, schema-qualified or as the caller's `search_path`
//!    finds it (as a `regclass` literal would); it is "the source" of the
//!    functions that need one when exactly one source is registered on it;
//! 3. the bare name of the table of a registered source that the caller
//!    owns (for calls made from the extension's own SQL, whose search path
//!    is pinned).
//!
//! A source registered on another role's table that shares its name with a
//! table the caller owns (on the caller's path or, in the extension's own
//! pinned calls, in any schema) is refused as ambiguous rather than
//! guessed: a source another role registers under the name of the caller's
//! table never stands in for it. Otherwise a source's name comes first.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::args::Relation;
use crate::error::RarError;
use crate::spi::pin_search_path;
use rar_core::names::{is_qualified, relation_syntax};

/// A registered source, as much of it as the Rust functions use.
#[derive(Debug, Clone)]
pub struct Registered {
    pub name: String,
    pub relation: pg_sys::Oid,
    pub tid_column: String,
    pub item_column: String,
    /// Whether its table still exists.
    pub present: bool,
    /// Whether the caller has the rights of its table's owner (then the
    /// caller, or a role it acts as, registered it).
    pub own: bool,
}

/// What a `source` argument names.
pub struct Target {
    pub relation: Relation,
    /// The registered sources it designates: the one named, or every source
    /// registered on the table named.
    pub sources: Vec<Registered>,
    /// Whether the name was a registered source's (not a table's).
    pub by_source_name: bool,
}

impl Target {
    /// The one source designated, when there is exactly one.
    pub fn source(&self) -> Option<&Registered> {
        match self.sources.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The basket and item columns: the arguments when given, else the
    /// registered source's when the source was named, else None (detected
    /// from the table, as for a table named directly).
    pub fn columns<'a>(&'a self, tid: Option<&'a str>, item: Option<&'a str>) -> (Option<&'a str>, Option<&'a str>) {
        let s = self.source().filter(|_| self.by_source_name);
        (tid.or(s.map(|s| s.tid_column.as_str())), item.or(s.map(|s| s.item_column.as_str())))
    }
}

const REGISTERED: &str = "SELECT s.name, s.relation::pg_catalog.oid, s.tid_column, s.item_column, c.oid IS NOT NULL, \
                          c.oid IS NOT NULL AND pg_catalog.pg_has_role(c.relowner, 'USAGE') \
                          FROM rar.sources s LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.relation";

fn registered(condition: &str, arg: pgrx::datum::DatumWithOid) -> Result<Vec<Registered>, RarError> {
    Spi::connect(|client| {
        let rows =
            crate::spi::select_kept(client, &format!("{REGISTERED} WHERE {condition} ORDER BY s.name"), None, &[arg])?;
        let mut out = Vec::new();
        for row in rows {
            out.push(Registered {
                name: row.get(1)?.unwrap_or_default(),
                relation: row.get(2)?.unwrap_or(pg_sys::InvalidOid),
                tid_column: row.get(3)?.unwrap_or_default(),
                item_column: row.get(4)?.unwrap_or_default(),
                present: row.get(5)?.unwrap_or(false),
                own: row.get(6)?.unwrap_or(false),
            });
        }
        Ok::<_, pgrx::spi::SpiError>(out)
    })
    .map_err(RarError::from)
}

fn display(rel: pg_sys::Oid) -> Result<String, RarError> {
    Ok(crate::spi::one::<String>("SELECT $1::pg_catalog.regclass::pg_catalog.text", &[rel.into()])?.unwrap_or_default())
}

/// What the function taking the name reads: a table (rar_mine,
/// rar_train, ...) or a registered source (rar_refresh, rar_recommend, ...);
/// only the error for an unknown name differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    Table,
    Source,
}

/// The schema-qualified, quoted name of a relation.
pub fn qualified(rel: pg_sys::Oid) -> Result<String, RarError> {
    Ok(crate::spi::one::<String>(
        "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE c.oid OPERATOR(pg_catalog.=) $1",
        &[rel.into()],
    )?
    .unwrap_or_default())
}

/// Resolves a `source` argument. Call it before pinning the search path:
/// a table name is looked up as the caller's search path finds it.
pub fn resolve(name: &str, wants: Wants) -> Result<Target, RarError> {
    // The caller's search path, for a table name (only a schema-qualified
    // function runs with it).
    let by_path: Option<pg_sys::Oid> = if relation_syntax(name) {
        crate::spi::one("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid", &[name.into()])?
    } else {
        None
    };
    let _pinned = pin_search_path();
    let named =
        if is_qualified(name) { Vec::new() } else { registered("s.name OPERATOR(pg_catalog.=) $1", name.into())? };
    if let Some(s) = named.first() {
        match (s.present, by_path) {
            // A source whose table is gone does not hide a table.
            (false, Some(rel)) => return by_table(rel),
            (false, None) => return Err(RarError::SourceTableDropped { name: name.to_string() }),
            _ => {}
        }
        // A source of another role's table that shares its name with a
        // table the caller's path finds (the caller's, or another owner's
        // than the source's: a role could otherwise register the name of a
        // table the caller reads and serve it other rows) or, in the
        // extension's own calls, whose path is pinned, one the caller owns,
        // must not stand in for that table: ambiguous.
        let other = match (s.own, by_path) {
            (own, Some(rel)) => may_be_confused(rel, s.relation, own)?.then_some(rel),
            (true, None) => None,
            (false, None) => own_table_named(name)?,
        };
        if let Some(rel) = other.filter(|r| *r != s.relation) {
            return Err(RarError::AmbiguousSource {
                name: name.to_string(),
                source_table: display(s.relation)?,
                table: display(rel)?,
            });
        }
        return Ok(Target { relation: Relation(s.relation), sources: named, by_source_name: true });
    }
    if let Some(rel) = by_path {
        return by_table(rel);
    }
    // The bare name of the table of a registered source, in any schema,
    // among the tables the caller owns (the extension's own calls, whose
    // search path is pinned, find the caller's tables this way).
    let by_relname = registered(
        "c.relname::pg_catalog.text OPERATOR(pg_catalog.=) $1 AND pg_catalog.pg_has_role(c.relowner, 'USAGE')",
        name.into(),
    )?;
    let mut tables: Vec<pg_sys::Oid> = by_relname.iter().map(|s| s.relation).collect();
    tables.sort_unstable_by_key(|o| o.to_u32());
    tables.dedup();
    match tables.as_slice() {
        [rel] => Ok(Target { relation: Relation(*rel), sources: by_relname, by_source_name: false }),
        [] if wants == Wants::Source => Err(RarError::UnknownSource { name: name.to_string() }),
        [] => Err(RarError::NoSuchSource { name: name.to_string() }),
        _ => Err(RarError::SeveralSources {
            name: name.to_string(),
            sources: by_relname.into_iter().map(|s| s.name).collect(),
        }),
    }
}

/// A table named directly, with the sources registered on it.
fn by_table(rel: pg_sys::Oid) -> Result<Target, RarError> {
    let on_table = registered("s.relation OPERATOR(pg_catalog.=) $1", rel.into())?;
    Ok(Target { relation: Relation(rel), sources: on_table, by_source_name: false })
}

/// Whether a table the caller's path finds could be mistaken for a source of
/// table `source_rel`: its owner is not the owner of the source's table (who
/// registered the source), or, for a caller who does not own the source's
/// table, the caller owns it. (A role that owns both, a superuser or a
/// member of both owners, is confused only by tables of two owners.)
fn may_be_confused(rel: pg_sys::Oid, source_rel: pg_sys::Oid, owns_source: bool) -> Result<bool, RarError> {
    Ok(crate::spi::one::<bool>(
        "SELECT a.relowner OPERATOR(pg_catalog.<>) b.relowner OR (NOT $3 AND pg_catalog.pg_has_role(a.relowner, 'USAGE')) \
         FROM pg_catalog.pg_class a, pg_catalog.pg_class b \
         WHERE a.oid OPERATOR(pg_catalog.=) $1 AND b.oid OPERATOR(pg_catalog.=) $2",
        &[rel.into(), source_rel.into(), owns_source.into()],
    )?
    .unwrap_or(true))
}

/// A relation with this bare name that the caller owns (any schema), when
/// there is one.
fn own_table_named(name: &str) -> Result<Option<pg_sys::Oid>, RarError> {
    crate::spi::one(
        "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname::pg_catalog.text OPERATOR(pg_catalog.=) $1 \
         AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::\"char\"[]) AND pg_catalog.pg_has_role(c.relowner, 'USAGE') \
         ORDER BY c.oid LIMIT 1",
        &[name.into()],
    )
}

/// The relation a `source` argument names, with its registered source when
/// exactly one designates it.
pub fn relation_of(argument: &'static str, name: Option<&str>) -> Target {
    let name = crate::args::required(argument, "none", name);
    resolve(name, Wants::Table).unwrap_or_else(|e| e.raise())
}

/// The registered source a `source` argument designates: by its name, or
/// as the one source registered on the table named.
pub fn source_of(name: &str) -> Result<Registered, RarError> {
    let target = resolve(name, Wants::Source)?;
    match target.sources.len() {
        1 => Ok(target.sources.into_iter().next().expect("one source")),
        0 => Err(RarError::NotRegistered { name: name.to_string(), table: display(target.relation.0)? }),
        _ => Err(RarError::SeveralSources {
            name: name.to_string(),
            sources: target.sources.into_iter().map(|s| s.name).collect(),
        }),
    }
}

/// The SQL side of the rule, in the catalog schema `rar`.
#[pg_schema]
pub mod rar {
    use pgrx::pg_sys;
    use pgrx::prelude::*;

    /// `rar.source_name(name)`: the registered source a name designates, under
    /// the rule above; the SQL functions about sources start with it.
    #[pg_extern(stable, parallel_restricted)]
    pub fn source_name(name: Option<&str>) -> String {
        let name = crate::args::required("name", "none", name);
        super::source_of(name).unwrap_or_else(|e| e.raise()).name
    }

    /// `rar.resolved_name(name)`: a name that designates what `name` does
    /// under any search path (the source's name when a source was named,
    /// else the table's schema-qualified name), for SQL functions that hand
    /// it on from a pinned search path.
    #[pg_extern(stable, parallel_restricted)]
    pub fn resolved_name(name: Option<&str>) -> String {
        let target = super::relation_of("source", name);
        match target.source().filter(|_| target.by_source_name) {
            Some(s) => s.name.clone(),
            None => super::qualified(target.relation.0).unwrap_or_else(|e| e.raise()),
        }
    }

    /// `rar.basket_key(rel, tid_column)`: the SQL expression of the basket
    /// id of a relation (quoted identifiers only), for the SQL functions
    /// that count baskets: the column, or the row of several as text.
    #[pg_extern(stable, parallel_unsafe)]
    pub fn basket_key(rel: Option<crate::args::Relation>, tid_column: Option<&str>) -> String {
        let rel = crate::args::required("rel", "none", rel);
        let tid = crate::args::required("tid_column", "none", tid_column);
        crate::relation::describe(rel, "rar_refresh").basket_key(tid)
    }

    /// `rar.relation_of(name)`: the table or view a name designates, under the
    /// rule above, for the SQL functions that take a table.
    #[pg_extern(stable, parallel_restricted, name = "relation_of")]
    pub fn relation_of_sql(name: Option<&str>) -> pg_sys::Oid {
        super::relation_of("source", name).relation.0
    }
}
