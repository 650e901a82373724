//! Association rules, their measures and their output order.
//!
//! A rule `A => C` is read off a frequent itemset `X = A ∪ C` as soon as the
//! miner knows the counts of `X`'s subsets (on one thread, the moment it
//! finds `X`), on the miner's threads, so the rule budget stops a job as soon
//! as it is exceeded (at [`RULE_PEAK_BYTES`] a rule). A rule is 48 bytes: its
//! sides packed as name ranks (for sorting and output without walking the
//! tree), the itemset's node and the consequent as a bit mask over its items
//! (for rules too long to pack), and the counts of `A ∪ C`, `A` and `C`. Measures are computed from counts when a
//! row is read, always by [`Measures::from_counts`].

use std::cmp::Ordering;

use crate::baskets::Baskets;
use crate::error::MineError;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use crate::itemsets::{mine_itemsets, without, Counts, Found, ItemsetTree, NodeRef, SearchLimits, Visitor, NODE_BYTES};
use crate::params::{MineParams, SupportOf};

/// Confidence comparisons allow this much rounding error.
const CONF_EPSILON: f64 = 1e-12;

#[derive(Debug, Clone, Copy)]
struct PackedRule {
    /// Both sides as name ranks (see [`pack`]); 0 when they do not fit.
    names: u128,
    /// The itemset's node; while mining, its place in a subtree under way
    /// (`top`, see [`NodeRef`]).
    node: u32,
    top: u32,
    consequent: u32,
    /// Counts of `A ∪ C`, `A` and `C`, kept here so that sorting never
    /// touches the (large) tree.
    count_ac: u32,
    count_a: u32,
    count_c: u32,
}

const RULE_BYTES: u64 = std::mem::size_of::<PackedRule>() as u64;

/// What a rule costs at the peak of a call, as the memory budget counts
/// it: the rule itself, its copy when the threads' rules are merged, the
/// slack of growing vectors, and its p-value with Holm's order in the
/// extension. Measured (`benches/budget.sh`): a call's peak grew by 158
/// to 180 bytes a rule (1 and 2.25 million rules of one basket of 1,000
/// and 1,500 items, the itemsets' share included), 3.3 to 3.75 times the
/// rule alone; with an itemset's share (10 bytes a rule there) 176 covers
/// the larger.
const RULE_PEAK_BYTES: u64 = 3 * RULE_BYTES + 32;

/// Rules below which sorting and testing stay on the calling thread.
const PARALLEL_SORT_MIN_RULES: usize = 100_000;

/// The standard interest measures of a rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    /// Share of baskets holding `A ∪ C`.
    pub support: f64,
    /// `support(A ∪ C) / support(A)`.
    pub confidence: f64,
    /// `confidence / support(C)`.
    pub lift: f64,
    /// `support(A ∪ C) - support(A) · support(C)`.
    pub leverage: f64,
    /// `(1 - support(C)) / (1 - confidence)`: `+Infinity` when the confidence
    /// is 1 (and 1 in the degenerate case where `C` is in every basket).
    pub conviction: f64,
}

impl Measures {
    /// Measures from basket counts: `n` baskets, `ac` holding `A ∪ C`, `a`
    /// holding `A`, `c` holding `C`.
    pub fn from_counts(n: u32, ac: u32, a: u32, c: u32) -> Measures {
        let n = n as f64;
        let (sac, sa, sc) = (ac as f64 / n, a as f64 / n, c as f64 / n);
        let confidence = ac as f64 / a as f64;
        // As a ratio of integer products (exact in f64 below 2^53), so that
        // `A => C` and `C => A` get bit-identical lifts.
        let lift = (ac as f64 * n) / (a as f64 * c as f64);
        let conviction = if ac == a {
            if c as f64 == n {
                1.0
            } else {
                f64::INFINITY
            }
        } else {
            (1.0 - sc) / (1.0 - confidence)
        };
        Measures { support: sac, confidence, lift, leverage: sac - sa * sc, conviction }
    }
}

/// One rule as the user sees it: items by name, sorted by name (byte order).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow<'a> {
    pub antecedent: Vec<&'a str>,
    pub consequent: Vec<&'a str>,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
    pub leverage: f64,
    pub conviction: f64,
    /// Baskets holding `A ∪ C`.
    pub count: u64,
}

impl RuleRow<'_> {
    /// An upper bound of the bytes of the rule's [`crate::rule::Rule::to_json`]
    /// as a jsonb value: keys, numbers and entry headers of the object, and
    /// each item's text with its header.
    pub fn jsonb_bytes(&self) -> u64 {
        let items = self.antecedent.iter().chain(&self.consequent);
        256 + items.map(|x| x.len() as u64 + 8).sum::<u64>()
    }
}

