//! Frequent itemset mining: Eclat over sorted tid-lists, with a triangular
//! pair-count matrix for the second level when it fits, on as many threads
//! as the caller allows.
//!
//! Frequent items are renumbered `0..m` by ascending count (ties by name), so
//! that the least frequent item, with the shortest tid-list, heads the
//! largest subtree. Every frequent itemset becomes a node of a prefix tree
//! ([`ItemsetTree`]) whose children are stored contiguously, sorted by item,
//! so that the count of any itemset is a walk of binary searches.
//!
//! The search runs in three steps:
//!
//! 1. The frequent pairs of every item (from the matrix, or from the item's
//!    own baskets), one task per item.
//! 2. The subtree of every item (the itemsets whose first item it is), one
//!    task per item, taken in *descending* item order by the threads. Eclat
//!    prunes a candidate whose subsets are not all frequent; the subsets
//!    that keep the subtree's item are in the subtree itself, the ones that
//!    drop it live in a later item's subtree, which on one thread is always
//!    finished by then. On several threads it may still be under way: the
//!    candidate is then counted anyway (its count decides), and where that
//!    subset would have pruned it beyond its frequency (the antecedent's
//!    support, [`SearchLimits::antecedent_count`]) it is kept provisionally.
//! 3. The subtrees are joined into one tree, provisional itemsets are settled
//!    against their subsets, and itemsets the visitor could not see during
//!    the search (a subset's count was in a subtree under way) are visited.
//!
//! The itemsets found, and their counts, do not depend on the number of
//! threads: `tests::threads_change_nothing` checks it. An itemset is handed
//! to the [`Visitor`] as soon as all the counts it needs are known, so that
//! the rule budget stops a hopeless job early.
//!
//! Layout: `tree.rs` holds the prefix tree and what a visitor may ask of
//! it; `count.rs` the tid-lists and pairs (step 1); `search.rs` the
//! subtrees on the threads (step 2); `finish.rs` the join, the settling and
//! the late visits (step 3); `threads.rs` the task runner they share;
//! `tests.rs` the search against itself.

mod count;
mod finish;
mod search;
#[cfg(test)]
mod tests;
mod threads;
mod tree;

use crate::error::MineError;

pub use search::mine_itemsets;
pub use threads::set_thread_start;
pub(crate) use threads::thread_start;
pub(crate) use tree::without;
pub use tree::{Counts, ItemsetTree, NodeRef, NODE_BYTES};

const NONE: u32 = u32::MAX;

/// A frequent itemset, as the search hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    /// Where it is (see [`NodeRef`]).
    pub node: NodeRef,
    /// The number of baskets that hold it.
    pub count: u32,
    /// Its internal items, ascending.
    pub items: &'a [u32],
    /// `drop_counts[i]`: the count of the itemset without `items[i]` (the
    /// search has these at hand; rules with one consequent need nothing else).
    pub drop_counts: &'a [u32],
}

/// Receives each frequent itemset once; an error stops the search. Each
/// thread has its own.
pub trait Visitor: Send {
    fn visit(&mut self, counts: &dyn Counts, found: Found<'_>) -> Result<(), MineError>;
}

/// What the miner needs to know.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    pub min_count: u32,
    pub max_length: usize,
    /// When set, only itemsets that can yield a rule whose single-item
    /// consequent leaves an antecedent of at least this count are searched
    /// (rules with the antecedent's support; see `SupportOf::Antecedent`).
    /// An itemset `X` below it extends by `y` only if some `X \ {c} ∪ {y}`
    /// reaches it: any rule below `X ∪ {y}` needs such an antecedent.
    pub antecedent_count: Option<u32>,
    /// Whether the visitor asks [`Counts::count_of`] for subsets other than
    /// those of [`Found::drop_counts`] (rules with several consequents).
    pub subset_counts: bool,
    /// Bytes the tree and the live tid-lists may take.
    pub memory_limit: u64,
    /// Threads for counting and searching (see [`MineParams::threads`](crate::params::MineParams)).
    pub threads: usize,
}
