//! Which columns of a source hold the basket id and the items.
//!
//! Sources come in two shapes: long form (one row per basket and item) and
//! basket form (one row per basket, the items in an array column). When the
//! caller names no columns they are detected: a relation of two columns is
//! (basket, item) in column order; otherwise the conventional names
//! (transaction/order/invoice/basket id; item/product/sku/stock code) decide,
//! and anything still ambiguous is an error that lists the columns.

/// What a column's type allows it to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A scalar compared as text: a basket id or an item.
    Scalar,
    /// An array of scalars: the items of a basket-form row.
    Array,
    /// Composite, range, geometric and pseudo types.
    Unusable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    pub type_name: String,
    pub kind: ColumnKind,
    /// A number type (quantities, prices).
    pub numeric: bool,
}

/// The shape of a source, with the columns to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One row per (basket, item).
    Long { tid: String, item: String },
    /// One row per basket; `tid` is `None` when each row is its own basket.
    Baskets { tid: Option<String>, items: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    UndefinedColumn {
        column: String,
    },
    /// No column, or more than one (`candidates`), could hold `role`.
    NotDetected {
        role: &'static str,
        candidates: Vec<String>,
    },
    WrongType {
        column: String,
        type_name: String,
        role: &'static str,
        expected: &'static str,
    },
}

const TID_NAMES: &[&str] = &[
    "tid",
    "transaction",
    "transactionid",
    "transactionno",
    "order",
    "orderid",
    "orderno",
    "invoice",
    "invoiceid",
    "invoiceno",
    "invoicenumber",
    "basket",
    "basketid",
    "receipt",
    "receiptid",
    "ticket",
    "ticketid",
    "cartid",
];
const ITEM_NAMES: &[&str] = &[
    "item",
    "items",
    "itemid",
    "itemname",
    "product",
    "products",
    "productid",
    "sku",
    "stockcode",
    "article",
    "articleid",
];

fn normalize(name: &str) -> String {
    name.chars().filter(|c| *c != '_' && *c != ' ').flat_map(char::to_lowercase).collect()
}

/// Finds `name` among `columns`: exactly, else by a unique case-insensitive
/// match.
fn find<'a>(columns: &'a [ColumnInfo], name: &str) -> Result<&'a ColumnInfo, LayoutError> {
    if let Some(c) = columns.iter().find(|c| c.name == name) {
        return Ok(c);
    }
    let folded: Vec<&ColumnInfo> = columns.iter().filter(|c| c.name.to_lowercase() == name.to_lowercase()).collect();
    match folded.as_slice() {
        [c] => Ok(c),
        _ => Err(LayoutError::UndefinedColumn { column: name.to_string() }),
    }
}

fn by_convention<'a>(
    columns: &'a [ColumnInfo],
    names: &[&str],
    role: &'static str,
    exclude: Option<&str>,
) -> Result<Option<&'a ColumnInfo>, LayoutError> {
    let found: Vec<&ColumnInfo> = columns
        .iter()
        .filter(|c| Some(c.name.as_str()) != exclude && names.contains(&normalize(&c.name).as_str()))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [c] => Ok(Some(c)),
        many => Err(LayoutError::NotDetected { role, candidates: many.iter().map(|c| c.name.clone()).collect() }),
    }
}

const TID_ROLE: &str = "basket id";
const ITEM_ROLE: &str = "items";

fn check_tid(c: &ColumnInfo) -> Result<String, LayoutError> {
    if c.kind != ColumnKind::Scalar {
        return Err(LayoutError::WrongType {
            column: c.name.clone(),
            type_name: c.type_name.clone(),
            role: TID_ROLE,
            expected: "of a scalar type (text, a number, a date, ...)",
        });
    }
    Ok(c.name.clone())
}

fn layout_for(tid: Option<&ColumnInfo>, item: &ColumnInfo) -> Result<Layout, LayoutError> {
    let tid = tid.map(check_tid).transpose()?;
    match (item.kind, tid) {
        (ColumnKind::Scalar, Some(tid)) => Ok(Layout::Long { tid, item: item.name.clone() }),
        (ColumnKind::Array, tid) => Ok(Layout::Baskets { tid, items: item.name.clone() }),
        (ColumnKind::Scalar, None) => Err(LayoutError::NotDetected { role: TID_ROLE, candidates: vec![] }),
        (ColumnKind::Unusable, _) => Err(LayoutError::WrongType {
            column: item.name.clone(),
            type_name: item.type_name.clone(),
            role: ITEM_ROLE,
            expected: "of a scalar type, or an array of one in basket form",
        }),
    }
}

/// Conventional names of a quantity column.
pub const QUANTITY_NAMES: &[&str] = &["quantity", "qty", "units", "quantitysold"];
/// Conventional names of a unit price column.
pub const PRICE_NAMES: &[&str] = &["price", "unitprice", "saleprice", "itemprice"];

/// An optional numeric column (quantity, price): the one given, else the
/// one conventional name found, else none.
pub fn numeric_column<'a>(
    columns: &'a [ColumnInfo],
    given: Option<&str>,
    names: &[&str],
    role: &'static str,
) -> Result<Option<&'a ColumnInfo>, LayoutError> {
    let col = match given {
        Some(g) => Some(find(columns, g)?),
        None => by_convention(columns, names, role, None)?,
    };
    match col {
        Some(c) if !c.numeric => Err(LayoutError::WrongType {
            column: c.name.clone(),
            type_name: c.type_name.clone(),
            role,
            expected: "of a number type",
        }),
        other => Ok(other),
    }
}

