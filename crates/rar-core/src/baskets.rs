//! Baskets in compressed sparse form.
//!
//! Items are interned into dense `u32` ids (first seen, first numbered), each
//! basket becomes a sorted, de-duplicated run of ids in one flat vector, and
//! `offsets` marks where each run starts (CSR). A line costs 8 bytes while
//! reading and 4 bytes once built, whatever the item names are.

/// Baskets of item ids, each sorted ascending and free of repeats.
#[derive(Debug, Clone, Default)]
pub struct Baskets {
    names: Vec<Box<str>>,
    offsets: Vec<usize>,
    members: Vec<u32>,
    lines: u64,
    /// The ancestors of the items, when the baskets hold a hierarchy's
    /// levels as well as items (see [`crate::hierarchy::across_levels`]).
    taxonomy: Option<std::sync::Arc<crate::hierarchy::Taxonomy>>,
    /// How many baskets hold each item, counted on first use (the baskets
    /// never change once built).
    counts: std::sync::OnceLock<Vec<u32>>,
}

impl Baskets {
    /// No baskets, only item names: the vocabulary of rules mined from
    /// counts made elsewhere (see [`crate::rules::rules_from_counts`]).
    pub fn named(names: Vec<String>) -> Baskets {
        Baskets { names: names.into_iter().map(String::into_boxed_str).collect(), ..Baskets::default() }
    }

    /// Number of baskets (the `N` of every support).
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sorted, distinct item ids of basket `i`.
    pub fn basket(&self, i: usize) -> &[u32] {
        &self.members[self.offsets[i]..self.offsets[i + 1]]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        (0..self.len()).map(move |i| self.basket(i))
    }

    /// The baskets holding each item (its tid-list, ascending), by item id;
    /// and each item's id by name: what exact counting of given itemsets
    /// intersects.
    pub fn tid_lists(&self) -> (Vec<Vec<u32>>, std::collections::HashMap<&str, u32>) {
        let mut tids: Vec<Vec<u32>> = vec![Vec::new(); self.n_items()];
        for (t, b) in self.iter().enumerate() {
            for &i in b {
                tids[i as usize].push(t as u32);
            }
        }
        let by_name = (0..self.n_items() as u32).map(|i| (self.item_name(i), i)).collect();
        (tids, by_name)
    }

    /// Number of distinct items seen.
    pub fn n_items(&self) -> usize {
        self.names.len()
    }

    pub fn item_name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// Lines read, repeats of an item within a basket included.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Lines that repeated an item already in their basket (counted once).
    pub fn repeated_lines(&self) -> u64 {
        self.lines - self.members.len() as u64
    }

    /// The hierarchy the baskets were built across, if any.
    pub fn taxonomy(&self) -> Option<&crate::hierarchy::Taxonomy> {
        self.taxonomy.as_deref()
    }

    pub(crate) fn set_taxonomy(&mut self, t: std::sync::Arc<crate::hierarchy::Taxonomy>) {
        self.taxonomy = Some(t);
    }

    /// A checksum of the baskets as a multiset of item sets: the same for
    /// the same baskets in any order, whatever the ids of their items, and
    /// the same on every platform and build (FNV-1a of the names, mixed per
    /// basket and summed). What a model records of the data it was trained
    /// on, to tell later whether the table changed.
    pub fn checksum(&self) -> u64 {
        fn fnv1a(bytes: &[u8]) -> u64 {
            bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
        }
        fn mix(mut z: u64) -> u64 {
            // splitmix64's finalizer.
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        let item: Vec<u64> = self.names.iter().map(|n| fnv1a(n.as_bytes())).collect();
        self.iter().fold(mix(self.len() as u64), |sum, b| {
            // Each item's hash mixed before the sum: FNV-1a alone is
            // nearly linear in a name's last byte, so that {i0, i27} and
            // {i1, i26} would sum alike.
            let set = b.iter().fold(0u64, |h, &i| h.wrapping_add(mix(item[i as usize])));
            sum.wrapping_add(mix(set ^ (b.len() as u64) << 56))
        })
    }

    /// How many baskets hold each item, by item id.
    pub fn item_counts(&self) -> &[u32] {
        self.counts.get_or_init(|| {
            let mut counts = vec![0u32; self.n_items()];
            for b in self.iter() {
                for &i in b {
                    counts[i as usize] += 1;
                }
            }
            counts
        })
    }

    /// Bytes held by the baskets (names not included), their item counts
    /// included whether counted yet or not.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 8 + self.members.capacity() * 4 + self.n_items() * 4
    }