/// Mined rules, in the documented order (see [`RuleSet::sort`]).
#[derive(Debug, Clone)]
pub struct RuleSet {
    baskets: std::sync::Arc<Baskets>,
    tree: ItemsetTree,
    rules: Vec<PackedRule>,
    /// Rank of each vocabulary item in name order, and its inverse.
    vocab_rank: Vec<u32>,
    by_rank: Vec<u32>,
    /// Whether every rule's sides are packed in `PackedRule::names`.
    packed: bool,
    /// Threads for work over all the rules (see [`MineParams::threads`]).
    threads: usize,
}

/// A pool of `threads` threads for work over `n` rules, when they are many
/// enough to share (the threads block signals, as the miner's do).
fn thread_pool(threads: usize, n: usize) -> Option<rayon::ThreadPool> {
    if threads < 2 || n < PARALLEL_SORT_MIN_RULES {
        return None;
    }
    rayon::ThreadPoolBuilder::new().num_threads(threads).start_handler(|_| crate::itemsets::thread_start()).build().ok()
}

/// Packs a rule's sides, as name ranks ascending, into one key: 3
/// antecedent slots then 4 consequent slots of 16 bits, each `rank + 1` or
/// 0 for none, most significant first. Comparing keys then compares the
/// sides as arrays of names (a shorter array first when it is a prefix),
/// with no walk through the itemset tree. Fits rules of at most 4 items over
/// fewer than 65,535 distinct items.
fn pack(ante: &[u32], cons: &[u32]) -> u128 {
    let slot = |side: &[u32], i: usize| side.get(i).map_or(0, |&r| r as u128 + 1);
    let mut key = 0u128;
    for i in 0..3 {
        key = key << 16 | slot(ante, i);
    }
    for i in 0..4 {
        key = key << 16 | slot(cons, i);
    }
    key
}

/// The name ranks of both sides of a packed key.
fn unpack(key: u128) -> (Vec<u32>, Vec<u32>) {
    let (mut ante, mut cons) = (Vec::new(), Vec::new());
    unpack_into(key, &mut ante, &mut cons);
    (ante, cons)
}

/// [`unpack`], appending to `ante` and `cons`.
fn unpack_into(key: u128, ante: &mut Vec<u32>, cons: &mut Vec<u32>) {
    let slot = |i: u32| (key >> (16 * (6 - i)) & 0xffff) as u32;
    ante.extend((0..3).map(slot).take_while(|&r| r != 0).map(|r| r - 1));
    cons.extend((3..7).map(slot).take_while(|&r| r != 0).map(|r| r - 1));
}

/// Reads the rules off the itemsets one thread of the miner finds.
struct Collector<'p> {
    params: &'p MineParams,
    vocab_rank: &'p [u32],
    packed: bool,
    min_support_count: u32,
    n: u32,
    /// Rules of all threads together, counted in batches.
    total: &'p AtomicU64,
    unreported: u64,
    rules: Vec<PackedRule>,
    ante: Vec<u32>,
    cons: Vec<u32>,
    ante_ranks: Vec<u32>,
    cons_ranks: Vec<u32>,
}

impl Visitor for Collector<'_> {
    fn visit(&mut self, counts: &dyn Counts, found: Found<'_>) -> Result<(), MineError> {
        let params = self.params;
        let Found { node, count: count_ac, items, drop_counts } = found;
        let k = items.len();
        if k < params.min_length {
            return Ok(());
        }
        for size in 1..=params.max_consequent.min(k) {
            let mut mask: u64 = (1u64 << size) - 1;
            while mask < (1u64 << k) {
                self.ante.clear();
                self.cons.clear();
                for (i, &it) in items.iter().enumerate() {
                    if mask >> i & 1 == 1 {
                        self.cons.push(it)
                    } else {
                        self.ante.push(it)
                    }
                }
                // Every subset of a found itemset is frequent, and known to
                // the miner when it hands the itemset over.
                let count_a = if size == 1 {
                    drop_counts[mask.trailing_zeros() as usize]
                } else if self.ante.is_empty() {
                    self.n
                } else {
                    counts.count_of(&self.ante).unwrap_or(0)
                };
                if count_a < self.min_support_count {
                    // Only possible with `SupportOf::Antecedent`.
                    mask = next_same_popcount(mask);
                    continue;
                }
                let count_c =
                    if size == 1 { counts.item_count(self.cons[0]) } else { counts.count_of(&self.cons).unwrap_or(0) };
                let m = Measures::from_counts(self.n, count_ac, count_a, count_c);
                if m.confidence + CONF_EPSILON >= params.min_confidence && m.lift + CONF_EPSILON >= params.min_lift {
                    self.keep(counts, node, mask as u32, [count_ac, count_a, count_c])?;
                }
                mask = next_same_popcount(mask);
            }
        }
        Ok(())
    }
}

