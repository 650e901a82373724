//! Rules of a table whose baskets lie whole on several shards (a Citus table
//! distributed by its basket column), counted where the baskets are: the two
//! rounds of Savasere, Omiecinski and Navathe (SON, VLDB 1995).
//!
//! 1. Each shard mines its own frequent itemsets at the same share of *its*
//!    baskets ([`local_min_count`]) and sends them ([`ShardItemsets`]). An
//!    itemset frequent in the whole table is frequent on at least one shard
//!    (if it fell short on every shard it would fall short in their sum), so
//!    the union of the shards' itemsets ([`Union`]) holds every frequent
//!    itemset: these are the candidates.
//! 2. Each shard counts every candidate exactly on its baskets
//!    ([`count_candidates`]) and sends the counts ([`ShardCounts`]); their
//!    sums are the itemsets' counts in the whole table, and
//!    [`crate::rules::rules_from_counts`] makes the same rules of them as
//!    mining the whole table at once.
//!
//! Only itemsets and counts cross the network, never baskets. A shard whose
//! share of `min_support` is below [`MIN_LOCAL_COUNT`] baskets declines
//! (its candidates would be most of its itemsets); the caller then mines
//! the baskets in one place.
//!
//! The messages are bytes (LEB128 numbers, as [`crate::partial`]), read back
//! with every length checked against the bytes and the memory budget.

use std::collections::HashMap;

use crate::baskets::Baskets;
use crate::error::MineError;
use crate::intersect::intersect_into;
use crate::itemsets::{mine_itemsets, Counts, Found, SearchLimits, Visitor};
use crate::params::{MineParams, MAX_LENGTH};
use crate::partial::{put_varint, BadState, Reader, StateError};

const MAGIC: &[u8; 4] = b"RARS";
const VERSION: u8 = 1;
const KIND_ITEMSETS: u8 = 1;
const KIND_CANDIDATES: u8 = 2;
const KIND_COUNTS: u8 = 3;

/// The fewest baskets an itemset must reach on a shard for the shard to
/// take part: below it a shard's frequent itemsets are most of its itemsets
/// (at 1, every combination of every basket), more work and bytes than
/// sending the baskets.
pub const MIN_LOCAL_COUNT: u32 = 20;

/// The share of baskets an itemset needs to be a candidate on a shard: the
/// share it needs in the whole table (with the antecedent's support, the
/// itemset's own, `min_confidence * min_support`).
pub fn local_share(params: &MineParams) -> f64 {
    match params.support_of {
        crate::params::SupportOf::Rule => params.min_support,
        crate::params::SupportOf::Antecedent => params.min_support * params.min_confidence,
    }
}

/// The least count on a shard of `n_local` baskets that makes an itemset a
/// candidate: `share * n_local` rounded up, less a tolerance larger than
/// the one of [`MineParams::min_count`], so that rounding can only add
/// candidates, never lose one. If an itemset's count were below this on
/// every shard, its total would be below `share * n` and so below the
/// table's least count.
pub fn local_min_count(share: f64, n_local: u64) -> u32 {
    let x = share * n_local as f64;
    (x - 1e-6).ceil().clamp(1.0, u32::MAX as f64) as u32
}

/// Itemsets over named items: the candidates of round 1, and the request of
/// round 2. Each itemset is ascending indices into `names`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    pub names: Vec<String>,
    items: Vec<u32>,
    ends: Vec<usize>,
}

