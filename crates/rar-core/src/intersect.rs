//! Intersection of sorted, duplicate-free `u32` lists (tid-lists), with
//! each other or with a bitset of baskets.
//!
//! Every function gives up early, returning `None`, as soon as the entries
//! left cannot reach `min_count` common ones: most candidate itemsets are
//! infrequent, and this is where Eclat spends its time.

/// Intersects `a` and `b` into `out` (cleared first). Returns the count, or
/// `None` when it would be below `min_count`.
pub fn intersect_into(a: &[u32], b: &[u32], min_count: u32, out: &mut Vec<u32>) -> Option<u32> {
    out.clear();
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if (a.len() as u64) < min_count as u64 {
        return None;
    }
    if a.len() * 16 < b.len() {
        return gallop(a, b, min_count, Some(out));
    }
    out.reserve(a.len());
    let dst = out.as_mut_ptr();
    let n = merge(a, b, min_count, |n, x| {
        // SAFETY: `n` counts matches so far, at most the entries of `a`
        // consumed, which is below `a.len()`, the reserved capacity.
        unsafe { dst.add(n).write(x) }
    })?;
    // SAFETY: the first `n` slots were written above.
    unsafe { out.set_len(n as usize) };
    Some(n)
}

/// Baskets holding every item of `items` (ids into `tids`, the items'
/// tid-lists): the intersection of their tid-lists, `n_baskets` for no
/// item. `buf` is scratch space reused between calls.
pub fn count_holding(tids: &[Vec<u32>], items: &[u32], n_baskets: u32, buf: &mut Vec<u32>) -> u32 {
    let Some((&first, rest)) = items.split_first() else { return n_baskets };
    let mut acc = tids[first as usize].clone();
    for &i in rest {
        if intersect_into(&acc, &tids[i as usize], 0, buf).is_none() {
            return 0;
        }
        std::mem::swap(&mut acc, buf);
    }
    acc.len() as u32
}

/// Counts the common entries of `a` and `b` without storing them.
pub fn intersect_count(a: &[u32], b: &[u32], min_count: u32) -> Option<u32> {
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if (a.len() as u64) < min_count as u64 {
        return None;
    }
    if a.len() * 16 < b.len() {
        return gallop(a, b, min_count, None);
    }
    merge(a, b, min_count, |_, _| {})
}

/// The entries of the sorted list `a` whose bit is set in `bits` (bit `t %
/// 64` of word `t / 64` for entry `t`), into `out` (cleared first): one
/// probe per entry of `a`, however long the other side. Returns the count,
/// or `None` when it would be below `min_count`.
///
/// Panics if an entry of `a` lies beyond `bits`.
pub fn probe_into(a: &[u32], bits: &[u64], min_count: u32, out: &mut Vec<u32>) -> Option<u32> {
    out.clear();
    if (a.len() as u64) < min_count as u64 {
        return None;
    }
    out.reserve(a.len());
    let dst = out.as_mut_ptr();
    let n = probe(a, bits, min_count, |n, x| {
        // SAFETY: `n` counts matches so far, at most the entries of `a`
        // looked at before `x`, which is below `a.len()`, the capacity.
        unsafe { dst.add(n).write(x) }
    })?;
    // SAFETY: the first `n` slots were written above.
    unsafe { out.set_len(n as usize) };
    Some(n)
}

/// Counts the entries of `a` whose bit is set in `bits` (see [`probe_into`]).
pub fn probe_count(a: &[u32], bits: &[u64], min_count: u32) -> Option<u32> {
    if (a.len() as u64) < min_count as u64 {
        return None;
    }
    probe(a, bits, min_count, |_, _| {})
}

/// Looks up every entry of `a` in `bits` without branching on the outcome;
/// `emit` as in [`merge`].
#[inline(always)]
fn probe(a: &[u32], bits: &[u64], min_count: u32, mut emit: impl FnMut(usize, u32)) -> Option<u32> {
    let min = min_count as usize;
    let mut n = 0usize;
    for (i, &x) in a.iter().enumerate() {
        emit(n, x);
        n += ((bits[(x >> 6) as usize] >> (x & 63)) & 1) as usize;
        // At most the entries after `x` can still match.
        if n + (a.len() - 1 - i) < min {
            return None;
        }
    }
    (n >= min).then_some(n as u32)
}

