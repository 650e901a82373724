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

impl Layout {
    /// The column of the items (an item column, or an array of items).
    pub fn item_column(&self) -> &str {
        match self {
            Layout::Long { item, .. } => item,
            Layout::Baskets { items, .. } => items,
        }
    }
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
    /// One column named as both the basket id and the items.
    SameColumn {
        column: String,
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

/// The basket columns `tid` names: the column of that name, else a
/// comma-separated list of columns (`'member_number, date'`, names in
/// double quotes when they hold a comma), each found as [`find`] does. A
/// list that does not parse (a quote left open, text after a closing quote,
/// an empty name) names no column: it is an undefined column, as the whole
/// text.
pub fn basket_columns<'a>(columns: &'a [ColumnInfo], tid: &str) -> Result<Vec<&'a ColumnInfo>, LayoutError> {
    if let Ok(c) = find(columns, tid) {
        return Ok(vec![c]);
    }
    let names = split_names(tid).ok_or_else(|| LayoutError::UndefinedColumn { column: tid.to_string() })?;
    if let [one] = names.as_slice() {
        // One name in quotes: a column whose name holds a comma.
        return find(columns, one).map(|c| vec![c]);
    }
    let mut out: Vec<&ColumnInfo> = Vec::new();
    for n in &names {
        let c = find(columns, n)?;
        if !out.iter().any(|o| o.name == c.name) {
            out.push(c);
        }
    }
    Ok(out)
}

/// A comma-separated list of names; a name in double quotes may hold
/// commas (`""` inside is one quote), and blanks inside quotes are part of
/// it, those around a name are not. None when the list does not parse: a
/// quote left open, text after a closing quote, or an empty name.
fn split_names(list: &str) -> Option<Vec<String>> {
    // The name being read, whether it was quoted, and whether its quotes
    // are closed.
    let (mut out, mut cur, mut quoted, mut was_quoted) = (Vec::new(), String::new(), false, false);
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            // An opening quote only where a name starts.
            '"' if !was_quoted && cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
                was_quoted = true;
            }
            '"' => return None,
            ',' if !quoted => out.push(name(std::mem::take(&mut cur), std::mem::take(&mut was_quoted))?),
            c if quoted => cur.push(c),
            c if was_quoted && !c.is_whitespace() => return None,
            _ if was_quoted => {}
            c => cur.push(c),
        }
    }
    if quoted {
        return None;
    }
    out.push(name(cur, was_quoted)?);
    Some(out)
}

/// One name of a list as [`split_names`] read it: unquoted, without the
/// blanks around it; None when it is empty.
fn name(text: String, quoted: bool) -> Option<String> {
    let n = if quoted { text } else { text.trim().to_string() };
    (!n.is_empty()).then_some(n)
}

