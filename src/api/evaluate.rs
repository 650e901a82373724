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

use std::collections::HashSet;

use rar_core::evaluate::{by_popularity, case_baskets, completion, completion_cases, judge_rules};
use rar_core::rule::Rule;

use pgrx::prelude::*;
use rar_core::baskets::Baskets;
use rar_core::params::{defaults as mine_defaults, MineParams};
use rar_core::rules::mine_rules;

use crate::args::{no_null_elements, required, Relation};
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::{ext_schema, one, pin_search_path};
use crate::{gucs, model_lib, reader, relation};
use crate::{history, neural, splits};

/// The item names of every basket.
fn all_names(b: &Baskets) -> Vec<Vec<&str>> {
    (0..b.len()).map(|i| names(b, i)).collect()
}

fn names(b: &Baskets, i: usize) -> Vec<&str> {
    let mut v: Vec<&str> = b.basket(i).iter().map(|&x| b.item_name(x)).collect();
    v.sort_unstable();
    v
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
    consequent_threshold: default!(Option<f64>, "NULL"),
    on_split: default!(Option<&str>, "'test'"),
) -> TableIterator<'static, (name!(subject, String), name!(metric, String), name!(k, Option<i32>), name!(value, f64))> {
    let source = required("source", "", source);
    let antecedent_threshold = required("antecedent_threshold", "0.01", antecedent_threshold);
    let on_split = required("on_split", "'test'", on_split);
    // Each method once, in the order given (a repeated one would repeat
    // its rows).
    let methods = methods.map(|m| {
        let mut seen = Vec::new();
        for m in no_null_elements("methods", m) {
            if !seen.contains(&m) {
                seen.push(m);
            }
        }
        seen
    });
    if methods.as_ref().is_some_and(Vec::is_empty) {
        RarError::ConflictingOptions {
            message: "methods must name at least one method",
            hint: "For example methods => '{exact,neural}', or leave methods out: exact, and neural and hybrid with a deployed model.",
        }
        .raise();
    }
    // The rules evaluated have two items or more (min_length 2).
    if let Some(m) = max_length.filter(|m| !(2..=rar_core::params::MAX_LENGTH as i32).contains(m)) {
        RarError::Mine(rar_core::MineError::InvalidParameter {
            name: "max_length",
            value: m.to_string(),
            expected: "between 2 and 32 (rules of two items or more)",
        })
        .raise();
    }
    if !matches!(on_split, "test" | "validation") {
        RarError::InvalidOption { name: "on_split", value: on_split.to_string(), expected: "'test' and 'validation'" }
            .raise();
    }
    for m in methods.iter().flatten() {
        if !rar_core::params::METHODS.contains(&m.as_str()) {
            RarError::InvalidOption { name: "methods", value: m.clone(), expected: "'exact', 'neural' and 'hybrid'" }
                .raise();
        }
    }
    // A source's name, or its table's (the naming rule of crate::sources).
    let source = crate::sources::source_of(source).or_raise().name;
    let source = source.as_str();
    let _pinned = pin_search_path();
    let progress = Progress::start("rar_evaluate");
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
    // The owner may have written the row: checked as a refresh checks it.
    rar_core::params::check_source_defaults(&defaults).unwrap_or_else(|e| RarError::from(e).raise());
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
        RarError::EmptySplit {
            relation: src.display.clone(),
            train: train.len() as u64,
            split: on_split.to_string(),
            held_out: test.len() as u64,
        }
        .raise();
    }
    let params = MineParams {
        threads: gucs::mining_threads(),
        min_support: min_support.or(defaults["min_support"].as_f64()).unwrap_or(mine_defaults::MIN_SUPPORT),
        min_confidence: min_confidence.or(defaults["min_confidence"].as_f64()).unwrap_or(mine_defaults::MIN_CONFIDENCE),
        max_length: max_length
            .map(|m| m as usize)
            .or(defaults["max_length"].as_u64().map(|m| m as usize))
            .unwrap_or(mine_defaults::MAX_LENGTH),
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
    let mut sets: Vec<(String, Vec<Rule>)> = Vec::new();
    for method in &methods {
        progress.report(&format!("mining {method} rules on {} training baskets", train.len()));
        let rules: Vec<Rule> = if method == "exact" {
            let rules = mine_rules(train.clone(), &params, &mut || {
                check_for_interrupts!();
            })
            .or_raise();
            rules.rows().map(Rule::from).collect()
        } else {
            neural::mine(
                train.clone(),
                &params,
                oid,
                &src.display,
                method,
                None,
                layout.item_column(),
                antecedent_threshold,
                consequent_threshold,
            )
        };
        let subject = if method == "exact" { "rules".to_string() } else { format!("{method}_rules") };
        sets.push((subject, rules));
    }
    let test_sets: Vec<HashSet<&str>> = (0..test.len()).map(|i| names(&test, i).into_iter().collect()).collect();
    let n_test = test.len() as f64;

    // Rules on the held-out split.
    progress.report(&format!("judging the rules on {} held-out baskets", test.len()));
    let mut out = Vec::new();
    for (subject, rules) in &sets {
        out.extend(judge_rules(subject, rules, &test_sets, min_conf, &mut || {
            check_for_interrupts!();
        }));
    }

    // Basket completion: hide one item of each test basket of two or more,
    // the baskets in a fixed order (each one's items sorted, then the
    // baskets), so that the cases do not depend on how the table was read.
    progress.report(&format!("completing {} held-out baskets", test.len()));
    let mut held_out = all_names(&test);
    held_out.sort_unstable();
    let popular = by_popularity(&all_names(&train));
    let lib_model = model.map(|id| {
        let lib = model_lib::get().unwrap_or_else(|e| e.raise());
        let m = lib.model(id, || model_lib::fetch(id)).unwrap_or_else(|e| e.raise());
        (lib, m)
    });
    // The sequence model completes a basket with its customer's earlier
    // baskets: the held-out baskets are read again with their customers and
    // times (through the columns the model was trained on), in the same
    // order, and each case gets its customer's earlier baskets of any set.
    let sequence = match (&lib_model, model) {
        (Some((_, m)), Some(id)) => m.history.map(|max| Customers::read(id, &src, &the_split, on_split, max, &m.index)),
        _ => None,
    };
    if let Some(c) = &sequence {
        if c.names != held_out {
            pgrx::notice!(
                "rar_evaluate: the {on_split} baskets of \"{source}\" read with their customers ({}) are not those read by basket ({}): the table changed while it was read; the completion figures are those of the baskets read with customers",
                c.names.len(),
                held_out.len()
            );
        }
    }
    let seq_names: Vec<Vec<&str>> = sequence
        .as_ref()
        .map(|c| c.names.iter().map(|b| b.iter().map(String::as_str).collect()).collect())
        .unwrap_or_default();
    let case_baskets_of = if sequence.is_some() { &seq_names } else { &held_out };
    let cases = completion_cases(case_baskets_of);
    let case_basket = case_baskets(case_baskets_of);
    let mut model_rank = |case: usize, visible: &[&str], vis: &HashSet<&str>, hidden: &str| -> Option<usize> {
        let (lib, m) = lib_model.as_ref()?;
        let known: Vec<u32> = visible.iter().filter_map(|x| m.index.get(*x).copied()).collect();
        if known.is_empty() {
            return None;
        }
        let earlier = sequence.as_ref().map(|c| c.earlier(case_basket[case]));
        let scores = lib.score(m, &known, earlier.as_ref()).unwrap_or_else(|e| e.raise());
        let mut order: Vec<usize> = (0..scores.len()).filter(|&i| !vis.contains(m.vocab[i].as_str())).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        order.iter().position(|&i| m.vocab[i] == hidden)
    };
    let rule_sets: Vec<&[Rule]> = sets.iter().map(|(_, r)| r.as_slice()).collect();
    let has_model = lib_model.is_some();
    let (r_pop, r_sets, r_model) =
        completion(&cases, &popular, &rule_sets, if has_model { Some(&mut model_rank) } else { None }, &mut || {
            check_for_interrupts!();
        });
    if let (true, Some(id)) = (has_model, model) {
        out.extend(r_model.rows("model"));
        // Whether the model was trained on the training split as it is now.
        let version = one::<i32>("SELECT version FROM rar.models WHERE model_id = $1", &[id.into()]).or_raise();
        let version = version.unwrap_or_default();
        let seen = if crate::spi::catalog_has_column("models", "train_checksum").or_raise() {
            one::<String>("SELECT train_checksum FROM rar.models WHERE model_id = $1", &[id.into()]).or_raise()
        } else {
            None
        };
        match seen {
            Some(seen) => {
                let same = seen == format!("{:016x}", train.checksum());
                if !same {
                    pgrx::notice!(
                        "rar_evaluate: the training split of \"{source}\" ({} baskets, by its registered columns) is not the data its deployed model (version {version}) was trained on: the table changed since, or the model was trained on other columns or another split; retrain it with rar_train to evaluate a model of this data",
                        train.len()
                    );
                }
                out.push(("model".into(), "trained_on_current_data".into(), None, if same { 1.0 } else { 0.0 }));
            }
            None => pgrx::notice!(
                "rar_evaluate: the deployed model of \"{source}\" (version {version}) was trained by rar 0.1.0, which kept no fingerprint of its data; whether the table changed since is unknown"
            ),
        }
    } else {
        pgrx::notice!(
            "rar_evaluate: no deployed model for the table of \"{source}\"; train one with rar_train to compare it"
        );
    }
    for ((subject, _), ranks) in sets.iter().zip(&r_sets) {
        out.extend(ranks.rows(subject));
    }
    out.extend(r_pop.rows("popularity"));
    out.push(("split".into(), "train_baskets".into(), None, n_train));
    out.push(("split".into(), format!("{on_split}_baskets"), None, n_test));
    out.push(("split".into(), "completion_cases".into(), None, r_pop.n as f64));
    TableIterator::new(out)
}

