//! The search: one task per item's subtree, on the threads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

use super::count::{build_bits, count_pairs};
use super::finish::{join, settle, visit_deferred};
use super::threads::{run_tasks, Halt};
use super::tree::{children, find, without, Counts, ItemsetTree, Node, NodeRef, NODE_BYTES};
use super::{Found, SearchLimits, Visitor, NONE};
use crate::baskets::Baskets;
use crate::error::MineError;
use crate::intersect::{intersect_count, intersect_into, probe_count, probe_into};

/// The itemsets whose first item is one item, `top`: node 0 is `{top}`.
#[derive(Debug, Default)]
pub(super) struct Subtree {
    pub(super) nodes: Vec<Node>,
    /// Per node, when provisional itemsets are tracked: kept without knowing
    /// a subset that could have pruned it (see the module's documentation).
    pub(super) provisional: Vec<bool>,
    /// Nodes the visitor has not seen, to visit once the tree is joined.
    pub(super) deferred: Vec<u32>,
}

impl Subtree {
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

/// Children of a node being walked for one item after another (Apriori's
/// check of a subset and its count), from wherever they are.
#[derive(Clone, Copy)]
pub(super) enum Cursor<'s> {
    /// Children in the subtree under way: a range of its nodes.
    Local { pos: usize, end: usize },
    /// Children in a finished subtree, or a pair list; with its flags.
    Done { nodes: &'s [Node], provisional: &'s [bool], pos: usize },
    /// In a subtree still under way on another thread.
    Unknown,
}

/// What the search threads share.
pub(super) struct Shared<'s> {
    pub(super) baskets: &'s Baskets,
    pub(super) limits: SearchLimits,
    /// Internal item number to vocabulary id.
    pub(super) frequent: &'s [u32],
    /// Internal item number to count.
    pub(super) counts: Vec<u32>,
    pub(super) tids: Vec<Vec<u32>>,
    /// Bitsets of the baskets of the most frequent items, `words` words
    /// each, one after another: `bit_row[i]` is item `i`'s place among
    /// them, or `NONE` (see [`Shared::meet`]).
    pub(super) bits: Vec<u64>,
    pub(super) bit_row: Vec<u32>,
    pub(super) words: usize,
    /// The frequent pairs of each item with later items, by item.
    pub(super) pairs: Vec<Vec<Node>>,
    /// Each item's subtree once finished.
    pub(super) done: Vec<OnceLock<Subtree>>,
    /// Bytes of nodes and live tid-lists, all threads together.
    pub(super) used: AtomicU64,
    /// Itemsets found, all threads together.
    pub(super) found: AtomicU64,
    pub(super) stop: AtomicBool,
    /// Whether provisional itemsets are tracked (the antecedent's support).
    pub(super) track: bool,
    /// Tests only: treat every other subtree as under way, as a thread that
    /// never finds one finished would.
    pub(super) isolate: bool,
}

impl<'s> Shared<'s> {
    pub(super) fn add_bytes(&self, bytes: u64) -> Result<(), MineError> {
        let used = self.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if used > self.limits.memory_limit {
            return Err(MineError::MemoryLimit { limit_bytes: self.limits.memory_limit });
        }
        Ok(())
    }

