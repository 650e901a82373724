//! The vocabulary of a basket model and baskets encoded over it.

use std::collections::HashMap;

use crate::baskets::Baskets;

/// The items in at least `min_count` baskets of `train`, the `max_vocab`
/// most frequent (ties by name), with their basket counts.
pub fn vocabulary(train: &Baskets, min_count: u64, max_vocab: usize) -> (Vec<String>, Vec<u64>) {
    let counts: Vec<u64> = train.item_counts().iter().map(|&c| u64::from(c)).collect();
    let mut items: Vec<u32> = (0..train.n_items() as u32).filter(|&i| counts[i as usize] >= min_count).collect();
    items
        .sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(train.item_name(a).cmp(train.item_name(b))));
    items.truncate(max_vocab);
    (
        items.iter().map(|&i| train.item_name(i).to_string()).collect(),
        items.iter().map(|&i| counts[i as usize]).collect(),
    )
}

/// Baskets as compressed sparse rows of vocabulary indices (items outside
/// `index` dropped), each basket's indices sorted.
pub fn encode(b: &Baskets, index: &HashMap<&str, u32>) -> (Vec<u64>, Vec<u32>) {
    csr(b.iter().map(|basket| {
        let mut ids: Vec<u32> = basket.iter().filter_map(|&i| index.get(b.item_name(i)).copied()).collect();
        ids.sort_unstable();
        ids
    }))
}

/// Lists as compressed sparse rows: `items[offsets[k]..offsets[k + 1]]` is
/// list `k`, as given.
pub fn csr<L: IntoIterator<Item = u32>>(lists: impl IntoIterator<Item = L>) -> (Vec<u64>, Vec<u32>) {
    let (mut offsets, mut items) = (vec![0u64], Vec::new());
    for l in lists {
        items.extend(l);
        offsets.push(items.len() as u64);
    }
    (offsets, items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baskets::BasketsBuilder;

    fn baskets() -> Baskets {
        let mut b = BasketsBuilder::default();
        for (t, items) in [["a", "b", "c"].as_slice(), &["b", "c"], &["c"], &["d", "c"]].iter().enumerate() {
            for i in *items {
                b.push(&t.to_string(), i);
            }
        }
        b.build()
    }

    #[test]
    fn vocabulary_is_by_count_then_name() {
        let (vocab, counts) = vocabulary(&baskets(), 1, 10);
        assert_eq!(vocab, ["c", "b", "a", "d"]);
        assert_eq!(counts, [4, 2, 1, 1]);
        let (vocab, _) = vocabulary(&baskets(), 2, 10);
        assert_eq!(vocab, ["c", "b"]);
        let (vocab, _) = vocabulary(&baskets(), 1, 1);
        assert_eq!(vocab, ["c"]);
    }

    #[test]
    fn encoding_keeps_known_items_in_order() {
        let b = baskets();
        let index: HashMap<&str, u32> = [("c", 0), ("b", 1)].into_iter().collect();
        let (offsets, items) = encode(&b, &index);
        assert_eq!(offsets, [0, 2, 4, 5, 6]);
        assert_eq!(items, [0, 1, 0, 1, 0, 0]);
    }
}