    /// Bytes held in all: the baskets and the item names.
    pub fn total_bytes(&self) -> u64 {
        let names: usize = self.names.iter().map(|n| n.len() + std::mem::size_of::<Box<str>>()).sum();
        (self.heap_bytes() + names) as u64
    }
}

/// Names to ids. Keyed with a random seed (foldhash, about as fast as
/// FxHash here): names can come from bytes any role crafts (a partial state
/// given as text, or the rows of a table another role mines), and FxHash
/// lets one craft names (and integers) that all collide, which would make
/// interning them quadratic. The integer items' cache is seeded likewise.
pub(crate) type NameIds = std::collections::HashMap<Box<str>, u32, foldhash::fast::RandomState>;

/// Bytes a basket takes, whatever it holds, when the baskets are built (its
/// offset and the copy of it, 16) or written out as a state (its id's
/// place, count and offsets, 44 at the peak).
pub const BASKET_BYTES: usize = 32;

/// Collects (basket, item) lines in any order and builds [`Baskets`].
#[derive(Debug, Default)]
pub struct BasketsBuilder {
    pub(crate) item_ids: NameIds,
    pub(crate) names: Vec<Box<str>>,
    pub(crate) basket_ids: NameIds,
    pub(crate) n_baskets: u32,
    pub(crate) lines: Vec<(u32, u32)>,
    /// The last basket pushed: lines of a basket usually come together.
    pub(crate) last_basket: Option<(Box<str>, u32)>,
    /// Caches for integer basket ids and items (the common case of
    /// bigint/int columns): they skip printing and hashing the decimal
    /// text. The names stay the source of truth; renumbering clears them.
    pub(crate) last_int_basket: Option<(i64, u32)>,
    pub(crate) int_items: std::collections::HashMap<i64, u32, foldhash::fast::RandomState>,
    /// Bytes of the names held: an item's twice (list and map), a basket
    /// id's once. Items can be megabytes long: the budget counts them.
    pub(crate) name_bytes: usize,
    /// `name_bytes` at the last [`BasketsBuilder::budget_due`].
    names_checked: usize,
    /// The capacities of the lines and maps at the last
    /// [`BasketsBuilder::budget_due`].
    shape_checked: usize,
}

/// Lines between two budget checks while reading (names aside).
const LINES_PER_CHECK: usize = 1 << 16;
/// Bytes of new names after which a budget check is due.
const NAME_BYTES_PER_CHECK: usize = 1 << 20;

impl BasketsBuilder {
    pub(crate) fn item_id(&mut self, item: &str) -> u32 {
        if let Some(&id) = self.item_ids.get(item) {
            return id;
        }
        let id = self.names.len() as u32;
        let name: Box<str> = item.into();
        self.name_bytes += 2 * name.len();
        self.names.push(name.clone());
        self.item_ids.insert(name, id);
        id
    }

    /// A basket id seen for the first time.
    pub(crate) fn insert_basket_id(&mut self, key: Box<str>, id: u32) -> Option<u32> {
        self.name_bytes += key.len();
        self.basket_ids.insert(key, id)
    }