impl<'p> Collector<'p> {
    fn new(
        params: &'p MineParams,
        vocab_rank: &'p [u32],
        packed: bool,
        min_support_count: u32,
        n: u32,
        total: &'p AtomicU64,
    ) -> Collector<'p> {
        Collector {
            params,
            vocab_rank,
            packed,
            min_support_count,
            n,
            total,
            unreported: 0,
            rules: Vec::new(),
            ante: Vec::new(),
            cons: Vec::new(),
            ante_ranks: Vec::new(),
            cons_ranks: Vec::new(),
        }
    }

    /// Adds the rule of `node` with consequent `mask`, within the budgets.
    fn keep(
        &mut self,
        counts: &dyn Counts,
        node: NodeRef,
        mask: u32,
        [count_ac, count_a, count_c]: [u32; 3],
    ) -> Result<(), MineError> {
        const BATCH: u64 = 1024;
        self.unreported += 1;
        let seen = if self.unreported == BATCH {
            self.unreported = 0;
            self.total.fetch_add(BATCH, AtomicOrdering::Relaxed) + BATCH
        } else {
            self.total.load(AtomicOrdering::Relaxed) + self.unreported
        };
        check_budgets(seen, counts.n_itemsets() as u64, self.params)?;
        let names = if self.packed {
            let rank = |i: &u32| self.vocab_rank[counts.vocab_id(*i) as usize];
            self.ante_ranks.clear();
            self.ante_ranks.extend(self.ante.iter().map(rank));
            self.ante_ranks.sort_unstable();
            self.cons_ranks.clear();
            self.cons_ranks.extend(self.cons.iter().map(rank));
            self.cons_ranks.sort_unstable();
            pack(&self.ante_ranks, &self.cons_ranks)
        } else {
            0
        };
        self.rules.push(PackedRule {
            names,
            node: node.local,
            top: node.top,
            consequent: mask,
            count_ac,
            count_a,
            count_c,
        });
        Ok(())
    }
}

/// Mines the rules of `baskets` under `params`. `tick` is called regularly;
/// the caller checks for cancellation there.
pub fn mine_rules(
    baskets: impl Into<std::sync::Arc<Baskets>>,
    params: &MineParams,
    tick: &mut dyn FnMut(),
) -> Result<RuleSet, MineError> {
    params.validate()?;
    let baskets = baskets.into();
    let min_support_count = params.min_count(baskets.len());
    let itemset_min_count = itemset_min_count(params, min_support_count);
    let limits = SearchLimits {
        min_count: itemset_min_count,
        antecedent_count: (params.support_of == SupportOf::Antecedent && params.max_consequent == 1)
            .then_some(min_support_count),
        subset_counts: params.max_consequent > 1,
        max_length: longest_useful(&baskets, params, min_support_count, tick)?,
        memory_limit: params.memory_limit,
        threads: params.threads.max(1),
    };
    let (vocab_rank, by_rank) = name_ranks(&baskets, itemset_min_count);
    let packed = params.max_length <= 4 && baskets.n_items() < 0xffff;
    let total = AtomicU64::new(0);
    let n = baskets.len() as u32;
    let mut collectors: Vec<Collector<'_>> = (0..limits.threads)
        .map(|_| Collector::new(params, &vocab_rank, packed, min_support_count, n, &total))
        .collect();
    let mut tree = mine_itemsets(&baskets, limits, &mut collectors, tick)?;
    // Each thread saw its own rules and the others' up to their last batch:
    // the budgets again, on all of them.
    let total: u64 = collectors.iter().map(|c| c.rules.len() as u64).sum();
    check_budgets(total, tree.n_itemsets() as u64, params)?;
    // The threads' rules stay apart until the sort gathers them in order:
    // no copy of them all into one vector first.
    let mut parts: Vec<Vec<PackedRule>> = collectors.into_iter().map(|c| c.rules).collect();
    let resolve = |r: &mut PackedRule| r.node = tree.resolve(NodeRef { top: r.top, local: r.node });
    match thread_pool(limits.threads, total as usize) {
        Some(pool) => pool.install(|| {
            use rayon::prelude::*;
            parts.par_iter_mut().for_each(|part| part.par_iter_mut().for_each(resolve))
        }),
        None => parts.iter_mut().flatten().for_each(resolve),
    }
    tree.forget_refs();
    let mut set = RuleSet { baskets, tree, rules: Vec::new(), vocab_rank, by_rank, packed, threads: limits.threads };
    set.sort(parts, tick);
    Ok(set)
}

