//! `rar_evaluate`: rules and the model, judged on the test split.
//!
//! Rules are mined on the training split (the source's defaults or the
//! thresholds given) by each method asked for: exact (subject `rules`), and,
//! with a deployed model, neural (`neural_rules`) and hybrid
//! (`hybrid_rules`), as `rar_mine` would. Each set is then counted on the
//! test split (or the validation split, to choose thresholds without
//! touching the test): how many rules can be judged there (their antecedent
//! occurs in some held-out basket), the share of those that still reach
//! `min_confidence`, how confidence and lift move, and how many baskets
//! some rule applies to. Basket
//! completion hides one item of each held-out basket (the same one every
//! run) and ranks the other items by the deployed model, by each rule set
//! (best confidence, then lift), and by popularity in the training split;
//! hit rate@k (= recall@k with one hidden item) and NDCG@k for k = 5, 10,
//! 20. Every figure is a row `(subject, metric, k, value)` that can be
//! stored and compared.

use std::collections::{HashMap, HashSet};

use pgrx::prelude::*;
use rar_core::baskets::Baskets;
use rar_core::params::MineParams;
use rar_core::rules::mine_rules;

use crate::args::{no_null_elements, required, Relation};
use crate::error::{OrRaise, RarError};
use crate::spi::{ext_schema, one, pin_search_path};
use crate::{gucs, model_lib, reader, relation};
use crate::{neural, splits};

fn names(b: &Baskets, i: usize) -> Vec<&str> {
    let mut v: Vec<&str> = b.basket(i).iter().map(|&x| b.item_name(x)).collect();
    v.sort_unstable();
    v
}

#[derive(Default)]
struct Ranks {
    hits: [f64; 3],
    ndcg: [f64; 3],
    n: usize,
}

const KS: [usize; 3] = [5, 10, 20];

impl Ranks {
    fn add(&mut self, rank: Option<usize>) {
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

    fn rows(&self, subject: &str, out: &mut Vec<(String, String, Option<i32>, f64)>) {
        let n = self.n.max(1) as f64;
        for (j, &k) in KS.iter().enumerate() {
            out.push((subject.into(), "hit_rate".into(), Some(k as i32), self.hits[j] / n));
            out.push((subject.into(), "recall".into(), Some(k as i32), self.hits[j] / n));
            out.push((subject.into(), "ndcg".into(), Some(k as i32), self.ndcg[j] / n));
        }
    }
}

/// A rule as the evaluation needs it.
struct EvalRule {
    antecedent: Vec<String>,
    consequent: Vec<String>,
    confidence: f64,
    lift: f64,
}

type Out = Vec<(String, String, Option<i32>, f64)>;

/// How a rule set fares on the held-out baskets: rows for `subject`.
fn judge_rules(subject: &str, rules: &[EvalRule], held: &[HashSet<&str>], min_conf: f64, out: &mut Out) {
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
            check_for_interrupts!();
        }
    }
    // A rule whose antecedent no held-out basket has cannot be judged: the
    // share holding is over the rules that can (`rules_testable`).
    out.push((subject.into(), "rules".into(), None, rules.len() as f64));
    out.push((subject.into(), "rules_testable".into(), None, counted as f64));
    out.push((
        subject.into(),
        "share_holding".into(),
        None,
        if counted == 0 { 0.0 } else { holding as f64 / counted as f64 },
    ));
    out.push((
        subject.into(),
        "mean_confidence_change".into(),
        None,
        if counted == 0 { 0.0 } else { d_conf / counted as f64 },
    ));
    out.push((
        subject.into(),
        "mean_lift_change".into(),
        None,
        if counted == 0 { 0.0 } else { d_lift / counted as f64 },
    ));
    out.push((
        subject.into(),
        "coverage".into(),
        None,
        covered.iter().filter(|&&c| c).count() as f64 / n_held.max(1.0),
    ));
}

