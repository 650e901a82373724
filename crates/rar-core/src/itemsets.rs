//! Frequent itemset mining: Eclat over sorted tid-lists, with a triangular
//! pair-count matrix for the second level when it fits.
//!
//! Frequent items are renumbered `0..m` by ascending count (ties by name), so
//! that the least frequent item, with the shortest tid-list, heads the
//! largest subtree. Every frequent itemset becomes a node of a prefix tree
//! ([`ItemsetTree`]) whose children are stored contiguously, sorted by item,
//! so that the count of any itemset is a walk of binary searches.
//!
//! The search visits prefixes in *descending* item order. With that order,
//! when an itemset is found, all its subsets are already in the tree (the
//! subsets that drop an earlier item live under a later first item, which was
//! visited before; the ones that drop a later sibling were expanded before
//! this one). Rules can therefore be generated the moment an itemset is
//! found, and the rule budget stops a hopeless job early.

use crate::baskets::Baskets;
use crate::error::MineError;
use crate::intersect::{intersect_count, intersect_into};

const NONE: u32 = u32::MAX;

/// One frequent itemset: the prefix (its parent) plus `item`.
#[derive(Debug, Clone, Copy)]
struct Node {
    item: u32,
    count: u32,
    parent: u32,
    first_child: u32,
    n_children: u32,
}

/// Size of one node in bytes, for the memory budget.
pub const NODE_BYTES: u64 = std::mem::size_of::<Node>() as u64;

/// All frequent itemsets found so far, as a prefix tree. Node 0 is the empty
/// set, whose count is the number of baskets.
#[derive(Debug, Clone)]
pub struct ItemsetTree {
    nodes: Vec<Node>,
    /// Internal item number (by ascending count) to vocabulary id.
    items: Vec<u32>,
}

impl ItemsetTree {
    /// Number of baskets mined.
    pub fn n_baskets(&self) -> u32 {
        self.nodes[0].count
    }

    /// Number of frequent items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Number of frequent itemsets (the empty set not included).
    pub fn n_itemsets(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Vocabulary id of internal item `i`.
    pub fn vocab_id(&self, i: u32) -> u32 {
        self.items[i as usize]
    }

    pub fn count(&self, node: u32) -> u32 {
        self.nodes[node as usize].count
    }

    /// Count of the singleton of internal item `i`.
    pub fn item_count(&self, i: u32) -> u32 {
        self.nodes[1 + i as usize].count
    }

    /// The internal items of `node`, ascending, written into `out`.
    pub fn items_of(&self, mut node: u32, out: &mut Vec<u32>) {
        out.clear();
        while node != 0 {
            let n = &self.nodes[node as usize];
            out.push(n.item);
            node = n.parent;
        }
        out.reverse();
    }

    /// Count of the itemset made of `items` (internal numbers, ascending), or
    /// `None` when it is not frequent.
    pub fn count_of(&self, items: &[u32]) -> Option<u32> {
        let mut node = 0u32;
        for &it in items {
            let n = &self.nodes[node as usize];
            if n.n_children == 0 {
                return None;
            }
            let lo = n.first_child as usize;
            let kids = &self.nodes[lo..lo + n.n_children as usize];
            let p = kids.binary_search_by_key(&it, |k| k.item).ok()?;
            node = (lo + p) as u32;
        }
        Some(self.nodes[node as usize].count)
    }

    fn add_children(&mut self, parent: u32, kids: impl Iterator<Item = (u32, u32)>) -> std::ops::Range<u32> {
        let first = self.nodes.len() as u32;
        for (item, count) in kids {
            self.nodes.push(Node { item, count, parent, first_child: NONE, n_children: 0 });
        }
        let end = self.nodes.len() as u32;
        let p = &mut self.nodes[parent as usize];
        p.first_child = first;
        p.n_children = end - first;
        first..end
    }
}

/// Receives each frequent itemset (a node of the tree) as soon as it is
/// found; an error stops the search.
pub type Visit<'a> = dyn FnMut(&ItemsetTree, u32) -> Result<(), MineError> + 'a;

/// What the miner needs to know.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    pub min_count: u32,
    pub max_length: usize,
    /// Bytes the tree and the live tid-lists may take.
    pub memory_limit: u64,
}

