//! A profile of a sales table, for choosing thresholds before mining.

use serde::Serialize;

use crate::baskets::Baskets;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeStats {
    pub mean: f64,
    pub median: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemCount {
    pub item: String,
    pub baskets: u64,
    pub support: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub lines: u64,
    pub baskets: u64,
    pub distinct_items: u64,
    /// Lines repeating an item already in their basket.
    pub repeated_lines: u64,
    /// Distinct items per basket; quantiles interpolate linearly between
    /// the closest ranks, as `percentile_cont` does.
    pub basket_size: SizeStats,
    /// The most frequent items, by baskets holding them (ties by name).
    pub top_items: Vec<ItemCount>,
    /// Items held by fewer than `rare_below` baskets.
    pub rare_below: u64,
    pub rare_items: u64,
    pub rare_item_share: f64,
    /// The support of the 10th, 100th and 1,000th most frequent item
    /// (those ranks the data has), by rank: a hint for `min_support` (a
    /// threshold at `support_at_rank["100"]` keeps about 100 items).
    pub support_at_rank: std::collections::BTreeMap<usize, f64>,
    /// The same values as a list, without their ranks (as in 0.1.0).
    pub support_of_top_item: Vec<f64>,
}

fn percentile_cont(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    sorted[lo] as f64 + (sorted[hi] as f64 - sorted[lo] as f64) * frac
}

/// Profiles `b`: `top` most frequent items, and the items seen in fewer
/// than `rare_below` baskets.
pub fn profile(b: &Baskets, top: usize, rare_below: u64) -> Profile {
    let mut sizes: Vec<u64> = b.iter().map(|x| x.len() as u64).collect();
    sizes.sort_unstable();
    let n = b.len() as u64;
    let counts: Vec<u64> = b.item_counts().iter().map(|&c| u64::from(c)).collect();
    let mut order: Vec<u32> = (0..b.n_items() as u32).collect();
    order.sort_by(|&x, &y| counts[y as usize].cmp(&counts[x as usize]).then(b.item_name(x).cmp(b.item_name(y))));
    let share = |c: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
    let top_items: Vec<ItemCount> = order
        .iter()
        .take(top)
        .map(|&i| ItemCount {
            item: b.item_name(i).to_string(),
            baskets: counts[i as usize],
            support: share(counts[i as usize]),
        })
        .collect();
    let rare = counts.iter().filter(|&&c| c < rare_below).count() as u64;
    let support_at_rank: std::collections::BTreeMap<usize, f64> = [10usize, 100, 1000]
        .into_iter()
        .filter(|&r| r <= order.len())
        .map(|r| (r, share(counts[order[r - 1] as usize])))
        .collect();
    Profile {
        lines: b.lines(),
        baskets: n,
        distinct_items: b.n_items() as u64,
        repeated_lines: b.repeated_lines(),
        basket_size: SizeStats {
            mean: if n == 0 { 0.0 } else { sizes.iter().sum::<u64>() as f64 / n as f64 },
            median: percentile_cont(&sizes, 0.5),
            p90: percentile_cont(&sizes, 0.9),
            p99: percentile_cont(&sizes, 0.99),
            max: sizes.last().copied().unwrap_or(0),
        },
        top_items,
        rare_below,
        rare_items: rare,
        rare_item_share: if b.n_items() == 0 { 0.0 } else { rare as f64 / b.n_items() as f64 },
        support_of_top_item: support_at_rank.values().copied().collect(),
        support_at_rank,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baskets::BasketsBuilder;

    #[test]
    fn profiles_a_small_table() {
        let mut bb = BasketsBuilder::default();
        for (t, i) in [("1", "a"), ("1", "b"), ("1", "b"), ("2", "a"), ("3", "a"), ("3", "c"), ("3", "d")] {
            bb.push(t, i);
        }
        let p = profile(&bb.build(), 2, 2);
        assert_eq!((p.lines, p.baskets, p.distinct_items, p.repeated_lines), (7, 3, 4, 1));
        assert_eq!(p.basket_size, SizeStats { mean: 2.0, median: 2.0, p90: 2.8, p99: 2.98, max: 3 });
        assert_eq!(p.top_items[0], ItemCount { item: "a".into(), baskets: 3, support: 1.0 });
        assert_eq!(p.top_items[1].item, "b");
        assert_eq!((p.rare_items, p.rare_item_share), (3, 0.75));
    }

    /// Item k (k = 1..=120) in k baskets of 120: the 10th most frequent is
    /// item 111, the 100th item 21; there is no 1,000th.
    #[test]
    fn support_by_rank() {
        let mut bb = BasketsBuilder::default();
        for k in 1..=120u32 {
            for t in 0..k {
                bb.push(&t.to_string(), &format!("i{k}"));
            }
        }
        let p = profile(&bb.build(), 3, 5);
        let by_rank: Vec<(usize, f64)> = p.support_at_rank.into_iter().collect();
        assert_eq!(by_rank, vec![(10, 111.0 / 120.0), (100, 21.0 / 120.0)]);
        assert_eq!(p.support_of_top_item, vec![111.0 / 120.0, 21.0 / 120.0]);
    }

    #[test]
    fn empty_table() {
        let p = profile(&BasketsBuilder::default().build(), 10, 5);
        assert_eq!((p.lines, p.baskets, p.basket_size.max), (0, 0, 0));
        assert!(p.top_items.is_empty());
    }
}
