//! Rules read off a trained basket model by probing, in the manner of
//! Aerial+ (Karabulut, Groth and Degeler, NeSy 2025).
//!
//! An antecedent candidate `A` is marked in the model's input (everything
//! else left at zero); the model answers one probability per item. `A` is
//! kept when the model gives each of its own items at least
//! `antecedent_threshold` (for models that reconstruct their input; skipped
//! for models trained to predict only hidden items), and `A => c` is proposed
//! for every other item `c` with at least `consequent_threshold`. Antecedents
//! grow one item at a time from the `beam` most probable items given the
//! antecedent, and a candidate is probed only if every subset one item
//! smaller was kept. Probes go to the model in batches.
//!
//! The rules proposed here are only proposals: the extension counts each one
//! exactly on the data before returning it.

use std::collections::HashSet;

/// How to probe.
#[derive(Debug, Clone)]
pub struct ProbeParams {
    pub antecedent_threshold: f32,
    pub consequent_threshold: f32,
    /// Most items in an antecedent.
    pub max_antecedent: usize,
    /// Extensions tried per kept antecedent.
    pub beam: usize,
    /// Check that the model reconstructs the antecedent's own items.
    pub self_check: bool,
    /// Most antecedents kept per level (the most confident first).
    pub max_per_level: usize,
    /// Probes per call of the scorer.
    pub batch: usize,
}

/// The defaults of the thresholds were chosen on the validation splits of
/// Online Retail and the Instacart sample (`benches/quality.py`, in
/// BENCHMARKS.md): the pair with the best recall@10 among those whose rules
/// hold at least as often as exact rules, with at most a quarter of them.
impl Default for ProbeParams {
    fn default() -> Self {
        ProbeParams {
            antecedent_threshold: 0.01,
            consequent_threshold: 0.1,
            max_antecedent: 3,
            beam: 10,
            self_check: true,
            max_per_level: 20_000,
            batch: 1024,
        }
    }
}

/// A proposed rule: antecedent (sorted item indices), consequent, and the
/// model's probability of the consequent given the antecedent.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub antecedent: Vec<u32>,
    pub consequent: u32,
    pub score: f32,
}

/// Probes a model over `vocab` items. `score` maps a batch of item sets to
/// one probability row (`vocab` long) per set; `tick` is called between
/// batches (the caller checks for cancellation there).
pub fn probe(
    vocab: usize,
    p: &ProbeParams,
    score: &mut dyn FnMut(&[Vec<u32>]) -> Vec<Vec<f32>>,
    tick: &mut dyn FnMut(),
) -> Vec<Proposal> {
    let mut out = Vec::new();
    let mut level: Vec<Vec<u32>> = (0..vocab as u32).map(|i| vec![i]).collect();
    let mut kept_before: HashSet<Vec<u32>> = HashSet::new();
    for size in 1..=p.max_antecedent {
        if level.is_empty() {
            break;
        }
        let mut kept: Vec<(f32, Vec<u32>, Vec<f32>)> = Vec::new();
        for chunk in level.chunks(p.batch.max(1)) {
            tick();
            let rows = score(chunk);
            for (set, row) in chunk.iter().zip(rows) {
                let own = set.iter().map(|&i| row[i as usize]).fold(f32::INFINITY, f32::min);
                if p.self_check && own < p.antecedent_threshold {
                    continue;
                }
                kept.push((own, set.clone(), row));
            }
        }
        kept.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        kept.truncate(p.max_per_level);
        let kept_sets: HashSet<Vec<u32>> = kept.iter().map(|k| k.1.clone()).collect();
        let mut next: HashSet<Vec<u32>> = HashSet::new();
        for (_, set, row) in &kept {
            for (c, &prob) in row.iter().enumerate() {
                if prob >= p.consequent_threshold && !set.contains(&(c as u32)) {
                    out.push(Proposal { antecedent: set.clone(), consequent: c as u32, score: prob });
                }
            }
            if size < p.max_antecedent {
                let mut order: Vec<u32> = (0..row.len() as u32).filter(|i| !set.contains(i)).collect();
                order.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]).then(a.cmp(&b)));
                for &j in order.iter().take(p.beam) {
                    let mut grown = set.clone();
                    grown.push(j);
                    grown.sort_unstable();
                    // Apriori: every subset one item smaller must have been kept.
                    let ok = (0..grown.len()).all(|skip| {
                        let sub: Vec<u32> =
                            grown.iter().enumerate().filter(|&(k, _)| k != skip).map(|(_, &v)| v).collect();
                        kept_sets.contains(&sub) || kept_before.contains(&sub)
                    });
                    if ok {
                        next.insert(grown);
                    }
                }
            }
        }
        kept_before.extend(kept_sets);
        let mut next: Vec<Vec<u32>> = next.into_iter().collect();
        next.sort();
        level = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake model over 6 items: items 0, 1 and 2 come together; 3 follows
    /// 4; everything reconstructs itself.
    fn fake(sets: &[Vec<u32>]) -> Vec<Vec<f32>> {
        sets.iter()
            .map(|s| {
                let mut row = vec![0.05f32; 6];
                for &i in s {
                    row[i as usize] = 0.9;
                }
                if s.iter().any(|&i| i <= 2) {
                    for i in 0..3 {
                        row[i] = row[i].max(0.7);
                    }
                }
                if s.contains(&4) {
                    row[3] = 0.6;
                }
                row
            })
            .collect()
    }

    #[test]
    fn finds_the_model_s_associations() {
        let p = ProbeParams { consequent_threshold: 0.5, max_antecedent: 2, beam: 3, ..ProbeParams::default() };
        let rules = probe(6, &p, &mut |s: &[Vec<u32>]| fake(s), &mut || {});
        let has = |a: &[u32], c: u32| rules.iter().any(|r| r.antecedent == a && r.consequent == c);
        assert!(has(&[0], 1) && has(&[1], 2) && has(&[4], 3) && has(&[0, 1], 2));
        assert!(!has(&[3], 4), "the association is one way");
        assert!(!has(&[5], 0));
        assert!(rules.iter().all(|r| !r.antecedent.contains(&r.consequent)));
    }

    #[test]
    fn the_self_check_prunes_antecedents() {
        let p = ProbeParams { antecedent_threshold: 0.95, consequent_threshold: 0.5, ..ProbeParams::default() };
        assert!(probe(6, &p, &mut |s: &[Vec<u32>]| fake(s), &mut || {}).is_empty());
        let p = ProbeParams { self_check: false, ..p };
        assert!(!probe(6, &p, &mut |s: &[Vec<u32>]| fake(s), &mut || {}).is_empty());
    }
}
