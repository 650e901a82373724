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
        self.node_of(items).map(|n| self.nodes[n as usize].count)
    }

    /// The node of the itemset made of `items` (ascending), if frequent.
    fn node_of(&self, items: &[u32]) -> Option<u32> {
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
        Some(node)
    }

    /// The children of `node`, as a range of node numbers.
    fn children(&self, node: u32) -> std::ops::Range<usize> {
        let n = &self.nodes[node as usize];
        if n.n_children == 0 {
            return 0..0;
        }
        n.first_child as usize..(n.first_child + n.n_children) as usize
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

/// A frequent itemset, as the search hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    /// Its node in the tree.
    pub node: u32,
    /// Its internal items, ascending.
    pub items: &'a [u32],
    /// `drop_counts[i]`: the count of the itemset without `items[i]` (the
    /// search has these at hand; rules with one consequent need nothing else).
    pub drop_counts: &'a [u32],
}

/// Receives each frequent itemset as soon as it is found; an error stops the
/// search.
pub type Visit<'a> = dyn FnMut(&ItemsetTree, Found<'_>) -> Result<(), MineError> + 'a;

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
    /// Bytes the tree and the live tid-lists may take.
    pub memory_limit: u64,
    /// Threads for the counting pass (see [`MineParams::threads`](crate::params::MineParams)).
    pub threads: usize,
}

use std::sync::atomic::{AtomicBool, Ordering};

static THREAD_START: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// A function every counting thread calls first. The PostgreSQL extension
/// blocks signals there, so that they reach the backend's own thread.
pub fn set_thread_start(hook: fn()) {
    let _ = THREAD_START.set(hook);
}

/// Baskets below which counting stays on one thread.
const PARALLEL_MIN_BASKETS: usize = 50_000;

/// Tid-lists and pair counts of the baskets in `range` (internal item
/// numbers; `pairs` empty when the matrix is not used).
fn count_range(
    baskets: &Baskets,
    internal: &[u32],
    m: usize,
    use_matrix: bool,
    range: std::ops::Range<usize>,
    capacity: impl Fn(usize) -> usize,
    tick: &mut dyn FnMut(),
    stop: &AtomicBool,
) -> (Vec<Vec<u32>>, Vec<u32>) {
    let mut tids: Vec<Vec<u32>> = (0..m).map(|k| Vec::with_capacity(capacity(k))).collect();
    let mut pairs: Vec<u32> = if use_matrix { vec![0; m * (m - 1) / 2] } else { Vec::new() };
    let row_start = |a: usize| a * m - a * (a + 1) / 2;
    let mut recoded: Vec<u32> = Vec::new();
    for t in range {
        recoded.clear();
        recoded.extend(baskets.basket(t).iter().map(|&v| internal[v as usize]).filter(|&k| k != NONE));
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
            tick();
        }
        if t % 4096 == 0 && stop.load(Ordering::Relaxed) {
            break;
        }
    }
    (tids, pairs)
}

/// Sets the flag when dropped: when the calling thread leaves the counting
/// (normally, or unwinding from a cancel raised in `tick`), the other
/// threads stop at their next check instead of finishing their range.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
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
    subset: Vec<u32>,
}

/// Frequent extensions of one itemset, found together: (item, count,
/// tid-list) by item, and for each `depth` drop counts (see [`Found`]).
struct Kids {
    kids: Vec<(u32, u32, Vec<u32>)>,
    drops: Vec<u32>,
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
    search(baskets, limits, visit, tick, None)
}