impl Candidates {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Itemset `i`: ascending indices into `names`.
    pub fn get(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.items[start..self.ends[i]]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Bytes in memory.
    pub fn heap_bytes(&self) -> u64 {
        let names: usize = self.names.iter().map(|n| n.len() + 24).sum();
        (names + self.items.len() * 4 + self.ends.len() * 8) as u64
    }

    fn push(&mut self, set: &[u32]) {
        self.items.extend_from_slice(set);
        self.ends.push(self.items.len());
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_varint(out, self.names.len() as u64);
        for name in &self.names {
            put_varint(out, name.len() as u64);
            out.extend_from_slice(name.as_bytes());
        }
        put_varint(out, self.len() as u64);
        for set in self.iter() {
            put_varint(out, set.len() as u64);
            let mut prev = 0u32;
            for (k, &v) in set.iter().enumerate() {
                put_varint(out, u64::from(if k == 0 { v } else { v - prev - 1 }));
                prev = v;
            }
        }
    }

    fn read(r: &mut Reader<'_>, limit: u64, check: &mut dyn FnMut()) -> Result<Candidates, StateError> {
        let mut c = Candidates::default();
        let n_names = r.count()?;
        let mut bytes = 0u64;
        for k in 0..n_names {
            if k % 4096 == 0 {
                check();
            }
            let len = r.len()?;
            let name = r.str_of(len)?;
            bytes += len as u64 + 24;
            c.names.push(name.to_string());
            if bytes > limit {
                return Err(StateError::TooLarge { bytes });
            }
        }
        let n_sets = r.count()?;
        for k in 0..n_sets {
            if k % 4096 == 0 {
                check();
            }
            let len = r.count()?;
            if len == 0 || len > MAX_LENGTH {
                return Err(BadState("an itemset of no items or too many").into());
            }
            let mut prev = 0u64;
            for j in 0..len {
                let d = r.varint()?;
                let v = if j == 0 { d } else { prev.checked_add(d).and_then(|v| v.checked_add(1)).unwrap_or(u64::MAX) };
                if v >= n_names as u64 {
                    return Err(BadState("an item out of range").into());
                }
                c.items.push(v as u32);
                prev = v;
            }
            c.ends.push(c.items.len());
            bytes += 8 + 4 * len as u64;
            if bytes > limit {
                return Err(StateError::TooLarge { bytes });
            }
        }
        Ok(c)
    }
}

fn header(kind: u8) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(VERSION);
    out.push(kind);
    out
}

fn open(bytes: &[u8], kind: u8) -> Result<Reader<'_>, BadState> {
    let mut r = Reader::new(bytes);
    if r.take(4)? != MAGIC {
        return Err(BadState("not a rar shard message"));
    }
    let version = r.take(1)?[0];
    if version != VERSION {
        return Err(BadState("a shard message of another version of rar"));
    }
    if r.take(1)?[0] != kind {
        return Err(BadState("a shard message of another kind"));
    }
    Ok(r)
}

fn finish<T>(r: &Reader<'_>, value: T) -> Result<T, StateError> {
    if !r.at_end() {
        return Err(BadState("bytes after the end").into());
    }
    Ok(value)
}

/// Round 1's answer of one shard.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShardItemsets {
    pub n_baskets: u64,
    /// The shard's least count was below [`MIN_LOCAL_COUNT`]: no itemsets.
    pub declined: bool,
    pub itemsets: Candidates,
}

impl ShardItemsets {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header(KIND_ITEMSETS);
        put_varint(&mut out, self.n_baskets);
        out.push(self.declined as u8);
        self.itemsets.write(&mut out);
        out
    }

    pub fn from_bytes_within(bytes: &[u8], limit: u64, check: &mut dyn FnMut()) -> Result<ShardItemsets, StateError> {
        let mut r = open(bytes, KIND_ITEMSETS)?;
        let n_baskets = r.varint()?;
        let declined = match r.take(1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(BadState("a flag that is neither 0 nor 1").into()),
        };
        let itemsets = Candidates::read(&mut r, limit, check)?;
        finish(&r, ShardItemsets { n_baskets, declined, itemsets })
    }
}

/// Round 2's request: the candidates every shard counts.
pub fn candidates_to_bytes(c: &Candidates) -> Vec<u8> {
    let mut out = header(KIND_CANDIDATES);
    c.write(&mut out);
    out
}

pub fn candidates_from_bytes_within(
    bytes: &[u8],
    limit: u64,
    check: &mut dyn FnMut(),
) -> Result<Candidates, StateError> {
    let mut r = open(bytes, KIND_CANDIDATES)?;
    let c = Candidates::read(&mut r, limit, check)?;
    finish(&r, c)
}

