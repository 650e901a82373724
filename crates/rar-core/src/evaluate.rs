//! Held-out evaluation (`rar_evaluate`): how a rule set fares on baskets it
//! was not mined on, and how well a recommender (rules, a model, popularity)
//! completes a basket with one item hidden.

use std::collections::{HashMap, HashSet};

use crate::rule::Rule;

/// The cut-offs of the completion metrics.
pub const KS: [usize; 3] = [5, 10, 20];

/// One row of `rar_evaluate`: subject, metric, k (for ranking metrics), value.
pub type Row = (String, String, Option<i32>, f64);

/// Ranks of the hidden item over the completion cases of one recommender.
#[derive(Debug, Default, Clone)]
pub struct Ranks {
    hits: [f64; 3],
    ndcg: [f64; 3],
    /// Completion cases seen.
    pub n: usize,
}

impl Ranks {
    /// One case: the hidden item's rank (0 = first), or None when it was
    /// not recommended at all.
    pub fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if let Some(r) = rank {
            for (j, &k) in KS.iter().enumerate() {
                if r < k {
                    self.hits[j] += 1.0;
                    self.ndcg[j] += 1.0 / ((r + 2) as f64).log2();
                }
            }
        }
    }

    /// Hit rate, recall and NDCG at each k. With one hidden item per case,
    /// hit rate and recall are the same number (both are reported, under
    /// the names the two literatures use).
    pub fn rows(&self, subject: &str) -> Vec<Row> {
        let n = self.n.max(1) as f64;
        let mut out = Vec::new();
        for (j, &k) in KS.iter().enumerate() {
            out.push((subject.into(), "hit_rate".into(), Some(k as i32), self.hits[j] / n));
            out.push((subject.into(), "recall".into(), Some(k as i32), self.hits[j] / n));
            out.push((subject.into(), "ndcg".into(), Some(k as i32), self.ndcg[j] / n));
        }
        out
    }
}

/// How a rule set fares on the held-out baskets `held`: how many rules, how
/// many can be judged (their antecedent is in some held-out basket), the
/// share of those still reaching `min_conf`, the mean change of confidence
/// and lift, and the share of baskets some rule applies to. `tick` is called
/// now and then (the caller checks for cancellation there).
pub fn judge_rules(
    subject: &str,
    rules: &[Rule],
    held: &[HashSet<&str>],
    min_conf: f64,
    tick: &mut dyn FnMut(),
) -> Vec<Row> {
    let n_held = held.len() as f64;
    let (mut holding, mut d_conf, mut d_lift, mut counted) = (0usize, 0.0, 0.0, 0usize);
    let mut covered = vec![false; held.len()];
    let mut item_count: HashMap<&str, usize> = HashMap::new();
    for s in held {
        for i in s {
            *item_count.entry(i).or_default() += 1;
        }
    }
    for (n, r) in rules.iter().enumerate() {
        let (mut n_a, mut n_ac) = (0usize, 0usize);
        for (t, s) in held.iter().enumerate() {
            if r.antecedent.iter().all(|i| s.contains(i.as_str())) {
                n_a += 1;
                covered[t] = true;
                if r.consequent.iter().all(|i| s.contains(i.as_str())) {
                    n_ac += 1;
                }
            }
        }
        if n_a > 0 {
            let conf = n_ac as f64 / n_a as f64;
            let n_c = r.consequent.iter().map(|c| item_count.get(c.as_str()).copied().unwrap_or(0)).min().unwrap_or(0);
            if conf + 1e-12 >= min_conf {
                holding += 1;
            }
            d_conf += conf - r.confidence;
            if n_c > 0 {
                d_lift += conf / (n_c as f64 / n_held) - r.lift;
            }
            counted += 1;
        }
        if n % 256 == 0 {
            tick();
        }
    }
    let mean = |x: f64| if counted == 0 { 0.0 } else { x / counted as f64 };
    vec![
        (subject.into(), "rules".into(), None, rules.len() as f64),
        (subject.into(), "rules_testable".into(), None, counted as f64),
        (subject.into(), "share_holding".into(), None, mean(holding as f64)),
        (subject.into(), "mean_confidence_change".into(), None, mean(d_conf)),
        (subject.into(), "mean_lift_change".into(), None, mean(d_lift)),
        (subject.into(), "coverage".into(), None, covered.iter().filter(|&&c| c).count() as f64 / n_held.max(1.0)),
    ]
}

