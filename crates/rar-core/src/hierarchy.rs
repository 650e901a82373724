//! Product hierarchies: baskets at a level of the catalog, or across levels.
//!
//! A [`Hierarchy`] gives each item its label at each level (for example
//! product → aisle → department), read from a lookup table. Mining then works
//! on baskets rebuilt from the ones read:
//!
//! - [`at_level`]: each item replaced by its label at one level (a basket
//!   with two products of one aisle holds the aisle once); lines whose item
//!   has no label at that level are left out and counted;
//! - [`across_levels`]: each basket keeps its items and gains every ancestor
//!   of them, named `"<level>: <label>"` (Srikant and Agrawal's "Cumulate").
//!   The baskets then carry a [`Taxonomy`]: the search never puts an item
//!   and its own ancestor in one itemset (`{banana, aisle: fresh fruits}` is
//!   true of every basket with a banana, and says nothing), and
//!   [`crate::rules::RuleSet::interesting`] drops the rules that a more general
//!   rule already explains.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::baskets::{Baskets, BasketsBuilder};
use crate::error::MineError;

/// `level => 'all'`: items and every level of the hierarchy together.
pub const ACROSS: &str = "all";

/// Each item's label at each level, lowest level first.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    levels: Vec<String>,
    labels: FxHashMap<Box<str>, Box<[Option<Box<str>>]>>,
    bytes: usize,
}

impl Hierarchy {
    /// An empty hierarchy with these levels, lowest (closest to the items)
    /// first.
    pub fn new(levels: Vec<String>) -> Hierarchy {
        Hierarchy { levels, labels: FxHashMap::default(), bytes: 0 }
    }

    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// The index of the level named `name`.
    pub fn level(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l == name)
    }

    /// Number of items with labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes held, about: for the memory budget while reading the lookup.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Records `item`'s labels (one per level; `None` where it has none). A
    /// lookup table may repeat an item with the same labels; two different
    /// labels at one level are an error, never a guess.
    pub fn add(&mut self, item: &str, labels: Vec<Option<String>>) -> Result<(), MineError> {
        let labels: Box<[Option<Box<str>>]> = labels.into_iter().map(|l| l.map(Into::into)).collect();
        if let Some(old) = self.labels.get(item) {
            for (k, (a, b)) in old.iter().zip(labels.iter()).enumerate() {
                if a != b {
                    return Err(MineError::HierarchyConflict {
                        item: shown(item),
                        level: self.levels[k].clone(),
                        first: a.as_deref().map(shown),
                        second: b.as_deref().map(shown),
                    });
                }
            }
            return Ok(());
        }
        self.bytes += 64 + item.len() + labels.iter().map(|l| 16 + l.as_ref().map_or(0, |s| s.len())).sum::<usize>();
        self.labels.insert(item.into(), labels);
        Ok(())
    }

    /// Whether `item` has labels.
    pub fn has(&self, item: &str) -> bool {
        self.labels.contains_key(item)
    }

    fn labels_of(&self, item: &str) -> Option<&[Option<Box<str>>]> {
        self.labels.get(item).map(|l| &l[..])
    }

    /// The name an ancestor has across levels: `"<level>: <label>"`.
    pub fn node_name(&self, level: usize, label: &str) -> String {
        format!("{}: {}", self.levels[level], label)
    }
}

