//! Customers' baskets for the sequence model (`rar_train(..., 'gru',
//! customer_column => ..., time_column => ...)`): each basket of the
//! source's split with its customer, its time (its first line's) and its
//! items, read set by set under the split's own filters, in the caller's
//! rights and bounded by `rar.memory_limit`.

use pgrx::datum::Array;
use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use rar_core::layout::ColumnKind;

use crate::error::RarError;
use crate::relation::Source;
use crate::splits::{self, Split};

/// One basket.
pub struct Row {
    pub id: String,
    pub customer: Option<String>,
    /// Seconds since the epoch of its first line.
    pub time: Option<f64>,
    pub items: Vec<String>,
}

/// A line's customer as text, as every reader compares it: by its bytes
/// (the "C" collation), so that a customer is the same text everywhere.
fn customer_text(src: &Source, customer: &str) -> String {
    format!("({}) COLLATE pg_catalog.\"C\"", src.text_of(customer))
}

/// The customer column `name`: present and one value per line.
pub fn customer_column(src: &Source, name: &str) {
    let col = src.column(name).unwrap_or_else(|| src.undefined_column(name).raise());
    if col.kind != ColumnKind::Scalar {
        RarError::WrongType {
            column: col.name.clone(),
            type_name: col.type_name.clone(),
            role: "customer of a basket",
            expected: "of a scalar type (one customer per line)",
        }
        .raise();
    }
}

/// What the sets read so far hold, against `rar.memory_limit`.
pub struct Budget {
    pub limit: u64,
    pub bytes: u64,
    pub lines: usize,
}

impl Budget {
    /// Charges one basket read: its items, and `extra` bytes of its id and
    /// customer; 54000 when the sets would pass the limit.
    fn charge_basket(&mut self, extra: u64, items: &[String]) -> Result<(), RarError> {
        self.bytes += 64 + extra + items.iter().map(|i| i.len() as u64 + 24).sum::<u64>();
        self.lines += items.len();
        self.check()
    }

    /// 54000 once what was charged passes the limit.
    fn check(&self) -> Result<(), RarError> {
        if self.bytes > self.limit {
            return Err(RarError::InputTooLarge { lines: self.lines, limit_bytes: self.limit });
        }
        Ok(())
    }

    /// Charges the histories of `customers` (one per basket read, each
    /// given at most `max` earlier baskets) before they are built: 54000
    /// when they would pass the limit.
    pub fn charge_histories(&mut self, customers: &[Option<&str>], max: usize) -> Result<(), RarError> {
        let refs = rar_core::history::earlier_count(customers, max);
        // Each list's header, its entries, and the copy handed to the model.
        self.bytes = self.bytes.saturating_add(customers.len() as u64 * 32).saturating_add(refs.saturating_mul(8));
        self.check()
    }
}

/// The baskets of `set` ('train' or 'validation') of `split`, each with
/// its customer and time.
pub fn read_set(
    src: &Source,
    tid: &str,
    item: &str,
    customer: &str,
    time: &str,
    split: &Split,
    set: &str,
    budget: &mut Budget,
) -> Result<Vec<Row>, RarError> {
    src.check_not_superuser_reading_user_view();
    let filter = splits::filter(src, split, set);
    let key = src.basket_key(tid);
    let sql = format!(
        "SELECT {key_text}, pg_catalog.min({cust}), \
                pg_catalog.date_part('epoch', pg_catalog.min({at}))::pg_catalog.float8, \
                pg_catalog.array_agg({item_text}) FILTER (WHERE {item} IS NOT NULL) \
         FROM {tab} WHERE {key} IS NOT NULL AND ({clause}) GROUP BY {key}",
        key_text = src.basket_text(tid),
        cust = customer_text(src, customer),
        item_text = src.text_of(item),
        item = quote_identifier(item),
        at = splits::absolute_time(src, time),
        tab = src.quoted,
        clause = filter.clause,
    );
    let mut rows = Vec::new();
    let outcome: Result<(), RarError> = Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &filter.args);
        loop {
            // A fetched batch of aggregated baskets is in memory before any
            // of it is charged: a few at a time (a basket can be large).
            let table = cursor.fetch(64)?;
            if table.is_empty() {
                break;
            }
            for r in table {
                let id: Option<String> = r.get(1)?;
                let customer: Option<String> = r.get(2)?;
                let time: Option<f64> = r.get(3)?;
                let items: Option<Array<&str>> = r.get(4)?;
                let (Some(id), Some(items)) = (id, items) else { continue };
                let items: Vec<String> = items.iter().flatten().map(str::to_string).collect();
                budget.charge_basket(id.len() as u64 + customer.as_ref().map_or(0, |c| c.len() as u64), &items)?;
                // -infinity and infinity are times (first and last); NaN is none.
                rows.push(Row { id, customer, time: time.filter(|t| !t.is_nan()), items });
                check_for_interrupts!();
            }
        }
        Ok(())
    });
    outcome?;
    Ok(rows)
}