/// The longest itemset that can make a rule: `max_length`, or with the
/// antecedent's support and consequents of several items, at most the
/// longest frequent antecedent plus `max_consequent` items. The search
/// there counts every itemset that reaches `min_confidence` times the
/// antecedent's count, frequent subsets or not (with `min_confidence` 0,
/// every itemset of the baskets): on a few baskets holding many items it
/// counted millions of itemsets no rule could use. The longest frequent
/// antecedent is found first, by a search up to `max_length -
/// max_consequent` items (no longer one is needed to know the cap).
fn longest_useful(
    baskets: &Baskets,
    params: &MineParams,
    min_support_count: u32,
    tick: &mut dyn FnMut(),
) -> Result<usize, MineError> {
    let m = params.max_consequent;
    if params.support_of != SupportOf::Antecedent || m <= 1 || params.max_length <= m {
        return Ok(params.max_length);
    }
    struct Longest(usize);
    impl Visitor for Longest {
        fn visit(&mut self, _: &dyn Counts, f: Found<'_>) -> Result<(), MineError> {
            self.0 = self.0.max(f.items.len());
            Ok(())
        }
    }
    let limits = SearchLimits {
        min_count: min_support_count,
        antecedent_count: None,
        subset_counts: false,
        max_length: params.max_length - m,
        memory_limit: params.memory_limit,
        threads: params.threads.max(1),
    };
    let mut found: Vec<Longest> = (0..limits.threads).map(|_| Longest(0)).collect();
    mine_itemsets(baskets, limits, &mut found, tick)?;
    let longest = found.iter().map(|l| l.0).max().unwrap_or(0);
    Ok(params.max_length.min(longest + m))
}

/// The least count of an itemset that can make a rule: `min_support_count`,
/// or with the antecedent's support only `min_confidence *
/// min_support_count` (the count of `A ∪ C` is at least that of `A` times
/// the confidence).
pub fn itemset_min_count(params: &MineParams, min_support_count: u32) -> u32 {
    match params.support_of {
        SupportOf::Rule => min_support_count,
        // With the rule test's tolerance (conf + CONF_EPSILON >= min_confidence),
        // or an antecedent of thousands of baskets would miss rules it keeps.
        SupportOf::Antecedent => {
            (((params.min_confidence - CONF_EPSILON) * min_support_count as f64) - 1e-9).ceil().max(1.0) as u32
        }
    }
}

