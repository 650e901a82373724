//! A small cache bounded by bytes, least recently used out first: the
//! encoded baskets a session keeps between `rar_mine` calls (the extension's
//! `basket_cache` decides what may be kept and when an entry is stale; this
//! is only the bookkeeping).
//!
//! Every entry carries a `stamp`, the state of its source when it was read.
//! [`Cache::get`] answers only for the same stamp, and drops an entry whose
//! stamp differs: a stale entry is never answered and never kept.

/// One kept value.
#[derive(Debug)]
struct Entry<K, V> {
    key: K,
    stamp: String,
    value: V,
    bytes: u64,
    /// When it was last used (a counter, not a clock).
    used: u64,
    hits: u64,
}

/// What [`Cache::entries`] shows of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo<K> {
    pub key: K,
    pub bytes: u64,
    pub hits: u64,
}

/// Values by key, at most `budget` bytes in all.
#[derive(Debug)]
pub struct Cache<K, V> {
    entries: Vec<Entry<K, V>>,
    clock: u64,
}

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Cache { entries: Vec::new(), clock: 0 }
    }
}

impl<K: PartialEq + Clone, V> Cache<K, V> {
    /// The value kept for `key` when it was read at `stamp`. An entry for
    /// `key` with another stamp is dropped.
    pub fn get(&mut self, key: &K, stamp: &str) -> Option<&V> {
        let at = self.entries.iter().position(|e| &e.key == key)?;
        if self.entries[at].stamp != stamp {
            self.entries.swap_remove(at);
            return None;
        }
        self.clock += 1;
        let e = &mut self.entries[at];
        e.used = self.clock;
        e.hits += 1;
        Some(&e.value)
    }

    /// Keeps `value` (of `bytes` bytes) for `key` at `stamp`, replacing
    /// what was kept for `key`, then drops the least recently used entries
    /// until all fit in `budget`. A value larger than `budget` is not kept.
    /// Returns whether it was kept.
    pub fn put(&mut self, key: K, stamp: String, value: V, bytes: u64, budget: u64) -> bool {
        self.entries.retain(|e| e.key != key);
        if bytes > budget {
            self.shrink(budget);
            return false;
        }
        self.shrink(budget - bytes);
        self.clock += 1;
        self.entries.push(Entry { key, stamp, value, bytes, used: self.clock, hits: 0 });
        true
    }

    /// Drops the least recently used entries until the rest fit in `budget`.
    pub fn shrink(&mut self, budget: u64) {
        while self.bytes() > budget {
            let Some(oldest) = self.entries.iter().enumerate().min_by_key(|(_, e)| e.used).map(|(i, _)| i) else {
                return;
            };
            self.entries.swap_remove(oldest);
        }
    }

    /// Drops every entry whose key matches.
    pub fn forget(&mut self, mut matches: impl FnMut(&K) -> bool) {
        self.entries.retain(|e| !matches(&e.key));
    }

    /// Bytes kept in all.
    pub fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.bytes).sum()
    }

    /// The entries, most recently used first.
    pub fn entries(&self) -> Vec<EntryInfo<K>> {
        let mut order: Vec<&Entry<K, V>> = self.entries.iter().collect();
        order.sort_by_key(|e| std::cmp::Reverse(e.used));
        order.into_iter().map(|e| EntryInfo { key: e.key.clone(), bytes: e.bytes, hits: e.hits }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_for_the_same_stamp_and_drops_stale_entries() {
        let mut c: Cache<u32, &str> = Cache::default();
        assert!(c.put(1, "v1".into(), "a", 10, 100));
        assert_eq!(c.get(&1, "v1"), Some(&"a"));
        assert_eq!(c.get(&1, "v2"), None);
        // Dropped, not kept for the old stamp either.
        assert_eq!(c.get(&1, "v1"), None);
        assert_eq!(c.bytes(), 0);
        assert_eq!(c.get(&2, "v1"), None);
    }

    #[test]
    fn keeps_within_budget_least_recently_used_out_first() {
        let mut c: Cache<u32, u32> = Cache::default();
        for k in 0..3 {
            assert!(c.put(k, "s".into(), k, 40, 100));
        }
        // 120 bytes asked for 100: the first one went.
        assert_eq!(c.bytes(), 80);
        assert_eq!(c.get(&0, "s"), None);
        // Using 1 makes 2 the least recently used.
        assert_eq!(c.get(&1, "s"), Some(&1));
        assert!(c.put(3, "s".into(), 3, 40, 100));
        assert_eq!(c.get(&2, "s"), None);
        assert_eq!(c.get(&1, "s"), Some(&1));
        assert_eq!(c.get(&3, "s"), Some(&3));
        let shown: Vec<(u32, u64)> = c.entries().iter().map(|e| (e.key, e.hits)).collect();
        assert_eq!(shown, vec![(3, 1), (1, 2)]);
    }

    #[test]
    fn a_value_over_the_budget_is_not_kept_and_replaces_nothing_stale() {
        let mut c: Cache<u32, u32> = Cache::default();
        assert!(c.put(1, "s".into(), 1, 40, 100));
        assert!(!c.put(1, "t".into(), 2, 200, 100));
        // The old value of key 1 is gone (it was replaced), nothing is kept.
        assert_eq!(c.get(&1, "s"), None);
        assert_eq!(c.bytes(), 0);
        // A smaller budget later drops what no longer fits.
        assert!(c.put(2, "s".into(), 2, 60, 100));
        c.shrink(50);
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn forget_drops_matching_keys() {
        let mut c: Cache<(u32, bool), u32> = Cache::default();
        c.put((1, true), "s".into(), 1, 1, 100);
        c.put((1, false), "s".into(), 2, 1, 100);
        c.put((2, true), "s".into(), 3, 1, 100);
        c.forget(|k| k.0 == 1);
        assert_eq!(c.entries().len(), 1);
        assert_eq!(c.get(&(2, true), "s"), Some(&3));
    }
}