/// A basket's items as a model reads them: the vocabulary indices of those
/// it knows, sorted, each once.
pub fn known_items<'a>(items: impl IntoIterator<Item = &'a String>, index: impl Fn(&str) -> Option<u32>) -> Vec<u32> {
    let mut l: Vec<u32> = items.into_iter().filter_map(|i| index(i)).collect();
    l.sort_unstable();
    l.dedup();
    l
}

/// For each of `rows`, the indices (into `rows`) of its customer's earlier
/// baskets, at most `max`, charged to `budget` before they are built.
pub fn earlier_of(rows: &[&Row], max: usize, budget: &mut Budget) -> Result<Vec<Vec<u32>>, RarError> {
    let customers: Vec<Option<&str>> = rows.iter().map(|r| r.customer.as_deref()).collect();
    budget.charge_histories(&customers, max)?;
    let times: Vec<Option<f64>> = rows.iter().map(|r| r.time).collect();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    Ok(rar_core::history::earlier_baskets(&customers, &times, &ids, max))
}

/// A set's baskets as the vocabulary and the fingerprint read them.
pub fn baskets(rows: &[Row]) -> (std::sync::Arc<rar_core::baskets::Baskets>, crate::reader::ReadStats) {
    let mut b = rar_core::baskets::BasketsBuilder::default();
    for r in rows {
        for i in &r.items {
            b.push(&r.id, i);
        }
    }
    (std::sync::Arc::new(b.build()), crate::reader::ReadStats::default())
}

/// The training and validation baskets in vocabulary indices (the pool:
/// the training baskets first), and their histories, drawn from the pool
/// alone (a test basket is never a model's input in training): the arrays
/// `rar_model_train` reads.
pub struct Encoded {
    offsets: Vec<u64>,
    items: Vec<u32>,
    /// Where each set's baskets start in the pool, and the end.
    starts: [usize; 3],
    train: (Vec<u64>, Vec<u32>),
    valid: (Vec<u64>, Vec<u32>),
}

impl Encoded {
    pub fn new(
        sets: &[Vec<Row>; 2],
        index: &std::collections::HashMap<&str, u32>,
        max: usize,
        budget: &mut Budget,
    ) -> Result<Encoded, RarError> {
        use rar_core::vocab::csr;
        let rows: Vec<&Row> = sets.iter().flatten().collect();
        let (offsets, items) = csr(rows.iter().map(|r| known_items(&r.items, |i| index.get(i).copied())));
        let starts = [0, sets[0].len(), rows.len()];
        let mut earlier = earlier_of(&rows, max, budget)?;
        let valid = csr(earlier.drain(starts[1]..));
        let train = csr(earlier.drain(..));
        Ok(Encoded { offsets, items, starts, train, valid })
    }

