//! Partial baskets: what one scan collects (a parallel worker's share of a
//! table, one shard, one group), merged with others and shipped between
//! processes as bytes.
//!
//! This is the state of the extension's aggregates (`rar_rules_agg` and the
//! one `rar_mine` reads through): PostgreSQL runs the transition on each
//! worker, serializes each worker's state with [`Partial::to_bytes`], and
//! the leader merges them with [`Partial::merge`]. A basket whose lines were
//! split between workers (or shards) comes out whole: baskets are matched by
//! their id, items by their name.
//!
//! The bytes hold each basket's items as ids, grouped by basket, ascending
//! and delta-coded in LEB128 varints (one or two bytes a line, plus each
//! basket id and item name once); a version byte guards against a state of
//! another format.

use crate::baskets::BasketsBuilder;

const MAGIC: &[u8; 4] = b"RARP";
const VERSION: u8 = 2;

/// Bytes of memory a basket takes at least once built or written out,
/// whether or not it has an id or lines (see [`BasketsBuilder::heap_bytes`]).
pub const BASKET_BYTES: u64 = crate::baskets::BASKET_BYTES as u64;

/// Thresholds carried by a `rar_rules_agg` state (the aggregate's per-call
/// arguments, fixed for a group).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggOptions {
    pub min_support: f64,
    pub min_confidence: f64,
    pub max_length: u32,
}

/// The lines one scan collected.
#[derive(Debug, Default)]
pub struct Partial {
    pub baskets: BasketsBuilder,
    /// Lines skipped for a NULL basket id or item.
    pub null_lines: u64,
    pub options: Option<AggOptions>,
    /// Bytes of this state that the extension counts among the states
    /// alive in the backend (not part of the bytes).
    pub charged: u64,
}

/// Why bytes could not be read as a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    Bad(BadState),
    /// The state would take more memory than allowed.
    TooLarge {
        bytes: u64,
    },
}

impl From<BadState> for StateError {
    fn from(b: BadState) -> Self {
        StateError::Bad(b)
    }
}

/// Bytes that are not a partial state of this version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadState(pub &'static str);

impl std::fmt::Display for BadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid rar partial state: {}", self.0)
    }
}

impl std::error::Error for BadState {}

impl Partial {
    /// Adds `other`'s lines. Baskets with the same id become one basket;
    /// items with the same name one item. Merging into the larger side is
    /// cheaper, so `self` and `other` may be swapped first. Refused, with
    /// nothing changed, when the two together would hold more baskets than
    /// a basket number can name (states any role crafts may hold many
    /// empty baskets without an id, two bytes each as bytes).
    pub fn merge(&mut self, mut other: Partial) -> Result<(), StateError> {
        let baskets = u64::from(self.baskets.n_baskets) + u64::from(other.baskets.n_baskets);
        if baskets >= u64::from(u32::MAX) {
            return Err(StateError::TooLarge { bytes: baskets.saturating_mul(BASKET_BYTES) });
        }
        if other.baskets.lines.len() > self.baskets.lines.len() {
            std::mem::swap(self, &mut other);
        }
        self.null_lines = self.null_lines.saturating_add(other.null_lines);
        self.options = self.options.or(other.options);
        let b = &mut self.baskets;
        let o = other.baskets;
        let item_map: Vec<u32> = o.names.iter().map(|n| b.item_id(n)).collect();
        let mut basket_map = vec![u32::MAX; o.n_baskets as usize];
        for (key, &ob) in &o.basket_ids {
            let id = match b.basket_ids.get(key) {
                Some(&id) => id,
                None => {
                    let id = b.n_baskets;
                    b.n_baskets += 1;
                    b.insert_basket_id(key.clone(), id);
                    id
                }
            };
            basket_map[ob as usize] = id;
        }
        // Baskets without an id (basket-form rows) stay distinct.
        for slot in basket_map.iter_mut().filter(|s| **s == u32::MAX) {
            *slot = b.n_baskets;
            b.n_baskets += 1;
        }
        b.lines.reserve(o.lines.len());
        b.lines.extend(o.lines.iter().map(|&(ob, oi)| (basket_map[ob as usize], item_map[oi as usize])));
        Ok(())
    }

