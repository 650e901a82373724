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

use crate::baskets::Baskets;
use crate::intersect::{count_holding, intersect_count};
use crate::params::MineParams;
use crate::rule::Rule;
use crate::rules::Measures;

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
    /// Probes per call of the scorer (each returns one row of `vocab`
    /// probabilities: the caller sizes it to its memory budget).
    pub batch: usize,
    /// Most proposals kept in all; more is [`TooManyProposals`].
    pub max_proposals: usize,
    /// Each item's own least probability as a consequent (see
    /// [`calibrate`]), on top of `consequent_threshold`; empty for none.
    pub per_item: Vec<f32>,
}

/// The model proposes more rules than `max_proposals` (the thresholds are
/// too low for it: an untrained model gives every item some probability).
#[derive(Debug, Clone, PartialEq)]
pub struct TooManyProposals {
    pub limit: usize,
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
            max_proposals: 10_000_000,
            per_item: Vec::new(),
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

/// Bytes one row of `vocab` probabilities costs while scored: the model
/// library's input, activations and output, and the copies handed back.
pub fn bytes_per_scored_row(vocab: usize) -> u64 {
    vocab as u64 * 4 * 8
}

/// Rows one scoring call may return within `budget` bytes, at most 1024;
/// None when not even one fits.
pub fn rows_per_batch(vocab: usize, budget: u64) -> Option<usize> {
    let rows = budget / bytes_per_scored_row(vocab).max(1);
    (rows >= 1).then(|| rows.min(1024) as usize)
}

/// Probes a model over `vocab` items. `score` maps a batch of item sets to
/// one probability row (`vocab` long) per set; `tick` is called between
/// batches (the caller checks for cancellation there). Memory stays bounded
/// by one batch of rows, the sets of a level and the proposals: each level
/// is scored twice, once to choose the antecedents worth keeping (only their
/// own score is kept) and once more for the kept ones, whose rows are read
/// and dropped one batch at a time.
pub fn probe(
    vocab: usize,
    p: &ProbeParams,
    score: &mut dyn FnMut(&[Vec<u32>]) -> Vec<Vec<f32>>,
    tick: &mut dyn FnMut(),
) -> Result<Vec<Proposal>, TooManyProposals> {
    let own_score = |set: &[u32], row: &[f32]| set.iter().map(|&i| row[i as usize]).fold(f32::INFINITY, f32::min);
    let mut out = Vec::new();
    let mut level: Vec<Vec<u32>> = (0..vocab as u32).map(|i| vec![i]).collect();
    let mut kept_before: HashSet<Vec<u32>> = HashSet::new();
    for size in 1..=p.max_antecedent {
        if level.is_empty() {
            break;
        }
        // Pass 1: which antecedents to keep (the most confident first).
        let mut ranked: Vec<(f32, usize)> = Vec::new();
        for (c, chunk) in level.chunks(p.batch.max(1)).enumerate() {
            tick();
            for (k, (set, row)) in chunk.iter().zip(score(chunk)).enumerate() {
                let own = own_score(set, &row);
                if !(p.self_check && own < p.antecedent_threshold) {
                    ranked.push((own, c * p.batch.max(1) + k));
                }
            }
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(level[a.1].cmp(&level[b.1])));
        ranked.truncate(p.max_per_level);
        let kept: Vec<Vec<u32>> = ranked.iter().map(|&(_, k)| level[k].clone()).collect();
        let kept_sets: HashSet<Vec<u32>> = kept.iter().cloned().collect();
        // Pass 2: the kept antecedents' rows give the proposals and the
        // next level's candidates.
        let mut next: HashSet<Vec<u32>> = HashSet::new();
        for chunk in kept.chunks(p.batch.max(1)) {
            tick();
            for (set, row) in chunk.iter().zip(score(chunk)) {
                for (c, &prob) in row.iter().enumerate() {
                    let own = p.per_item.get(c).copied().unwrap_or(0.0);
                    if prob >= p.consequent_threshold && prob >= own && !set.contains(&(c as u32)) {
                        if out.len() >= p.max_proposals {
                            return Err(TooManyProposals { limit: p.max_proposals });
                        }
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
        }
        kept_before.extend(kept_sets);
        let mut next: Vec<Vec<u32>> = next.into_iter().collect();
        next.sort();
        level = next;
    }
    Ok(out)
}

/// Per-item consequent thresholds from the model's own scores: for each
/// item, the `quantile` of the probability the model gives it when it is
/// the item held out of a real basket (the rest of the basket as input),
/// over up to `max_cases` baskets of `baskets` spread evenly (one case
/// each; the held-out item turns with the basket). A rule `A => c` is then
/// proposed when `A` alone makes the model as sure of `c` as real baskets
/// holding `c` make it, whatever the scale of the model's probabilities
/// (an autoencoder's, near 1 for what it sees, or an mlp's, spread over
/// what it must guess). Items held out fewer than `MIN_CASES` times take
/// the quantile over all cases; with no case at all, every item takes
/// `fallback`. A threshold is always above the item's probability given
/// an empty basket (an antecedent must raise it). `score` as for [`probe`]; `batch` cases go to it at a time.
pub fn calibrate(
    vocab: &[String],
    baskets: &Baskets,
    quantile: f64,
    max_cases: usize,
    batch: usize,
    fallback: f32,
    score: &mut dyn FnMut(&[Vec<u32>]) -> Vec<Vec<f32>>,
    tick: &mut dyn FnMut(),
) -> Vec<f32> {
    const MIN_CASES: usize = 5;
    let index: std::collections::HashMap<&str, u32> =
        vocab.iter().enumerate().map(|(i, v)| (v.as_str(), i as u32)).collect();
    let stride = baskets.len().div_ceil(max_cases.max(1)).max(1);
    let mut cases: Vec<(Vec<u32>, u32)> = Vec::new();
    for b in (0..baskets.len()).step_by(stride) {
        let known: Vec<u32> =
            baskets.basket(b).iter().filter_map(|&i| index.get(baskets.item_name(i)).copied()).collect();
        if known.len() < 2 {
            continue;
        }
        let held = known[b % known.len()];
        cases.push((known.into_iter().filter(|&i| i != held).collect(), held));
    }
    let mut seen: Vec<Vec<f32>> = vec![Vec::new(); vocab.len()];
    let mut all: Vec<f32> = Vec::with_capacity(cases.len());
    for chunk in cases.chunks(batch.max(1)) {
        tick();
        let inputs: Vec<Vec<u32>> = chunk.iter().map(|(ctx, _)| ctx.clone()).collect();
        for ((_, held), row) in chunk.iter().zip(score(&inputs)) {
            // Scores that are not numbers (a damaged model) say nothing.
            let s = row[*held as usize];
            if s.is_finite() {
                seen[*held as usize].push(s);
                all.push(s);
            }
        }
    }
    let q = |v: &mut Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[((v.len() - 1) as f64 * quantile.clamp(0.0, 1.0)).round() as usize]
    };
    if all.is_empty() {
        return vec![fallback; vocab.len()];
    }
    let overall = q(&mut all);
    // Never at or below what the model gives the item knowing nothing (an
    // empty basket): an antecedent must raise it.
    let prior = score(&[Vec::new()]).into_iter().next().unwrap_or_default();
    seen.into_iter()
        .enumerate()
        .map(|(c, mut v)| {
            let own = if v.len() >= MIN_CASES { q(&mut v) } else { overall };
            own.max(prior.get(c).filter(|p| p.is_finite()).map_or(0.0, |p| p + 1e-6))
        })
        .collect()
}

/// Counts every proposal exactly on `baskets` (the model's items, indices
/// into `vocab`, matched to the baskets' items by name) and keeps the rules
/// that reach `params`' support, confidence, lift and length: every figure
/// of a neural rule is true of the data. `model_score` is the proposal's
/// score; the rules come in the documented order. `tick` is called now and
/// then (the caller checks for cancellation there).
pub fn count_proposals(
    baskets: &Baskets,
    vocab: &[String],
    proposals: &[Proposal],
    params: &MineParams,
    tick: &mut dyn FnMut(),
) -> Vec<Rule> {
    let n = baskets.len() as u32;
    let (tids, by_name) = baskets.tid_lists();
    let min_count = params.min_count(baskets.len()).max(1);
    let mut buf = Vec::new();
    let mut count_of = |items: &[u32]| -> u32 { count_holding(&tids, items, n, &mut buf) };
    let mut rules = Vec::new();
    for (k, prop) in proposals.iter().enumerate() {
        if k % 1024 == 0 {
            tick();
        }
        let name = |i: u32| vocab.get(i as usize).and_then(|v| by_name.get(v.as_str()).copied());
        let ante: Option<Vec<u32>> = prop.antecedent.iter().map(|&i| name(i)).collect();
        let (Some(ante), Some(cons)) = (ante, name(prop.consequent)) else { continue };
        if ante.is_empty()
            || ante.len() + 1 > params.max_length
            || ante.len() + 1 < params.min_length
            || ante.contains(&cons)
        {
            continue;
        }
        let n_a = count_of(&ante);
        if n_a == 0 {
            continue;
        }
        let n_ac = if ante.len() == 1 {
            intersect_count(&tids[ante[0] as usize], &tids[cons as usize], 0).unwrap_or(0)
        } else {
            let mut with = ante.clone();
            with.push(cons);
            count_of(&with)
        };
        if n_ac < min_count {
            continue;
        }
        let ms = Measures::from_counts(n, n_ac, n_a, tids[cons as usize].len() as u32);
        if ms.confidence + 1e-12 < params.min_confidence || ms.lift + 1e-12 < params.min_lift {
            continue;
        }
        let mut antecedent: Vec<String> = ante.iter().map(|&i| baskets.item_name(i).to_string()).collect();
        antecedent.sort();
        rules.push(Rule {
            antecedent,
            consequent: vec![baskets.item_name(cons).to_string()],
            support: ms.support,
            confidence: ms.confidence,
            lift: ms.lift,
            leverage: ms.leverage,
            conviction: ms.conviction,
            count: n_ac as u64,
            model_score: Some(prop.score as f64),
        });
    }
    rules.sort_by(Rule::order);
    rules
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
                    for x in row.iter_mut().take(3) {
                        *x = x.max(0.7);
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
        let rules = probe(6, &p, &mut |s: &[Vec<u32>]| fake(s), &mut || {}).unwrap();
        let has = |a: &[u32], c: u32| rules.iter().any(|r| r.antecedent == a && r.consequent == c);
        assert!(has(&[0], 1) && has(&[1], 2) && has(&[4], 3) && has(&[0, 1], 2));
        assert!(!has(&[3], 4), "the association is one way");
        assert!(!has(&[5], 0));
        assert!(rules.iter().all(|r| !r.antecedent.contains(&r.consequent)));
    }

    /// A model whose probabilities are a tenth of `fake`'s (an mlp's scale
    /// against an autoencoder's).
    fn faint(sets: &[Vec<u32>]) -> Vec<Vec<f32>> {
        fake(sets).into_iter().map(|row| row.into_iter().map(|p| p / 10.0).collect()).collect()
    }

    #[test]
    fn calibrated_thresholds_follow_each_model_s_scale() {
        use crate::baskets::BasketsBuilder;
        let mut bb = BasketsBuilder::default();
        for t in 0..60 {
            let items: &[&str] = if t % 2 == 0 { &["i0", "i1", "i2"] } else { &["i4", "i3", "i5"] };
            for i in items {
                bb.push(&t.to_string(), i);
            }
        }
        let baskets = bb.build();
        let vocab: Vec<String> = (0..6).map(|i| format!("i{i}")).collect();
        let loud = calibrate(&vocab, &baskets, 0.5, 1000, 7, 0.1, &mut |s: &[Vec<u32>]| fake(s), &mut || {});
        let quiet = calibrate(&vocab, &baskets, 0.5, 1000, 7, 0.1, &mut |s: &[Vec<u32>]| faint(s), &mut || {});
        // Held out of {0, 1, 2}, an item gets 0.7 from the others; item 3
        // gets 0.6 from 4; 4 and 5, never raised by another item, stay at
        // what the model gives them knowing nothing, and must pass it.
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(&loud, &[0.7, 0.7, 0.7, 0.6, 0.05, 0.05]) && loud[4] > 0.05 && loud[5] > 0.05, "{loud:?}");
        assert!(close(&quiet, &[0.07, 0.07, 0.07, 0.06, 0.005, 0.005]) && quiet[4] > 0.005, "{quiet:?}");
        // The same rules from both models, each at its own scale.
        let rules = |per_item: Vec<f32>, model: fn(&[Vec<u32>]) -> Vec<Vec<f32>>| {
            let p = ProbeParams {
                consequent_threshold: 0.0,
                max_antecedent: 1,
                self_check: false,
                per_item,
                ..ProbeParams::default()
            };
            let mut r: Vec<(Vec<u32>, u32)> = probe(6, &p, &mut |s: &[Vec<u32>]| model(s), &mut || {})
                .unwrap()
                .into_iter()
                .map(|r| (r.antecedent, r.consequent))
                .collect();
            r.sort();
            r
        };
        let a = rules(loud, fake);
        assert_eq!(a, rules(quiet, faint));
        assert!(a.contains(&(vec![0], 1)) && a.contains(&(vec![4], 3)) && !a.contains(&(vec![3], 4)));
        // No basket with two known items: every item takes the fallback.
        let none =
            calibrate(&["x".to_string()], &baskets, 0.5, 1000, 7, 0.1, &mut |s: &[Vec<u32>]| fake(s), &mut || {});
        assert_eq!(none, vec![0.1]);
    }

    #[test]
    fn the_self_check_prunes_antecedents() {
        let p = ProbeParams { antecedent_threshold: 0.95, consequent_threshold: 0.5, ..ProbeParams::default() };
        assert!(probe(6, &p, &mut |s: &[Vec<u32>]| fake(s), &mut || {}).unwrap().is_empty());
        let p = ProbeParams { self_check: false, ..p };
        assert!(!probe(6, &p, &mut |s: &[Vec<u32>]| fake(s), &mut || {}).unwrap().is_empty());
        let capped = ProbeParams { max_proposals: 1, ..p.clone() };
        assert_eq!(probe(6, &capped, &mut |s: &[Vec<u32>]| fake(s), &mut || {}), Err(TooManyProposals { limit: 1 }));
    }

    #[test]
    fn proposals_are_counted_exactly_against_brute_force() {
        use crate::baskets::BasketsBuilder;
        let data: &[&[&str]] =
            &[&["a", "b", "c"], &["a", "b"], &["a", "c"], &["b", "c"], &["a", "b", "c", "d"], &["d"]];
        let mut bb = BasketsBuilder::default();
        for (t, items) in data.iter().enumerate() {
            for i in *items {
                bb.push(&t.to_string(), i);
            }
        }
        let baskets = bb.build();
        let vocab: Vec<String> = ["a", "b", "c", "d", "zz"].iter().map(|s| s.to_string()).collect();
        let prop = |a: &[u32], c: u32| Proposal { antecedent: a.to_vec(), consequent: c, score: 0.5 };
        // a,b => c; a => b; d => a (confidence 1/2); zz (not in the data) => a; a => a.
        let proposals = vec![prop(&[0, 1], 2), prop(&[0], 1), prop(&[3], 0), prop(&[4], 0), prop(&[0], 0)];
        let params = MineParams { min_support: 0.1, min_confidence: 0.5, ..MineParams::default() };
        let rules = count_proposals(&baskets, &vocab, &proposals, &params, &mut || {});
        let brute = |ante: &[&str], cons: &str| {
            let has = |b: &&[&str], xs: &[&str]| xs.iter().all(|x| b.contains(x));
            let n_a = data.iter().filter(|b| has(b, ante)).count();
            let n_ac = data.iter().filter(|b| has(b, ante) && b.contains(&cons)).count();
            (n_ac as u64, n_ac as f64 / n_a as f64)
        };
        assert_eq!(rules.len(), 3);
        for r in &rules {
            let ante: Vec<&str> = r.antecedent.iter().map(String::as_str).collect();
            let (count, confidence) = brute(&ante, &r.consequent[0]);
            assert_eq!((r.count, r.confidence), (count, confidence), "{r:?}");
            assert_eq!(r.model_score, Some(0.5));
        }
        // Below the confidence threshold: dropped.
        let strict = MineParams { min_confidence: 0.7, ..params };
        let kept = count_proposals(&baskets, &vocab, &proposals, &strict, &mut || {});
        assert!(kept.iter().all(|r| r.confidence >= 0.7));
        assert!(kept.len() < rules.len());
        // Shorter than min_length: dropped, as exact mining drops them.
        let long = MineParams { min_length: 3, ..params };
        let kept = count_proposals(&baskets, &vocab, &proposals, &long, &mut || {});
        assert!(rules.iter().any(|r| r.antecedent.len() + r.consequent.len() < 3));
        assert!(!kept.is_empty() && kept.iter().all(|r| r.antecedent.len() + r.consequent.len() >= 3));
    }

    #[test]
    fn scoring_batches_fit_the_budget() {
        assert_eq!(rows_per_batch(1000, 1 << 30), Some(1024));
        let rows = rows_per_batch(100_000, 64 << 20).unwrap();
        assert!(rows as u64 * bytes_per_scored_row(100_000) <= 64 << 20 && rows >= 1);
        assert_eq!(rows_per_batch(100_000_000, 1 << 20), None);
    }
}