    pub(super) fn release_bytes(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The bitset of item `i`'s baskets, if it has one.
    fn bits_of(&self, i: u32) -> Option<&[u64]> {
        match self.bit_row.get(i as usize) {
            Some(&row) if row != NONE => Some(&self.bits[row as usize * self.words..(row as usize + 1) * self.words]),
            _ => None,
        }
    }

    /// The baskets of `P ∪ {x, y}` from those of `P ∪ {x}` (`xt`) and of
    /// `P ∪ {y}` (`yt`), into `out` when given, else only counted; `None`
    /// below `min_count`. Where the item of the longer list has a bitset,
    /// each entry of the shorter one is looked up in it (the baskets of
    /// `P ∪ {x}` that hold `y` are those of `P ∪ {x, y}`): a probe per entry
    /// of the shorter list instead of a merge of both.
    fn meet(&self, x: u32, xt: &[u32], y: u32, yt: &[u32], min_count: u32, out: Option<&mut Vec<u32>>) -> Option<u32> {
        let (short, long, long_item, short_item) = if xt.len() <= yt.len() { (xt, yt, y, x) } else { (yt, xt, x, y) };
        // Probing the longer list beats a merge, not a gallop.
        let probed = match (self.bits_of(long_item), self.bits_of(short_item)) {
            (Some(bits), _) => Some((short, bits)),
            (None, Some(bits)) if long.len() <= 16 * short.len() => Some((long, bits)),
            _ => None,
        };
        match (probed, out) {
            (Some((list, bits)), Some(out)) => probe_into(list, bits, min_count, out),
            (Some((list, bits)), None) => probe_count(list, bits, min_count),
            (None, Some(out)) => intersect_into(xt, yt, min_count, out),
            (None, None) => intersect_count(xt, yt, min_count),
        }
    }

    /// A cursor over the children of `items` (ascending, not starting with
    /// the subtree under way): `None` when that itemset is not frequent.
    /// The subtree of `top`, if finished.
    fn finished(&self, top: u32) -> Option<&Subtree> {
        self.done[top as usize].get().filter(|_| !self.isolate)
    }

    fn cursor(&self, items: &[u32]) -> Option<Cursor<'_>> {
        let top = items[0] as usize;
        if let Some(sub) = self.finished(items[0]) {
            let node = find(&sub.nodes, 0, &items[1..])?;
            let kids = children(&sub.nodes, node);
            let provisional = if sub.provisional.is_empty() { &[][..] } else { &sub.provisional[kids.clone()] };
            return Some(Cursor::Done { nodes: &sub.nodes[kids], provisional, pos: 0 });
        }
        if items.len() == 1 {
            return Some(Cursor::Done { nodes: &self.pairs[top], provisional: &[], pos: 0 });
        }
        Some(Cursor::Unknown)
    }

    /// Count of `items` (ascending, not starting with `top`), if known.
    fn count_elsewhere(&self, items: &[u32]) -> Option<u32> {
        let top = items[0] as usize;
        if items.len() == 1 {
            return Some(self.counts[top]);
        }
        if let Some(sub) = self.finished(items[0]) {
            return find(&sub.nodes, 0, &items[1..]).map(|n| sub.nodes[n as usize].count);
        }
        if items.len() == 2 {
            let pairs = &self.pairs[top];
            return pairs.binary_search_by_key(&items[1], |p| p.item).ok().map(|p| pairs[p].count);
        }
        None
    }
}

/// [`Counts`] during the search, on the thread working on `top`'s subtree.
pub(super) struct View<'a, 's> {
    pub(super) shared: &'a Shared<'s>,
    pub(super) sub: &'a Subtree,
    pub(super) top: u32,
}

impl Counts for View<'_, '_> {
    fn vocab_id(&self, i: u32) -> u32 {
        self.shared.frequent[i as usize]
    }
    fn item_count(&self, i: u32) -> u32 {
        self.shared.counts[i as usize]
    }
    fn count_of(&self, items: &[u32]) -> Option<u32> {
        match items.first() {
            None => Some(self.shared.baskets.len() as u32),
            Some(&first) if first == self.top => {
                find(&self.sub.nodes, 0, &items[1..]).map(|n| self.sub.nodes[n as usize].count)
            }
            Some(_) => self.shared.count_elsewhere(items),
        }
    }
    fn n_itemsets(&self) -> usize {
        self.shared.found.load(Ordering::Relaxed) as usize
    }
}

/// How a new itemset stands when found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Known to belong, with every count its visit needs: visited now.
    Visit,
    /// Known to belong; visited once the tree is joined.
    Defer,
    /// Settled once the tree is joined.
    Provisional,
}

/// Frequent extensions of one itemset, found together: (item, count,
/// tid-list) by item, and for each `depth` drop counts (see [`Found`]).
#[derive(Default)]
pub(super) struct Kids {
    pub(super) kids: Vec<(u32, u32, Vec<u32>)>,
    pub(super) drops: Vec<u32>,
    pub(super) status: Vec<Status>,
}

/// A level of the search: nodes that share a prefix, with their tid-lists
/// (empty when the nodes are leaves).
pub(super) type Level = Vec<(u32, Vec<u32>)>;

/// One thread of the search.
pub(super) struct Worker<'a, 's, V> {
    pub(super) shared: &'a Shared<'s>,
    pub(super) visitor: &'a mut V,
    pub(super) sub: Subtree,
    pub(super) top: u32,
    pub(super) work: u64,
    pub(super) subset: Vec<u32>,
}