/// Where `hidden` ranks among the items the rules recommend for `vis`.
fn rank_by_rules(rules: &[EvalRule], vis: &HashSet<&str>, hidden: &str) -> Option<usize> {
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

/// Evaluates a registered source's rules and deployed model on its test
/// split (or `on_split => 'validation'`). Rules are mined on the training
/// split with `min_support` and `min_confidence` (default: the source's
/// defaults, else 0.01 and 0.5), by each of `methods` (default: exact, and
/// neural and hybrid when the source's table has a deployed model).
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn rar_evaluate(
    source: Option<&str>,
    min_support: default!(Option<f64>, "NULL"),
    min_confidence: default!(Option<f64>, "NULL"),
    max_length: default!(Option<i32>, "NULL"),
    methods: default!(Option<Vec<Option<String>>>, "NULL"),
    antecedent_threshold: default!(Option<f64>, 0.01),
    consequent_threshold: default!(Option<f64>, 0.1),
    on_split: default!(Option<&str>, "'test'"),
) -> TableIterator<'static, (name!(subject, String), name!(metric, String), name!(k, Option<i32>), name!(value, f64))> {
    let source = required("source", "", source);
    let antecedent_threshold = required("antecedent_threshold", "0.01", antecedent_threshold);
    let consequent_threshold = required("consequent_threshold", "0.1", consequent_threshold);
    let on_split = required("on_split", "'test'", on_split);
    let methods = methods.map(|m| no_null_elements("methods", m));
    if !matches!(on_split, "test" | "validation") {
        RarError::InvalidOption { name: "on_split", value: on_split.to_string(), expected: "'test' and 'validation'" }
            .raise();
    }
    for m in methods.iter().flatten() {
        if !matches!(m.as_str(), "exact" | "neural" | "hybrid") {
            RarError::InvalidOption { name: "methods", value: m.clone(), expected: "'exact', 'neural' and 'hybrid'" }
                .raise();
        }
    }
    let _pinned = pin_search_path();
    let ext = ext_schema().or_raise();
    let head = Spi::connect(|c| {
        let t = c.select(
            &format!(
                "SELECT (s).relation::pg_catalog.oid, (s).tid_column, (s).item_column, (s).defaults::pg_catalog.text \
                 FROM (SELECT {ext}.rar_source($1::pg_catalog.text) AS s) x"
            ),
            Some(1),
            &[source.to_string().into()],
        )?;
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>((
            r.get::<pg_sys::Oid>(1)?.unwrap_or(pg_sys::InvalidOid),
            r.get::<String>(2)?.unwrap_or_default(),
            r.get::<String>(3)?.unwrap_or_default(),
            r.get::<String>(4)?.unwrap_or_default(),
        ))
    })
    .or_raise();
    let (oid, tid, item, defaults) = head;
    let defaults: serde_json::Value = serde_json::from_str(&defaults).unwrap_or_default();
    let src = relation::describe(Relation(oid), "rar_evaluate");
    let layout = src.layout(Some(&tid), Some(&item)).or_raise();
    let (the_split, _) = splits::for_source(&src, &tid);
    let memory = gucs::memory_limit_bytes();
    let (train, _) =
        reader::read_baskets(&src, &layout, Some(splits::filter(&src, &the_split, "train")), memory, true).or_raise();
    let (test, _) =
        reader::read_baskets(&src, &layout, Some(splits::filter(&src, &the_split, on_split)), memory, true).or_raise();
    if test.is_empty() || train.is_empty() {
        RarError::TooFewBaskets { relation: src.display.clone(), train: train.len() as u64, valid: test.len() as u64 }
            .raise();
    }
    let params = MineParams {
        threads: gucs::mining_threads(),
        min_support: min_support.or(defaults["min_support"].as_f64()).unwrap_or(0.01),
        min_confidence: min_confidence.or(defaults["min_confidence"].as_f64()).unwrap_or(0.5),
        max_length: max_length
            .map(|m| m.max(0) as usize)
            .or(defaults["max_length"].as_u64().map(|m| m as usize))
            .unwrap_or(4),
        min_length: 2,
        max_rules: gucs::max_rules(),
        memory_limit: memory,
        ..MineParams::default()
    };
    let min_conf = params.min_confidence;
    let n_train = train.len() as f64;
    let model = one::<i64>("SELECT model_id FROM rar.models WHERE source = $1 AND deployed", &[oid.into()]).or_raise();
    let methods: Vec<String> = methods.unwrap_or_else(|| {
        let mut m = vec!["exact".to_string()];
        if model.is_some() {
            m.extend(["neural".to_string(), "hybrid".to_string()]);
        }
        m
    });
    let mut sets: Vec<(String, Vec<EvalRule>)> = Vec::new();
    for method in &methods {
        let rules: Vec<EvalRule> = if method == "exact" {
            let rules = mine_rules(train.clone(), &params, &mut || {
                check_for_interrupts!();
            })
            .or_raise();
            rules
                .rows()
                .map(|r| EvalRule {
                    antecedent: r.antecedent.iter().map(|x| x.to_string()).collect(),
                    consequent: r.consequent.iter().map(|x| x.to_string()).collect(),
                    confidence: r.confidence,
                    lift: r.lift,
                })
                .collect()
        } else {
            neural::mine(
                train.clone(),
                &params,
                oid,
                &src.display,
                method,
                None,
                antecedent_threshold,
                consequent_threshold,
            )
            .into_iter()
            .map(|r| EvalRule { antecedent: r.0, consequent: r.1, confidence: r.3, lift: r.4 })
            .collect()
        };
        let subject = if method == "exact" { "rules".to_string() } else { format!("{method}_rules") };
        sets.push((subject, rules));
    }
    let test_sets: Vec<HashSet<&str>> = (0..test.len()).map(|i| names(&test, i).into_iter().collect()).collect();
    let n_test = test.len() as f64;

    // Rules on the held-out split.
    let mut out: Out = Vec::new();
    for (subject, rules) in &sets {
        judge_rules(subject, rules, &test_sets, min_conf, &mut out);
    }

    // Basket completion: hide one item of each test basket of two or more.
    let mut popularity: HashMap<&str, usize> = HashMap::new();
    for i in 0..train.len() {
        for x in names(&train, i) {
            *popularity.entry(x).or_default() += 1;
        }
    }
    let mut by_popularity: Vec<(&str, usize)> = popularity.iter().map(|(k, v)| (*k, *v)).collect();
    by_popularity.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let lib_model = model.map(|id| {
        let lib = model_lib::get().unwrap_or_else(|e| e.raise());
        let m = lib.model(id, || model_lib::fetch(id)).unwrap_or_else(|e| e.raise());
        (lib, m)
    });
    let (mut r_model, mut r_pop) = (Ranks::default(), Ranks::default());
    let mut r_sets: Vec<Ranks> = sets.iter().map(|_| Ranks::default()).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for t in 0..test.len() {
        let items = names(&test, t);
        if items.len() < 2 {
            continue;
        }
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let h = ((state >> 33) as usize) % items.len();
        let hidden = items[h];
        let visible: Vec<&str> = items.iter().enumerate().filter(|&(k, _)| k != h).map(|(_, &x)| x).collect();
        let vis: HashSet<&str> = visible.iter().copied().collect();
        // Popularity.
        r_pop.add(by_popularity.iter().filter(|(x, _)| !vis.contains(x)).position(|(x, _)| *x == hidden));
        // Each rule set: best (confidence, lift) among applicable rules, per item.
        for ((_, rules), ranks) in sets.iter().zip(r_sets.iter_mut()) {
            ranks.add(rank_by_rules(rules, &vis, hidden));
        }
        // The model.
        if let Some((lib, m)) = &lib_model {
            let known: Vec<u32> = visible.iter().filter_map(|x| m.index.get(*x).copied()).collect();
            if known.is_empty() {
                r_model.add(None);
            } else {
                let scores = lib.score(m, &known).unwrap_or_else(|e| e.raise());
                let mut order: Vec<usize> = (0..scores.len()).filter(|&i| !vis.contains(m.vocab[i].as_str())).collect();
                order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
                r_model.add(order.iter().position(|&i| m.vocab[i] == hidden));
            }
        }
        if t % 256 == 0 {
            check_for_interrupts!();
        }
    }
    if lib_model.is_some() {
        r_model.rows("model", &mut out);
    } else {
        pgrx::notice!(
            "rar_evaluate: no deployed model for the table of \"{source}\"; train one with rar_train to compare it"
        );
    }
    for ((subject, _), ranks) in sets.iter().zip(&r_sets) {
        ranks.rows(subject, &mut out);
    }
    r_pop.rows("popularity", &mut out);
    out.push(("split".into(), "train_baskets".into(), None, n_train));
    out.push(("split".into(), format!("{on_split}_baskets"), None, n_test));
    out.push(("split".into(), "completion_cases".into(), None, r_pop.n as f64));
    TableIterator::new(out)
}
