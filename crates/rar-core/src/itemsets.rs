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

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

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

/// All frequent itemsets, as a prefix tree. Node 0 is the empty set, whose
/// count is the number of baskets; nodes `1..=m` are the frequent items.
#[derive(Debug, Clone)]
pub struct ItemsetTree {
    nodes: Vec<Node>,
    /// Internal item number (by ascending count) to vocabulary id.
    items: Vec<u32>,
    /// Where the nodes of each item's subtree (after its singleton) start.
    base: Vec<u32>,
    /// Node numbers after provisional itemsets were dropped (empty if none was).
    moved: Vec<u32>,
}

/// Where the search put an itemset: node `local` of the subtree of internal
/// item `top` (whose node 0 is the item itself), or node `local` of the final
/// tree when `top` is `u32::MAX`. [`ItemsetTree::resolve`] gives its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef {
    pub top: u32,
    pub local: u32,
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

    /// The node of an itemset the search handed over.
    pub fn resolve(&self, r: NodeRef) -> u32 {
        if r.top == NONE {
            return r.local;
        }
        let joined = if r.local == 0 { 1 + r.top } else { self.base[r.top as usize] + r.local - 1 };
        if self.moved.is_empty() {
            joined
        } else {
            self.moved[joined as usize]
        }
    }

    /// Forgets what [`ItemsetTree::resolve`] needs, once every [`NodeRef`]
    /// is resolved.
    pub fn forget_refs(&mut self) {
        self.base = Vec::new();
        self.moved = Vec::new();
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
        find(&self.nodes, 0, items)
    }
}

/// The node under `start` (in `nodes`) reached by `items`, one level each.
fn find(nodes: &[Node], start: u32, items: &[u32]) -> Option<u32> {
    let mut node = start;
    for &it in items {
        let kids = children(nodes, node);
        let p = nodes[kids.clone()].binary_search_by_key(&it, |k| k.item).ok()?;
        node = (kids.start + p) as u32;
    }
    Some(node)
}

/// The children of `node`, as a range of node numbers.
fn children(nodes: &[Node], node: u32) -> std::ops::Range<usize> {
    let n = &nodes[node as usize];
    if n.n_children == 0 {
        return 0..0;
    }
    n.first_child as usize..(n.first_child + n.n_children) as usize
}

/// What a [`Visitor`] may ask about the itemsets found so far.
pub trait Counts {
    /// Vocabulary id of internal item `i`.
    fn vocab_id(&self, i: u32) -> u32;
    /// Count of the singleton of internal item `i`.
    fn item_count(&self, i: u32) -> u32;
    /// Count of `items` (ascending; a subset of the itemset being visited),
    /// or `None` when it is not frequent.
    fn count_of(&self, items: &[u32]) -> Option<u32>;
    /// Frequent itemsets found so far, on all threads.
    fn n_itemsets(&self) -> usize;
}

impl Counts for ItemsetTree {
    fn vocab_id(&self, i: u32) -> u32 {
        ItemsetTree::vocab_id(self, i)
    }
    fn item_count(&self, i: u32) -> u32 {
        ItemsetTree::item_count(self, i)
    }
    fn count_of(&self, items: &[u32]) -> Option<u32> {
        ItemsetTree::count_of(self, items)
    }
    fn n_itemsets(&self) -> usize {
        ItemsetTree::n_itemsets(self)
    }
}

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

static THREAD_START: OnceLock<fn()> = OnceLock::new();

/// A function every thread of the miner calls first. The PostgreSQL
/// extension blocks signals there, so that they reach the backend's own
/// thread.
pub fn set_thread_start(hook: fn()) {
    let _ = THREAD_START.set(hook);
}