/// The rules of itemsets counted elsewhere (on the shards of a distributed
/// table, see [`crate::shards`]), the same as [`mine_rules`] finds on the
/// baskets themselves: `names` names the items; `n` is the number of
/// baskets; `counted` holds itemsets (ascending indices into `names`, no
/// repeats) with their exact counts, among them every itemset of at most
/// `params.max_length` items that reaches the thresholds. Itemsets below
/// the thresholds, or one of whose subsets is missing, are ignored.
pub fn rules_from_counts(
    names: Vec<String>,
    n: u32,
    counted: &[(Vec<u32>, u32)],
    params: &MineParams,
    tick: &mut dyn FnMut(),
) -> Result<RuleSet, MineError> {
    params.validate()?;
    let min_support_count = params.min_count(n as usize);
    let min_count = itemset_min_count(params, min_support_count);
    // The frequent items, numbered by ascending count as the miner does.
    let mut item_count = vec![0u32; names.len()];
    for (set, count) in counted {
        if let [only] = set.as_slice() {
            if let Some(c) = item_count.get_mut(*only as usize) {
                *c = *count;
            }
        }
    }
    let mut frequent: Vec<u32> = (0..names.len() as u32).filter(|&i| item_count[i as usize] >= min_count).collect();
    frequent.sort_by(|&a, &b| {
        item_count[a as usize].cmp(&item_count[b as usize]).then_with(|| names[a as usize].cmp(&names[b as usize]))
    });
    let mut internal = vec![u32::MAX; names.len()];
    for (k, &v) in frequent.iter().enumerate() {
        internal[v as usize] = k as u32;
    }
    let mut sets: Vec<(Vec<u32>, u32)> = Vec::new();
    for (k, (set, count)) in counted.iter().enumerate() {
        if k % 4096 == 0 {
            tick();
        }
        if set.is_empty() || set.len() > params.max_length || *count < min_count {
            continue;
        }
        let mut items: Vec<u32> = set.iter().map(|&v| internal.get(v as usize).copied().unwrap_or(u32::MAX)).collect();
        if items.contains(&u32::MAX) {
            continue;
        }
        items.sort_unstable();
        if items.windows(2).any(|w| w[0] == w[1]) {
            continue;
        }
        sets.push((items, *count));
    }
    // By size, then items: every subset comes before its supersets.
    let by_size = |a: &[u32], b: &[u32]| a.len().cmp(&b.len()).then_with(|| a.cmp(b));
    sets.sort_unstable_by(|a, b| by_size(&a.0, &b.0));
    sets.dedup_by(|a, b| a.0 == b.0);
    // Itemsets whose subsets are not all there (the table changed between
    // the rounds) cannot be trusted: dropped, length by length. `closed`
    // keeps the order of `sets`, so a subset is a binary search away.
    let mut closed: Vec<(Vec<u32>, u32)> = Vec::with_capacity(sets.len());
    let mut sub = Vec::new();
    for (set, count) in sets {
        if closed.len().is_multiple_of(4096) {
            tick();
        }
        let whole = set.len() == 1
            || (0..set.len()).all(|skip| {
                without(&set, skip, &mut sub);
                closed.binary_search_by(|(s, _)| by_size(s, &sub)).is_ok()
            });
        if whole {
            closed.push((set, count));
        }
        if budget_bytes(0, closed.len() as u64) > params.memory_limit {
            return Err(MineError::MemoryLimit { limit_bytes: params.memory_limit });
        }
    }
    let tree = ItemsetTree::from_sorted(n, frequent, &closed);
    let baskets = std::sync::Arc::new(Baskets::named(names));
    let (vocab_rank, by_rank) = name_ranks(&baskets, 0);
    let packed = params.max_length <= 4 && baskets.n_items() < 0xffff;
    let total = AtomicU64::new(0);
    let mut collector = Collector::new(params, &vocab_rank, packed, min_support_count, n, &total);
    let mut items = Vec::new();
    let mut drop_counts = Vec::new();
    for node in 1..=tree.n_itemsets() as u32 {
        if node % 4096 == 0 {
            tick();
        }
        tree.items_of(node, &mut items);
        drop_counts.clear();
        for skip in 0..items.len() {
            without(&items, skip, &mut sub);
            drop_counts.push(tree.count_of(&sub).unwrap_or(0));
        }
        let found = Found {
            node: NodeRef { top: u32::MAX, local: node },
            count: tree.count(node),
            items: &items,
            drop_counts: &drop_counts,
        };
        collector.visit(&tree, found)?;
    }
    let rules = collector.rules;
    check_budgets(rules.len() as u64, tree.n_itemsets() as u64, params)?;
    let mut set =
        RuleSet { baskets, tree, rules: Vec::new(), vocab_rank, by_rank, packed, threads: params.threads.max(1) };
    set.sort(vec![rules], tick);
    Ok(set)
}

/// Each item's rank in name order (`u32::MAX` for an item below
/// `min_count`), and the items by rank.
fn name_ranks(baskets: &Baskets, min_count: u32) -> (Vec<u32>, Vec<u32>) {
    // Only items held by `min_count` baskets can be in a rule: only they
    // are ranked (a large catalog's tail is most of its names).
    let mut by_rank: Vec<u32> = if min_count > 1 {
        let counts = baskets.item_counts();
        (0..baskets.n_items() as u32).filter(|&i| counts[i as usize] >= min_count).collect()
    } else {
        (0..baskets.n_items() as u32).collect()
    };
    by_rank.sort_unstable_by(|&a, &b| baskets.item_name(a).cmp(baskets.item_name(b)));
    let mut vocab_rank = vec![u32::MAX; baskets.n_items()];
    for (rank, &v) in by_rank.iter().enumerate() {
        vocab_rank[v as usize] = rank as u32;
    }
    (vocab_rank, by_rank)
}

/// Bytes `rules` rules over `itemsets` itemsets take, as the budget counts
/// them.
fn budget_bytes(rules: u64, itemsets: u64) -> u64 {
    rules.saturating_mul(RULE_PEAK_BYTES).saturating_add(itemsets.saturating_mul(NODE_BYTES))
}

/// The rule budget and the memory budget of `params`, for `rules` rules
/// over `itemsets` itemsets.
fn check_budgets(rules: u64, itemsets: u64, params: &MineParams) -> Result<(), MineError> {
    if rules > params.max_rules {
        return Err(MineError::TooManyRules { limit: params.max_rules });
    }
    if budget_bytes(rules, itemsets) > params.memory_limit {
        return Err(MineError::MemoryLimit { limit_bytes: params.memory_limit });
    }
    Ok(())
}

/// The next larger number with as many bits set (Gosper's hack).
fn next_same_popcount(mask: u64) -> u64 {
    let low = mask & mask.wrapping_neg();
    let ripple = mask + low;
    (((ripple ^ mask) >> 2) / low) | ripple
}