/// The list form of several basket columns, as [`basket_columns`] reads it
/// back (names holding a comma or quote in double quotes).
fn join_names(names: &[&ColumnInfo]) -> String {
    names
        .iter()
        .map(
            |c| {
                if c.name.contains([',', '"']) {
                    format!("\"{}\"", c.name.replace('"', "\"\""))
                } else {
                    c.name.clone()
                }
            },
        )
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SQL expression of a basket's id: the column itself, or for several
/// columns the text of their row (NULL when any is NULL), which tells any
/// two baskets apart whatever their values. `quote` quotes an identifier.
pub fn basket_key_sql(columns: &[&ColumnInfo], quote: impl Fn(&str) -> String) -> String {
    match columns {
        [one] => quote(&one.name),
        many => {
            let q: Vec<String> = many.iter().map(|c| quote(&c.name)).collect();
            let nulls: Vec<String> = q.iter().map(|c| format!("{c} IS NULL")).collect();
            format!("(CASE WHEN {} THEN NULL ELSE ROW({})::pg_catalog.text END)", nulls.join(" OR "), q.join(", "))
        }
    }
}

/// Columns to name in a hint when the basket and item columns could not be
/// told: for the item, a text column with a name like an item's (a
/// description, a product), else the first text column; for the basket, a
/// member or customer column with a date column (a member's shopping of one
/// day, as in the Kaggle groceries export), else an id-like column.
pub fn suggest(columns: &[ColumnInfo]) -> (String, String) {
    let textual = |c: &&ColumnInfo| {
        c.kind == ColumnKind::Scalar
            && (c.type_name == "text" || c.type_name.starts_with("character") || c.type_name == "name")
    };
    let named = |c: &ColumnInfo, parts: &[&str]| parts.iter().any(|p| normalize(&c.name).contains(p));
    let basket_like = |c: &&ColumnInfo| {
        TID_NAMES.contains(&normalize(&c.name).as_str())
            || named(c, &["invoice", "order", "basket", "receipt", "transaction", "ticket", "cart"])
    };
    let item = columns
        .iter()
        .filter(textual)
        .filter(|c| !basket_like(c))
        .find(|c| named(c, &["desc", "item", "product", "article", "sku", "stock", "name", "title"]))
        .or_else(|| {
            columns
                .iter()
                .filter(textual)
                .filter(|c| !basket_like(c))
                .find(|c| !named(c, &["date", "day", "time", "id"]))
        })
        .or_else(|| columns.get(1))
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "item".into());
    let rest: Vec<&ColumnInfo> = columns.iter().filter(|c| c.name != item && c.kind == ColumnKind::Scalar).collect();
    let who = rest.iter().find(|c| named(c, &["member", "customer", "user", "client", "household"]));
    let when = rest
        .iter()
        .find(|c| c.type_name == "date" || c.type_name.starts_with("timestamp") || named(c, &["date", "day"]));
    let tid = match (who, when) {
        (Some(w), Some(d)) => join_names(&[w, d]),
        _ => rest
            .iter()
            .find(|c| TID_NAMES.contains(&normalize(&c.name).as_str()) || named(c, &["id", "no", "number"]))
            .or(rest.first())
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "basket_id".into()),
    };
    (tid, item)
}