    /// Renumbers items by name and baskets by a hash of their id (ties by
    /// id), so that the baskets built afterwards come in the same order
    /// whatever order the lines were read or merged in: parallel workers
    /// interleave differently from run to run, and training and evaluation
    /// must not depend on that. Baskets without an id keep their order,
    /// after the others.
    pub fn canonicalize(&mut self) {
        use std::hash::{Hash, Hasher};
        let b = &mut self.baskets;
        let mut order: Vec<u32> = (0..b.names.len() as u32).collect();
        order.sort_unstable_by(|&x, &y| b.names[x as usize].cmp(&b.names[y as usize]));
        let mut item_map = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            item_map[old as usize] = new as u32;
        }
        let mut names: Vec<Box<str>> = order.iter().map(|&old| std::mem::take(&mut b.names[old as usize])).collect();
        std::mem::swap(&mut b.names, &mut names);
        for id in b.item_ids.values_mut() {
            *id = item_map[*id as usize];
        }
        let hash = |k: &str| {
            let mut h = rustc_hash::FxHasher::default();
            k.hash(&mut h);
            h.finish()
        };
        let mut keyed: Vec<(u64, &str, u32)> = b.basket_ids.iter().map(|(k, &id)| (hash(k), &**k, id)).collect();
        keyed.sort_unstable();
        let n = b.n_baskets as usize;
        let mut basket_map = vec![u32::MAX; n];
        for (new, &(_, _, old)) in keyed.iter().enumerate() {
            basket_map[old as usize] = new as u32;
        }
        let first_free = keyed.len() as u32;
        drop(keyed);
        for (slot, id) in basket_map.iter_mut().filter(|s| **s == u32::MAX).zip(first_free..) {
            *slot = id;
        }
        for id in b.basket_ids.values_mut() {
            *id = basket_map[*id as usize];
        }
        for line in b.lines.iter_mut() {
            *line = (basket_map[line.0 as usize], item_map[line.1 as usize]);
        }
        b.last_basket = None;
        b.last_int_basket = None;
        b.int_items.clear();
    }

    /// The state as bytes, baskets grouped (a counting sort of the lines),
    /// each basket's items in ascending order as deltas: with every number
    /// a LEB128 varint, a line takes one or two bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let b = &self.baskets;
        let n = b.n_baskets as usize;
        let names: usize = b.names.iter().map(|s| 2 + s.len()).sum();
        let mut out = Vec::with_capacity(64 + names + n * 8 + b.lines.len() * 2);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.null_lines.to_le_bytes());
        match self.options {
            Some(o) => {
                out.push(1);
                out.extend_from_slice(&o.min_support.to_le_bytes());
                out.extend_from_slice(&o.min_confidence.to_le_bytes());
                out.extend_from_slice(&o.max_length.to_le_bytes());
            }
            None => out.push(0),
        }
        put_varint(&mut out, b.names.len() as u64);
        for name in &b.names {
            put_varint(&mut out, name.len() as u64);
            out.extend_from_slice(name.as_bytes());
        }
        let mut keys: Vec<Option<&str>> = vec![None; n];
        for (k, &id) in &b.basket_ids {
            keys[id as usize] = Some(k);
        }
        // A basket's id as its length plus one; 0 for a basket without one.
        put_varint(&mut out, n as u64);
        for k in &keys {
            match k {
                Some(k) => {
                    put_varint(&mut out, k.len() as u64 + 1);
                    out.extend_from_slice(k.as_bytes());
                }
                None => out.push(0),
            }
        }
        // Group the lines by basket: counts first, then the items.
        let mut counts = vec![0u32; n];
        for &(bk, _) in &b.lines {
            counts[bk as usize] += 1;
        }
        let mut start = vec![0usize; n + 1];
        for i in 0..n {
            start[i + 1] = start[i] + counts[i] as usize;
        }
        let mut grouped = vec![0u32; b.lines.len()];
        let mut at = start.clone();
        for &(bk, it) in &b.lines {
            grouped[at[bk as usize]] = it;
            at[bk as usize] += 1;
        }
        for &c in &counts {
            put_varint(&mut out, c as u64);
        }
        for w in start.windows(2) {
            let items = &mut grouped[w[0]..w[1]];
            items.sort_unstable();
            let mut prev = 0u32;
            for &it in items.iter() {
                put_varint(&mut out, (it - prev) as u64);
                prev = it;
            }
        }
        out
    }

    /// Reads a state written by [`Partial::to_bytes`], checking it in full:
    /// the bytes may come from any role (the input function of
    /// `rar.basket_state`), so nothing is reserved before the bytes that
    /// must hold it are there.
    pub fn from_bytes(bytes: &[u8]) -> Result<Partial, BadState> {
        Self::from_bytes_within(bytes, u64::MAX, &mut || {}).map_err(|e| match e {
            StateError::Bad(b) => b,
            StateError::TooLarge { .. } => unreachable!("no limit"),
        })
    }

    /// [`Partial::from_bytes`] that stops before the state it builds would
    /// take more than `limit` bytes of memory (a line takes one byte in the
    /// bytes and eight in memory), calling `check` (for cancellation) every
    /// few thousand names, baskets and lines.
    pub fn from_bytes_within(bytes: &[u8], limit: u64, check: &mut dyn FnMut()) -> Result<Partial, StateError> {
        const EVERY: usize = 1 << 14;
        let mut need = 0u64;
        let charge = |n: u64, need: &mut u64| {
            *need = need.saturating_add(n);
            if *need > limit {
                Err(StateError::TooLarge { bytes: *need })
            } else {
                Ok(())
            }
        };
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(BadState("wrong magic").into());
        }
        if r.take(1)?[0] != VERSION {
            return Err(BadState("written by another version of rar").into());
        }
        let null_lines = r.u64()?;
        let options = match r.take(1)?[0] {
            0 => None,
            1 => Some(AggOptions { min_support: r.f64()?, min_confidence: r.f64()?, max_length: r.u32()? }),
            _ => return Err(BadState("a bad thresholds flag").into()),
        };
        let mut b = BasketsBuilder::default();
        // Every item, basket and line takes at least one byte.
        let n_items = r.count()?;
        for id in 0..n_items {
            if id % EVERY == 0 {
                check();
            }
            let len = r.len()?;
            // Two copies of the name (the list and the map) and the entry.
            charge(2 * len as u64 + 80, &mut need)?;
            let name: Box<str> = r.str_of(len)?.into();
            b.name_bytes += 2 * name.len();
            b.names.push(name.clone());
            if b.item_ids.insert(name, id as u32).is_some() {
                return Err(BadState("an item name twice").into());
            }
        }
        let n = r.count()?;
        // Every basket, as the built state counts it (see
        // `BasketsBuilder::heap_bytes`).
        charge(BASKET_BYTES * n as u64, &mut need)?;
        for id in 0..n {
            if id % EVERY == 0 {
                check();
            }
            let len = r.len()?;
            if len > 0 {
                charge(len as u64 + 48, &mut need)?;
                let key: Box<str> = r.str_of(len - 1)?.into();
                if b.insert_basket_id(key, id as u32).is_some() {
                    return Err(BadState("a basket id twice").into());
                }
            }
        }
        b.n_baskets = n as u32;
        let mut counts = Vec::with_capacity(n);
        let mut total = 0usize;
        for _ in 0..n {
            let c = r.count()?;
            total = total.saturating_add(c);
            counts.push(c);
        }
        if total > r.bytes.len() - r.at {
            return Err(BadState("wrong length").into());
        }
        charge(8 * total as u64, &mut need)?;
        b.lines.reserve_exact(total);
        for (bk, &c) in counts.iter().enumerate() {
            if bk % EVERY == 0 {
                check();
            }
            let mut id = 0u64;
            for _ in 0..c {
                id = id.saturating_add(r.varint()?);
                if id >= n_items as u64 {
                    return Err(BadState("an item id out of range").into());
                }
                b.lines.push((bk as u32, id as u32));
            }
        }
        if r.at != r.bytes.len() {
            return Err(BadState("wrong length").into());
        }
        Ok(Partial { baskets: b, null_lines, options, charged: 0 })
    }
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `v` in decimal, as PostgreSQL prints an integer, without allocating:
/// how the aggregates turn integer basket ids and items into names.
pub fn decimal(v: i64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    std::str::from_utf8(&buf[at..]).expect("ASCII digits")
}