    /// The baskets of set `k` (0 training, 1 validation), as offsets and items.
    pub fn set(&self, k: usize) -> (Vec<u64>, Vec<u32>) {
        let (a, b) = (self.starts[k], self.starts[k + 1]);
        let base = self.offsets[a];
        let offsets = self.offsets[a..=b].iter().map(|o| o - base).collect();
        (offsets, self.items[base as usize..self.offsets[b] as usize].to_vec())
    }

    /// Pointers into `self`, valid while it lives.
    pub fn arrays(&self) -> rar_core::model_protocol::HistoryArrays {
        rar_core::model_protocol::HistoryArrays {
            pool_offsets: self.offsets.as_ptr(),
            pool_items: self.items.as_ptr(),
            n_pool: (self.offsets.len() - 1) as u64,
            train_offsets: self.train.0.as_ptr(),
            train_refs: self.train.1.as_ptr(),
            valid_offsets: self.valid.0.as_ptr(),
            valid_refs: self.valid.1.as_ptr(),
        }
    }
}

/// The columns a sequence model was trained on (`rar.models.read_columns`).
pub struct SequenceColumns {
    pub tid: String,
    pub item: String,
    pub customer: String,
    pub time: String,
}

impl SequenceColumns {
    /// The columns model `model_id` (a sequence model of `src`'s table)
    /// reads, checked against the table as it is now, where the caller may
    /// read them (see [`Source::check_not_superuser_reading_user_view`]).
    pub fn to_read(model_id: i64, src: &Source) -> Result<SequenceColumns, RarError> {
        let cols = SequenceColumns::of(model_id)?;
        cols.check(src, model_id);
        src.check_not_superuser_reading_user_view();
        Ok(cols)
    }

    /// The columns of model `model_id`, which must be a sequence model that
    /// recorded them.
    fn of(model_id: i64) -> Result<SequenceColumns, RarError> {
        let c = crate::spi::one::<pgrx::JsonB>(
            "SELECT read_columns FROM rar.models WHERE model_id = $1",
            &[model_id.into()],
        )?
        .map(|j| j.0)
        .unwrap_or_default();
        let get = |k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_string);
        match (get("tid_column"), get("item_column"), get("customer_column"), get("time_column")) {
            (Some(tid), Some(item), Some(customer), Some(time)) => Ok(SequenceColumns { tid, item, customer, time }),
            _ => Err(RarError::BadModel {
                model_id,
                message: "It is a sequence model that does not record the columns of its customers and times (rar.models.read_columns).".into(),
            }),
        }
    }

    /// Checks the columns of model `model_id` against the table as it is now.
    fn check(&self, src: &Source, model_id: i64) {
        let tid_there = rar_core::layout::basket_columns(&src.columns, &self.tid).is_ok();
        for (c, there) in [(&self.tid, tid_there), (&self.item, false), (&self.customer, false), (&self.time, false)] {
            if !there && src.column(c).is_none() {
                RarError::ModelColumnGone { model_id, relation: src.display.clone(), column: c.clone() }.raise();
            }
        }
        customer_column(src, &self.customer);
        src.time_column(&self.time, "time of a basket", "of type date, timestamp or timestamptz");
    }
}