/// Resolves the layout from the columns and the names the caller gave.
pub fn resolve(columns: &[ColumnInfo], tid: Option<&str>, item: Option<&str>) -> Result<Layout, LayoutError> {
    if let Some(t) = tid.filter(|t| find(columns, t).is_err()) {
        return resolve_several(columns, t, item);
    }
    let tid_col = tid.map(|t| find(columns, t)).transpose()?;
    let item_col = item.map(|i| find(columns, i)).transpose()?;
    let others = |skip: Option<&ColumnInfo>| -> Vec<&ColumnInfo> {
        columns.iter().filter(|c| Some(c.name.as_str()) != skip.map(|s| s.name.as_str())).collect()
    };
    match (tid_col, item_col) {
        (Some(t), Some(i)) if t.name == i.name => Err(LayoutError::SameColumn { column: t.name.clone() }),
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

/// A layout whose basket is keyed by several columns (long form only).
fn resolve_several(columns: &[ColumnInfo], tid: &str, item: Option<&str>) -> Result<Layout, LayoutError> {
    let keys = basket_columns(columns, tid)?;
    for k in &keys {
        check_tid(k)?;
    }
    let rest: Vec<&ColumnInfo> = columns.iter().filter(|c| !keys.iter().any(|k| k.name == c.name)).collect();
    let item = match item {
        Some(i) => find(columns, i)?,
        None => match rest.as_slice() {
            [only] => *only,
            _ => by_convention(columns, ITEM_NAMES, ITEM_ROLE, None)?
                .ok_or(LayoutError::NotDetected { role: ITEM_ROLE, candidates: vec![] })?,
        },
    };
    if keys.iter().any(|k| k.name == item.name) {
        return Err(LayoutError::SameColumn { column: item.name.clone() });
    }
    if item.kind != ColumnKind::Scalar {
        return Err(LayoutError::WrongType {
            column: item.name.clone(),
            type_name: item.type_name.clone(),
            role: ITEM_ROLE,
            expected: "of a scalar type when the basket is keyed by several columns",
        });
    }
    Ok(Layout::Long { tid: join_names(&keys), item: item.name.clone() })
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

    fn typed(spec: &[(&str, &str)]) -> Vec<ColumnInfo> {
        spec.iter()
            .map(|(n, t)| ColumnInfo {
                name: n.to_string(),
                type_name: t.to_string(),
                kind: Scalar,
                numeric: *t == "integer",
            })
            .collect()
    }

    #[test]
    fn one_column_cannot_be_both_basket_and_items() {
        let c = cols(&[("order_id", ColumnKind::Scalar), ("shop", ColumnKind::Scalar), ("item", ColumnKind::Scalar)]);
        let same = |column: &str| Err(LayoutError::SameColumn { column: column.into() });
        assert_eq!(resolve(&c, Some("item"), Some("item")), same("item"));
        assert_eq!(resolve(&c, Some("order_id"), Some("order_id")), same("order_id"));
        assert_eq!(resolve(&c, Some("order_id, item"), Some("item")), same("item"));
        assert!(resolve(&c, Some("order_id, shop"), Some("item")).is_ok());
    }

    #[test]
    fn several_basket_columns() {
        let groceries = typed(&[("Member_number", "integer"), ("Date", "text"), ("itemDescription", "text")]);
        assert_eq!(
            resolve(&groceries, Some("member_number, date"), None),
            Ok(long("Member_number, Date", "itemDescription"))
        );
        assert_eq!(
            resolve(&groceries, Some("Member_number,Date"), Some("itemDescription")),
            Ok(long("Member_number, Date", "itemDescription"))
        );
        assert_eq!(
            resolve(&groceries, Some("Member_number, nope"), None),
            Err(LayoutError::UndefinedColumn { column: "nope".into() })
        );
        // A column whose name holds a comma is found by its name, and listed in quotes.
        let odd = typed(&[("a, b", "text"), ("c", "text"), ("item", "text")]);
        assert_eq!(resolve(&odd, Some("a, b"), Some("item")), Ok(long("a, b", "item")));
        assert_eq!(resolve(&odd, Some("\"a, b\", c"), Some("item")), Ok(long("\"a, b\", c", "item")));
        // A list that does not parse names no column, as a whole.
        for bad in ["\"c", "c\"", "c,", ",c", "c,,item", "\"c\"x, item", "c, \"item", "\"\"", "c, \"\""] {
            assert_eq!(
                basket_columns(&odd, bad).map(|_| ()),
                Err(LayoutError::UndefinedColumn { column: bad.into() }),
                "{bad}"
            );
        }
        // One quoted name, and blanks kept inside quotes.
        assert_eq!(basket_columns(&odd, "\"a, b\"").unwrap()[0].name, "a, b");
        let padded = typed(&[(" pad", "text"), ("c", "text"), ("item", "text")]);
        let both = basket_columns(&padded, "\" pad\", c").unwrap();
        assert_eq!(both.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec![" pad", "c"]);
        let cols = basket_columns(&odd, "\"a, b\", c").unwrap();
        assert_eq!(cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["a, b", "c"]);
        let q = |n: &str| format!("\"{n}\"");
        assert_eq!(basket_key_sql(&cols[..1], q), "\"a, b\"");
        assert_eq!(
            basket_key_sql(&cols, q),
            "(CASE WHEN \"a, b\" IS NULL OR \"c\" IS NULL THEN NULL ELSE ROW(\"a, b\", \"c\")::pg_catalog.text END)"
        );
    }

    #[test]
    fn hints_name_plausible_columns() {
        let groceries = typed(&[("Member_number", "integer"), ("Date", "text"), ("itemDescription", "text")]);
        assert_eq!(suggest(&groceries), ("Member_number, Date".to_string(), "itemDescription".to_string()));
        let retail = typed(&[
            ("invoice_no", "text"),
            ("stock_code", "text"),
            ("quantity", "integer"),
            ("invoice_date", "timestamp without time zone"),
        ]);
        assert_eq!(suggest(&retail).0, "invoice_no");
        let dated = typed(&[("day", "date"), ("basket", "bigint"), ("price", "numeric"), ("label", "text")]);
        assert_eq!(suggest(&dated), ("basket".to_string(), "label".to_string()));
    }
}