/// Round 2's answer of one shard: its baskets and each candidate's count
/// on them, in the request's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShardCounts {
    pub n_baskets: u64,
    pub null_lines: u64,
    pub counts: Vec<u32>,
}

impl ShardCounts {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header(KIND_COUNTS);
        put_varint(&mut out, self.n_baskets);
        put_varint(&mut out, self.null_lines);
        put_varint(&mut out, self.counts.len() as u64);
        for &c in &self.counts {
            put_varint(&mut out, u64::from(c));
        }
        out
    }

    /// Reads the counts of `expected` candidates.
    pub fn from_bytes(bytes: &[u8], expected: usize) -> Result<ShardCounts, StateError> {
        let mut r = open(bytes, KIND_COUNTS)?;
        let n_baskets = r.varint()?;
        let null_lines = r.varint()?;
        let n = r.count()?;
        if n != expected {
            return Err(BadState("counts of other candidates").into());
        }
        let mut counts = Vec::with_capacity(n);
        for _ in 0..n {
            let c = r.varint()?;
            if c > n_baskets || c > u64::from(u32::MAX) {
                return Err(BadState("a count above the baskets").into());
            }
            counts.push(c as u32);
        }
        finish(&r, ShardCounts { n_baskets, null_lines, counts })
    }
}

/// A visitor that looks at nothing: round 1 wants the tree only.
struct Nothing;

impl Visitor for Nothing {
    fn visit(&mut self, _: &dyn Counts, _: Found<'_>) -> Result<(), MineError> {
        Ok(())
    }
}

/// Round 1 on one shard: the itemsets of at most `params.max_length` items
/// that reach [`local_min_count`] on `baskets`, or a refusal when that is
/// below [`MIN_LOCAL_COUNT`].
pub fn local_itemsets(
    baskets: &Baskets,
    params: &MineParams,
    tick: &mut dyn FnMut(),
) -> Result<ShardItemsets, MineError> {
    params.validate()?;
    let n_baskets = baskets.len() as u64;
    let min_count = local_min_count(local_share(params), n_baskets);
    if min_count < MIN_LOCAL_COUNT && n_baskets > 0 {
        return Ok(ShardItemsets { n_baskets, declined: true, itemsets: Candidates::default() });
    }
    let limits = SearchLimits {
        min_count,
        max_length: params.max_length,
        antecedent_count: None,
        subset_counts: false,
        memory_limit: params.memory_limit,
        threads: params.threads.max(1),
    };
    let mut visitors: Vec<Nothing> = (0..limits.threads).map(|_| Nothing).collect();
    let tree = mine_itemsets(baskets, limits, &mut visitors, tick)?;
    // Names of the frequent items only, by the tree's internal number.
    let mut out = Candidates {
        names: (0..tree.n_items() as u32).map(|i| baskets.item_name(tree.vocab_id(i)).to_string()).collect(),
        ..Candidates::default()
    };
    let mut items = Vec::new();
    for node in 1..=tree.n_itemsets() as u32 {
        if node % 4096 == 0 {
            tick();
        }
        tree.items_of(node, &mut items);
        out.push(&items);
        if out.heap_bytes() > params.memory_limit {
            return Err(MineError::MemoryLimit { limit_bytes: params.memory_limit });
        }
    }
    Ok(ShardItemsets { n_baskets, declined: false, itemsets: out })
}

/// The union of the shards' candidates, each itemset once, over one list of
/// names.
#[derive(Debug, Default)]
pub struct Union {
    ids: HashMap<String, u32>,
    seen: std::collections::HashSet<Box<[u32]>>,
    out: Candidates,
    bytes: u64,
}