impl<V: Visitor> Worker<'_, '_, V> {
    /// Counts a unit of work; every so often calls `tick` and looks whether
    /// another thread stopped.
    fn count_work(&mut self, tick: &mut dyn FnMut()) -> Result<(), Halt> {
        self.work += 1;
        if self.work.is_multiple_of(4096) {
            tick();
            if self.shared.stop.load(Ordering::Relaxed) {
                return Err(Halt::Stopped);
            }
        }
        Ok(())
    }

    /// Searches the subtree of internal item `a`.
    fn subtree(&mut self, a: u32, tick: &mut dyn FnMut()) -> Result<(), Halt> {
        let sh = self.shared;
        self.top = a;
        self.sub = Subtree::default();
        self.sub.nodes.push(Node {
            item: a,
            count: sh.counts[a as usize],
            parent: NONE,
            first_child: NONE,
            n_children: 0,
        });
        if sh.track {
            self.sub.provisional.push(false);
        }
        let leaves = sh.limits.max_length == 2;
        let mut kids = Kids::default();
        let mut buf = Vec::new();
        for p in &sh.pairs[a as usize] {
            if !leaves {
                sh.meet(a, &sh.tids[a as usize], p.item, &sh.tids[p.item as usize], 0, Some(&mut buf));
            }
            self.count_work(tick)?;
            kids.kids.push((p.item, p.count, std::mem::take(&mut buf)));
            kids.drops.extend([sh.counts[p.item as usize], sh.counts[a as usize]]);
            kids.status.push(Status::Visit);
        }
        tick();
        self.expand(0, &[a], kids, tick)?;
        let sub = std::mem::take(&mut self.sub);
        let _ = sh.done[a as usize].set(sub);
        Ok(())
    }

    /// Adds the frequent extensions `kids` of the itemset `prefix` (node
    /// `parent`) to the subtree, reports them, then expands each, last first.
    fn expand(&mut self, parent: u32, prefix: &[u32], kids: Kids, tick: &mut dyn FnMut()) -> Result<(), Halt> {
        if kids.kids.is_empty() {
            return Ok(());
        }
        let sh = self.shared;
        let depth = prefix.len() + 1;
        let range = self.sub.add_children(parent, kids.kids.iter().map(|k| (k.0, k.1)));
        if sh.track {
            self.sub.provisional.extend(kids.status.iter().map(|&s| s == Status::Provisional));
        }
        let tid_bytes: u64 = kids.kids.iter().map(|k| k.2.len() as u64 * 4).sum();
        sh.found.fetch_add(kids.kids.len() as u64, Ordering::Relaxed);
        sh.add_bytes(kids.kids.len() as u64 * NODE_BYTES + tid_bytes)?;
        let mut items = prefix.to_vec();
        items.push(0);
        for (idx, node) in range.clone().enumerate() {
            items[depth - 1] = kids.kids[idx].0;
            let visit = kids.status[idx] == Status::Visit
                && (!sh.limits.subset_counts || items[1..].iter().all(|&i| sh.finished(i).is_some()));
            if visit {
                let view = View { shared: sh, sub: &self.sub, top: self.top };
                let found = Found {
                    node: NodeRef { top: self.top, local: node },
                    count: kids.kids[idx].1,
                    items: &items,
                    drop_counts: &kids.drops[idx * depth..(idx + 1) * depth],
                };
                self.visitor.visit(&view, found)?;
            } else {
                self.sub.deferred.push(node);
            }
        }
        if depth < sh.limits.max_length {
            let level: Level = range.zip(kids.kids).map(|(node, k)| (node, k.2)).collect();
            self.descend(&level, prefix, depth, tick)?;
        }
        sh.release_bytes(tid_bytes);
        Ok(())
    }

