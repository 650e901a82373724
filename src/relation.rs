//! Looking up a source relation: its quoted name and its columns, and which
//! of them hold baskets and items (the rules themselves live in
//! `rar_core::layout`).

use pgrx::prelude::*;
use rar_core::layout::{self, ColumnInfo, ColumnKind, Layout, LayoutError};

use crate::error::RarError;

/// A relation to read from.
pub struct Source {
    /// The SQL function reading it, for hints that show a call.
    pub function: &'static str,
    pub oid: pg_sys::Oid,
    /// Schema and name, quoted: safe to put in SQL text.
    pub schema: String,
    pub name: String,
    /// Schema-qualified, quoted: safe to put in SQL text.
    pub quoted: String,
    /// As `regclass` prints it, for messages.
    pub display: String,
    pub columns: Vec<ColumnInfo>,
}

fn kind(category: &str, elem_category: &str) -> ColumnKind {
    let usable = |c: &str| !matches!(c, "C" | "G" | "P" | "R" | "X" | "A" | "");
    match category {
        "A" if usable(elem_category) => ColumnKind::Array,
        c if usable(c) => ColumnKind::Scalar,
        _ => ColumnKind::Unusable,
    }
}

/// Reads the catalog entry of `rel`. Values are passed as parameters; the
/// quoting is done by the server's `quote_ident`.
pub fn describe(rel: pg_sys::Oid, function: &'static str) -> Source {
    describe_relation(rel, function, false)
}

/// As [`describe`], for functions that change a table in place: anything
/// but a (partitioned) table is an error.
pub fn describe_table(rel: pg_sys::Oid, function: &'static str) -> Source {
    describe_relation(rel, function, true)
}

fn describe_relation(rel: pg_sys::Oid, function: &'static str, tables_only: bool) -> Source {
    Spi::connect(|client| {
        let head = client
            .select(
                "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), \
                        c.oid::pg_catalog.regclass::pg_catalog.text, c.relkind::pg_catalog.text, \
                        n.nspname::pg_catalog.text, c.relname::pg_catalog.text \
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.oid = $1",
                Some(1),
                &[rel.into()],
            )?
            .first();
        let quoted: String = head.get(1)?.unwrap_or_default();
        let display: String = head.get(2)?.unwrap_or_default();
        let relkind: String = head.get(3)?.unwrap_or_default();
        let schema: String = head.get(4)?.unwrap_or_default();
        let name: String = head.get(5)?.unwrap_or_default();
        if !matches!(relkind.as_str(), "r" | "v" | "m" | "p" | "f") || (tables_only && !matches!(relkind.as_str(), "r" | "p")) {
            let (what, hint) = if tables_only {
                ("a table", "Give the name of the table itself: this function changes rows in place, which a view cannot take.")
            } else {
                ("a table, view or materialized view", "Give the name of a table, view, materialized view or foreign table holding the sales lines.")
            };
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!("\"{display}\" is not {what}"),
                hint
            );
        }
        let mut columns = Vec::new();
        let rows = client.select(
            "SELECT a.attname::pg_catalog.text, pg_catalog.format_type(a.atttypid, a.atttypmod), \
                    t.typcategory::pg_catalog.text, coalesce(e.typcategory::pg_catalog.text, '') \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            None,
            &[rel.into()],
        )?;
        for row in rows {
            let name: String = row.get(1)?.unwrap_or_default();
            let type_name: String = row.get(2)?.unwrap_or_default();
            let cat: String = row.get(3)?.unwrap_or_default();
            let elem: String = row.get(4)?.unwrap_or_default();
            columns.push(ColumnInfo { name, type_name, kind: kind(&cat, &elem), numeric: cat == "N" });
        }
        Ok::<_, pgrx::spi::SpiError>(Source { function, oid: rel, schema, name, quoted, display, columns })
    })
    .unwrap_or_else(|e| panic!("reading the catalog failed: {e}"))
}

impl Source {
    /// The column named `name` (exactly, as resolved by the layout).
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Maps a layout error to the SQL error that names this relation.
    pub fn layout_error(&self, e: LayoutError) -> RarError {
        let names = || self.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        match e {
            LayoutError::UndefinedColumn { column } => {
                RarError::UndefinedColumn { function: self.function, relation: self.display.clone(), column, columns: names() }
            }
            LayoutError::NotDetected { role, candidates } => {
                RarError::ColumnsNotDetected { function: self.function, relation: self.display.clone(), role, candidates, columns: names() }
            }
            LayoutError::WrongType { column, type_name, role, expected } => {
                RarError::WrongType { column, type_name, role, expected }
            }
        }
    }

    /// The basket and item columns, given or detected.
    pub fn layout(&self, tid: Option<&str>, item: Option<&str>) -> Result<Layout, RarError> {
        layout::resolve(&self.columns, tid, item).map_err(|e| self.layout_error(e))
    }
}
