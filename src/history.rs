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
    let filter = splits::filter(src, split, set);
    let key = src.basket_key(tid);
    let item = quote_identifier(item);
    let sql = format!(
        "SELECT {key}::pg_catalog.text, pg_catalog.min({cust}::pg_catalog.text), \
                pg_catalog.date_part('epoch', pg_catalog.min({at}))::pg_catalog.float8, \
                pg_catalog.array_agg({item}::pg_catalog.text) FILTER (WHERE {item} IS NOT NULL) \
         FROM {tab} WHERE {key} IS NOT NULL AND ({clause}) GROUP BY {key}",
        cust = quote_identifier(customer),
        at = splits::absolute_time(src, time),
        tab = src.quoted,
        clause = filter.clause,
    );
    let mut rows = Vec::new();
    let outcome: Result<(), RarError> = Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &filter.args);
        loop {
            let table = cursor.fetch(10_000)?;
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
                budget.bytes += 64
                    + id.len() as u64
                    + customer.as_ref().map_or(0, |c| c.len() as u64)
                    + items.iter().map(|i| i.len() as u64 + 24).sum::<u64>();
                budget.lines += items.len();
                if budget.bytes > budget.limit {
                    return Err(RarError::InputTooLarge { lines: budget.lines, limit_bytes: budget.limit });
                }
                // -infinity and infinity are times (first and last); NaN is none.
                rows.push(Row { id, customer, time: time.filter(|t| !t.is_nan()), items });
            }
            check_for_interrupts!();
        }
        Ok(())
    });
    outcome?;
    Ok(rows)
}

/// A set's baskets as the vocabulary and the fingerprint read them.
pub fn baskets(rows: &[Row]) -> (rar_core::baskets::Baskets, crate::reader::ReadStats) {
    let mut b = rar_core::baskets::BasketsBuilder::default();
    for r in rows {
        for i in &r.items {
            b.push(&r.id, i);
        }
    }
    (b.build(), crate::reader::ReadStats::default())
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
    pub fn new(sets: &[Vec<Row>; 2], index: &std::collections::HashMap<&str, u32>, max: usize) -> Encoded {
        use rar_core::vocab::csr;
        let rows: Vec<&Row> = sets.iter().flatten().collect();
        let (offsets, items) = csr(rows.iter().map(|r| {
            let mut l: Vec<u32> = r.items.iter().filter_map(|i| index.get(i.as_str()).copied()).collect();
            l.sort_unstable();
            l.dedup();
            l
        }));
        let starts = [0, sets[0].len(), rows.len()];
        let customers: Vec<Option<&str>> = rows.iter().map(|r| r.customer.as_deref()).collect();
        let times: Vec<Option<f64>> = rows.iter().map(|r| r.time).collect();
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let mut earlier = rar_core::history::earlier_baskets(&customers, &times, &ids, max);
        let valid = csr(earlier.drain(starts[1]..));
        let train = csr(earlier.drain(..));
        Encoded { offsets, items, starts, train, valid }
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