/// [`mine_itemsets`], with the choice of the pair-count matrix forced one
/// way or the other (`None`: by its size, as always outside tests).
fn search<'b>(
    baskets: &Baskets,
    limits: SearchLimits,
    visit: &mut Visit<'b>,
    tick: &mut (dyn FnMut() + 'b),
    force_matrix: Option<bool>,
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

    let mut s = Search { tree, limits, visit, tick, live_tid_bytes: 0, work: 0, subset: Vec::new() };
    for i in 0..m as u32 {
        (s.visit)(&s.tree, Found { node: 1 + i, items: &[i], drop_counts: &[n as u32] })?;
    }
    if limits.max_length < 2 || m < 2 {
        return Ok(s.tree);
    }

    // Tid-lists of the frequent items, and the pair counts, over the
    // baskets recoded to internal item numbers: on `threads` threads, each
    // counting a contiguous range of baskets (its own matrix), the calling
    // thread taking the first range and checking for cancellation.
    let pair_bytes = (m as u64) * (m as u64 - 1) / 2 * 4;
    let use_matrix = force_matrix.unwrap_or(pair_bytes <= PAIR_MATRIX_MAX_BYTES.min(limits.memory_limit / 4));
    let row_start = |a: usize| a * m - a * (a + 1) / 2;
    let mut threads = if n < PARALLEL_MIN_BASKETS { 1 } else { limits.threads.max(1) };
    if use_matrix && pair_bytes > 0 {
        threads = threads.min(((limits.memory_limit / 4) / pair_bytes).max(1) as usize);
    }
    let bounds: Vec<usize> = (0..=threads).map(|k| n * k / threads).collect();
    let full = |k: usize| counts[frequent[k] as usize] as usize;
    let (tids, pairs) = if threads == 1 {
        count_range(baskets, &internal, m, use_matrix, 0..n, full, &mut *s.tick, &AtomicBool::new(false))
    } else {
        let share = |k: usize| full(k) / threads + full(k) / 8 + 16;
        let internal = &internal;
        let tick = &mut *s.tick;
        let stop = AtomicBool::new(false);
        let stop = &stop;
        let parts: Vec<(Vec<Vec<u32>>, Vec<u32>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads)
                .map(|k| {
                    let range = bounds[k]..bounds[k + 1];
                    scope.spawn(move || {
                        if let Some(hook) = THREAD_START.get() {
                            hook();
                        }
                        count_range(baskets, internal, m, use_matrix, range, share, &mut || {}, stop)
                    })
                })
                .collect();
            let _stop_others = StopOnDrop(stop);
            let first = count_range(
                baskets,
                internal,
                m,
                use_matrix,
                bounds[0]..bounds[1],
                share,
                tick,
                &AtomicBool::new(false),
            );
            std::iter::once(first)
                .chain(handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))))
                .collect()
        });
        // Ranges in order: each tid-list comes out sorted.
        let mut tids: Vec<Vec<u32>> = (0..m).map(|k| Vec::with_capacity(full(k))).collect();
        let mut pairs: Vec<u32> = Vec::new();
        for (part_tids, part_pairs) in parts {
            for (t, part) in tids.iter_mut().zip(part_tids) {
                t.extend_from_slice(&part);
            }
            if pairs.is_empty() {
                pairs = part_pairs;
            } else {
                for (p, q) in pairs.iter_mut().zip(part_pairs) {
                    *p += q;
                }
            }
        }
        (tids, pairs)
    };
    s.live_tid_bytes = tids.iter().map(|t| t.len() as u64 * 4).sum::<u64>() + pair_bytes * use_matrix as u64;
    s.check_memory()?;

    // The frequent pairs of each item `a` with a later item, with their
    // counts: from the matrix, or else from `a`'s own baskets (a counter
    // per item, reset through the list of those touched). Then the cost
    // follows the pairs that occur, not all pairs of frequent items, which
    // on a long-tail catalog are mostly never seen together.
    let mut together = if use_matrix { Vec::new() } else { vec![0u32; m] };
    if !use_matrix {
        // The counters, the touched list and the candidates: at most 16
        // bytes an item.
        s.live_tid_bytes += 16 * m as u64;
        s.check_memory()?;
    }
    let mut touched: Vec<u32> = Vec::new();
    let mut candidates: Vec<(u32, u32)> = Vec::new();
    for a in (0..m).rev() {
        (s.tick)();
        let a_node = 1 + a as u32;
        let leaves = limits.max_length == 2;
        let mut kids = Kids { kids: Vec::new(), drops: Vec::new() };
        let mut buf = Vec::new();
        let prune = limits.antecedent_count.filter(|&u| s.tree.item_count(a as u32) < u);
        candidates.clear();
        if use_matrix {
            let row = &pairs[row_start(a)..row_start(a) + (m - a - 1)];
            candidates.extend(
                row.iter().enumerate().filter(|&(_, &c)| c >= limits.min_count).map(|(i, &c)| ((a + 1 + i) as u32, c)),
            );
        } else {
            touched.clear();
            for &t in &tids[a] {
                for &v in baskets.basket(t as usize) {
                    let k = internal[v as usize];
                    if k != NONE && k as usize > a {
                        if together[k as usize] == 0 {
                            touched.push(k);
                        }
                        together[k as usize] += 1;
                    }
                }
                s.count_work();
            }
            touched.sort_unstable();
            for &k in &touched {
                let c = std::mem::take(&mut together[k as usize]);
                if c >= limits.min_count {
                    candidates.push((k, c));
                }
            }
        }
        for &(bb, count) in &candidates {
            if prune.is_some_and(|u| s.tree.item_count(bb) < u) {
                continue;
            }
            // Across a hierarchy, an item and its own ancestor never make a
            // pair; no larger itemset holds both then, as every candidate's
            // subsets must be in the tree (see `descend`).
            if baskets.taxonomy().is_some_and(|t| t.related(frequent[a], frequent[bb as usize])) {
                continue;
            }
            if !leaves {
                intersect_into(&tids[a], &tids[bb as usize], 0, &mut buf);
            }
            s.count_work();
            kids.kids.push((bb, count, std::mem::take(&mut buf)));
            kids.drops.extend([s.tree.item_count(bb), s.tree.item_count(a as u32)]);
        }
        s.expand(a_node, &[a as u32], kids)?;
    }
    Ok(s.tree)
}