impl Union {
    /// Adds a shard's itemsets; fails when the union outgrows `limit` bytes.
    pub fn add(&mut self, shard: &Candidates, limit: u64, tick: &mut dyn FnMut()) -> Result<(), MineError> {
        let map: Vec<u32> = shard
            .names
            .iter()
            .map(|name| {
                let next = self.out.names.len() as u32;
                *self.ids.entry(name.clone()).or_insert_with(|| {
                    self.out.names.push(name.clone());
                    self.bytes += 2 * (name.len() as u64 + 24);
                    next
                })
            })
            .collect();
        let mut set = Vec::new();
        for (k, local) in shard.iter().enumerate() {
            if k % 4096 == 0 {
                tick();
            }
            set.clear();
            set.extend(local.iter().map(|&i| map[i as usize]));
            set.sort_unstable();
            if !self.seen.contains(set.as_slice()) {
                self.seen.insert(set.clone().into_boxed_slice());
                self.out.push(&set);
                // The set twice (the union and its index) and the hash slot.
                self.bytes += 8 * set.len() as u64 + 48;
                if self.bytes > limit {
                    return Err(MineError::MemoryLimit { limit_bytes: limit });
                }
            }
        }
        Ok(())
    }

    /// The candidates, in the order they were first seen.
    pub fn into_candidates(self) -> Candidates {
        self.out
    }
}