/// Resolves the layout from the columns and the names the caller gave.
pub fn resolve(columns: &[ColumnInfo], tid: Option<&str>, item: Option<&str>) -> Result<Layout, LayoutError> {
    let tid_col = tid.map(|t| find(columns, t)).transpose()?;
    let item_col = item.map(|i| find(columns, i)).transpose()?;
    let others = |skip: Option<&ColumnInfo>| -> Vec<&ColumnInfo> {
        columns.iter().filter(|c| Some(c.name.as_str()) != skip.map(|s| s.name.as_str())).collect()
    };
    match (tid_col, item_col) {
        (Some(t), Some(i)) => layout_for(Some(t), i),
        (None, Some(i)) => {
            let rest = others(Some(i));
            let t = match rest.as_slice() {
                [only] if i.kind == ColumnKind::Scalar => Some(*only),
                _ => by_convention(columns, TID_NAMES, TID_ROLE, Some(&i.name))?,
            };
            layout_for(t, i)
        }
        (Some(t), None) => {
            let rest = others(Some(t));
            let i = match rest.as_slice() {
                [only] => *only,
                _ => by_convention(columns, ITEM_NAMES, ITEM_ROLE, Some(&t.name))?
                    .ok_or(LayoutError::NotDetected { role: ITEM_ROLE, candidates: vec![] })?,
            };
            layout_for(Some(t), i)
        }
        (None, None) => {
            let arrays: Vec<&ColumnInfo> = columns.iter().filter(|c| c.kind == ColumnKind::Array).collect();
            match (columns, arrays.as_slice()) {
                ([only], _) => layout_for(None, only),
                ([a, b], [arr]) => layout_for(Some(if a.name == arr.name { b } else { a }), arr),
                ([a, b], _) => layout_for(Some(a), b),
                _ => {
                    let i = by_convention(columns, ITEM_NAMES, ITEM_ROLE, None)?
                        .ok_or(LayoutError::NotDetected { role: ITEM_ROLE, candidates: vec![] })?;
                    let t = by_convention(columns, TID_NAMES, TID_ROLE, Some(&i.name))?;
                    layout_for(t, i)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(spec: &[(&str, ColumnKind)]) -> Vec<ColumnInfo> {
        spec.iter()
            .map(|(n, k)| ColumnInfo { name: n.to_string(), type_name: "t".into(), kind: *k, numeric: false })
            .collect()
    }
    use ColumnKind::*;

    fn long(t: &str, i: &str) -> Layout {
        Layout::Long { tid: t.into(), item: i.into() }
    }

    #[test]
    fn table_driven() {
        let online_retail = cols(&[
            ("InvoiceNo", Scalar),
            ("StockCode", Scalar),
            ("Description", Scalar),
            ("Quantity", Scalar),
            ("CustomerID", Scalar),
        ]);
        let instacart =
            cols(&[("order_id", Scalar), ("user_id", Scalar), ("order_number", Scalar), ("product_id", Scalar)]);
        let cases: Vec<(Vec<ColumnInfo>, Option<&str>, Option<&str>, Result<Layout, LayoutError>)> = vec![
            (cols(&[("a", Scalar), ("b", Scalar)]), None, None, Ok(long("a", "b"))),
            (cols(&[("items", Array)]), None, None, Ok(Layout::Baskets { tid: None, items: "items".into() })),
            (
                cols(&[("x", Array), ("id", Scalar)]),
                None,
                None,
                Ok(Layout::Baskets { tid: Some("id".into()), items: "x".into() }),
            ),
            (online_retail.clone(), None, None, Ok(long("InvoiceNo", "StockCode"))),
            (online_retail.clone(), None, Some("Description"), Ok(long("InvoiceNo", "Description"))),
            (online_retail.clone(), Some("customerid"), Some("description"), Ok(long("CustomerID", "Description"))),
            (online_retail.clone(), None, Some("nope"), Err(LayoutError::UndefinedColumn { column: "nope".into() })),
            (instacart.clone(), None, None, Ok(long("order_id", "product_id"))),
            (
                cols(&[("x", Scalar), ("y", Scalar), ("z", Scalar)]),
                None,
                None,
                Err(LayoutError::NotDetected { role: ITEM_ROLE, candidates: vec![] }),
            ),
            (
                cols(&[("order_id", Scalar), ("invoice", Scalar), ("item", Scalar)]),
                None,
                None,
                Err(LayoutError::NotDetected { role: TID_ROLE, candidates: vec!["order_id".into(), "invoice".into()] }),
            ),
            (
                cols(&[("t", Scalar), ("p", Unusable)]),
                None,
                None,
                Err(LayoutError::WrongType {
                    column: "p".into(),
                    type_name: "t".into(),
                    role: ITEM_ROLE,
                    expected: "of a scalar type, or an array of one in basket form",
                }),
            ),
            (
                cols(&[("t", Array), ("item", Scalar), ("q", Scalar)]),
                Some("t"),
                Some("item"),
                Err(LayoutError::WrongType {
                    column: "t".into(),
                    type_name: "t".into(),
                    role: TID_ROLE,
                    expected: "of a scalar type (text, a number, a date, ...)",
                }),
            ),
            (cols(&[("b", Scalar)]), None, None, Err(LayoutError::NotDetected { role: TID_ROLE, candidates: vec![] })),
        ];
        for (columns, t, i, want) in cases {
            assert_eq!(resolve(&columns, t, i), want, "columns {columns:?}, tid {t:?}, item {i:?}");
        }
    }
}