/// The comparison of the customer column with the text parameter `$1`, so
/// that an index on the column serves it: as text for PostgreSQL's string
/// types, in the column's own type for its other types with a b-tree
/// ordering (numbers, dates, uuid, ...; a customer that is not one of them
/// is an error of that type's input), else as the column's text.
fn customer_is_param(src: &Source, customer: &str) -> Result<String, RarError> {
    let quoted = quote_identifier(customer);
    let base: Option<(String, bool, bool)> = Spi::connect(|client| {
        let t = client.select(
            "SELECT pg_catalog.quote_ident(t.typname)::pg_catalog.text, t.typcategory = 'S', \
                    EXISTS (SELECT 1 FROM pg_catalog.pg_opclass o JOIN pg_catalog.pg_am m ON m.oid = o.opcmethod \
                            WHERE m.amname = 'btree' AND o.opcdefault AND o.opcintype = t.oid) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN (SELECT d.typtype FROM pg_catalog.pg_type d WHERE d.oid = a.atttypid) = 'd' \
                                                       THEN (SELECT d.typbasetype FROM pg_catalog.pg_type d WHERE d.oid = a.atttypid) ELSE a.atttypid END \
             WHERE a.attrelid = $1 AND a.attname = $2 AND t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace \
               AND t.typtype = 'b' AND t.typcategory <> 'A'",
            Some(1),
            &[src.oid.into(), customer.to_string().into()],
        )?;
        if t.is_empty() {
            return Ok::<_, pgrx::spi::SpiError>(None);
        }
        let r = t.first();
        Ok(Some((r.get(1)?.unwrap_or_default(), r.get(2)?.unwrap_or(false), r.get(3)?.unwrap_or(false))))
    })?;
    Ok(match base {
        Some((_, true, _)) => format!("{quoted} = $1"),
        Some((t, false, true)) => format!("{quoted} = $1::pg_catalog.text::pg_catalog.{t}"),
        _ => format!("{} = $1", customer_text(src, customer)),
    })
}

/// The most recent `max` baskets of `customer` in the table (by time, then
/// basket id, as training orders them), oldest first, each as its items'
/// names; read in the caller's rights, bounded by `rar.memory_limit`.
pub fn customer_baskets(
    src: &Source,
    cols: &SequenceColumns,
    customer: &str,
    max: usize,
) -> Result<Vec<Vec<String>>, RarError> {
    let key = src.basket_key(&cols.tid);
    let item = quote_identifier(&cols.item);
    let at = splits::absolute_time(src, &cols.time);
    // The lines the comparison in the column's type finds (an index can
    // serve it) are then kept by their exact text, as training tells
    // customers apart ('7.0' is not '7'; case counts whatever the column's
    // collation); baskets without items are no baskets, as in training.
    let sql = format!(
        "SELECT pg_catalog.array_agg({item_text}) FILTER (WHERE {item} IS NOT NULL) \
         FROM {tab} WHERE {key} IS NOT NULL AND {is_customer} GROUP BY {key} \
         HAVING pg_catalog.min({cust}) = $1 AND pg_catalog.count({item}) > 0 \
         ORDER BY pg_catalog.min({at}) IS NULL DESC, pg_catalog.min({at}) DESC, \
                  ({key_text}) COLLATE pg_catalog.\"C\" DESC LIMIT $2",
        item_text = src.text_of(&cols.item),
        key_text = src.basket_text(&cols.tid),
        cust = customer_text(src, &cols.customer),
        tab = src.quoted,
        is_customer = customer_is_param(src, &cols.customer)?,
    );
    let mut budget = Budget { limit: crate::gucs::memory_limit_bytes(), bytes: 0, lines: 0 };
    let mut out = Vec::new();
    // A customer is compared in its column's type: text that is not one of
    // its values is that type's input error (22P02, 22007 for times, or
    // 22003 past its range).
    const HINT: &std::ffi::CStr = c"customer is compared in the type of the model's customer column: give a value of that type (a number for an integer column).";
    let _hint = crate::error::HintOn::new(
        &[
            PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
            PgSqlErrorCode::ERRCODE_INVALID_DATETIME_FORMAT,
        ],
        HINT,
    );
    Spi::connect(|client| {
        let table = client.select(&sql, None, &[customer.to_string().into(), (max as i64).into()])?;
        for r in table {
            let Some(items) = r.get::<Array<&str>>(1)? else { continue };
            let items: Vec<String> = items.iter().flatten().map(str::to_string).collect();
            budget.charge_basket(0, &items)?;
            out.push(items);
        }
        Ok::<_, RarError>(())
    })?;
    out.reverse();
    Ok(out)
}