/// The held-out baskets read with their customers and times, for the
/// sequence model: their item names (each sorted, the baskets in order),
/// and for each of them its customer's earlier baskets (of the training,
/// validation and test sets alike: a customer's past at that time) in the
/// model's vocabulary.
struct Customers {
    names: Vec<Vec<String>>,
    /// Every basket read, in vocabulary indices.
    pool: Vec<Vec<u32>>,
    /// For each of `names`, indices into `pool`, oldest first.
    earlier: Vec<Vec<u32>>,
}

impl Customers {
    fn read(
        model_id: i64,
        src: &relation::Source,
        split: &splits::Split,
        on_split: &str,
        max: usize,
        index: &std::collections::HashMap<String, u32>,
    ) -> Customers {
        let cols = history::SequenceColumns::to_read(model_id, src).or_raise();
        let mut budget = history::Budget { limit: gucs::memory_limit_bytes(), bytes: 0, lines: 0 };
        let mut rows = Vec::new();
        let mut held_out = Vec::new();
        for set in ["train", "validation", "test"] {
            let part =
                history::read_set(src, &cols.tid, &cols.item, &cols.customer, &cols.time, split, set, &mut budget)
                    .or_raise();
            if set == on_split {
                held_out = (rows.len()..rows.len() + part.len()).collect();
            }
            rows.extend(part);
        }
        let earlier_all = history::earlier_of(&rows.iter().collect::<Vec<_>>(), max, &mut budget).or_raise();
        let sorted = |r: &history::Row| {
            let mut v = r.items.clone();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut held: Vec<(Vec<String>, usize)> = held_out.iter().map(|&k| (sorted(&rows[k]), k)).collect();
        held.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(rows[a.1].id.cmp(&rows[b.1].id)));
        let pool = rows.iter().map(|r| history::known_items(&r.items, |i| index.get(i).copied())).collect();
        let earlier = held.iter().map(|(_, k)| earlier_all[*k].clone()).collect();
        Customers { names: held.into_iter().map(|(n, _)| n).collect(), pool, earlier }
    }

    /// The earlier baskets of held-out basket `k`, to score it with.
    fn earlier(&self, k: usize) -> model_lib::Earlier {
        model_lib::Earlier::of_one(self.earlier[k].iter().map(|&j| self.pool[j as usize].clone()).collect())
    }
}