/// What every thread of the miner (and of the sort) runs first.
pub(crate) fn thread_start() {
    if let Some(hook) = THREAD_START.get() {
        hook();
    }
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

/// Largest pair-count matrix used, in bytes; beyond it, pairs are counted
/// from each item's baskets.
const PAIR_MATRIX_MAX_BYTES: u64 = 256 << 20;

/// Why a task stopped early: an error, or another thread's.
enum Halt {
    Error(MineError),
    Stopped,
}

impl From<MineError> for Halt {
    fn from(e: MineError) -> Self {
        Halt::Error(e)
    }
}

/// Runs tasks `0..n_tasks` on one thread per state (the calling thread with
/// `states[0]`, calling `tick` as it goes), each thread taking the next task
/// when done with one. The first error stops the others at their next check.
fn run_tasks<S: Send>(
    n_tasks: usize,
    states: &mut [S],
    stop: &AtomicBool,
    tick: &mut dyn FnMut(),
    task: &(dyn Fn(&mut S, usize, &mut dyn FnMut()) -> Result<(), Halt> + Sync),
) -> Result<(), MineError> {
    let next = AtomicUsize::new(0);
    let error: Mutex<Option<MineError>> = Mutex::new(None);
    let work = |state: &mut S, tick: &mut dyn FnMut()| loop {
        let t = next.fetch_add(1, Ordering::Relaxed);
        if t >= n_tasks || stop.load(Ordering::Relaxed) {
            break;
        }
        match task(state, t, tick) {
            Ok(()) => {}
            Err(Halt::Stopped) => break,
            Err(Halt::Error(e)) => {
                error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    };
    let Some((first, rest)) = states.split_first_mut() else { return Ok(()) };
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter_mut()
            .map(|state| {
                let work = &work;
                scope.spawn(move || {
                    thread_start();
                    // A panic here stops the others too.
                    let stop_others = StopOnDrop(stop);
                    work(state, &mut || {});
                    std::mem::forget(stop_others);
                })
            })
            .collect();
        // A cancel raised in `tick` unwinds from here: the others stop at
        // their next check, and the scope waits for them.
        let stop_others = StopOnDrop(stop);
        work(first, tick);
        // Still answering a cancel while the others finish their last task.
        while !handles.iter().all(|h| h.is_finished()) {
            tick();
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        for h in handles {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        std::mem::forget(stop_others);
    });
    match error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The itemsets whose first item is one item, `top`: node 0 is `{top}`.
#[derive(Debug, Default)]
struct Subtree {
    nodes: Vec<Node>,
    /// Per node, when provisional itemsets are tracked: kept without knowing
    /// a subset that could have pruned it (see the module's documentation).
    provisional: Vec<bool>,
    /// Nodes the visitor has not seen, to visit once the tree is joined.
    deferred: Vec<u32>,
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
enum Cursor<'s> {
    /// Children in the subtree under way: a range of its nodes.
    Local { pos: usize, end: usize },
    /// Children in a finished subtree, or a pair list; with its flags.
    Done { nodes: &'s [Node], provisional: &'s [bool], pos: usize },
    /// In a subtree still under way on another thread.
    Unknown,
}

/// What the search threads share.
struct Shared<'s> {
    baskets: &'s Baskets,
    limits: SearchLimits,
    /// Internal item number to vocabulary id.
    frequent: &'s [u32],
    /// Internal item number to count.
    counts: Vec<u32>,
    tids: Vec<Vec<u32>>,
    /// The frequent pairs of each item with later items, by item.
    pairs: Vec<Vec<Node>>,
    /// Each item's subtree once finished.
    done: Vec<OnceLock<Subtree>>,
    /// Bytes of nodes and live tid-lists, all threads together.
    used: AtomicU64,
    /// Itemsets found, all threads together.
    found: AtomicU64,
    stop: AtomicBool,
    /// Whether provisional itemsets are tracked (the antecedent's support).
    track: bool,
    /// Tests only: treat every other subtree as under way, as a thread that
    /// never finds one finished would.
    isolate: bool,
}

impl<'s> Shared<'s> {
    fn add_bytes(&self, bytes: u64) -> Result<(), MineError> {
        let used = self.used.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if used > self.limits.memory_limit {
            return Err(MineError::MemoryLimit { limit_bytes: self.limits.memory_limit });
        }
        Ok(())
    }

    fn release_bytes(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
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
struct View<'a, 's> {
    shared: &'a Shared<'s>,
    sub: &'a Subtree,
    top: u32,
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
enum Status {
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
struct Kids {
    kids: Vec<(u32, u32, Vec<u32>)>,
    drops: Vec<u32>,
    status: Vec<Status>,
}

/// A level of the search: nodes that share a prefix, with their tid-lists
/// (empty when the nodes are leaves).
type Level = Vec<(u32, Vec<u32>)>;

/// One thread of the search.
struct Worker<'a, 's, V> {
    shared: &'a Shared<'s>,
    visitor: &'a mut V,
    sub: Subtree,
    top: u32,
    work: u64,
    subset: Vec<u32>,
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
                intersect_into(&sh.tids[a as usize], &sh.tids[p.item as usize], 0, &mut buf);
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
                self.subset.clear();
                self.subset.extend(prefix.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &v)| v));
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
                let count = if leaves {
                    intersect_count(x_tids, y_tids, sh.limits.min_count)
                } else {
                    intersect_into(x_tids, y_tids, sh.limits.min_count, &mut buf)
                };
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
struct Forced {
    /// The pair-count matrix one way or the other (`None`: by its size).
    matrix: Option<bool>,
    /// See [`Shared::isolate`].
    isolate: bool,
}

/// [`mine_itemsets`], with some choices `forced`.
fn search<V: Visitor>(
    baskets: &Baskets,
    limits: SearchLimits,
    visitors: &mut [V],
    tick: &mut dyn FnMut(),
    forced: Forced,
) -> Result<ItemsetTree, MineError> {
    let n = baskets.len();
    let mut item_counts = vec![0u32; baskets.n_items()];
    for b in baskets.iter() {
        for &i in b {
            item_counts[i as usize] += 1;
        }
    }
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
        pairs: Vec::new(),
        done: (0..m).map(|_| OnceLock::new()).collect(),
        used: AtomicU64::new(m as u64 * NODE_BYTES),
        found: AtomicU64::new(m as u64),
        stop: AtomicBool::new(false),
        track: limits.antecedent_count.is_some(),
        isolate: forced.isolate,
    };
    {
        let singles = Singles { counts: &shared.counts, frequent: &frequent };
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
        count_pairs(&mut shared, &internal, threads, tick, forced.matrix)?;
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

/// [`Counts`] of the singletons, visited before the search.
struct Singles<'a> {
    counts: &'a [u32],
    frequent: &'a [u32],
}

impl Counts for Singles<'_> {
    fn vocab_id(&self, i: u32) -> u32 {
        self.frequent[i as usize]
    }
    fn item_count(&self, i: u32) -> u32 {
        self.counts[i as usize]
    }
    fn count_of(&self, items: &[u32]) -> Option<u32> {
        match items {
            [i] => Some(self.counts[*i as usize]),
            _ => None,
        }
    }
    fn n_itemsets(&self) -> usize {
        self.counts.len()
    }
}

/// Tid-lists of the frequent items and their frequent pairs with later
/// items, into `shared`.
fn count_pairs(
    shared: &mut Shared<'_>,
    internal: &[u32],
    threads: usize,
    tick: &mut dyn FnMut(),
    force_matrix: Option<bool>,
) -> Result<(), MineError> {
    let baskets = shared.baskets;
    let limits = shared.limits;
    let n = baskets.len();
    let m = shared.counts.len();
    // Tid-lists and the pair counts, over the baskets recoded to internal
    // item numbers: on `threads` threads, each counting a contiguous range
    // of baskets (its own matrix), the calling thread taking the first range
    // and checking for cancellation.
    let pair_bytes = (m as u64) * (m as u64 - 1) / 2 * 4;
    let use_matrix = force_matrix.unwrap_or(pair_bytes <= PAIR_MATRIX_MAX_BYTES.min(limits.memory_limit / 4));
    let row_start = |a: usize| a * m - a * (a + 1) / 2;
    let mut count_threads = if n < PARALLEL_MIN_BASKETS { 1 } else { threads };
    if use_matrix && pair_bytes > 0 {
        count_threads = count_threads.min(((limits.memory_limit / 4) / pair_bytes).max(1) as usize);
    }
    let bounds: Vec<usize> = (0..=count_threads).map(|k| n * k / count_threads).collect();
    let counts = &shared.counts;
    let full = |k: usize| counts[k] as usize;
    let (tids, pairs) = if count_threads == 1 {
        count_range(baskets, internal, m, use_matrix, 0..n, full, tick, &AtomicBool::new(false))
    } else {
        let share = |k: usize| full(k) / count_threads + full(k) / 8 + 16;
        let stop = AtomicBool::new(false);
        let stop = &stop;
        let parts: Vec<(Vec<Vec<u32>>, Vec<u32>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..count_threads)
                .map(|k| {
                    let range = bounds[k]..bounds[k + 1];
                    scope.spawn(move || {
                        thread_start();
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
    let tid_bytes = tids.iter().map(|t| t.len() as u64 * 4).sum::<u64>();
    shared.add_bytes(tid_bytes + pair_bytes * use_matrix as u64)?;

    // The frequent pairs of each item `a` with a later item, with their
    // counts: from the matrix, or else from `a`'s own baskets (a counter
    // per item, reset through the list of those touched). Then the cost
    // follows the pairs that occur, not all pairs of frequent items, which
    // on a long-tail catalog are mostly never seen together.
    if !use_matrix {
        // The counters and the touched list: at most 8 bytes an item, a thread.
        shared.add_bytes(8 * m as u64 * threads as u64)?;
    }
    let lists: Vec<OnceLock<Vec<Node>>> = (0..m).map(|_| OnceLock::new()).collect();
    {
        let shared = &*shared;
        let tids = &tids;
        let task = |scratch: &mut (Vec<u32>, Vec<u32>, u64), a: usize, tick: &mut dyn FnMut()| -> Result<(), Halt> {
            let (together, touched, work) = scratch;
            let mut candidates: Vec<(u32, u32)> = Vec::new();
            if use_matrix {
                let row = &pairs[row_start(a)..row_start(a) + (m - a - 1)];
                candidates.extend(
                    row.iter()
                        .enumerate()
                        .filter(|&(_, &c)| c >= limits.min_count)
                        .map(|(i, &c)| ((a + 1 + i) as u32, c)),
                );
            } else {
                if together.is_empty() {
                    together.resize(m, 0);
                }
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
                    *work += 1;
                    if work.is_multiple_of(4096) {
                        tick();
                        if shared.stop.load(Ordering::Relaxed) {
                            return Err(Halt::Stopped);
                        }
                    }
                }
                touched.sort_unstable();
                for &k in touched.iter() {
                    let c = std::mem::take(&mut together[k as usize]);
                    if c >= limits.min_count {
                        candidates.push((k, c));
                    }
                }
            }
            let prune = limits.antecedent_count.filter(|&u| shared.counts[a] < u);
            let list: Vec<Node> = candidates
                .into_iter()
                .filter(|&(b, _)| prune.is_none_or(|u| shared.counts[b as usize] >= u))
                // Across a hierarchy, an item and its own ancestor never
                // make a pair; no larger itemset holds both then, as every
                // candidate's subsets must be frequent (see `descend`).
                .filter(|&(b, _)| {
                    !baskets.taxonomy().is_some_and(|t| t.related(shared.frequent[a], shared.frequent[b as usize]))
                })
                .map(|(item, count)| Node { item, count, parent: 0, first_child: NONE, n_children: 0 })
                .collect();
            shared.add_bytes(list.len() as u64 * NODE_BYTES)?;
            let _ = lists[a].set(list);
            Ok(())
        };
        let mut scratch: Vec<(Vec<u32>, Vec<u32>, u64)> = (0..threads).map(|_| Default::default()).collect();
        run_tasks(m, &mut scratch, &shared.stop, tick, &task)?;
    }
    if use_matrix {
        shared.release_bytes(pair_bytes);
    }
    if !use_matrix {
        shared.release_bytes(8 * m as u64 * threads as u64);
    }
    drop(pairs);
    shared.pairs = lists.into_iter().map(|l| l.into_inner().unwrap_or_default()).collect();
    shared.tids = tids;
    Ok(())
}

/// Joins the subtrees into one tree; returns it with the itemsets still to
/// visit and the provisional ones.
fn join(shared: Shared<'_>, n: u32, frequent: Vec<u32>) -> (ItemsetTree, Vec<u32>, Vec<u32>) {
    let m = frequent.len();
    let subtrees: Vec<Subtree> = shared.done.into_iter().map(|d| d.into_inner().unwrap_or_default()).collect();
    let total = 1 + m + subtrees.iter().map(|s| s.nodes.len().saturating_sub(1)).sum::<usize>();
    let mut nodes = Vec::with_capacity(total);
    nodes.push(Node {
        item: NONE,
        count: n,
        parent: 0,
        first_child: if m > 0 { 1 } else { NONE },
        n_children: m as u32,
    });
    nodes.extend(shared.counts.iter().enumerate().map(|(i, &count)| Node {
        item: i as u32,
        count,
        parent: 0,
        first_child: NONE,
        n_children: 0,
    }));
    let mut base = vec![0u32; m];
    let (mut deferred, mut provisional) = (Vec::new(), Vec::new());
    for (a, sub) in subtrees.into_iter().enumerate() {
        let start = nodes.len() as u32;
        base[a] = start;
        let global = |local: u32| if local == 0 { 1 + a as u32 } else { start + local - 1 };
        if let Some(top) = sub.nodes.first() {
            if top.n_children > 0 {
                nodes[1 + a].first_child = global(top.first_child);
                nodes[1 + a].n_children = top.n_children;
            }
        }
        nodes.extend(sub.nodes.iter().skip(1).map(|k| Node {
            parent: global(k.parent),
            first_child: if k.n_children > 0 { global(k.first_child) } else { NONE },
            ..*k
        }));
        deferred.extend(sub.deferred.iter().map(|&local| global(local)));
        provisional
            .extend(sub.provisional.iter().enumerate().filter(|&(_, &p)| p).map(|(local, _)| global(local as u32)));
    }
    (ItemsetTree { nodes, items: frequent, base, moved: Vec::new() }, deferred, provisional)
}

/// Decides each provisional itemset as the search on one thread would have:
/// it belongs when every subset one item smaller belongs and one of them
/// reaches the antecedent count `u`. Drops the others (and renumbers the
/// tree); returns `deferred` renumbered, without them.
fn settle(
    tree: &mut ItemsetTree,
    deferred: Vec<u32>,
    provisional: &[u32],
    u: u32,
    memory_limit: u64,
    tick: &mut dyn FnMut(),
) -> Result<Vec<u32>, MineError> {
    // The tree, a flag and a new number per node, the order of the
    // provisional ones.
    let bytes = tree.nodes.len() as u64 * (NODE_BYTES + 5) + provisional.len() as u64 * 16;
    if bytes > memory_limit {
        return Err(MineError::MemoryLimit { limit_bytes: memory_limit });
    }
    let mut items = Vec::new();
    let mut subset = Vec::new();
    let mut order: Vec<(usize, u32)> = provisional
        .iter()
        .map(|&g| {
            tree.items_of(g, &mut items);
            (items.len(), g)
        })
        .collect();
    // Smaller itemsets first: each is decided before any that contains it.
    order.sort_unstable();
    let mut dead = vec![false; tree.nodes.len()];
    for (done, &(_, g)) in order.iter().enumerate() {
        if done % 4096 == 0 {
            tick();
        }
        tree.items_of(g, &mut items);
        let mut best = 0;
        let mut belongs = true;
        for skip in 0..items.len() {
            subset.clear();
            subset.extend(items.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &v)| v));
            match tree.node_of(&subset) {
                Some(s) if !dead[s as usize] => best = best.max(tree.nodes[s as usize].count),
                _ => {
                    belongs = false;
                    break;
                }
            }
        }
        dead[g as usize] = !belongs || best < u;
    }
    if !dead.contains(&true) {
        return Ok(deferred);
    }
    let mut moved = vec![NONE; tree.nodes.len()];
    let mut kept = 0usize;
    for (g, m) in moved.iter_mut().enumerate() {
        if !dead[g] {
            *m = kept as u32;
            kept += 1;
        }
    }
    // In place: a node moves only down, and its parent comes before it.
    for g in 0..tree.nodes.len() {
        if dead[g] {
            continue;
        }
        let mut node = tree.nodes[g];
        node.parent = moved[node.parent as usize];
        if node.n_children > 0 {
            let block = node.first_child as usize..(node.first_child + node.n_children) as usize;
            // The children left are consecutive in the new numbering.
            let mut alive = block.filter(|&c| !dead[c]);
            match alive.next() {
                Some(first) => {
                    node.first_child = moved[first];
                    node.n_children = 1 + alive.count() as u32;
                }
                None => {
                    node.first_child = NONE;
                    node.n_children = 0;
                }
            }
        }
        tree.nodes[moved[g] as usize] = node;
    }
    tree.nodes.truncate(kept);
    tree.nodes.shrink_to_fit();
    tree.moved = moved;
    Ok(deferred.into_iter().map(|g| tree.moved[g as usize]).filter(|&g| g != NONE).collect())
}

/// Visits the itemsets the search could not, on the visitors' threads.
fn visit_deferred<V: Visitor>(
    tree: &ItemsetTree,
    deferred: &[u32],
    visitors: &mut [V],
    tick: &mut dyn FnMut(),
) -> Result<(), MineError> {
    const CHUNK: usize = 4096;
    let stop = AtomicBool::new(false);
    let task = |visitor: &mut V, t: usize, tick: &mut dyn FnMut()| -> Result<(), Halt> {
        let (mut items, mut subset, mut drops) = (Vec::new(), Vec::new(), Vec::new());
        for &g in &deferred[t * CHUNK..((t + 1) * CHUNK).min(deferred.len())] {
            tree.items_of(g, &mut items);
            drops.clear();
            for skip in 0..items.len() {
                subset.clear();
                subset.extend(items.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &v)| v));
                drops.push(tree.count_of(&subset).unwrap_or(0));
            }
            let found = Found {
                node: NodeRef { top: NONE, local: g },
                count: tree.count(g),
                items: &items,
                drop_counts: &drops,
            };
            visitor.visit(tree, found)?;
        }
        tick();
        Ok(())
    };
    run_tasks(deferred.len().div_ceil(CHUNK), visitors, &stop, tick, &task)
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

    /// Records every itemset the search hands over, with its count and
    /// drop counts, by vocabulary ids.
    #[derive(Default)]
    struct Record(Vec<(Vec<u32>, u32, Vec<u32>)>);

    impl Visitor for Record {
        fn visit(&mut self, counts: &dyn Counts, f: Found<'_>) -> Result<(), MineError> {
            let ids: Vec<u32> = f.items.iter().map(|&i| counts.vocab_id(i)).collect();
            // The drop counts, checked against the subsets' own counts.
            for skip in 0..f.items.len() {
                let subset: Vec<u32> =
                    f.items.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &v)| v).collect();
                if !subset.is_empty() {
                    assert_eq!(counts.count_of(&subset), Some(f.drop_counts[skip]), "drop count of {ids:?}");
                }
            }
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            self.0.push((sorted, f.count, f.drop_counts.to_vec()));
            Ok(())
        }
    }

    /// Every itemset with its count, as the search reports them, and the
    /// tree's count of each.
    fn found(b: &Baskets, limits: SearchLimits, matrix: Option<bool>, isolate: bool) -> Vec<(Vec<u32>, u32, Vec<u32>)> {
        let mut visitors: Vec<Record> = (0..limits.threads).map(|_| Record::default()).collect();
        let tree = search(b, limits, &mut visitors, &mut || {}, Forced { matrix, isolate }).unwrap();
        let mut out: Vec<_> = visitors.into_iter().flat_map(|v| v.0).collect();
        out.sort();
        assert_eq!(out.len(), tree.n_itemsets(), "each itemset visited once");
        out
    }

    fn itemsets(b: &Baskets, min_count: u32, max_length: usize, matrix: bool) -> Vec<(Vec<u32>, u32)> {
        let limits = SearchLimits {
            min_count,
            max_length,
            antecedent_count: None,
            subset_counts: false,
            memory_limit: 1 << 30,
            threads: 1,
        };
        found(b, limits, Some(matrix), false).into_iter().map(|(s, c, _)| (s, c)).collect()
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

    /// Random baskets: `items` items, half the lines from a few popular
    /// ones, some pairs bought together.
    fn random_baskets(seed: u64, items: u64, baskets: usize, size: u64) -> BasketsBuilder {
        let mut seed = seed;
        let mut next = |k: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % k
        };
        let mut b = BasketsBuilder::default();
        for t in 0..baskets {
            for _ in 0..1 + next(size) {
                let i = if next(2) == 0 { next(8) } else { next(items) };
                b.push(&t.to_string(), &format!("i{i}"));
                if i % 3 == 0 {
                    b.push(&t.to_string(), &format!("i{}", i + 1));
                }
            }
        }
        b
    }

    /// The itemsets, their counts and drop counts are the same on one
    /// thread, on several, and where no other subtree is ever finished in
    /// time (every provisional and deferred path taken), with and without
    /// the antecedent's pruning, across a hierarchy too.
    #[test]
    fn threads_change_nothing() {
        let mut h = crate::hierarchy::Hierarchy::new(vec!["aisle".into(), "dept".into()]);
        for i in 0..30 {
            h.add(&format!("i{i}"), vec![Some(format!("a{}", i % 7)), Some(format!("d{}", i % 3))]).unwrap();
        }
        for (seed, items, n, size, min_count) in [(1, 30, 400, 7, 6), (2, 60, 600, 9, 5), (3, 12, 200, 6, 3)] {
            let plain = random_baskets(seed, items, n, size).build();
            let across = crate::hierarchy::across_levels(&plain, &h, 1 << 30, &mut || {}).unwrap();
            for b in [&plain, &across] {
                for max_length in [2, 3, 4, 5] {
                    for antecedent_count in [None, Some(min_count + 1), Some(min_count * 2), Some(min_count * 4)] {
                        let limits = SearchLimits {
                            min_count,
                            max_length,
                            antecedent_count,
                            subset_counts: antecedent_count.is_none(),
                            memory_limit: 1 << 30,
                            threads: 1,
                        };
                        let want = found(b, limits, None, false);
                        assert!(want.iter().any(|(s, _, _)| s.len() == max_length.min(4)), "deep itemsets to compare");
                        let what = format!("seed {seed}, max_length {max_length}, {antecedent_count:?}");
                        assert_eq!(found(b, limits, None, true), want, "isolated, {what}");
                        for threads in [2, 4] {
                            assert_eq!(
                                found(b, SearchLimits { threads, ..limits }, None, false),
                                want,
                                "{threads} threads, {what}"
                            );
                            assert_eq!(
                                found(b, SearchLimits { threads, ..limits }, None, true),
                                want,
                                "{threads} isolated, {what}"
                            );
                        }
                    }
                }
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