/// An item or label as an error message shows it: at most 200 characters.
fn shown(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// Baskets at one level, and the lines left out.
#[derive(Debug)]
pub struct AtLevel {
    pub baskets: Baskets,
    /// Lines (distinct items of a basket) whose item has no label at the
    /// level.
    pub unlabelled_lines: u64,
}

/// Each item of `baskets` replaced by its label at `level`. Every basket is
/// kept, also one left empty (the number of baskets is every support's N).
pub fn at_level(baskets: &Baskets, h: &Hierarchy, level: usize, tick: &mut dyn FnMut()) -> AtLevel {
    let label: Vec<Option<&str>> = (0..baskets.n_items() as u32)
        .map(|i| h.labels_of(baskets.item_name(i)).and_then(|l| l[level].as_deref()))
        .collect();
    let mut b = BasketsBuilder::default();
    let mut unlabelled = 0u64;
    for (t, items) in baskets.iter().enumerate() {
        if t % 65536 == 0 {
            tick();
        }
        unlabelled += items.iter().filter(|&&i| label[i as usize].is_none()).count() as u64;
        b.push_basket(items.iter().filter_map(|&i| label[i as usize]));
    }
    AtLevel { baskets: b.build(), unlabelled_lines: unlabelled }
}

/// A basket's items as rules mined at a level see them: their labels at
/// `level` (items without one left out), or with `level` None (across
/// levels) the items and all their ancestors. Sorted by name and distinct,
/// as rule sides are.
pub fn lift_items(h: &Hierarchy, items: &[String], level: Option<usize>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let labels = h.labels_of(item);
        match level {
            Some(k) => out.extend(labels.and_then(|l| l[k].as_deref()).map(str::to_string)),
            None => {
                out.push(item.clone());
                if let Some(l) = labels {
                    out.extend(l.iter().enumerate().filter_map(|(k, x)| x.as_deref().map(|x| h.node_name(k, x))));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What the search and the rule filter know of a hierarchy across levels,
/// by vocabulary id of the baskets it belongs to.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    /// Every ancestor of each item (empty for the top level and for items
    /// without labels).
    ancestors: Vec<Box<[u32]>>,
    /// The closest ancestor of each item, `u32::MAX` for none.
    parent: Vec<u32>,
}

impl Taxonomy {
    /// Whether one of `a` and `b` is an ancestor of the other.
    pub fn related(&self, a: u32, b: u32) -> bool {
        self.ancestors[a as usize].contains(&b) || self.ancestors[b as usize].contains(&a)
    }

    /// The closest ancestor of `item`, if any.
    pub fn parent(&self, item: u32) -> Option<u32> {
        Some(self.parent[item as usize]).filter(|&p| p != u32::MAX)
    }
}

/// Each basket with its items and all their ancestors, carrying the
/// [`Taxonomy`] that the search and [`crate::rules::RuleSet::interesting`] use.
/// An item of the baskets whose name is also an ancestor's name is refused
/// (the two could not be told apart in a rule).
pub fn across_levels(
    baskets: &Baskets,
    h: &Hierarchy,
    memory_limit: u64,
    tick: &mut dyn FnMut(),
) -> Result<Baskets, MineError> {
    let n_levels = h.levels.len();
    let too_large = MineError::MemoryLimit { limit_bytes: memory_limit };
    // Ancestor names of each item of the baskets, lowest level first; each
    // name made by one level and label only.
    let mut chains: Vec<Vec<(usize, String)>> = Vec::with_capacity(baskets.n_items());
    let mut own: FxHashSet<&str> = FxHashSet::default();
    let mut made_by: FxHashMap<String, (usize, &str)> = FxHashMap::default();
    let mut bytes = 0u64;
    for i in 0..baskets.n_items() as u32 {
        if i % 1024 == 0 {
            tick();
        }
        let name = baskets.item_name(i);
        own.insert(name);
        let mut chain = Vec::new();
        if let Some(l) = h.labels_of(name) {
            for (k, label) in l.iter().enumerate().filter_map(|(k, l)| l.as_deref().map(|l| (k, l))) {
                let node = h.node_name(k, label);
                match made_by.get(&node) {
                    Some(&(k0, l0)) if (k0, l0) != (k, label) => {
                        return Err(MineError::HierarchyNameClash { name: shown(&node) })
                    }
                    Some(_) => {}
                    None => {
                        bytes += 2 * (node.len() as u64 + 48);
                        made_by.insert(node.clone(), (k, label));
                    }
                }
                bytes += node.len() as u64 + 32;
                chain.push((k, node));
            }
        }
        // Each item's chain, and the sets of ancestors built from them.
        bytes += 24 + 8 * (n_levels * n_levels) as u64;
        if bytes > memory_limit {
            return Err(too_large);
        }
        chains.push(chain);
    }
    if let Some((_, clash)) = chains.iter().flatten().find(|(_, n)| own.contains(n.as_str())) {
        return Err(MineError::HierarchyNameClash { name: shown(clash) });
    }
    // The baskets with ancestors: at most one line per item and level.
    let lines = baskets.iter().map(|b| b.len() as u64).sum::<u64>();
    if bytes.saturating_add(lines.saturating_mul(12 * (1 + n_levels as u64))) > memory_limit {
        return Err(too_large);
    }
    let mut b = BasketsBuilder::default();
    // The items keep their order of first appearance, ancestors after them.
    for i in 0..baskets.n_items() as u32 {
        b.item_id(baskets.item_name(i));
    }
    let mut names: Vec<&str> = Vec::new();
    for (t, items) in baskets.iter().enumerate() {
        if t % 65536 == 0 {
            tick();
        }
        names.clear();
        for &i in items {
            names.push(baskets.item_name(i));
            names.extend(chains[i as usize].iter().map(|(_, n)| n.as_str()));
        }
        b.push_basket(names.iter().copied());
    }
    // Ancestors of every id: an item's chain; a level node's, the nodes
    // above it on the chains that pass through it (its parent: the lowest
    // of them, the least name on ties, for a lookup that is not a tree).
    let n_ids = b.names.len();
    let mut ancestors: Vec<FxHashSet<u32>> = vec![FxHashSet::default(); n_ids];
    let mut parent_of_node: FxHashMap<u32, (usize, u32)> = FxHashMap::default();
    let mut parent = vec![u32::MAX; n_ids];
    for (i, chain) in chains.iter().enumerate() {
        if i % 1024 == 0 {
            tick();
        }
        let ids: Vec<(usize, u32)> =
            chain.iter().filter_map(|(k, n)| b.item_ids.get(n.as_str()).map(|&id| (*k, id))).collect();
        if let Some(&(_, first)) = ids.first() {
            parent[i] = first;
        }
        for (x, &(_, id)) in ids.iter().enumerate() {
            ancestors[i].insert(id);
            for &(k, up) in &ids[x + 1..] {
                ancestors[id as usize].insert(up);
                let better = match parent_of_node.get(&id) {
                    None => true,
                    Some(&(pk, pid)) => (k, b.names[up as usize].as_ref()) < (pk, b.names[pid as usize].as_ref()),
                };
                if better {
                    parent_of_node.insert(id, (k, up));
                }
            }
        }
    }
    for (id, (_, up)) in parent_of_node {
        parent[id as usize] = up;
    }
    let ancestors = ancestors
        .into_iter()
        .map(|s| {
            let mut v: Vec<u32> = s.into_iter().collect();
            v.sort_unstable();
            v.into_boxed_slice()
        })
        .collect();
    let mut out = b.build();
    out.set_taxonomy(Arc::new(Taxonomy { ancestors, parent }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hierarchy() -> Hierarchy {
        let mut h = Hierarchy::new(vec!["aisle".into(), "department".into()]);
        let s = |x: &str| Some(x.to_string());
        h.add("banana", vec![s("fruit"), s("produce")]).unwrap();
        h.add("apple", vec![s("fruit"), s("produce")]).unwrap();
        h.add("carrot", vec![s("vegetables"), s("produce")]).unwrap();
        h.add("milk", vec![s("dairy"), None]).unwrap();
        h
    }

    fn baskets(rows: &[&[&str]]) -> Baskets {
        let mut b = BasketsBuilder::default();
        for r in rows {
            b.push_basket(r.iter().copied());
        }
        b.build()
    }

    fn names(b: &Baskets, t: usize) -> Vec<&str> {
        let mut v: Vec<&str> = b.basket(t).iter().map(|&i| b.item_name(i)).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn at_a_level_items_become_their_labels_once_per_basket() {
        let b = baskets(&[&["banana", "apple", "milk"], &["carrot", "soap"], &["soap"]]);
        let a = at_level(&b, &hierarchy(), 0, &mut || {});
        assert_eq!(a.baskets.len(), 3, "every basket kept");
        assert_eq!(names(&a.baskets, 0), ["dairy", "fruit"]);
        assert_eq!(names(&a.baskets, 1), ["vegetables"]);
        assert!(names(&a.baskets, 2).is_empty());
        assert_eq!(a.unlabelled_lines, 2, "soap twice");
        let d = at_level(&b, &hierarchy(), 1, &mut || {});
        assert_eq!(names(&d.baskets, 0), ["produce"]);
        assert_eq!(d.unlabelled_lines, 3, "milk has no department, soap nothing");
    }

    #[test]
    fn across_levels_baskets_gain_ancestors_and_know_them() {
        let b = baskets(&[&["banana", "milk"], &["carrot"]]);
        let x = across_levels(&b, &hierarchy(), 1 << 30, &mut || {}).unwrap();
        assert_eq!(names(&x, 0), ["aisle: dairy", "aisle: fruit", "banana", "department: produce", "milk"]);
        let id = |n: &str| (0..x.n_items() as u32).find(|&i| x.item_name(i) == n).unwrap();
        let t = x.taxonomy().unwrap();
        assert!(t.related(id("banana"), id("aisle: fruit")));
        assert!(t.related(id("department: produce"), id("banana")));
        assert!(t.related(id("aisle: vegetables"), id("department: produce")));
        assert!(!t.related(id("banana"), id("milk")));
        assert!(!t.related(id("aisle: fruit"), id("aisle: dairy")));
        assert_eq!(t.parent(id("banana")), Some(id("aisle: fruit")));
        assert_eq!(t.parent(id("aisle: fruit")), Some(id("department: produce")));
        assert_eq!(t.parent(id("department: produce")), None);
        assert_eq!(t.parent(id("aisle: dairy")), None, "milk has no department");
    }

    #[test]
    fn a_basket_is_lifted_as_the_rules_were_mined() {
        let h = hierarchy();
        let basket: Vec<String> = ["banana", "milk", "soap"].iter().map(|s| s.to_string()).collect();
        assert_eq!(lift_items(&h, &basket, Some(0)), ["dairy", "fruit"]);
        assert_eq!(lift_items(&h, &basket, Some(1)), ["produce"]);
        assert_eq!(
            lift_items(&h, &basket, None),
            ["aisle: dairy", "aisle: fruit", "banana", "department: produce", "milk", "soap"]
        );
    }

    #[test]
    fn conflicting_labels_and_clashing_names_are_refused() {
        let mut h = hierarchy();
        let s = |x: &str| Some(x.to_string());
        assert!(h.add("banana", vec![s("fruit"), s("produce")]).is_ok(), "a repeat with the same labels");
        assert!(matches!(
            h.add("banana", vec![s("snacks"), s("produce")]),
            Err(MineError::HierarchyConflict { level, .. }) if level == "aisle"
        ));
        let b = baskets(&[&["banana", "aisle: fruit"]]);
        assert!(matches!(across_levels(&b, &h, 1 << 30, &mut || {}), Err(MineError::HierarchyNameClash { .. })));
        // Two levels whose names and labels make one name.
        let mut h = Hierarchy::new(vec!["a".into(), "a: b".into()]);
        h.add("x", vec![s("b: c"), s("c")]).unwrap();
        let b = baskets(&[&["x"]]);
        assert!(matches!(
            across_levels(&b, &h, 1 << 30, &mut || {}),
            Err(MineError::HierarchyNameClash { name }) if name == "a: b: c"
        ));
        // The memory budget.
        assert!(matches!(across_levels(&b, &hierarchy(), 64, &mut || {}), Err(MineError::MemoryLimit { .. })));
    }
}