/// Where `hidden` ranks among the items the rules recommend for the visible
/// items `vis`: each item scored by the best (confidence, lift) of the rules
/// whose antecedent is visible, ties by name.
pub fn rank_by_rules(rules: &[Rule], vis: &HashSet<&str>, hidden: &str) -> Option<usize> {
    let mut best: HashMap<&str, (f64, f64)> = HashMap::new();
    for r in rules {
        if r.antecedent.iter().all(|a| vis.contains(a.as_str())) {
            for c in &r.consequent {
                if !vis.contains(c.as_str()) {
                    let e = best.entry(c.as_str()).or_insert((0.0, 0.0));
                    if (r.confidence, r.lift) > *e {
                        *e = (r.confidence, r.lift);
                    }
                }
            }
        }
    }
    let mut ranked: Vec<(&str, (f64, f64))> = best.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(b.1 .1.total_cmp(&a.1 .1)).then(a.0.cmp(b.0)));
    ranked.iter().position(|(x, _)| *x == hidden)
}

/// A completion case: the item hidden, and the basket's other items.
pub type Case<'a> = (&'a str, Vec<&'a str>);

/// Fewest items of a held-out basket that makes a completion case.
const CASE_ITEMS: usize = 2;

/// One case per held-out basket of two items or more: one item hidden,
/// chosen by a fixed generator (the same cases on every run), the others
/// visible. Baskets given in the same order give the same cases: callers
/// sort them (each basket's items, then the baskets) so that the order the
/// table was read in does not matter.
pub fn completion_cases<'a>(baskets: &[Vec<&'a str>]) -> Vec<Case<'a>> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut cases = Vec::new();
    for items in baskets {
        if items.len() < CASE_ITEMS {
            continue;
        }
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let h = ((state >> 33) as usize) % items.len();
        let visible = items.iter().enumerate().filter(|&(k, _)| k != h).map(|(_, &x)| x).collect();
        cases.push((items[h], visible));
    }
    cases
}

/// For each case of [`completion_cases`], the index of its basket.
pub fn case_baskets(baskets: &[Vec<&str>]) -> Vec<usize> {
    (0..baskets.len()).filter(|&i| baskets[i].len() >= CASE_ITEMS).collect()
}

/// Items by the number of training baskets holding them, most first (ties
/// by name): the popularity baseline.
pub fn by_popularity<'a>(baskets: &[Vec<&'a str>]) -> Vec<&'a str> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for b in baskets {
        for x in b {
            *count.entry(x).or_default() += 1;
        }
    }
    let mut items: Vec<(&str, usize)> = count.into_iter().collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    items.into_iter().map(|(x, _)| x).collect()
}