/// Branch-free merge of two sorted lists (the comparison outcomes of
/// random tid-lists are unpredictable, so the loop advances by arithmetic
/// instead of branching). `emit(n, x)` is called for every entry with `n`
/// the matches so far; only matching entries are kept (a candidate is
/// written, and kept by advancing `n`).
#[inline(always)]
fn merge(a: &[u32], b: &[u32], min_count: u32, mut emit: impl FnMut(usize, u32)) -> Option<u32> {
    let (la, lb) = (a.len(), b.len());
    let (mut i, mut j, mut n) = (0usize, 0usize, 0usize);
    let min = min_count as usize;
    while i < la && j < lb {
        let (x, y) = (a[i], b[j]);
        emit(n, x);
        n += (x == y) as usize;
        i += (x <= y) as usize;
        j += (x >= y) as usize;
        // At most `la - i` more matches can come.
        if n + (la - i) < min {
            return None;
        }
    }
    (n >= min).then_some(n as u32)
}

/// For a short `a` against a long `b`: binary-search each entry of `a` in
/// the rest of `b` after a doubling step.
fn gallop(a: &[u32], b: &[u32], min_count: u32, mut out: Option<&mut Vec<u32>>) -> Option<u32> {
    let mut n = 0u32;
    let mut lo = 0usize;
    let mut slack = a.len() as i64 - min_count as i64;
    for &x in a {
        let mut step = 1usize;
        let mut hi = lo;
        while hi < b.len() && b[hi] < x {
            lo = hi + 1;
            hi += step;
            step *= 2;
        }
        let end = (hi + 1).min(b.len());
        match b[lo..end].binary_search(&x) {
            Ok(p) => {
                n += 1;
                lo += p + 1;
                if let Some(o) = out.as_deref_mut() {
                    o.push(x);
                }
            }
            Err(p) => {
                lo += p;
                slack -= 1;
                if slack < 0 {
                    return None;
                }
            }
        }
        if lo >= b.len() {
            break;
        }
    }
    (n >= min_count).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(a: &[u32], b: &[u32]) -> Vec<u32> {
        a.iter().copied().filter(|x| b.contains(x)).collect()
    }

    fn bitset(b: &[u32], universe: u32) -> Vec<u64> {
        let mut bits = vec![0u64; universe.div_ceil(64) as usize];
        for &x in b {
            bits[(x / 64) as usize] |= 1 << (x % 64);
        }
        bits
    }

    proptest! {
        #[test]
        fn matches_naive(a in proptest::collection::btree_set(0u32..400, 0..120),
                         b in proptest::collection::btree_set(0u32..400, 0..120),
                         min in 0u32..40) {
            let a: Vec<u32> = a.into_iter().collect();
            let b: Vec<u32> = b.into_iter().collect();
            let want = naive(&a, &b);
            let ok = want.len() as u32 >= min;
            let mut out = Vec::new();
            let got = intersect_into(&a, &b, min, &mut out);
            prop_assert_eq!(got.is_some(), ok);
            if ok {
                prop_assert_eq!(&out, &want);
                prop_assert_eq!(got, Some(want.len() as u32));
            }
            prop_assert_eq!(intersect_count(&a, &b, min), ok.then_some(want.len() as u32));
        }

        #[test]
        fn probes_match_naive(a in proptest::collection::btree_set(0u32..700, 0..150),
                              b in proptest::collection::btree_set(0u32..700, 0..400),
                              min in 0u32..60) {
            let a: Vec<u32> = a.into_iter().collect();
            let b: Vec<u32> = b.into_iter().collect();
            let bits = bitset(&b, 700);
            let want = naive(&a, &b);
            let ok = want.len() as u32 >= min;
            let mut out = vec![9, 9, 9];
            let got = probe_into(&a, &bits, min, &mut out);
            prop_assert_eq!(got, ok.then_some(want.len() as u32));
            if ok {
                prop_assert_eq!(&out, &want);
            }
            prop_assert_eq!(probe_count(&a, &bits, min), got);
        }

        #[test]
        fn gallop_matches_naive(a in proptest::collection::btree_set(0u32..5000, 0..8),
                                b in proptest::collection::btree_set(0u32..5000, 200..600),
                                min in 0u32..4) {
            let a: Vec<u32> = a.into_iter().collect();
            let b: Vec<u32> = b.into_iter().collect();
            let want = naive(&a, &b);
            let ok = want.len() as u32 >= min;
            let mut out = Vec::new();
            prop_assert_eq!(intersect_into(&a, &b, min, &mut out), ok.then_some(want.len() as u32));
            if ok { prop_assert_eq!(&out, &want); }
        }
    }
}