impl Search<'_, '_> {
    fn count_work(&mut self) {
        self.work += 1;
        if self.work.is_multiple_of(4096) {
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

    /// Adds the frequent extensions `kids` of the itemset `prefix` (node
    /// `parent`) to the tree, reports them, then expands each, last first.
    fn expand(&mut self, parent: u32, prefix: &[u32], kids: Kids) -> Result<(), MineError> {
        if kids.kids.is_empty() {
            return Ok(());
        }
        let depth = prefix.len() + 1;
        let range = self.tree.add_children(parent, kids.kids.iter().map(|k| (k.0, k.1)));
        let bytes: u64 = kids.kids.iter().map(|k| k.2.len() as u64 * 4).sum();
        self.live_tid_bytes += bytes;
        self.check_memory()?;
        let mut items = prefix.to_vec();
        items.push(0);
        for (idx, node) in range.clone().enumerate() {
            items[depth - 1] = kids.kids[idx].0;
            let drop_counts = &kids.drops[idx * depth..(idx + 1) * depth];
            (self.visit)(&self.tree, Found { node, items: &items, drop_counts })?;
        }
        if depth < self.limits.max_length {
            let level: Level = range.zip(kids.kids).map(|(node, k)| (node, k.2)).collect();
            self.descend(&level, prefix, depth)?;
        }
        self.live_tid_bytes -= bytes;
        Ok(())
    }

    /// For each node of `level` (itemsets of `depth` items: `common` plus
    /// one item), last first, finds its frequent extensions by the items of
    /// the later nodes of the level.
    fn descend(&mut self, level: &Level, common: &[u32], depth: usize) -> Result<(), MineError> {
        let leaves = depth + 1 == self.limits.max_length;
        let mut buf = Vec::new();
        let mut prefix = common.to_vec();
        prefix.push(0);
        // For each item of `common`: the node of `prefix` without it, and a
        // cursor over that node's children (sorted by item, as the later
        // nodes of the level are).
        let mut anc: Vec<(usize, usize)> = Vec::with_capacity(depth);
        let mut anc_counts: Vec<u32> = vec![0; depth];
        for j in (0..level.len()).rev() {
            (self.tick)();
            let (x_node, ref x_tids) = level[j];
            let x = self.tree.nodes[x_node as usize].item;
            prefix[depth - 1] = x;
            // Apriori: every `prefix ∪ {y}` without an item of `common` must
            // be frequent, so `prefix` without it must be too.
            anc.clear();
            for skip in 0..depth - 1 {
                self.subset.clear();
                self.subset.extend(prefix.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &v)| v));
                match self.tree.node_of(&self.subset) {
                    Some(node) => anc.push((self.tree.children(node).start, self.tree.children(node).end)),
                    None => break,
                }
            }
            if anc.len() < depth - 1 {
                continue;
            }
            let x_count = self.tree.count(x_node);
            let prune = self.limits.antecedent_count.filter(|&u| x_count < u);
            let mut kids = Kids { kids: Vec::new(), drops: Vec::new() };
            'candidates: for (y_node, y_tids) in &level[j + 1..] {
                let y = self.tree.nodes[*y_node as usize].item;
                let mut best = self.tree.count(*y_node);
                for (k, (cur, end)) in anc.iter_mut().enumerate() {
                    while *cur < *end && self.tree.nodes[*cur].item < y {
                        *cur += 1;
                    }
                    if *cur == *end || self.tree.nodes[*cur].item != y {
                        continue 'candidates;
                    }
                    anc_counts[k] = self.tree.nodes[*cur].count;
                    best = best.max(anc_counts[k]);
                }
                if prune.is_some_and(|u| best < u) {
                    continue;
                }
                self.count_work();
                let count = if leaves {
                    intersect_count(x_tids, y_tids, self.limits.min_count)
                } else {
                    intersect_into(x_tids, y_tids, self.limits.min_count, &mut buf)
                };
                if let Some(c) = count {
                    kids.kids.push((y, c, std::mem::take(&mut buf)));
                    kids.drops.extend_from_slice(&anc_counts[..depth - 1]);
                    kids.drops.extend([self.tree.count(*y_node), x_count]);
                }
            }
            self.expand(x_node, &prefix, kids)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baskets::BasketsBuilder;

    fn baskets(n: usize) -> Baskets {
        let mut b = BasketsBuilder::default();
        for t in 0..n {
            b.push(&t.to_string(), "a");
            b.push(&t.to_string(), if t % 2 == 0 { "b" } else { "c" });
        }
        b.build()
    }

    /// What a counting thread does when another one stops (a cancel in the
    /// calling thread's tick): it leaves its range at the next check.
    #[test]
    fn a_counting_thread_stops_when_flagged() {
        let data = baskets(100_000);
        let internal: Vec<u32> = (0..data.n_items() as u32).collect();
        let stop = AtomicBool::new(true);
        let (tids, _) = count_range(&data, &internal, data.n_items(), true, 1..100_000, |_| 0, &mut || {}, &stop);
        let seen = tids.iter().map(Vec::len).max().unwrap_or(0);
        assert!(seen <= 4096, "stopped at its first check, after {seen} baskets");
        let go = AtomicBool::new(false);
        let (tids, _) = count_range(&data, &internal, data.n_items(), true, 1..100_000, |_| 0, &mut || {}, &go);
        assert_eq!(tids.iter().map(Vec::len).max(), Some(99_999), "unflagged, it counts its whole range");
    }

    /// Every itemset with its count, as the search reports them.
    fn itemsets(b: &Baskets, min_count: u32, max_length: usize, matrix: bool) -> Vec<(Vec<u32>, u32)> {
        let limits = SearchLimits { min_count, max_length, antecedent_count: None, memory_limit: 1 << 30, threads: 1 };
        let mut out = Vec::new();
        let mut visit = |tree: &ItemsetTree, f: Found<'_>| {
            let mut ids: Vec<u32> = f.items.iter().map(|&i| tree.vocab_id(i)).collect();
            ids.sort_unstable();
            out.push((ids, tree.count(f.node)));
            Ok(())
        };
        search(b, limits, &mut visit, &mut || {}, Some(matrix)).unwrap();
        out.sort();
        out
    }