    /// Whether the memory budget should be checked now: every 65,536 lines,
    /// after every mebibyte of new names (a few lines of long items can
    /// take more memory than millions of short ones), and whenever the
    /// lines or the maps grew their capacity (a reallocation: a handful of
    /// times per state, so that many states of a few thousand lines each,
    /// the groups of an aggregate, are counted as they grow).
    pub fn budget_due(&mut self) -> bool {
        let shape =
            self.lines.capacity() + self.item_ids.capacity() + self.basket_ids.capacity() + self.int_items.capacity();
        if self.lines.len().is_multiple_of(LINES_PER_CHECK)
            || self.name_bytes >= self.names_checked + NAME_BYTES_PER_CHECK
            || shape != self.shape_checked
        {
            self.names_checked = self.name_bytes;
            self.shape_checked = shape;
            return true;
        }
        false
    }

    /// Adds one line of a long-form table: `item` bought in `basket`.
    pub fn push(&mut self, basket: &str, item: &str) {
        let b = self.basket_of(basket);
        let i = self.item_id(item);
        self.lines.push((b, i));
    }

    /// Adds the basket `basket` if it is not there yet, with no line: a
    /// basket-form row whose array holds no item is a basket all the same
    /// (it counts in the number of baskets, as an empty transaction does
    /// in arules).
    pub fn add_basket(&mut self, basket: &str) {
        self.basket_of(basket);
    }

    /// As [`BasketsBuilder::push`] for an integer basket id and item, named
    /// by their decimal text.
    pub fn push_ints(&mut self, basket: i64, item: i64) {
        let b = self.basket_of_int(basket);
        let i = self.item_of_int(item);
        self.lines.push((b, i));
    }

    /// As [`BasketsBuilder::push`] for an integer basket id.
    pub fn push_int_basket(&mut self, basket: i64, item: &str) {
        let b = self.basket_of_int(basket);
        let i = self.item_id(item);
        self.lines.push((b, i));
    }

    /// As [`BasketsBuilder::push`] for an integer item.
    pub fn push_int_item(&mut self, basket: &str, item: i64) {
        let b = self.basket_of(basket);
        let i = self.item_of_int(item);
        self.lines.push((b, i));
    }

    fn basket_of(&mut self, basket: &str) -> u32 {
        match &self.last_basket {
            Some((key, b)) if &**key == basket => *b,
            _ => {
                let b = match self.basket_ids.get(basket) {
                    Some(&b) => b,
                    None => {
                        let b = self.n_baskets;
                        self.n_baskets += 1;
                        self.insert_basket_id(basket.into(), b);
                        b
                    }
                };
                self.last_basket = Some((basket.into(), b));
                b
            }
        }
    }

    fn basket_of_int(&mut self, basket: i64) -> u32 {
        match self.last_int_basket {
            Some((key, b)) if key == basket => b,
            _ => {
                let b = self.basket_of(crate::partial::decimal(basket, &mut [0u8; 20]));
                self.last_int_basket = Some((basket, b));
                b
            }
        }
    }

    fn item_of_int(&mut self, item: i64) -> u32 {
        if let Some(&i) = self.int_items.get(&item) {
            return i;
        }
        let i = self.item_id(crate::partial::decimal(item, &mut [0u8; 20]));
        self.int_items.insert(item, i);
        i
    }

