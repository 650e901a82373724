//! Intersection of sorted, duplicate-free `u32` lists (tid-lists).
//!
//! Both functions give up early, returning `None`, as soon as the lists left
//! cannot reach `min_count` common entries: most candidate itemsets are
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
