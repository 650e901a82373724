//! After the search: the subtrees joined into one tree, provisional
//! itemsets settled, and the itemsets the search could not visit visited.

use std::sync::atomic::AtomicBool;

use super::search::{Shared, Subtree};
use super::threads::{run_tasks, Halt};
use super::tree::{without, ItemsetTree, Node, NODE_BYTES};
use super::{Found, NodeRef, Visitor, NONE};
use crate::error::MineError;

/// Joins the subtrees into one tree; returns it with the itemsets still to
/// visit and the provisional ones.
pub(super) fn join(shared: Shared<'_>, n: u32, frequent: Vec<u32>) -> (ItemsetTree, Vec<u32>, Vec<u32>) {
    let m = frequent.len();
    let subtrees: Vec<Subtree> = shared.done.into_iter().map(|d| d.into_inner().unwrap_or_default()).collect();
    let total = 1 + m + subtrees.iter().map(|s| s.nodes.len().saturating_sub(1)).sum::<usize>();
    let mut nodes = Vec::with_capacity(total);
    nodes.push(Node {
        item: NONE,
        count: n,
        parent: 0,
        first_child: if m > 0 { 1 } else { NONE },
        n_children: m as u32,
    });
    nodes.extend(shared.counts.iter().enumerate().map(|(i, &count)| Node {
        item: i as u32,
        count,
        parent: 0,
        first_child: NONE,
        n_children: 0,
    }));
    let mut base = vec![0u32; m];
    let (mut deferred, mut provisional) = (Vec::new(), Vec::new());
    for (a, sub) in subtrees.into_iter().enumerate() {
        let start = nodes.len() as u32;
        base[a] = start;
        let global = |local: u32| if local == 0 { 1 + a as u32 } else { start + local - 1 };
        if let Some(top) = sub.nodes.first() {
            if top.n_children > 0 {
                nodes[1 + a].first_child = global(top.first_child);
                nodes[1 + a].n_children = top.n_children;
            }
        }
        nodes.extend(sub.nodes.iter().skip(1).map(|k| Node {
            parent: global(k.parent),
            first_child: if k.n_children > 0 { global(k.first_child) } else { NONE },
            ..*k
        }));
        deferred.extend(sub.deferred.iter().map(|&local| global(local)));
        provisional
            .extend(sub.provisional.iter().enumerate().filter(|&(_, &p)| p).map(|(local, _)| global(local as u32)));
    }
    (ItemsetTree { nodes, items: frequent, base, moved: Vec::new() }, deferred, provisional)
}

/// Decides each provisional itemset as the search on one thread would have:
/// it belongs when every subset one item smaller belongs and one of them
/// reaches the antecedent count `u`. Drops the others (and renumbers the
/// tree); returns `deferred` renumbered, without them.
pub(super) fn settle(
    tree: &mut ItemsetTree,
    deferred: Vec<u32>,
    provisional: &[u32],
    u: u32,
    memory_limit: u64,
    tick: &mut dyn FnMut(),
) -> Result<Vec<u32>, MineError> {
    // The tree, a flag and a new number per node, the order of the
    // provisional ones.
    let bytes = tree.nodes.len() as u64 * (NODE_BYTES + 5) + provisional.len() as u64 * 16;
    if bytes > memory_limit {
        return Err(MineError::MemoryLimit { limit_bytes: memory_limit });
    }
    let mut items = Vec::new();
    let mut subset = Vec::new();
    let mut order: Vec<(usize, u32)> = provisional
        .iter()
        .map(|&g| {
            tree.items_of(g, &mut items);
            (items.len(), g)
        })
        .collect();
    // Smaller itemsets first: each is decided before any that contains it.
    order.sort_unstable();
    let mut dead = vec![false; tree.nodes.len()];
    for (done, &(_, g)) in order.iter().enumerate() {
        if done % 4096 == 0 {
            tick();
        }
        tree.items_of(g, &mut items);
        let mut best = 0;
        let mut belongs = true;
        for skip in 0..items.len() {
            without(&items, skip, &mut subset);
            match tree.node_of(&subset) {
                Some(s) if !dead[s as usize] => best = best.max(tree.nodes[s as usize].count),
                _ => {
                    belongs = false;
                    break;
                }
            }
        }
        dead[g as usize] = !belongs || best < u;
    }
    if !dead.contains(&true) {
        return Ok(deferred);
    }
    let mut moved = vec![NONE; tree.nodes.len()];
    let mut kept = 0usize;
    for (g, m) in moved.iter_mut().enumerate() {
        if !dead[g] {
            *m = kept as u32;
            kept += 1;
        }
    }
    // In place: a node moves only down, and its parent comes before it.
    for g in 0..tree.nodes.len() {
        if dead[g] {
            continue;
        }
        let mut node = tree.nodes[g];
        node.parent = moved[node.parent as usize];
        if node.n_children > 0 {
            let block = node.first_child as usize..(node.first_child + node.n_children) as usize;
            // The children left are consecutive in the new numbering.
            let mut alive = block.filter(|&c| !dead[c]);
            match alive.next() {
                Some(first) => {
                    node.first_child = moved[first];
                    node.n_children = 1 + alive.count() as u32;
                }
                None => {
                    node.first_child = NONE;
                    node.n_children = 0;
                }
            }
        }
        tree.nodes[moved[g] as usize] = node;
    }
    tree.nodes.truncate(kept);
    tree.nodes.shrink_to_fit();
    tree.moved = moved;
    Ok(deferred.into_iter().map(|g| tree.moved[g as usize]).filter(|&g| g != NONE).collect())
}

/// Visits the itemsets the search could not, on the visitors' threads.
pub(super) fn visit_deferred<V: Visitor>(
    tree: &ItemsetTree,
    deferred: &[u32],
    visitors: &mut [V],
    tick: &mut dyn FnMut(),
) -> Result<(), MineError> {
    const CHUNK: usize = 4096;
    let stop = AtomicBool::new(false);
    let task = |visitor: &mut V, t: usize, tick: &mut dyn FnMut()| -> Result<(), Halt> {
        let (mut items, mut subset, mut drops) = (Vec::new(), Vec::new(), Vec::new());
        for &g in &deferred[t * CHUNK..((t + 1) * CHUNK).min(deferred.len())] {
            tree.items_of(g, &mut items);
            drops.clear();
            for skip in 0..items.len() {
                without(&items, skip, &mut subset);
                drops.push(tree.count_of(&subset).unwrap_or(0));
            }
            let found = Found {
                node: NodeRef { top: NONE, local: g },
                count: tree.count(g),
                items: &items,
                drop_counts: &drops,
            };
            visitor.visit(tree, found)?;
        }
        tick();
        Ok(())
    };
    run_tasks(deferred.len().div_ceil(CHUNK), visitors, &stop, tick, &task)
}