/// Largest pair-count matrix used, in bytes; beyond it, pairs are counted by
/// tid-list intersection like the deeper levels.
const PAIR_MATRIX_MAX_BYTES: u64 = 256 << 20;

struct Search<'a, 'b> {
    tree: ItemsetTree,
    limits: SearchLimits,
    visit: &'a mut Visit<'b>,
    tick: &'a mut (dyn FnMut() + 'b),
    live_tid_bytes: u64,
    work: u64,
    prefix: Vec<u32>,
    subset: Vec<u32>,
}

/// A level of the search: nodes that share a prefix, with their tid-lists
/// (empty when the nodes are leaves).
type Level = Vec<(u32, Vec<u32>)>;

/// Mines every itemset of at most `max_length` items held by at least
/// `min_count` baskets, calling `visit` on each as it is found and `tick`
/// regularly (the caller checks for cancellation there).
pub fn mine_itemsets<'b>(
    baskets: &Baskets,
    limits: SearchLimits,
    visit: &mut Visit<'b>,
    tick: &mut (dyn FnMut() + 'b),
) -> Result<ItemsetTree, MineError> {
    let n = baskets.len();
    let mut counts = vec![0u32; baskets.n_items()];
    for b in baskets.iter() {
        for &i in b {
            counts[i as usize] += 1;
        }
    }
    let mut frequent: Vec<u32> =
        (0..baskets.n_items() as u32).filter(|&i| counts[i as usize] >= limits.min_count).collect();
    frequent.sort_by(|&a, &b| {
        counts[a as usize].cmp(&counts[b as usize]).then_with(|| baskets.item_name(a).cmp(baskets.item_name(b)))
    });
    let m = frequent.len();
    let mut internal = vec![NONE; baskets.n_items()];
    for (k, &v) in frequent.iter().enumerate() {
        internal[v as usize] = k as u32;
    }
    let root = Node { item: NONE, count: n as u32, parent: 0, first_child: NONE, n_children: 0 };
    let mut tree = ItemsetTree { nodes: vec![root], items: frequent.clone() };
    tree.add_children(0, frequent.iter().map(|&v| counts[v as usize]).enumerate().map(|(k, c)| (k as u32, c)));

    let mut s = Search {
        tree,
        limits,
        visit,
        tick,
        live_tid_bytes: 0,
        work: 0,
        prefix: Vec::new(),
        subset: Vec::new(),
    };
    for node in 1..=m as u32 {
        (s.visit)(&s.tree, node)?;
    }
    if limits.max_length < 2 || m < 2 {
        return Ok(s.tree);
    }

    // Tid-lists of the frequent items, and the baskets recoded to internal
    // item numbers, ascending.
    let mut tids: Vec<Vec<u32>> = frequent.iter().map(|&v| Vec::with_capacity(counts[v as usize] as usize)).collect();
    let mut recoded: Vec<u32> = Vec::new();
    let pair_bytes = (m as u64) * (m as u64 - 1) / 2 * 4;
    let use_matrix = pair_bytes <= PAIR_MATRIX_MAX_BYTES.min(limits.memory_limit / 4);
    let mut pairs: Vec<u32> = if use_matrix { vec![0; (pair_bytes / 4) as usize] } else { Vec::new() };
    let row_start = |a: usize| a * m - a * (a + 1) / 2;
    for (t, b) in baskets.iter().enumerate() {
        recoded.clear();
        recoded.extend(b.iter().map(|&v| internal[v as usize]).filter(|&k| k != NONE));
        recoded.sort_unstable();
        for &k in &recoded {
            tids[k as usize].push(t as u32);
        }
        if use_matrix {
            for (x, &a) in recoded.iter().enumerate() {
                let base = row_start(a as usize) - a as usize - 1;
                for &bb in &recoded[x + 1..] {
                    pairs[base + bb as usize] += 1;
                }
            }
        }
        if t % 65536 == 0 {
            (s.tick)();
        }
    }
    s.live_tid_bytes = tids.iter().map(|t| t.len() as u64 * 4).sum::<u64>() + pair_bytes * use_matrix as u64;
    s.check_memory()?;

    for a in (0..m).rev() {
        (s.tick)();
        let a_node = 1 + a as u32;
        let leaves = limits.max_length == 2;
        let mut kids: Vec<(u32, u32, Vec<u32>)> = Vec::new();
        let mut buf = Vec::new();
        for bb in a + 1..m {
            let count = if use_matrix {
                let c = pairs[row_start(a) + bb - a - 1];
                if c < limits.min_count {
                    continue;
                }
                if !leaves {
                    intersect_into(&tids[a], &tids[bb], 0, &mut buf);
                }
                c
            } else if leaves {
                match intersect_count(&tids[a], &tids[bb], limits.min_count) {
                    Some(c) => c,
                    None => continue,
                }
            } else {
                match intersect_into(&tids[a], &tids[bb], limits.min_count, &mut buf) {
                    Some(c) => c,
                    None => continue,
                }
            };
            s.count_work();
            kids.push((bb as u32, count, std::mem::take(&mut buf)));
        }
        s.expand(a_node, 2, kids)?;
    }
    Ok(s.tree)
}