    /// Adds one whole basket (one row of a basket-form table). An empty
    /// basket still counts as a basket.
    pub fn push_basket<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) {
        let b = self.n_baskets;
        self.n_baskets += 1;
        for item in items {
            let i = self.item_id(item);
            self.lines.push((b, i));
        }
    }

    /// Lines pushed so far.
    pub fn n_lines(&self) -> usize {
        self.lines.len()
    }

    /// Baskets seen so far.
    pub fn n_baskets(&self) -> usize {
        self.n_baskets as usize
    }

    /// Bytes held so far, for budget checks while reading: the lines, the
    /// names, about 48 bytes per distinct basket id and item name, and
    /// [`BASKET_BYTES`] per basket, which building or writing the baskets
    /// out needs (with or without an id or a line: a merged state may hold
    /// millions of empty baskets in a few bytes each).
    pub fn heap_bytes(&self) -> usize {
        self.lines.capacity() * 8
            + (self.item_ids.capacity() + self.basket_ids.capacity()) * 48
            + self.int_items.capacity() * 16
            + self.name_bytes
            + self.n_baskets as usize * BASKET_BYTES
    }

    /// Peak bytes to read and build `lines` lines in `baskets` baskets: the
    /// up-front estimate checked against the memory budget before a scan.
    /// 20 bytes a line: the lines (8, in a vector that grows by doubling),
    /// the grouped copy built from them (4), and a parallel worker's share
    /// arriving as bytes and decoded while the leader's own lines are held;
    /// 64 bytes a basket for its id. Measured peaks are in BENCHMARKS.md.
    pub fn estimate_bytes(lines: u64, baskets: u64) -> u64 {
        lines * 20 + baskets * 64
    }

    /// Bytes [`BasketsBuilder::build`] will need at its peak, on top of
    /// [`BasketsBuilder::heap_bytes`]: the grouped copy of the lines and the
    /// basket offsets.
    pub fn build_bytes(&self) -> usize {
        self.lines.len() * 4 + (self.n_baskets as usize + 1) * 16
    }

    /// Groups the lines by basket (a counting sort), sorts and de-duplicates
    /// each basket.
    pub fn build(self) -> Baskets {
        let n = self.n_baskets as usize;
        let mut offsets = vec![0usize; n + 1];
        for &(b, _) in &self.lines {
            offsets[b as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut members = vec![0u32; self.lines.len()];
        for &(b, i) in &self.lines {
            members[fill[b as usize]] = i;
            fill[b as usize] += 1;
        }
        drop(self.lines);
        // Sort each basket and squeeze out repeats, compacting in place.
        let mut write = 0usize;
        let mut start = 0usize;
        for b in 0..n {
            let end = offsets[b + 1];
            members[start..end].sort_unstable();
            let basket_start = write;
            for r in start..end {
                let v = members[r];
                if write == basket_start || members[write - 1] != v {
                    members[write] = v;
                    write += 1;
                }
            }
            offsets[b] = basket_start;
            start = end;
        }
        offsets[n] = write;
        let lines = members.len() as u64;
        members.truncate(write);
        members.shrink_to_fit();
        Baskets { names: self.names, offsets, members, lines, taxonomy: None, counts: Default::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_count_against_the_budget_as_they_come() {
        let mut b = BasketsBuilder::default();
        b.push("1", "a");
        let short = b.heap_bytes();
        let long = "y".repeat(300_000);
        let mut due = 0;
        for basket in 0..10 {
            b.push(&basket.to_string(), &format!("{basket}{long}"));
            due += usize::from(b.budget_due());
        }
        // Ten items of 300 kB, each held twice: about 6 MB counted, and a
        // check due after every mebibyte of them (5), or when the lines or
        // maps grew (a few more), not after 65,536 lines.
        assert!(b.heap_bytes() - short >= 10 * 2 * 300_000, "{}", b.heap_bytes());
        assert!((5..=10).contains(&due), "{due} checks");
        // Without new names, a check is due when the lines outgrow their
        // capacity, not only every 65,536 lines.
        let mut c = BasketsBuilder::default();
        let due = (0..5000).filter(|&i| {
            c.push_ints(i, i % 7);
            c.budget_due()
        });
        let due = due.count();
        assert!((10..=60).contains(&due), "{due} checks");
        // A repeated name adds nothing.
        let before = b.heap_bytes();
        b.push("1", &format!("1{long}"));
        assert_eq!(b.heap_bytes(), before);
    }

    #[test]
    fn the_checksum_is_of_the_baskets_not_their_order() {
        let build = |lines: &[(&str, &str)]| {
            let mut b = BasketsBuilder::default();
            for (t, i) in lines {
                b.push(t, i);
            }
            b.build().checksum()
        };
        let a = build(&[("1", "milk"), ("1", "bread"), ("2", "jam"), ("3", "milk")]);
        // Other basket ids, other order, a repeated line: the same baskets.
        let b = build(&[("z", "jam"), ("y", "milk"), ("x", "bread"), ("x", "milk"), ("x", "milk")]);
        assert_eq!(a, b);
        assert_ne!(a, build(&[("1", "milk"), ("1", "bread"), ("2", "jam"), ("3", "butter")]), "an item changed");
        assert_ne!(a, build(&[("1", "milk"), ("1", "bread"), ("2", "jam")]), "a basket fewer");
        assert_ne!(a, build(&[("1", "milk"), ("1", "bread"), ("1", "jam"), ("3", "milk")]), "baskets merged");
        // Names one last byte apart, swapped in pairs that sum alike.
        assert_ne!(build(&[("1", "i0"), ("1", "i27")]), build(&[("1", "i1"), ("1", "i26")]));
        assert_ne!(build(&[("1", "i25"), ("1", "i28")]), build(&[("1", "i24"), ("1", "i29")]));
        // Pinned: the same on every build, so stored checksums stay comparable.
        assert_eq!(format!("{a:016x}"), "e61b3fec79143369");
    }

    #[test]
    fn groups_sorts_and_dedups() {
        let mut b = BasketsBuilder::default();
        for (t, i) in [("t2", "z"), ("t1", "b"), ("t2", "a"), ("t1", "a"), ("t1", "b"), ("t3", "a")] {
            b.push(t, i);
        }
        let baskets = b.build();
        assert_eq!(baskets.len(), 3);
        assert_eq!(baskets.lines(), 6);
        assert_eq!(baskets.repeated_lines(), 1);
        let names = |i: usize| -> Vec<&str> { baskets.basket(i).iter().map(|&id| baskets.item_name(id)).collect() };
        let mut got: Vec<Vec<&str>> = (0..3).map(names).collect();
        for g in &mut got {
            g.sort();
        }
        assert_eq!(got, vec![vec!["a", "z"], vec!["a", "b"], vec!["a"]]);
    }

    #[test]
    fn integer_paths_name_like_text() {
        let lines = [(7i64, 1i64), (7, -2), (8, 1), (7, 1), (9, 300), (8, -2)];
        let mut text = BasketsBuilder::default();
        let mut ints = BasketsBuilder::default();
        let mut mixed = BasketsBuilder::default();
        for (k, &(b, i)) in lines.iter().enumerate() {
            text.push(&b.to_string(), &i.to_string());
            ints.push_ints(b, i);
            match k % 3 {
                0 => mixed.push_int_basket(b, &i.to_string()),
                1 => mixed.push_int_item(&b.to_string(), i),
                _ => mixed.push(&b.to_string(), &i.to_string()),
            }
        }
        let show = |b: Baskets| -> Vec<Vec<String>> {
            b.iter()
                .map(|x| {
                    let mut v: Vec<String> = x.iter().map(|&i| b.item_name(i).to_string()).collect();
                    v.sort();
                    v
                })
                .collect()
        };
        let want = show(text.build());
        assert_eq!(want, vec![vec!["-2", "1"], vec!["-2", "1"], vec!["300"]]);
        assert_eq!(show(ints.build()), want);
        assert_eq!(show(mixed.build()), want);
    }

    #[test]
    fn basket_form_keeps_empty_baskets() {
        let mut b = BasketsBuilder::default();
        b.push_basket(["x", "y", "x"]);
        b.push_basket([]);
        let baskets = b.build();
        assert_eq!(baskets.len(), 2);
        assert_eq!(baskets.basket(0).len(), 2);
        assert!(baskets.basket(1).is_empty());
    }

    #[test]
    fn unicode_and_long_names_round_trip() {
        let long = "é".repeat(10_000);
        let mut b = BasketsBuilder::default();
        b.push("1", &long);
        b.push("1", "日本茶 🍵");
        let baskets = b.build();
        let mut names: Vec<&str> = baskets.basket(0).iter().map(|&i| baskets.item_name(i)).collect();
        names.sort();
        assert_eq!(names, vec![long.as_str(), "日本茶 🍵"]);
    }
}