    /// Pairs counted from each item's baskets (no matrix) give the same
    /// itemsets and counts as the matrix, on dense data and on a long tail.
    #[test]
    fn pairs_without_the_matrix_are_the_same() {
        let mut seed = 7u64;
        let mut next = |k: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % k
        };
        for (items, baskets, size, min_count) in [(12, 300, 5, 3), (2000, 3000, 6, 2), (40, 500, 3, 1)] {
            let mut b = BasketsBuilder::default();
            for t in 0..baskets {
                for _ in 0..1 + next(size) {
                    // Half the lines from a few popular items, half from the tail.
                    let i = if next(2) == 0 { next(8) } else { next(items) };
                    b.push(&t.to_string(), &format!("i{i}"));
                }
            }
            let b = b.build();
            for max_length in [2, 3, 4] {
                let with = itemsets(&b, min_count, max_length, true);
                let without = itemsets(&b, min_count, max_length, false);
                assert!(with.iter().any(|(s, _)| s.len() >= 2), "pairs to compare");
                assert_eq!(with, without, "{items} items, max_length {max_length}");
            }
        }
    }

    /// The flag is raised when the calling thread leaves the counting by
    /// unwinding (PostgreSQL's cancel reaches Rust as a panic).
    #[test]
    fn unwinding_raises_the_stop_flag() {
        let stop = AtomicBool::new(false);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _raise = StopOnDrop(&stop);
            panic!("canceling statement due to user request");
        }));
        assert!(stop.load(Ordering::Relaxed));
    }
}