impl Search<'_, '_> {
    fn count_work(&mut self) {
        self.work += 1;
        if self.work % 4096 == 0 {
            (self.tick)();
        }
    }

    fn check_memory(&self) -> Result<(), MineError> {
        let used = self.tree.nodes.len() as u64 * NODE_BYTES + self.live_tid_bytes;
        if used > self.limits.memory_limit {
            return Err(MineError::MemoryLimit { limit_bytes: self.limits.memory_limit });
        }
        Ok(())
    }

    /// Adds the frequent extensions `kids` (item, count, tid-list) under
    /// `parent`, reports them, then expands each, last first. `depth` is the
    /// size of the kids' itemsets.
    fn expand(&mut self, parent: u32, depth: usize, kids: Vec<(u32, u32, Vec<u32>)>) -> Result<(), MineError> {
        if kids.is_empty() {
            return Ok(());
        }
        let range = self.tree.add_children(parent, kids.iter().map(|k| (k.0, k.1)));
        let bytes: u64 = kids.iter().map(|k| k.2.len() as u64 * 4).sum();
        self.live_tid_bytes += bytes;
        self.check_memory()?;
        for node in range.clone() {
            (self.visit)(&self.tree, node)?;
        }
        if depth < self.limits.max_length {
            let level: Level = range.zip(kids).map(|(node, k)| (node, k.2)).collect();
            self.descend(&level, depth)?;
        }
        self.live_tid_bytes -= bytes;
        Ok(())
    }

    /// For each node of `level` (itemsets of `depth` items), last first,
    /// finds its frequent extensions by the later nodes of the level.
    fn descend(&mut self, level: &Level, depth: usize) -> Result<(), MineError> {
        let leaves = depth + 1 == self.limits.max_length;
        let mut buf = Vec::new();
        for j in (0..level.len()).rev() {
            (self.tick)();
            let (x_node, ref x_tids) = level[j];
            self.tree.items_of(x_node, &mut self.prefix);
            let mut kids: Vec<(u32, u32, Vec<u32>)> = Vec::new();
            for (y_node, y_tids) in &level[j + 1..] {
                let y = self.tree.nodes[*y_node as usize].item;
                if !self.subsets_frequent(y) {
                    continue;
                }
                self.count_work();
                let count = if leaves {
                    intersect_count(x_tids, y_tids, self.limits.min_count)
                } else {
                    intersect_into(x_tids, y_tids, self.limits.min_count, &mut buf)
                };
                if let Some(c) = count {
                    kids.push((y, c, std::mem::take(&mut buf)));
                }
            }
            self.expand(x_node, depth + 1, kids)?;
        }
        Ok(())
    }

    /// Apriori pruning: `prefix ∪ {y}` can only be frequent if every subset
    /// that drops one of the prefix's first items is (dropping the last one
    /// gives a sibling, known frequent).
    fn subsets_frequent(&mut self, y: u32) -> bool {
        let k = self.prefix.len();
        if k < 2 {
            return true;
        }
        for skip in 0..k - 1 {
            self.subset.clear();
            self.subset.extend(self.prefix.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &v)| v));
            self.subset.push(y);
            if self.tree.count_of(&self.subset).is_none() {
                return false;
            }
        }
        true
    }
}