    /// For each node of `level` (itemsets of `depth` items: `common` plus
    /// one item), last first, finds its frequent extensions by the items of
    /// the later nodes of the level.
    fn descend(&mut self, level: &Level, common: &[u32], depth: usize, tick: &mut dyn FnMut()) -> Result<(), Halt> {
        let sh = self.shared;
        let leaves = depth + 1 == sh.limits.max_length;
        let mut buf = Vec::new();
        let mut prefix = common.to_vec();
        prefix.push(0);
        // For each item of `common`: the children of `prefix` without it
        // (sorted by item, as the later nodes of the level are).
        let mut anc: Vec<Cursor<'_>> = Vec::with_capacity(depth);
        let mut anc_counts: Vec<u32> = vec![0; depth];
        for j in (0..level.len()).rev() {
            tick();
            if sh.stop.load(Ordering::Relaxed) {
                return Err(Halt::Stopped);
            }
            let (x_node, ref x_tids) = level[j];
            let x = self.sub.nodes[x_node as usize].item;
            prefix[depth - 1] = x;
            // Apriori: every `prefix ∪ {y}` without an item of `common` must
            // be frequent, so `prefix` without it must be too. Without the
            // first item, it is in another item's subtree.
            let x_count = self.sub.nodes[x_node as usize].count;
            let prune = sh.limits.antecedent_count.filter(|&u| x_count < u);
            anc.clear();
            for skip in 0..depth - 1 {
                without(&prefix, skip, &mut self.subset);
                let cursor = if skip == 0 {
                    sh.cursor(&self.subset)
                } else {
                    find(&self.sub.nodes, 0, &self.subset[1..]).map(|node| {
                        let kids = children(&self.sub.nodes, node);
                        Cursor::Local { pos: kids.start, end: kids.end }
                    })
                };
                match cursor {
                    Some(c) => anc.push(c),
                    None => break,
                }
            }
            if anc.len() < depth - 1 {
                continue;
            }
            let x_provisional = sh.track && self.sub.provisional[x_node as usize];
            let mut kids = Kids::default();
            'candidates: for (y_node, y_tids) in &level[j + 1..] {
                let y_at = *y_node as usize;
                let y = self.sub.nodes[y_at].item;
                let mut best = self.sub.nodes[y_at].count;
                let mut provisional = x_provisional || (sh.track && self.sub.provisional[y_at]);
                let mut all_known = true;
                // When the subset without the first item is in a subtree
                // under way: at most the count of any pair of its items
                // with `y` (the pairs are all known), and infrequent with
                // one of them.
                let mut bound = u32::MAX;
                for (k, cur) in anc.iter_mut().enumerate() {
                    let (count, flagged) = match cur {
                        Cursor::Unknown => {
                            all_known = false;
                            anc_counts[k] = 0;
                            for &p in &prefix[1..] {
                                let pairs = &sh.pairs[p as usize];
                                match pairs.binary_search_by_key(&y, |n| n.item) {
                                    Ok(at) => bound = bound.min(pairs[at].count),
                                    Err(_) => continue 'candidates,
                                }
                            }
                            continue;
                        }
                        Cursor::Local { pos, end } => {
                            while *pos < *end && self.sub.nodes[*pos].item < y {
                                *pos += 1;
                            }
                            if *pos == *end || self.sub.nodes[*pos].item != y {
                                continue 'candidates;
                            }
                            (self.sub.nodes[*pos].count, sh.track && self.sub.provisional[*pos])
                        }
                        Cursor::Done { nodes, provisional, pos } => {
                            while *pos < nodes.len() && nodes[*pos].item < y {
                                *pos += 1;
                            }
                            if *pos == nodes.len() || nodes[*pos].item != y {
                                continue 'candidates;
                            }
                            (nodes[*pos].count, provisional.get(*pos).copied().unwrap_or(false))
                        }
                    };
                    anc_counts[k] = count;
                    best = best.max(count);
                    provisional |= flagged;
                }
                if let Some(u) = prune {
                    if best < u {
                        if all_known || bound < u {
                            continue;
                        }
                        // The unknown subset may reach `u` (or may be
                        // missing): settled after the search.
                        provisional = true;
                    }
                }
                // An unknown subset may also be infrequent or dropped.
                provisional |= sh.track && !all_known;
                self.count_work(tick)?;
                let count = sh.meet(x, x_tids, y, y_tids, sh.limits.min_count, (!leaves).then_some(&mut buf));
                if let Some(c) = count {
                    kids.kids.push((y, c, std::mem::take(&mut buf)));
                    kids.drops.extend_from_slice(&anc_counts[..depth - 1]);
                    kids.drops.extend([self.sub.nodes[y_at].count, x_count]);
                    kids.status.push(if provisional {
                        Status::Provisional
                    } else if all_known {
                        Status::Visit
                    } else {
                        Status::Defer
                    });
                }
            }
            self.expand(x_node, &prefix, kids, tick)?;
        }
        Ok(())
    }
}

