//! Baskets as the model sees them: item indices into the model's vocabulary,
//! in compressed sparse form, and the batches built from them. The whole
//! data set stays sparse; only one batch at a time becomes a dense
//! `batch × vocabulary` tensor.

/// Baskets of vocabulary indices (each sorted, without repeats).
#[derive(Debug, Clone, Default)]
pub struct SparseBaskets {
    pub offsets: Vec<u64>,
    pub items: Vec<u32>,
}

impl SparseBaskets {
    pub fn from_lists(lists: &[Vec<u32>]) -> Self {
        let (offsets, items) = rar_core::vocab::csr(lists.iter().map(|l| {
            let mut l = l.clone();
            l.sort_unstable();
            l.dedup();
            l
        }));
        SparseBaskets { offsets, items }
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn basket(&self, i: usize) -> &[u32] {
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// How many baskets hold each of `vocab` items (the popularity baseline).
    pub fn item_counts(&self, vocab: usize) -> Vec<u64> {
        let mut counts = vec![0u64; vocab];
        for &i in &self.items {
            if let Some(c) = counts.get_mut(i as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// Indices of the baskets with at least two items (one can be hidden
    /// and one kept).
    pub fn usable(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.basket(i).len() >= 2).collect()
    }
}

/// Customers' earlier baskets, for the sequence model: for each example
/// basket (a training or validation basket, by its index), the indices into
/// `pool` of the same customer's baskets before it, oldest first, at most
/// the model's `history` of them.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    pub offsets: Vec<u64>,
    pub refs: Vec<u32>,
}

impl Histories {
    pub fn from_lists(lists: &[Vec<u32>]) -> Self {
        let (offsets, refs) = rar_core::vocab::csr(lists.iter().map(|l| l.iter().copied()));
        Histories { offsets, refs }
    }

    /// The earlier baskets of example `i` (none past the end).
    pub fn of(&self, i: usize) -> &[u32] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.refs[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Every basket a history can name, with the histories of the training and
/// validation baskets.
#[derive(Debug, Clone, Default)]
pub struct HistoryData {
    pub pool: SparseBaskets,
    pub train: Histories,
    pub valid: Histories,
}

/// A small, seedable random generator (SplitMix64): the same seed gives the
/// same masks and the same batch order on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A basket split into what the model sees and what it must find.
#[derive(Debug, Clone, PartialEq)]
pub struct Masked {
    pub visible: Vec<u32>,
    pub hidden: Vec<u32>,
}

/// Hides `round(rate × n)` items (at least one, at most `n - 1`).
pub fn mask(basket: &[u32], rate: f64, rng: &mut Rng) -> Masked {
    let n = basket.len();
    let k = ((rate * n as f64).round() as usize).clamp(1, n - 1);
    let mut order: Vec<u32> = basket.to_vec();
    rng.shuffle(&mut order);
    let mut hidden = order[..k].to_vec();
    let mut visible = order[k..].to_vec();
    hidden.sort_unstable();
    visible.sort_unstable();
    Masked { visible, hidden }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_one_side_each_and_are_reproducible() {
        let b: Vec<u32> = (0..10).collect();
        let m1 = mask(&b, 0.3, &mut Rng::new(7));
        let m2 = mask(&b, 0.3, &mut Rng::new(7));
        assert_eq!(m1, m2);
        assert_eq!(m1.hidden.len(), 3);
        assert_eq!(m1.visible.len() + m1.hidden.len(), 10);
        let tiny = mask(&[4, 9], 0.99, &mut Rng::new(1));
        assert_eq!((tiny.visible.len(), tiny.hidden.len()), (1, 1));
    }

    #[test]
    fn sparse_baskets_sort_and_dedup() {
        let b = SparseBaskets::from_lists(&[vec![3, 1, 3], vec![2]]);
        assert_eq!(b.basket(0), &[1, 3]);
        assert_eq!(b.usable(), vec![0]);
    }
}