impl RuleSet {
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Number of baskets mined.
    pub fn n_baskets(&self) -> u32 {
        self.tree.n_baskets()
    }

    /// Bytes the rules and the itemset tree take, as the rule budget counts
    /// them.
    pub fn bytes(&self) -> u64 {
        budget_bytes(self.rules.len() as u64, self.tree.n_itemsets() as u64)
    }

    /// Number of frequent itemsets found.
    pub fn n_itemsets(&self) -> usize {
        self.tree.n_itemsets()
    }

    fn measures(&self, r: &PackedRule) -> Measures {
        Measures::from_counts(self.tree.n_baskets(), r.count_ac, r.count_a, r.count_c)
    }

    /// Antecedent and consequent as name ranks, each ascending.
    fn sides_by_rank(&self, r: &PackedRule, items: &mut Vec<u32>) -> (Vec<u32>, Vec<u32>) {
        if self.packed {
            return unpack(r.names);
        }
        self.tree.items_of(r.node, items);
        let (mut a, mut c) = (Vec::new(), Vec::new());
        for (i, &it) in items.iter().enumerate() {
            let rank = self.vocab_rank[self.tree.vocab_id(it) as usize];
            if r.consequent >> i & 1 == 1 {
                c.push(rank)
            } else {
                a.push(rank)
            }
        }
        a.sort_unstable();
        c.sort_unstable();
        (a, c)
    }