/// Ranks the hidden item of each case by popularity, by each rule set, and
/// by `model` when given (called with the case's index, its visible items
/// as a list and as a set, and the hidden item; it returns the hidden
/// item's rank among the items not visible). `tick` is called now and then.
pub fn completion(
    cases: &[Case],
    popular: &[&str],
    rule_sets: &[&[Rule]],
    mut model: Option<&mut dyn FnMut(usize, &[&str], &HashSet<&str>, &str) -> Option<usize>>,
    tick: &mut dyn FnMut(),
) -> (Ranks, Vec<Ranks>, Ranks) {
    let (mut pop, mut by_model) = (Ranks::default(), Ranks::default());
    let mut by_rules: Vec<Ranks> = rule_sets.iter().map(|_| Ranks::default()).collect();
    for (n, (hidden, visible)) in cases.iter().enumerate() {
        let vis: HashSet<&str> = visible.iter().copied().collect();
        pop.add(popular.iter().filter(|x| !vis.contains(*x)).position(|x| x == hidden));
        for (rules, ranks) in rule_sets.iter().zip(by_rules.iter_mut()) {
            ranks.add(rank_by_rules(rules, &vis, hidden));
        }
        if let Some(m) = model.as_mut() {
            by_model.add(m(n, visible, &vis, hidden));
        }
        if n % 256 == 0 {
            tick();
        }
    }
    (pop, by_rules, by_model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(a: &[&str], c: &str, confidence: f64, lift: f64) -> Rule {
        Rule {
            antecedent: a.iter().map(|s| s.to_string()).collect(),
            consequent: vec![c.to_string()],
            support: 0.1,
            confidence,
            lift,
            leverage: 0.0,
            conviction: 1.0,
            count: 1,
            model_score: None,
        }
    }

    fn value(rows: &[Row], metric: &str, k: Option<i32>) -> f64 {
        rows.iter().find(|r| r.1 == metric && r.2 == k).map(|r| r.3).unwrap()
    }

    #[test]
    fn ranks_count_hits_within_each_cut_off() {
        let mut r = Ranks::default();
        for rank in [Some(0), Some(7), Some(15), None] {
            r.add(rank);
        }
        let rows = r.rows("x");
        assert_eq!(value(&rows, "recall", Some(5)), 0.25);
        assert_eq!(value(&rows, "recall", Some(10)), 0.5);
        assert_eq!(value(&rows, "recall", Some(20)), 0.75);
        // A hit at rank 0 counts 1, at rank 7 counts 1/log2(9).
        let want = (1.0 + 1.0 / 9f64.log2()) / 4.0;
        assert!((value(&rows, "ndcg", Some(10)) - want).abs() < 1e-12);
        assert!(value(&rows, "ndcg", Some(20)) <= value(&rows, "recall", Some(20)));
    }

    #[test]
    fn rules_are_judged_on_the_held_out_baskets() {
        let held: Vec<HashSet<&str>> = vec![["a", "b"].into(), ["a"].into(), ["c"].into(), ["a", "b", "c"].into()];
        // a => b holds in 2 of the 3 baskets with a; d => a cannot be judged.
        let rules = vec![rule(&["a"], "b", 0.5, 1.0), rule(&["d"], "a", 0.9, 2.0)];
        let rows = judge_rules("r", &rules, &held, 0.6, &mut || {});
        assert_eq!(value(&rows, "rules", None), 2.0);
        assert_eq!(value(&rows, "rules_testable", None), 1.0);
        assert_eq!(value(&rows, "share_holding", None), 1.0);
        assert!((value(&rows, "mean_confidence_change", None) - (2.0 / 3.0 - 0.5)).abs() < 1e-12);
        assert_eq!(value(&rows, "coverage", None), 0.75);
    }

    #[test]
    fn rules_rank_by_confidence_then_lift_then_name() {
        let rules = vec![rule(&["a"], "x", 0.5, 1.0), rule(&["a"], "y", 0.5, 2.0), rule(&["b"], "z", 0.9, 1.0)];
        let vis: HashSet<&str> = ["a"].into();
        assert_eq!(rank_by_rules(&rules, &vis, "y"), Some(0));
        assert_eq!(rank_by_rules(&rules, &vis, "x"), Some(1));
        assert_eq!(rank_by_rules(&rules, &vis, "z"), None, "b is not visible");
    }

    #[test]
    fn completion_ranks_the_hidden_item() {
        let baskets: Vec<Vec<&str>> = vec![vec!["a", "b"], vec!["a", "b"], vec!["c"], vec!["a", "b", "c"]];
        let cases = completion_cases(&baskets);
        assert_eq!(cases.len(), 3, "baskets of one item are not cases");
        assert_eq!(cases, completion_cases(&baskets), "the same cases every time");
        for (hidden, visible) in &cases {
            assert!(!visible.contains(hidden));
        }
        let popular = by_popularity(&baskets);
        assert_eq!(popular, ["a", "b", "c"]);
        let rules = vec![rule(&["a"], "b", 0.9, 1.0), rule(&["b"], "a", 0.9, 1.0)];
        assert_eq!(case_baskets(&baskets), [0, 1, 3], "the basket of each case");
        let mut seen = Vec::new();
        let mut always_first = |n: usize, _: &[&str], _: &HashSet<&str>, _: &str| {
            seen.push(n);
            Some(0)
        };
        let (pop, by_rules, by_model) = completion(&cases, &popular, &[&rules], Some(&mut always_first), &mut || {});
        assert_eq!((pop.n, by_rules[0].n, by_model.n), (3, 3, 3));
        assert_eq!(seen, [0, 1, 2], "the model is told each case's index");
        assert_eq!(value(&by_model.rows("m"), "recall", Some(5)), 1.0);
        let r = value(&pop.rows("p"), "recall", Some(5));
        assert!(r > 0.0 && r <= 1.0);
    }
}
