//! The prefix tree of frequent itemsets, and what a visitor may ask of it.

use super::NONE;

/// One frequent itemset: the prefix (its parent) plus `item`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    pub(super) item: u32,
    pub(super) count: u32,
    pub(super) parent: u32,
    pub(super) first_child: u32,
    pub(super) n_children: u32,
}

/// Size of one node in bytes, for the memory budget.
pub const NODE_BYTES: u64 = std::mem::size_of::<Node>() as u64;

/// All frequent itemsets, as a prefix tree. Node 0 is the empty set, whose
/// count is the number of baskets; nodes `1..=m` are the frequent items.
#[derive(Debug, Clone)]
pub struct ItemsetTree {
    pub(super) nodes: Vec<Node>,
    /// Internal item number (by ascending count) to vocabulary id.
    pub(super) items: Vec<u32>,
    /// Where the nodes of each item's subtree (after its singleton) start.
    pub(super) base: Vec<u32>,
    /// Node numbers after provisional itemsets were dropped (empty if none was).
    pub(super) moved: Vec<u32>,
}

/// Where the search put an itemset: node `local` of the subtree of internal
/// item `top` (whose node 0 is the item itself), or node `local` of the final
/// tree when `top` is `u32::MAX`. [`ItemsetTree::resolve`] gives its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef {
    pub top: u32,
    pub local: u32,
}

impl ItemsetTree {
    /// The tree of itemsets counted elsewhere (see [`crate::shards`]):
    /// `n_baskets` baskets; `items[i]` the vocabulary id of internal item
    /// `i`; `sets` each itemset (internal items, ascending) with its count,
    /// sorted by length then items, holding every singleton `0..items.len()`
    /// and, with each itemset, the itemset without its last item.
    pub(crate) fn from_sorted(n_baskets: u32, items: Vec<u32>, sets: &[(Vec<u32>, u32)]) -> ItemsetTree {
        let mut nodes = Vec::with_capacity(sets.len() + 1);
        nodes.push(Node { item: NONE, count: n_baskets, parent: 0, first_child: NONE, n_children: 0 });
        for (set, count) in sets {
            let (&last, prefix) = set.split_last().expect("no empty itemset");
            let parent = find(&nodes, 0, prefix).expect("the prefix of an itemset comes before it");
            let at = nodes.len() as u32;
            let p = &mut nodes[parent as usize];
            if p.n_children == 0 {
                p.first_child = at;
            }
            p.n_children += 1;
            nodes.push(Node { item: last, count: *count, parent, first_child: NONE, n_children: 0 });
        }
        ItemsetTree { nodes, items, base: Vec::new(), moved: Vec::new() }
    }

    /// Number of baskets mined.
    pub fn n_baskets(&self) -> u32 {
        self.nodes[0].count
    }

    /// Number of frequent items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Number of frequent itemsets (the empty set not included).
    pub fn n_itemsets(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Vocabulary id of internal item `i`.
    pub fn vocab_id(&self, i: u32) -> u32 {
        self.items[i as usize]
    }

    pub fn count(&self, node: u32) -> u32 {
        self.nodes[node as usize].count
    }

    /// Count of the singleton of internal item `i`.
    pub fn item_count(&self, i: u32) -> u32 {
        self.nodes[1 + i as usize].count
    }

    /// The node of an itemset the search handed over.
    pub fn resolve(&self, r: NodeRef) -> u32 {
        if r.top == NONE {
            return r.local;
        }
        let joined = if r.local == 0 { 1 + r.top } else { self.base[r.top as usize] + r.local - 1 };
        if self.moved.is_empty() {
            joined
        } else {
            self.moved[joined as usize]
        }
    }

    /// Forgets what [`ItemsetTree::resolve`] needs, once every [`NodeRef`]
    /// is resolved.
    pub fn forget_refs(&mut self) {
        self.base = Vec::new();
        self.moved = Vec::new();
    }

    /// The internal items of `node`, ascending, written into `out`.
    pub fn items_of(&self, mut node: u32, out: &mut Vec<u32>) {
        out.clear();
        while node != 0 {
            let n = &self.nodes[node as usize];
            out.push(n.item);
            node = n.parent;
        }
        out.reverse();
    }

    /// Count of the itemset made of `items` (internal numbers, ascending), or
    /// `None` when it is not frequent.
    pub fn count_of(&self, items: &[u32]) -> Option<u32> {
        self.node_of(items).map(|n| self.nodes[n as usize].count)
    }

    /// The node of the itemset made of `items` (ascending), if frequent.
    pub(super) fn node_of(&self, items: &[u32]) -> Option<u32> {
        find(&self.nodes, 0, items)
    }
}

/// The node under `start` (in `nodes`) reached by `items`, one level each.
pub(super) fn find(nodes: &[Node], start: u32, items: &[u32]) -> Option<u32> {
    let mut node = start;
    for &it in items {
        let kids = children(nodes, node);
        let p = nodes[kids.clone()].binary_search_by_key(&it, |k| k.item).ok()?;
        node = (kids.start + p) as u32;
    }
    Some(node)
}

/// `items` without the one at position `skip`, written into `out`.
pub(crate) fn without(items: &[u32], skip: usize, out: &mut Vec<u32>) {
    out.clear();
    out.extend(items.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &v)| v));
}

/// The children of `node`, as a range of node numbers.
pub(super) fn children(nodes: &[Node], node: u32) -> std::ops::Range<usize> {
    let n = &nodes[node as usize];
    if n.n_children == 0 {
        return 0..0;
    }
    n.first_child as usize..(n.first_child + n.n_children) as usize
}
/// What a [`Visitor`](super::Visitor) may ask about the itemsets found so far.
pub trait Counts {
    /// Vocabulary id of internal item `i`.
    fn vocab_id(&self, i: u32) -> u32;
    /// Count of the singleton of internal item `i`.
    fn item_count(&self, i: u32) -> u32;
    /// Count of `items` (ascending; a subset of the itemset being visited),
    /// or `None` when it is not frequent.
    fn count_of(&self, items: &[u32]) -> Option<u32>;
    /// Frequent itemsets found so far, on all threads.
    fn n_itemsets(&self) -> usize;
}

impl Counts for ItemsetTree {
    fn vocab_id(&self, i: u32) -> u32 {
        ItemsetTree::vocab_id(self, i)
    }
    fn item_count(&self, i: u32) -> u32 {
        ItemsetTree::item_count(self, i)
    }
    fn count_of(&self, items: &[u32]) -> Option<u32> {
        ItemsetTree::count_of(self, items)
    }
    fn n_itemsets(&self) -> usize {
        ItemsetTree::n_itemsets(self)
    }
}