    /// Puts the rules in the documented order: lift descending, then
    /// confidence descending, then count descending, then antecedent and
    /// consequent ascending (as arrays of names in byte order, element by
    /// element, a shorter array first when it is a prefix of the other).
    /// On the set's threads when the rules are many (the calling thread waits).
    /// The rules come in `parts` (one per mining thread) and are gathered
    /// into the set in that order.
    fn sort(&mut self, parts: Vec<Vec<PackedRule>>, tick: &mut dyn FnMut()) {
        // A rule's number across the parts, in their order, and back.
        let starts: Vec<usize> = parts
            .iter()
            .scan(0, |next, p| {
                let at = *next;
                *next += p.len();
                Some(at)
            })
            .collect();
        let n: usize = parts.iter().map(Vec::len).sum();
        let rule = |i: u32| -> &PackedRule {
            let p = starts.partition_point(|&s| s <= i as usize) - 1;
            &parts[p][i as usize - starts[p]]
        };
        let key = |i: usize, r: &PackedRule| {
            let m = self.measures(r);
            (m.lift, m.confidence, r.count_ac, r.names, i as u32)
        };
        let numeric = |x: &(f64, f64, u32, u128, u32), y: &(f64, f64, u32, u128, u32)| {
            y.0.total_cmp(&x.0).then(y.1.total_cmp(&x.1)).then(y.2.cmp(&x.2)).then(x.3.cmp(&y.3))
        };
        tick();
        let pool = thread_pool(self.threads, n);
        let mut keyed: Vec<(f64, f64, u32, u128, u32)> = match &pool {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                let mut keyed: Vec<_> = parts
                    .par_iter()
                    .zip(&starts)
                    .flat_map(|(part, &start)| part.par_iter().enumerate().map(move |(j, r)| key(start + j, r)))
                    .collect();
                keyed.par_sort_unstable_by(numeric);
                keyed
            }),
            None => {
                let mut keyed: Vec<_> = parts
                    .iter()
                    .zip(&starts)
                    .flat_map(|(part, &start)| part.iter().enumerate().map(move |(j, r)| key(start + j, r)))
                    .collect();
                keyed.sort_unstable_by(numeric);
                keyed
            }
        };
        tick();
        if !self.packed {
            // Break the remaining ties by the item names, from the tree.
            let mut items = Vec::new();
            let mut start = 0;
            while start < keyed.len() {
                let mut end = start + 1;
                while end < keyed.len() && numeric(&keyed[start], &keyed[end]) == Ordering::Equal {
                    end += 1;
                }
                if end - start > 1 {
                    let mut run: Vec<((Vec<u32>, Vec<u32>), u32)> =
                        keyed[start..end].iter().map(|k| (self.sides_by_rank(rule(k.4), &mut items), k.4)).collect();
                    run.sort_unstable();
                    for (slot, (_, idx)) in keyed[start..end].iter_mut().zip(run) {
                        slot.4 = idx;
                    }
                }
                start = end;
            }
        }
        self.rules = match &pool {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                keyed.par_iter().map(|k| *rule(k.4)).collect()
            }),
            None => keyed.iter().map(|k| *rule(k.4)).collect(),
        };
    }

    /// The `i`-th rule in output order.
    pub fn row(&self, i: usize) -> RuleRow<'_> {
        let r = &self.rules[i];
        let (ante, cons) = self.sides_by_rank(r, &mut Vec::new());
        let name = |rank: u32| self.baskets.item_name(self.by_rank[rank as usize]);
        let antecedent = ante.into_iter().map(name).collect();
        let consequent = cons.into_iter().map(name).collect();
        let m = self.measures(r);
        RuleRow {
            antecedent,
            consequent,
            support: m.support,
            confidence: m.confidence,
            lift: m.lift,
            leverage: m.leverage,
            conviction: m.conviction,
            count: r.count_ac as u64,
        }
    }

    /// Rule `i`'s sides as name ranks (see [`RuleSet::name_of_rank`]), each
    /// ascending, written into `ante` and `cons`: [`RuleSet::row`] without
    /// allocating, for callers that turn names into something else once.
    pub fn sides_into(&self, i: usize, items: &mut Vec<u32>, ante: &mut Vec<u32>, cons: &mut Vec<u32>) {
        let r = &self.rules[i];
        ante.clear();
        cons.clear();
        if self.packed {
            unpack_into(r.names, ante, cons);
            return;
        }
        let (a, c) = self.sides_by_rank(r, items);
        ante.extend(a);
        cons.extend(c);
    }

    /// The name of the item of rank `rank` in name order.
    pub fn name_of_rank(&self, rank: u32) -> &str {
        self.baskets.item_name(self.by_rank[rank as usize])
    }

    /// Number of ranked names (the items frequent enough to be in a rule),
    /// the bound of ranks.
    pub fn n_names(&self) -> usize {
        self.by_rank.len()
    }

    /// Rule `i`'s measures and count, as in [`RuleSet::row`].
    pub fn measures_of(&self, i: usize) -> (Measures, u64) {
        let r = &self.rules[i];
        (self.measures(r), r.count_ac as u64)
    }

    pub fn rows(&self) -> impl Iterator<Item = RuleRow<'_>> + '_ {
        (0..self.len()).map(move |i| self.row(i))
    }

    /// One-sided Fisher's exact p-value of each rule, in output order (see
    /// [`crate::significance::fisher_greater`]).
    pub fn p_values(&self) -> Vec<f64> {
        let n = self.tree.n_baskets() as u64;
        // A table of ln k! pays off from a few thousand rules on.
        let table = (self.rules.len() as u64 * 4 > n).then(|| crate::significance::LnFactorials::new(n));
        let p = |r: &PackedRule| {
            let (ac, a, c) = (r.count_ac as u64, r.count_a as u64, r.count_c as u64);
            match &table {
                Some(t) => t.fisher_greater(n, ac, a, c),
                None => crate::significance::fisher_greater(n, ac, a, c),
            }
        };
        match thread_pool(self.threads, self.rules.len()) {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                self.rules.par_iter().map(p).collect()
            }),
            None => self.rules.iter().map(p).collect(),
        }
    }

    /// Corrects the p-values of these rules ([`Self::p_values`]) for their
    /// number, on the mining threads (see
    /// [`crate::significance::adjust`]).
    pub fn adjust_p_values(&self, p: &mut [f64], how: crate::significance::PAdjust) {
        let pool = thread_pool(self.threads, p.len());
        crate::significance::adjust_in(p, how, pool.as_ref());
    }

    /// The improvement of each rule, in output order: its confidence minus
    /// the highest confidence of a more general rule with the same
    /// consequent (an antecedent that is a proper subset of its own, the
    /// empty one included, whose confidence is the consequent's support).
    /// Counted on the data: every subset of a frequent itemset is in the
    /// tree. A rule with an empty antecedent has no more general rule:
    /// `+Infinity`. `tick` is called regularly (cancellation).
    pub fn improvements(&self, tick: &mut dyn FnMut()) -> Vec<f64> {
        let n = self.tree.n_baskets() as f64;
        let (mut items, mut ante, mut sub, mut with_c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut out = Vec::with_capacity(self.rules.len());
        for (i, r) in self.rules.iter().enumerate() {
            if i % 4096 == 0 {
                tick();
            }
            self.tree.items_of(r.node, &mut items);
            ante.clear();
            ante.extend((0..items.len()).filter(|&k| r.consequent >> k & 1 == 0));
            if ante.is_empty() {
                out.push(f64::INFINITY);
                continue;
            }
            let mut best = r.count_c as f64 / n;
            // Proper, non-empty subsets of the antecedent, by mask over `ante`.
            for mask in 1u64..(1u64 << ante.len()) - 1 {
                sub.clear();
                with_c.clear();
                let chosen = |k: usize| ante.iter().position(|&x| x == k).is_some_and(|p| mask >> p & 1 == 1);
                for (k, &it) in items.iter().enumerate() {
                    let in_c = r.consequent >> k & 1 == 1;
                    if chosen(k) {
                        sub.push(it);
                        with_c.push(it);
                    } else if in_c {
                        with_c.push(it);
                    }
                }
                if let (Some(a), Some(ac)) = (self.tree.count_of(&sub), self.tree.count_of(&with_c)) {
                    best = best.max(ac as f64 / a as f64);
                }
            }
            out.push(r.count_ac as f64 / r.count_a as f64 - best);
        }
        out
    }

    /// Srikant and Agrawal's filter for rules mined across a hierarchy
    /// ("Mining generalized association rules", VLDB 1995): whether each
    /// rule, in output order, is `r`-interesting with respect to each of its
    /// close ancestors. A close ancestor replaces one item by its closest
    /// ancestor (`{banana} => {milk}` has `{aisle: fruit} => {milk}`), on
    /// the same side; the ones holding an item and its own ancestor do not
    /// count. From the ancestor, independence predicts the rule's support
    /// `support(ancestor) · support(item) / support(its ancestor)`, and its
    /// confidence as the ancestor's (the same ratio applied when the item
    /// is in the consequent). The rule is kept when its support or its
    /// confidence is at least `r` times the predicted one for every close
    /// ancestor: otherwise the more general rule already says it. Counted on
    /// the data: in a hierarchy that is a tree, an ancestor's itemsets are
    /// at least as frequent as the rule's, so they are in the tree (where a
    /// lookup is not a tree, an ancestor below the minimum support is not
    /// compared with). Without a hierarchy, every rule is kept. `tick` is called regularly (cancellation).
    pub fn interesting(&self, r: f64, tick: &mut dyn FnMut()) -> Vec<bool> {
        let Some(tax) = self.baskets.taxonomy() else {
            return vec![true; self.rules.len()];
        };
        const NONE: u32 = u32::MAX;
        let mut internal = vec![NONE; self.baskets.n_items()];
        for i in 0..self.tree.n_items() as u32 {
            internal[self.tree.vocab_id(i) as usize] = i;
        }
        let n = self.tree.n_baskets();
        let (mut items, mut anc, mut anc_a) = (Vec::new(), Vec::new(), Vec::new());
        let at_least = |x: f64, y: f64| x >= y * (1.0 - 1e-12);
        let mut out = Vec::with_capacity(self.rules.len());
        for (i, rule) in self.rules.iter().enumerate() {
            if i % 4096 == 0 {
                tick();
            }
            self.tree.items_of(rule.node, &mut items);
            let confidence = rule.count_ac as f64 / rule.count_a as f64;
            let mut keep = true;
            for (k, &z) in items.iter().enumerate() {
                let Some(pv) = tax.parent(self.tree.vocab_id(z)) else { continue };
                let p = internal[pv as usize];
                if p == NONE
                    || items
                        .iter()
                        .enumerate()
                        .any(|(j, &y)| j != k && (y == p || tax.related(self.tree.vocab_id(y), pv)))
                {
                    continue;
                }
                let in_c = rule.consequent >> k & 1 == 1;
                anc.clear();
                anc_a.clear();
                for (j, &y) in items.iter().enumerate() {
                    let y = if j == k { p } else { y };
                    anc.push(y);
                    if rule.consequent >> j & 1 == 0 {
                        anc_a.push(y);
                    }
                }
                anc.sort_unstable();
                anc_a.sort_unstable();
                let count_anc_a = if in_c {
                    Some(rule.count_a)
                } else if anc_a.is_empty() {
                    Some(n)
                } else {
                    self.tree.count_of(&anc_a)
                };
                let (Some(count_anc), Some(count_anc_a)) = (self.tree.count_of(&anc), count_anc_a) else { continue };
                let ratio = self.tree.item_count(z) as f64 / self.tree.item_count(p) as f64;
                let expected_count = count_anc as f64 * ratio;
                let expected_confidence = count_anc as f64 / count_anc_a as f64 * if in_c { ratio } else { 1.0 };
                if !(at_least(rule.count_ac as f64, r * expected_count)
                    || at_least(confidence, r * expected_confidence))
                {
                    keep = false;
                    break;
                }
            }
            out.push(keep);
        }
        out
    }

    /// Keeps the rules whose flag is set (flags in output order); the order
    /// of those kept does not change.
    pub fn retain(&mut self, keep: &[bool]) {
        let mut i = 0;
        self.rules.retain(|_| {
            let k = keep.get(i).copied().unwrap_or(true);
            i += 1;
            k
        });
    }
}
