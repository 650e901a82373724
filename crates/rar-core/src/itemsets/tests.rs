//! The search against itself: threads, the matrix, cancellation.

use std::sync::atomic::{AtomicBool, Ordering};

use super::count::count_range;
use super::search::{search, Forced};
use super::threads::StopOnDrop;
use super::*;
use crate::baskets::{Baskets, BasketsBuilder};

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
    let (tids, _) = count_range::<u32>(&data, &internal, data.n_items(), true, 1..100_000, |_| 0, &mut || {}, &stop);
    let seen = tids.iter().map(Vec::len).max().unwrap_or(0);
    assert!(seen <= 4096, "stopped at its first check, after {seen} baskets");
    let go = AtomicBool::new(false);
    let (tids, _) = count_range::<u32>(&data, &internal, data.n_items(), true, 1..100_000, |_| 0, &mut || {}, &go);
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
        let mut subset = Vec::new();
        for skip in 0..f.items.len() {
            super::tree::without(f.items, skip, &mut subset);
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
    found_with(b, limits, Forced { matrix, isolate, bits: None, wide: false })
}

fn found_with(b: &Baskets, limits: SearchLimits, forced: Forced) -> Vec<(Vec<u32>, u32, Vec<u32>)> {
    let mut visitors: Vec<Record> = (0..limits.threads).map(|_| Record::default()).collect();
    let tree = search(b, limits, &mut visitors, &mut || {}, forced).unwrap();
    let mut out: Vec<_> = visitors.into_iter().flat_map(|v| v.0).collect();
    out.sort();
    assert_eq!(out.len(), tree.n_itemsets(), "each itemset visited once");
    out
}

fn itemsets(b: &Baskets, min_count: u32, max_length: usize, matrix: bool, wide: bool) -> Vec<(Vec<u32>, u32)> {
    let limits = SearchLimits {
        min_count,
        max_length,
        antecedent_count: None,
        subset_counts: false,
        memory_limit: 1 << 30,
        threads: 1,
    };
    let forced = Forced { matrix: Some(matrix), isolate: false, bits: None, wide };
    found_with(b, limits, forced).into_iter().map(|(s, c, _)| (s, c)).collect()
}

/// Pairs counted from each item's baskets (no matrix) give the same
/// itemsets and counts as the matrix, with 16-bit cells and 32-bit ones,
/// on dense data and on a long tail.
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
            let with = itemsets(&b, min_count, max_length, true, false);
            let without = itemsets(&b, min_count, max_length, false, false);
            assert!(with.iter().any(|(s, _)| s.len() >= 2), "pairs to compare");
            assert_eq!(with, without, "{items} items, max_length {max_length}");
            assert_eq!(itemsets(&b, min_count, max_length, true, true), with, "32-bit cells, {items} items");
        }
    }
}

/// A pair in more baskets than a 16-bit cell holds is counted right
/// (the matrix is 32-bit then).
#[test]
fn counts_past_sixteen_bits() {
    let mut b = BasketsBuilder::default();
    for t in 0..70_000 {
        b.push(&t.to_string(), "a");
        b.push(&t.to_string(), "b");
    }
    let b = b.build();
    let pairs: Vec<u32> =
        itemsets(&b, 1, 2, true, false).into_iter().filter(|(s, _)| s.len() == 2).map(|(_, c)| c).collect();
    assert_eq!(pairs, vec![70_000]);
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

/// Candidates counted by probing bitsets of items' baskets give the same
/// itemsets, counts and drop counts as merging tid-lists: bitsets for
/// every item, for none, and for the most frequent few, on one thread and
/// on three.
#[test]
fn bitsets_change_nothing() {
    for (seed, items, n, size, min_count) in [(4, 30, 700, 8, 6), (5, 300, 3000, 12, 4), (6, 12, 150, 5, 2)] {
        let b = random_baskets(seed, items, n, size).build();
        for max_length in [3, 4, 5] {
            for antecedent_count in [None, Some(min_count * 3)] {
                for threads in [1, 3] {
                    let limits = SearchLimits {
                        min_count,
                        max_length,
                        antecedent_count,
                        subset_counts: antecedent_count.is_none(),
                        memory_limit: 1 << 30,
                        threads,
                    };
                    let forced = |bits| Forced { matrix: None, isolate: false, bits, wide: false };
                    let want = found_with(&b, limits, forced(Some(0)));
                    assert!(want.iter().any(|(s, _, _)| s.len() == max_length.min(4)), "deep itemsets to compare");
                    let what = format!("seed {seed}, max_length {max_length}, {antecedent_count:?}, {threads} threads");
                    assert_eq!(found_with(&b, limits, forced(Some(usize::MAX))), want, "every item, {what}");
                    assert_eq!(found_with(&b, limits, forced(None)), want, "by the budget, {what}");
                    assert_eq!(found_with(&b, limits, forced(Some(5))), want, "the five most frequent, {what}");
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
