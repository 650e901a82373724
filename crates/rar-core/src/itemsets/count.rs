//! Tid-lists of the frequent items and their frequent pairs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use super::search::Shared;
use super::threads::{run_tasks, Halt};
use super::tree::{Node, NODE_BYTES};
use super::NONE;
use crate::baskets::Baskets;
use crate::error::MineError;

/// Baskets below which counting stays on one thread (each counting thread
/// fills a pair matrix of its own; on a few thousand baskets starting the
/// threads costs more than it saves).
pub(super) const PARALLEL_MIN_BASKETS: usize = 8_192;

/// Tid-lists and pair counts of the baskets in `range` (internal item
/// numbers; `pairs` empty when the matrix is not used).
pub(super) fn count_range<C: Cell>(
    baskets: &Baskets,
    internal: &[u32],
    m: usize,
    use_matrix: bool,
    range: std::ops::Range<usize>,
    capacity: impl Fn(usize) -> usize,
    tick: &mut dyn FnMut(),
    stop: &AtomicBool,
) -> (Vec<Vec<u32>>, Vec<C>) {
    let mut tids: Vec<Vec<u32>> = (0..m).map(|k| Vec::with_capacity(capacity(k))).collect();
    let mut pairs: Vec<C> = if use_matrix { vec![C::default(); m * (m - 1) / 2] } else { Vec::new() };
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
                    pairs[base + bb as usize] += C::ONE;
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

/// Largest pair-count matrix used, in bytes; beyond it, pairs are counted
/// from each item's baskets.
pub(super) const PAIR_MATRIX_MAX_BYTES: u64 = 256 << 20;

/// A cell of the pair-count matrix: 16 bits when no count can pass
/// 65,535 (fewer baskets than that), halving the matrix, whose cells are
/// updated in no order (a matrix that fits the processor's cache is
/// counted faster); 32 bits otherwise.
pub(super) trait Cell: Copy + Default + Send + Sync + std::ops::AddAssign + Into<u32> + 'static {
    const ONE: Self;
}

impl Cell for u16 {
    const ONE: u16 = 1;
}

impl Cell for u32 {
    const ONE: u32 = 1;
}

/// Tid-lists of the frequent items and their frequent pairs with later
/// items, into `shared`.
pub(super) fn count_pairs(
    shared: &mut Shared<'_>,
    internal: &[u32],
    threads: usize,
    tick: &mut dyn FnMut(),
    force_matrix: Option<bool>,
    force_wide: bool,
) -> Result<(), MineError> {
    if shared.baskets.len() <= u16::MAX as usize && !force_wide {
        count_pairs_in::<u16>(shared, internal, threads, tick, force_matrix)
    } else {
        count_pairs_in::<u32>(shared, internal, threads, tick, force_matrix)
    }
}

/// [`count_pairs`], with matrix cells of type `C`.
fn count_pairs_in<C: Cell>(
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
    // of baskets (its own matrix), the calling thread checking for
    // cancellation.
    let pair_bytes = (m as u64) * (m as u64 - 1) / 2 * std::mem::size_of::<C>() as u64;
    let use_matrix = force_matrix.unwrap_or(pair_bytes <= PAIR_MATRIX_MAX_BYTES.min(limits.memory_limit / 4));
    let row_start = |a: usize| a * m - a * (a + 1) / 2;
    let mut count_threads = if n < PARALLEL_MIN_BASKETS { 1 } else { threads };
    if use_matrix && pair_bytes > 0 {
        count_threads = count_threads.min(((limits.memory_limit / 4) / pair_bytes).max(1) as usize);
    }
    let bounds: Vec<usize> = (0..=count_threads).map(|k| n * k / count_threads).collect();
    let counts = &shared.counts;
    let full = |k: usize| counts[k] as usize;
    let capacity = |k: usize| if count_threads == 1 { full(k) } else { full(k) / count_threads + full(k) / 8 + 16 };
    let parts: Vec<OnceLock<(Vec<Vec<u32>>, Vec<C>)>> = (0..count_threads).map(|_| OnceLock::new()).collect();
    {
        let stop = &shared.stop;
        let task = |_: &mut (), k: usize, tick: &mut dyn FnMut()| -> Result<(), Halt> {
            let part = count_range(baskets, internal, m, use_matrix, bounds[k]..bounds[k + 1], capacity, tick, stop);
            let _ = parts[k].set(part);
            Ok(())
        };
        run_tasks(count_threads, &mut vec![(); count_threads], stop, tick, &task)?;
    }
    let mut parts = parts.into_iter().map(|p| p.into_inner().unwrap_or_default());
    let (tids, pairs) = if count_threads == 1 {
        parts.next().unwrap_or_default()
    } else {
        // Ranges in order: each tid-list comes out sorted.
        let mut tids: Vec<Vec<u32>> = (0..m).map(|k| Vec::with_capacity(full(k))).collect();
        let mut pairs: Vec<C> = Vec::new();
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
                        .filter(|&(_, &c)| c.into() >= limits.min_count)
                        .map(|(i, &c)| ((a + 1 + i) as u32, c.into())),
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
    } else {
        shared.release_bytes(8 * m as u64 * threads as u64);
    }
    drop(pairs);
    shared.pairs = lists.into_iter().map(|l| l.into_inner().unwrap_or_default()).collect();
    shared.tids = tids;
    Ok(())
}

/// Most bytes of bitsets (see [`build_bits`]), and at most this share of
/// the memory limit.
const BITSETS_MAX_BYTES: u64 = 64 << 20;
const BITSETS_LIMIT_SHARE: u64 = 8;

/// Bitsets of the baskets of the most frequent items, as many as
/// [`BITSETS_MAX_BYTES`] and an eighth of the memory limit allow (or as
/// many as `force`d, tests only): the search then finds the baskets of
/// a candidate with one probe per basket of its shorter side. A bitset of
/// `n` baskets takes `n / 8` bytes, whatever the item's count: on a few
/// tens of thousands of baskets every frequent item of a usual job has one.
pub(super) fn build_bits(shared: &mut Shared<'_>, force: Option<usize>) -> Result<(), MineError> {
    let m = shared.counts.len();
    let words = shared.baskets.len().div_ceil(64);
    let row_bytes = words as u64 * 8;
    let budget = BITSETS_MAX_BYTES.min(shared.limits.memory_limit / BITSETS_LIMIT_SHARE);
    let rows = force.unwrap_or((budget / row_bytes.max(1)).min(usize::MAX as u64) as usize).min(m);
    shared.add_bytes(rows as u64 * row_bytes)?;
    // Internal items go by ascending count: the last ones are the most
    // frequent, whose tid-lists are the longest.
    let mut bit_row = vec![NONE; m];
    let mut bits = vec![0u64; rows * words];
    for (row, item) in (m - rows..m).enumerate() {
        bit_row[item] = row as u32;
        let set = &mut bits[row * words..(row + 1) * words];
        for &t in &shared.tids[item] {
            set[(t / 64) as usize] |= 1 << (t % 64);
        }
    }
    shared.bits = bits;
    shared.bit_row = bit_row;
    shared.words = words;
    Ok(())
}