/// Round 2 on one shard: the count of every candidate on `baskets`
/// (0 for one with an item the shard never saw). Works over tid-lists,
/// the candidates in order of their items, so that a candidate extends the
/// intersection of the one before it where they share a prefix.
pub fn count_candidates(
    baskets: &Baskets,
    candidates: &Candidates,
    memory_limit: u64,
    tick: &mut dyn FnMut(),
) -> Result<Vec<u32>, MineError> {
    // The tid-lists, each candidate's local items with its place (a vector
    // and a slot each) and its count, and the intersections of one
    // candidate's prefixes.
    let tid_bytes = baskets.iter().map(|b| b.len() as u64 * 4).sum::<u64>() + baskets.n_items() as u64 * 24;
    let longest = candidates.iter().map(<[u32]>::len).max().unwrap_or(0) as u64;
    let needed = tid_bytes
        + candidates.len() as u64 * 60
        + candidates.items.len() as u64 * 4
        + longest * (baskets.len() as u64 * 4 + 24);
    if needed > memory_limit {
        return Err(MineError::MemoryLimit { limit_bytes: memory_limit });
    }
    let (tids, by_name) = baskets.tid_lists();
    let local: Vec<Option<u32>> = candidates.names.iter().map(|n| by_name.get(n.as_str()).copied()).collect();
    let mut counts = vec![0u32; candidates.len()];
    // Candidates whose items all occur here, as local ids ascending.
    let mut sets: Vec<(Vec<u32>, usize)> = Vec::new();
    for (k, set) in candidates.iter().enumerate() {
        let ids: Option<Vec<u32>> = set.iter().map(|&i| local[i as usize]).collect();
        if let Some(mut ids) = ids {
            ids.sort_unstable();
            sets.push((ids, k));
        }
    }
    sets.sort_unstable();
    let n = baskets.len() as u32;
    // `stack[d]`: the baskets holding the first `d + 1` items of `prev`.
    let mut stack: Vec<Vec<u32>> = Vec::new();
    let mut prev: &[u32] = &[];
    for (done, (ids, k)) in sets.iter().enumerate() {
        if done % 1024 == 0 {
            tick();
        }
        let shared = prev.iter().zip(ids).take_while(|(a, b)| a == b).count().min(stack.len());
        stack.truncate(shared);
        for d in shared..ids.len() {
            let next = match d {
                0 => tids[ids[0] as usize].clone(),
                _ => {
                    let mut out = Vec::new();
                    intersect_into(&stack[d - 1], &tids[ids[d] as usize], 0, &mut out);
                    out
                }
            };
            stack.push(next);
        }
        counts[*k] = if ids.is_empty() { n } else { stack[ids.len() - 1].len() as u32 };
        prev = ids;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baskets::BasketsBuilder;
    use crate::params::SupportOf;
    use crate::rules::{mine_rules, rules_from_counts, RuleSet};

    fn build(baskets: &[Vec<String>]) -> Baskets {
        let mut b = BasketsBuilder::default();
        for (t, items) in baskets.iter().enumerate() {
            for i in items {
                b.push(&t.to_string(), i);
            }
        }
        b.build()
    }

    fn rows(r: &RuleSet) -> Vec<String> {
        r.rows()
            .map(|x| format!("{:?} => {:?} {} {:.12} {:.12}", x.antecedent, x.consequent, x.count, x.support, x.lift))
            .collect()
    }

    /// The two rounds over `shards`, as the coordinator runs them.
    fn by_rounds(shards: &[Baskets], params: &MineParams) -> Option<RuleSet> {
        let mut union = Union::default();
        for s in shards {
            let bytes = local_itemsets(s, params, &mut || {}).unwrap().to_bytes();
            let got = ShardItemsets::from_bytes_within(&bytes, u64::MAX, &mut || {}).unwrap();
            if got.declined {
                return None;
            }
            union.add(&got.itemsets, u64::MAX, &mut || {}).unwrap();
        }
        let cands = union.into_candidates();
        let request = candidates_from_bytes_within(&candidates_to_bytes(&cands), u64::MAX, &mut || {}).unwrap();
        assert_eq!(request, cands);
        let mut total = vec![0u32; cands.len()];
        let mut n = 0u64;
        for s in shards {
            let counts = ShardCounts {
                n_baskets: s.len() as u64,
                null_lines: 0,
                counts: count_candidates(s, &request, u64::MAX, &mut || {}).unwrap(),
            };
            let got = ShardCounts::from_bytes(&counts.to_bytes(), cands.len()).unwrap();
            n += got.n_baskets;
            for (t, c) in total.iter_mut().zip(got.counts) {
                *t += c;
            }
        }
        let counted: Vec<(Vec<u32>, u32)> = cands.iter().map(|s| s.to_vec()).zip(total).collect();
        Some(rules_from_counts(cands.names.clone(), n as u32, &counted, params, &mut || {}).unwrap())
    }

    /// Pseudo-random baskets with a few strong associations.
    fn generated(n: usize, seed: u64) -> Vec<Vec<String>> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|_| {
                let len = 1 + (next() % 7) as usize;
                let mut b: Vec<String> = (0..len).map(|_| format!("i{}", (next() % 40).min(next() % 40))).collect();
                if next() % 3 == 0 {
                    b.extend(["bread".to_string(), "butter".to_string()]);
                }
                b
            })
            .collect()
    }

    #[test]
    fn the_rounds_give_the_rules_of_the_whole_table() {
        for seed in 1..4u64 {
            // 7 shards of 1,714 baskets: 20 baskets are 1.2%, below every
            // share mined here.
            let all = generated(12000, seed);
            let whole = build(&all);
            // Baskets spread evenly, or with every basket of `bread` on the
            // first shard (its itemsets frequent there and rare elsewhere).
            for (n_shards, skewed) in [(1usize, false), (2, false), (3, false), (7, false), (3, true)] {
                let shard_of = |t: usize, b: &Vec<String>| {
                    if skewed && b.iter().any(|i| i == "bread") {
                        0
                    } else {
                        t % n_shards
                    }
                };
                let shards: Vec<Baskets> = (0..n_shards)
                    .map(|s| {
                        build(
                            &all.iter()
                                .enumerate()
                                .filter(|(t, b)| shard_of(*t, b) == s)
                                .map(|(_, b)| b.clone())
                                .collect::<Vec<_>>(),
                        )
                    })
                    .collect();
                for params in [
                    MineParams { min_support: 0.05, min_confidence: 0.2, ..MineParams::default() },
                    MineParams {
                        min_support: 0.03,
                        min_confidence: 0.1,
                        max_consequent: 2,
                        min_length: 2,
                        ..MineParams::default()
                    },
                    MineParams {
                        min_support: 0.04,
                        min_confidence: 0.3,
                        support_of: SupportOf::Antecedent,
                        ..MineParams::default()
                    },
                    MineParams {
                        min_support: 0.06,
                        min_confidence: 0.0,
                        max_length: 2,
                        min_lift: 1.1,
                        ..MineParams::default()
                    },
                ] {
                    let expected = mine_rules(whole.clone(), &params, &mut || {}).unwrap();
                    let got = by_rounds(&shards, &params).expect("shards large enough");
                    assert!(!expected.is_empty());
                    assert_eq!(
                        rows(&got),
                        rows(&expected),
                        "seed {seed}, {n_shards} shards (skewed: {skewed}), {params:?}"
                    );
                    assert_eq!(got.p_values(), expected.p_values());
                    assert_eq!(got.improvements(&mut || {}), expected.improvements(&mut || {}));
                }
            }
        }
    }

    #[test]
    fn small_shards_decline() {
        let all = generated(200, 9);
        let shard = build(&all);
        let params = MineParams { min_support: 0.05, ..MineParams::default() };
        let got = local_itemsets(&shard, &params, &mut || {}).unwrap();
        assert!(got.declined && got.itemsets.is_empty());
        assert_eq!(got.n_baskets, 200);
        // An empty shard has nothing to send and does not decline.
        let empty = local_itemsets(&build(&[]), &params, &mut || {}).unwrap();
        assert!(!empty.declined && empty.itemsets.is_empty());
    }

    #[test]
    fn the_local_threshold_never_loses_a_frequent_itemset() {
        // If every shard fell one short of its threshold, the total would
        // still be below the table's least count.
        for share in [0.001, 0.0033, 0.005, 0.01, 0.1, 0.25, 0.5] {
            for sizes in [vec![1000u64, 1000], vec![333, 333, 334], vec![9835], vec![17, 4000, 123_457], vec![0, 50]] {
                let n: u64 = sizes.iter().sum();
                let params = MineParams { min_support: share, ..MineParams::default() };
                let table = params.min_count(n as usize) as u64;
                let below: u64 = sizes.iter().map(|&s| local_min_count(share, s) as u64 - 1).sum();
                assert!(below < table || n == 0 || table == 1, "{share} {sizes:?}: {below} >= {table}");
            }
        }
    }

    #[test]
    fn damaged_messages_are_refused() {
        let all = generated(3000, 3);
        let params = MineParams { min_support: 0.05, ..MineParams::default() };
        let bytes = local_itemsets(&build(&all), &params, &mut || {}).unwrap().to_bytes();
        assert!(ShardItemsets::from_bytes_within(&bytes, u64::MAX, &mut || {}).is_ok());
        for cut in [0, 3, 5, 6, bytes.len() / 2, bytes.len() - 1] {
            assert!(ShardItemsets::from_bytes_within(&bytes[..cut], u64::MAX, &mut || {}).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ShardItemsets::from_bytes_within(&longer, u64::MAX, &mut || {}).is_err());
        assert!(matches!(ShardItemsets::from_bytes_within(&bytes, 100, &mut || {}), Err(StateError::TooLarge { .. })));
        assert!(candidates_from_bytes_within(&bytes, u64::MAX, &mut || {}).is_err(), "another kind");
        // A claimed count of 2^40 itemsets in a few bytes.
        let mut huge = header(KIND_CANDIDATES);
        put_varint(&mut huge, 0);
        put_varint(&mut huge, 1 << 40);
        assert!(candidates_from_bytes_within(&huge, u64::MAX, &mut || {}).is_err());
        let counts = ShardCounts { n_baskets: 5, null_lines: 1, counts: vec![5, 2] };
        assert_eq!(ShardCounts::from_bytes(&counts.to_bytes(), 2).unwrap(), counts);
        assert!(ShardCounts::from_bytes(&counts.to_bytes(), 3).is_err());
        let over = ShardCounts { n_baskets: 5, null_lines: 0, counts: vec![6] };
        assert!(ShardCounts::from_bytes(&over.to_bytes(), 1).is_err());
    }

    #[test]
    fn missing_subsets_are_dropped_not_trusted() {
        // {a, b} without {b}: the table changed between the rounds.
        let names = vec!["a".to_string(), "b".to_string()];
        let counted = vec![(vec![0], 10), (vec![0, 1], 9)];
        let params = MineParams { min_support: 0.1, min_confidence: 0.1, ..MineParams::default() };
        let r = rules_from_counts(names, 10, &counted, &params, &mut || {}).unwrap();
        assert_eq!(r.len(), 1, "only {{}} => {{a}}");
    }
}