/// Reads the numbers and strings of a state, every length checked against
/// the bytes left.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }
    pub(crate) fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], BadState> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(BadState("truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, BadState> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, BadState> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn f64(&mut self) -> Result<f64, BadState> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    pub(crate) fn varint(&mut self) -> Result<u64, BadState> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(BadState("a number too long"))
    }
    /// A number of things that take at least a byte each: at most the bytes
    /// left, and at most u32::MAX (ids are u32).
    pub(crate) fn count(&mut self) -> Result<usize, BadState> {
        let v = self.varint()?;
        if v > (self.bytes.len() - self.at) as u64 || v > u64::from(u32::MAX) {
            return Err(BadState("truncated"));
        }
        Ok(v as usize)
    }
    /// A length of bytes that follow (or one more, for a basket id).
    pub(crate) fn len(&mut self) -> Result<usize, BadState> {
        let v = self.varint()?;
        if v > (self.bytes.len() - self.at) as u64 + 1 {
            return Err(BadState("truncated"));
        }
        Ok(v as usize)
    }
    pub(crate) fn str_of(&mut self, len: usize) -> Result<&'a str, BadState> {
        std::str::from_utf8(self.take(len)?).map_err(|_| BadState("a name that is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baskets::Baskets;

    fn partial(lines: &[(&str, &str)]) -> Partial {
        let mut p = Partial::default();
        for (b, i) in lines {
            p.baskets.push(b, i);
        }
        p
    }

    /// Baskets as sorted sets of item names, in sorted order: what mining
    /// sees, whatever the ids.
    fn contents(b: &Baskets) -> Vec<Vec<String>> {
        let mut all: Vec<Vec<String>> = b
            .iter()
            .map(|ids| {
                let mut v: Vec<String> = ids.iter().map(|&i| b.item_name(i).to_string()).collect();
                v.sort();
                v
            })
            .collect();
        all.sort();
        all
    }

    const LINES: &[(&str, &str)] = &[
        ("t1", "bread"),
        ("t1", "milk"),
        ("t2", "beer"),
        ("t1", "butter"),
        ("t3", "milk"),
        ("t2", "chips"),
        ("t3", "bread"),
        ("t4", "é🍵"),
        ("t2", "beer"),
    ];

    #[test]
    fn merging_split_baskets_gives_the_whole() {
        let whole = contents(&partial(LINES).baskets.build());
        // Every split point, as parallel workers or shards would cut.
        for cut in 0..=LINES.len() {
            let mut a = partial(&LINES[..cut]);
            a.null_lines = 2;
            let mut b = partial(&LINES[cut..]);
            b.null_lines = 3;
            a.merge(b).unwrap();
            assert_eq!(a.null_lines, 5);
            assert_eq!(contents(&a.baskets.build()), whole, "cut at {cut}");
        }
    }

    /// Built baskets as name lists in built order.
    fn in_order(b: &Baskets) -> Vec<Vec<String>> {
        b.iter().map(|ids| ids.iter().map(|&i| b.item_name(i).to_string()).collect()).collect()
    }

    #[test]
    fn canonical_order_ignores_read_and_merge_order() {
        let mut reversed: Vec<(&str, &str)> = LINES.to_vec();
        reversed.reverse();
        let mut first = partial(LINES);
        first.canonicalize();
        let want = in_order(&first.baskets.build());
        for cut in 0..=LINES.len() {
            let mut a = partial(&reversed[..cut]);
            a.merge(partial(&reversed[cut..])).unwrap();
            a.canonicalize();
            assert_eq!(in_order(&a.baskets.build()), want, "cut at {cut}");
        }
        // Items numbered by name.
        let mut p = partial(LINES);
        p.canonicalize();
        let b = p.baskets.build();
        let names: Vec<&str> = (0..b.n_items() as u32).map(|i| b.item_name(i)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn bytes_round_trip() {
        let mut p = partial(LINES);
        p.null_lines = 7;
        p.options = Some(AggOptions { min_support: 0.25, min_confidence: 0.5, max_length: 3 });
        let bytes = p.to_bytes();
        let q = Partial::from_bytes(&bytes).unwrap();
        assert_eq!(q.null_lines, 7);
        assert_eq!(q.options, p.options);
        assert_eq!(contents(&q.baskets.build()), contents(&p.baskets.build()));
        // Still mergeable with new lines of the same baskets after the trip.
        let mut q = Partial::from_bytes(&bytes).unwrap();
        q.merge(partial(&[("t4", "tea"), ("t9", "tea")])).unwrap();
        let b = q.baskets.build();
        assert_eq!(b.len(), 5);
    }

    #[test]
    fn decimal_matches_to_string() {
        let mut buf = [0u8; 20];
        for v in [0, 7, -7, 10, 1234567890, -1000, i64::MAX, i64::MIN, i64::MIN + 1] {
            assert_eq!(decimal(v, &mut buf), v.to_string());
        }
    }

    #[test]
    fn empty_state_round_trips() {
        let p = Partial::default();
        let q = Partial::from_bytes(&p.to_bytes()).unwrap();
        assert_eq!(q.baskets.build().len(), 0);
    }

    /// Empty baskets without an id cost two bytes each as bytes: merging
    /// states made of them is counted (every basket charged as built) and
    /// refused before basket numbers would wrap.
    #[test]
    fn empty_baskets_are_counted_and_merges_cannot_wrap() {
        let mut empty = Partial::default();
        empty.baskets.n_baskets = 1000;
        assert!(empty.baskets.heap_bytes() >= 1000 * crate::baskets::BASKET_BYTES);
        let bytes = empty.to_bytes();
        assert!(bytes.len() < 3000, "two bytes or so a basket");
        let too_small = 1000 * BASKET_BYTES - 1;
        assert!(matches!(Partial::from_bytes_within(&bytes, too_small, &mut || {}), Err(StateError::TooLarge { .. })));
        let mut a = Partial::default();
        a.baskets.n_baskets = u32::MAX - 10;
        let mut b = partial(LINES);
        b.baskets.n_baskets += 20;
        let lines = a.baskets.lines.len();
        assert!(matches!(a.merge(b), Err(StateError::TooLarge { .. })));
        assert_eq!((a.baskets.n_baskets, a.baskets.lines.len()), (u32::MAX - 10, lines), "nothing changed");
    }

    #[test]
    fn damaged_bytes_are_refused_not_trusted() {
        let bytes = partial(LINES).to_bytes();
        for cut in [0, 3, 5, 20, bytes.len() - 1] {
            assert!(Partial::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut wrong = bytes.clone();
        wrong[4] = 99;
        assert_eq!(Partial::from_bytes(&wrong).unwrap_err(), BadState("written by another version of rar"));
        let mut out_of_range = bytes.clone();
        let n = out_of_range.len();
        out_of_range[n - 4..].copy_from_slice(&1000u32.to_le_bytes());
        assert!(Partial::from_bytes(&out_of_range).is_err());
    }

    /// Counts that claim more than the bytes hold are refused before
    /// anything is reserved for them (the bytes may come from any role,
    /// through `rar.basket_state`'s input function).
    #[test]
    fn claimed_lengths_are_checked_against_the_bytes() {
        let mut head = Vec::new();
        head.extend_from_slice(MAGIC);
        head.push(VERSION);
        head.extend_from_slice(&[0u8; 8 + 1]);
        let with = |tail: &[u8]| [head.as_slice(), tail].concat();
        // A billion items, baskets or lines in a few bytes.
        let billion = [0x80, 0x94, 0xeb, 0xdc, 0x03];
        assert_eq!(Partial::from_bytes(&with(&billion)).unwrap_err(), BadState("truncated"));
        assert_eq!(Partial::from_bytes(&with(&[&[0u8][..], &billion].concat())).unwrap_err(), BadState("truncated"));
        // No items, two baskets without ids, counts 1 and a billion.
        let tail = [&[0u8, 2, 0, 0, 1][..], &billion, &[0u8; 6]].concat();
        assert_eq!(Partial::from_bytes(&with(&tail)).unwrap_err(), BadState("truncated"));
        // A number that never ends.
        assert_eq!(Partial::from_bytes(&with(&[0xff; 12])).unwrap_err(), BadState("a number too long"));
        // An item id past the items; then a good one; then a byte too many.
        let one_item = [&[1u8, 1, b'a', 1, 0, 1][..]].concat();
        assert_eq!(
            Partial::from_bytes(&with(&[&one_item[..], &[1]].concat())).unwrap_err(),
            BadState("an item id out of range")
        );
        let good = with(&[&one_item[..], &[0]].concat());
        assert_eq!(Partial::from_bytes(&good).unwrap().baskets.n_lines(), 1);
        assert_eq!(Partial::from_bytes(&[&good[..], &[0]].concat()).unwrap_err(), BadState("wrong length"));
    }

    /// The memory a state would take is checked while reading it, before
    /// its lines are reserved; the check runs as it goes.
    #[test]
    fn reading_is_bounded_and_checks_in() {
        let mut p = Partial::default();
        for b in 0..50_000i64 {
            p.baskets.push_ints(b, b % 7);
        }
        let bytes = p.to_bytes();
        let mut checks = 0;
        let whole = Partial::from_bytes_within(&bytes, u64::MAX, &mut || checks += 1).unwrap();
        assert_eq!(whole.baskets.n_lines(), 50_000);
        assert!(checks >= 3, "{checks} checks");
        // 50,000 lines take 400 kB as (basket, item) pairs.
        match Partial::from_bytes_within(&bytes, 300_000, &mut || {}) {
            Err(StateError::TooLarge { bytes }) => assert!(bytes > 300_000),
            other => panic!("{other:?}"),
        }
    }

    /// A line takes about a byte or two: item ids ascending within a basket,
    /// as deltas.
    #[test]
    fn bytes_are_compact() {
        let mut p = Partial::default();
        for b in 0..1000i64 {
            for i in 0..10i64 {
                p.baskets.push_ints(b, (b * 7 + i * 13) % 200);
            }
        }
        let len = p.to_bytes().len();
        // 10,000 lines; ids under 200 in a basket of ten: deltas under 128.
        assert!(len < 10_000 + 1000 * 6 + 200 * 5 + 64, "{len} bytes");
        assert_eq!(Partial::from_bytes(&p.to_bytes()).unwrap().baskets.n_lines(), 10_000);
    }
}