/// Mines every itemset of at most `max_length` items held by at least
/// `min_count` baskets, handing each to a visitor (one per thread: the
/// search runs on `visitors.len()` threads, at most `limits.threads`), and
/// calling `tick` regularly (the caller checks for cancellation there).
pub fn mine_itemsets<V: Visitor>(
    baskets: &Baskets,
    limits: SearchLimits,
    visitors: &mut [V],
    tick: &mut dyn FnMut(),
) -> Result<ItemsetTree, MineError> {
    search(baskets, limits, visitors, tick, Forced::default())
}

/// Choices tests force (the default: as always outside tests).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Forced {
    /// The pair-count matrix one way or the other (`None`: by its size).
    pub(super) matrix: Option<bool>,
    /// See [`Shared::isolate`].
    pub(super) isolate: bool,
    /// Bitsets for at most this many items (`None`: as many as the budget
    /// allows).
    pub(super) bits: Option<usize>,
    /// 32-bit cells in the pair-count matrix whatever the baskets.
    pub(super) wide: bool,
}

/// [`mine_itemsets`], with some choices `forced`.
pub(super) fn search<V: Visitor>(
    baskets: &Baskets,
    limits: SearchLimits,
    visitors: &mut [V],
    tick: &mut dyn FnMut(),
    forced: Forced,
) -> Result<ItemsetTree, MineError> {
    let n = baskets.len();
    let item_counts = baskets.item_counts();
    let mut frequent: Vec<u32> =
        (0..baskets.n_items() as u32).filter(|&i| item_counts[i as usize] >= limits.min_count).collect();
    frequent.sort_by(|&a, &b| {
        item_counts[a as usize]
            .cmp(&item_counts[b as usize])
            .then_with(|| baskets.item_name(a).cmp(baskets.item_name(b)))
    });
    let m = frequent.len();
    let mut internal = vec![NONE; baskets.n_items()];
    for (k, &v) in frequent.iter().enumerate() {
        internal[v as usize] = k as u32;
    }
    let counts: Vec<u32> = frequent.iter().map(|&v| item_counts[v as usize]).collect();
    let threads = visitors.len().min(limits.threads.max(1)).max(1);
    let visitors = &mut visitors[..threads];

    let mut shared = Shared {
        baskets,
        limits,
        frequent: &frequent,
        counts,
        tids: Vec::new(),
        bits: Vec::new(),
        bit_row: Vec::new(),
        words: 0,
        pairs: Vec::new(),
        done: (0..m).map(|_| OnceLock::new()).collect(),
        used: AtomicU64::new(m as u64 * NODE_BYTES),
        found: AtomicU64::new(m as u64),
        stop: AtomicBool::new(false),
        track: limits.antecedent_count.is_some(),
        isolate: forced.isolate,
    };
    {
        // Before any subtree: the view answers for singletons only.
        let empty = Subtree::default();
        let singles = View { shared: &shared, sub: &empty, top: NONE };
        for i in 0..m as u32 {
            let found = Found {
                node: NodeRef { top: i, local: 0 },
                count: shared.counts[i as usize],
                items: &[i],
                drop_counts: &[n as u32],
            };
            visitors[0].visit(&singles, found)?;
        }
    }
    if limits.max_length >= 2 && m >= 2 {
        count_pairs(&mut shared, &internal, threads, tick, forced.matrix, forced.wide)?;
        if limits.max_length >= 3 {
            build_bits(&mut shared, forced.bits)?;
        }
        let shared = &shared;
        let mut workers: Vec<Worker<'_, '_, V>> = visitors
            .iter_mut()
            .map(|visitor| Worker { shared, visitor, sub: Subtree::default(), top: 0, work: 0, subset: Vec::new() })
            .collect();
        // Later items first: on one thread, every subtree a subset may be in
        // is finished when it is needed.
        run_tasks(m, &mut workers, &shared.stop, tick, &|w, t, tick| w.subtree((m - 1 - t) as u32, tick))?;
    }
    let (mut tree, deferred, provisional) = join(shared, n as u32, frequent.clone());
    let deferred = match limits.antecedent_count {
        Some(u) if !provisional.is_empty() => settle(&mut tree, deferred, &provisional, u, limits.memory_limit, tick)?,
        _ => deferred,
    };
    visit_deferred(&tree, &deferred, visitors, tick)?;
    Ok(tree)
}
