//! Customers' earlier baskets, for the sequence model: which baskets came
//! before each one, by customer and time.

/// How many earlier baskets of a customer the sequence model reads unless
/// its `history` setting says otherwise.
pub const DEFAULT_HISTORY: i64 = 10;

/// For each basket (by index), the indices of the same customer's baskets
/// before it, oldest first, at most `max` (the most recent ones). Baskets
/// are ordered by time, then by id; a basket without a customer has none,
/// and one without a time comes after the customer's timed baskets.
pub fn earlier_baskets(customers: &[Option<&str>], times: &[Option<f64>], ids: &[&str], max: usize) -> Vec<Vec<u32>> {
    let mut by_customer: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (k, c) in customers.iter().enumerate() {
        if let Some(c) = c {
            by_customer.entry(c).or_default().push(k);
        }
    }
    let mut out = vec![Vec::new(); customers.len()];
    for list in by_customer.values_mut() {
        let time = |k: usize| times.get(k).copied().flatten();
        let key = |k: usize| (time(k).is_none(), time(k).unwrap_or(0.0));
        list.sort_by(|&a, &b| {
            let ((na, ta), (nb, tb)) = (key(a), key(b));
            na.cmp(&nb).then(ta.total_cmp(&tb)).then(ids[a].cmp(ids[b]))
        });
        for (n, &k) in list.iter().enumerate() {
            out[k] = list[n.saturating_sub(max)..n].iter().map(|&j| j as u32).collect();
        }
    }
    out
}

/// How many entries [`earlier_baskets`] returns in all, computed from the
/// customers alone (before anything is allocated): a customer with `m`
/// baskets gives its `k`-th basket `min(k, max)` earlier ones.
pub fn earlier_count(customers: &[Option<&str>], max: usize) -> u64 {
    let mut baskets: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for c in customers.iter().flatten() {
        *baskets.entry(c).or_default() += 1;
    }
    let max = max as u64;
    baskets
        .values()
        .map(|&m| {
            let ramp = m.min(max);
            // 0 + 1 + ... + (ramp - 1), then `max` for each basket after.
            ramp * ramp.saturating_sub(1) / 2 + (m - ramp) * max
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_basket_gets_its_customers_earlier_ones() {
        let customers = [Some("a"), Some("b"), Some("a"), None, Some("a"), Some("a"), Some("a")];
        let times = [Some(3.0), Some(1.0), Some(1.0), Some(0.0), Some(3.0), None, Some(f64::NEG_INFINITY)];
        let ids = ["t2", "t9", "t0", "t5", "t1", "t3", "t8"];
        let h = earlier_baskets(&customers, &times, &ids, 2);
        // a's baskets by time then id: 6 (-infinity), 2 (1.0), 4 (3.0, "t1"),
        // 0 (3.0, "t2"), 5 (no time: last).
        assert_eq!(h, vec![vec![2, 4], vec![], vec![6], vec![], vec![6, 2], vec![4, 0], vec![]]);
        for max in [0, 1, 2, 3, 10] {
            let all: usize = earlier_baskets(&customers, &times, &ids, max).iter().map(Vec::len).sum();
            assert_eq!(earlier_count(&customers, max), all as u64, "max {max}");
        }
    }
}
