//! `rar_recommend`: the top items for a partial basket, from a registered
//! source's current rules, its deployed model, or both.
//!
//! - `rules`: every current rule whose antecedent is in the basket proposes
//!   its consequent items; an item's score is the best confidence among the
//!   rules proposing it (ties by lift), the evidence that rule.
//! - `model`: the deployed model's probability of each item given the
//!   basket (the model stays loaded in the backend after the first call).
//! - `hybrid`: the mean of the two scores (0 where no rule proposes the
//!   item), so that items both sources back come first.
//!
//! With `customer`, a deployed sequence model (`gru`) also reads that
//! customer's most recent earlier baskets in the table (through the
//! columns it was trained on, in the caller's rights), as in training.
//!
//! Items already in the basket are never recommended. For rules mined at
//! a level of the source's hierarchy, the basket is first seen as they
//! were mined: its items' labels at that level, or (across levels) its
//! items and their ancestors; what they recommend is then of that level
//! (and, across levels, never one of the basket's own categories).

use std::collections::HashMap;

use pgrx::prelude::*;

use rar_core::keys::subset_keys;

use rar_core::keys::items_text;

use crate::args::{required, Relation};
use crate::error::{OrRaise, RarError};
use crate::spi::{ext_schema, one, pin_search_path};
use crate::{history, model_lib, relation};

/// Most distinct items of a basket to recommend for.
const MAX_BASKET_ITEMS: usize = 1000;

struct Candidate {
    rule: f64,
    lift: f64,
    rule_text: Option<String>,
    model: Option<f64>,
}

/// The current rule set of `source`: its id, the longest antecedent, and
/// the hierarchy level it was mined at (if any).
fn current_set(source: &str) -> Option<(i64, i32, Option<String>)> {
    Spi::connect(|client| {
        let head = crate::spi::select_kept(
            client,
            "SELECT s.set_id, coalesce((s.params->>'max_length')::int, 4) - 1, s.params->>'level' \
             FROM rar.rule_sets s WHERE s.source = $1 AND s.current",
            Some(1),
            &[source.to_string().into()],
        )?;
        if head.is_empty() {
            return Ok(None);
        }
        let first = head.first();
        Ok::<_, pgrx::spi::SpiError>(Some((first.get(1)?.unwrap_or(0), first.get(2)?.unwrap_or(0), first.get(3)?)))
    })
    .or_raise()
}

/// The basket as the current rules see it: for rules mined at a level of
/// the source's hierarchy, its items' labels there, or (across levels) its
/// items with their ancestors.
fn as_the_rules_see_it(source: &str, basket: &[String], level: Option<&str>) -> Vec<String> {
    let Some(level) = level else { return basket.to_vec() };
    let h = crate::hierarchy::load(source, level, crate::gucs::memory_limit_bytes(), "rar_recommend").or_raise();
    let k = crate::hierarchy::level_of(&h, source, level).or_raise();
    rar_core::hierarchy::lift_items(&h, basket, k)
}

/// The most antecedents looked up by key; a basket with more subsets (of up
/// to the rules' length) is matched against every rule of the set instead.
const SUBSET_KEYS: usize = 100_000;

fn rule_candidates(source: &str, basket: &[String]) -> HashMap<String, Candidate> {
    let mut out: HashMap<String, Candidate> = HashMap::new();
    let Some((set_id, max_len, level)) = current_set(source) else { return out };
    let basket = as_the_rules_see_it(source, basket, level.as_deref());
    if basket.is_empty() {
        return out;
    }
    Spi::connect(|client| {
        // Antecedents are item arrays sorted by name; so is the basket, so
        // its subsets come out in the same order.
        let budget = (crate::gucs::memory_limit_bytes() / 8) as usize;
        // Which rules: each subset's key looked up in the index, or, for a
        // basket with too many subsets (many items), every rule of the set
        // whose antecedent the basket holds. One query and one order either
        // way, so that the rule shown for an item does not depend on it.
        let keys = subset_keys(&basket, max_len.max(0) as usize, SUBSET_KEYS, budget);
        let matching = if keys.is_some() {
            "r.antecedent_hash = ANY (ARRAY(SELECT pg_catalog.hashtextextended(k, 0) FROM pg_catalog.unnest($2::pg_catalog.text[]) AS k)) \
             AND r.antecedent_key = ANY ($2::pg_catalog.text[])"
        } else {
            "r.antecedent OPERATOR(pg_catalog.<@) $3::pg_catalog.text[] AND pg_catalog.cardinality(r.antecedent) OPERATOR(pg_catalog.>) 0"
        };
        // A plan kept for the backend (the text is one of two): planning it
        // took most of a call's time.
        let rows = crate::spi::select_kept(
            client,
            &format!(
                "SELECT r.consequent, r.confidence, r.lift, r.antecedent_labels, r.consequent_labels \
                 FROM rar.rule_store r WHERE r.set_id = $1 AND {matching} \
                   AND NOT r.consequent OPERATOR(pg_catalog.&&) $3::pg_catalog.text[] \
                 ORDER BY r.confidence DESC, r.lift DESC, pg_catalog.cardinality(r.antecedent), r.antecedent_key, r.rule_id"
            ),
            None,
            &[set_id.into(), keys.into(), basket.to_vec().into()],
        )?;
        for r in rows {
            // The rows are the table owner's to edit: a NULL element, or a
            // figure that is not a number, is skipped, not an error for the
            // reader (nor a NaN ranked first).
            let list = |v: Option<Vec<Option<String>>>| v.unwrap_or_default().into_iter().flatten().collect::<Vec<_>>();
            let cons = list(r.get(1)?);
            let conf: f64 = r.get(2)?.unwrap_or(0.0);
            let lift: f64 = r.get(3)?.unwrap_or(0.0);
            let a = list(r.get(4)?);
            let c = list(r.get(5)?);
            if !conf.is_finite() || !lift.is_finite() {
                continue;
            }
            for item in cons {
                let better = out.get(&item).is_none_or(|e| (conf, lift) > (e.rule, e.lift));
                if better {
                    let text =
                        format!("{{{}}} => {{{}}}: confidence {conf:.3}, lift {lift:.2}", items_text(&a), items_text(&c));
                    out.insert(item, Candidate { rule: conf, lift, rule_text: Some(text), model: None });
                }
            }
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })
    .or_raise();
    out
}

/// The deployed (or given) model of the source's table: id, settings,
/// vocabulary and weights.
fn model_row(source: &str, model_id: Option<i64>) -> i64 {
    let id: Option<i64> = one(
        "SELECT m.model_id FROM rar.models m JOIN rar.sources s ON m.source = s.relation \
         WHERE s.name = $1 AND ($2::pg_catalog.int8 IS NULL AND m.deployed OR m.model_id = $2)",
        &[source.to_string().into(), model_id.into()],
    )
    .or_raise();
    id.unwrap_or_else(|| {
        // Row security hides the models of a table the caller may not read
        // whole (a role granted only the rules): say so, not "no model".
        let hidden: Option<String> = one(
            "SELECT s.relation::pg_catalog.text FROM rar.sources s WHERE s.name = $1 AND NOT rar.may_read(s.relation)",
            &[source.to_string().into()],
        )
        .or_raise();
        match hidden {
            Some(relation) => RarError::NotReadable { relation }.raise(),
            None => RarError::NoModel { source: source.to_string(), model_id }.raise(),
        }
    })
}

/// The customer's earlier baskets for the sequence model `model` (id
/// `model_id`): the most recent ones in its table, as its vocabulary
/// indices.
fn earlier_baskets(model_id: i64, model: &model_lib::LoadedModel, customer: &str, max: usize) -> model_lib::Earlier {
    let table =
        one::<pg_sys::Oid>("SELECT source::pg_catalog.oid FROM rar.models WHERE model_id = $1", &[model_id.into()])
            .or_raise()
            .unwrap_or_else(|| RarError::BadModel { model_id, message: "It is not in rar.models.".into() }.raise());
    let src = relation::describe(Relation(table), "rar_recommend");
    let cols = history::SequenceColumns::to_read(model_id, &src).or_raise();
    let baskets = history::customer_baskets(&src, &cols, customer, max).or_raise();
    model_lib::Earlier::of_one(
        baskets.iter().map(|b| history::known_items(b, |i| model.index.get(i).copied())).collect(),
    )
}

/// The `k` best items to add to the basket `items`, for the registered
/// source `source`, by `method` ('rules', 'model' or 'hybrid'); with
/// `customer`, a sequence model reads that customer's earlier baskets.
#[pg_extern(stable, parallel_unsafe, name = "rar_recommend")]
pub fn recommend(
    items: Option<Vec<Option<String>>>,
    k: default!(Option<i32>, 10),
    source: default!(Option<&str>, "NULL"),
    method: default!(Option<&str>, "'rules'"),
    model_id: default!(Option<i64>, "NULL"),
    customer: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(rank, i32), name!(item, String), name!(score, f64), name!(evidence, String))> {
    let items = required("items", "none", items);
    let k = required("k", "10", k);
    let method = required("method", "'rules'", method);
    if k <= 0 {
        RarError::InvalidOption { name: "k", value: k.to_string(), expected: "a number of items of at least 1" }
            .raise();
    }
    if !matches!(method, "rules" | "model" | "hybrid") {
        RarError::InvalidOption { name: "method", value: method.into(), expected: "'rules', 'model' and 'hybrid'" }
            .raise();
    }
    if model_id.is_some() && method == "rules" {
        RarError::ConflictingOptions {
            message: "model_id applies to methods 'model' and 'hybrid' only",
            hint: "Use method 'model' or 'hybrid' with model_id, or leave model_id out for the rules.",
        }
        .raise();
    }
    if customer.is_some() && method == "rules" {
        RarError::ConflictingOptions {
            message: "customer is read only by a sequence model, and method 'rules' uses no model",
            hint: "Use method 'model' or 'hybrid' with a deployed sequence model ('gru'), or leave customer out.",
        }
        .raise();
    }
    // A source's name, or its table's (the naming rule of crate::sources).
    let source = crate::sources::source_of(required("source", "", source)).or_raise().name;
    let source = source.as_str();
    let _pinned = pin_search_path();
    // rar_source raises the errors for unknown or dropped sources, and for
    // roles that may not read its rules.
    let ext = ext_schema().or_raise();
    crate::spi::one_kept::<i32>(&format!("SELECT 1 FROM {ext}.rar_source($1::pg_catalog.text)"), &[source.into()])
        .or_raise();
    let mut basket: Vec<String> = crate::args::no_null_elements("items", items);
    basket.sort();
    basket.dedup();
    if basket.len() > MAX_BASKET_ITEMS {
        RarError::TooMany {
            what: "items in the basket",
            requested: basket.len().to_string(),
            limit: MAX_BASKET_ITEMS as u64,
            hint: "Recommend for the items of one basket (a few dozen at most, usually).",
        }
        .raise();
    }
    if basket.is_empty() {
        RarError::ConflictingOptions {
            message: "the basket is empty",
            hint: "Give at least one item, for example ARRAY['22423'].",
        }
        .raise();
    }
    // Rules mined at a level of the hierarchy recommend its labels, the
    // model items: one ranking of both would compare unlike things.
    if method == "hybrid" && current_set(source).is_some_and(|(_, _, level)| level.is_some()) {
        RarError::Unsupported {
            message: "hybrid recommendations need rules of items, and this source's current rules are of a level of its hierarchy",
            hint: "Use method 'rules' for recommendations at that level or 'model' for items, or refresh the rules without level.",
        }
        .raise();
    }
    // How many earlier baskets of the customer the model read.
    let mut history_read: Option<usize> = None;
    let mut cands: HashMap<String, Candidate> =
        if method == "model" { HashMap::new() } else { rule_candidates(source, &basket) };
    if method != "rules" {
        let id = model_row(source, model_id);
        let lib = model_lib::get().unwrap_or_else(|e| e.raise());
        let model = lib.model(id, || model_lib::fetch(id)).unwrap_or_else(|e| e.raise());
        let known: Vec<u32> = basket.iter().filter_map(|i| model.index.get(i).copied()).collect();
        let unknown = basket.len() - known.len();
        if known.is_empty() {
            RarError::UnknownItems { source: source.to_string(), items: basket.len() }.raise();
        }
        if unknown > 0 {
            pgrx::notice!(
                "rar_recommend ignored {unknown} item{} the model does not know",
                if unknown == 1 { "" } else { "s" }
            );
        }
        let earlier = match (customer, model.history) {
            (Some(c), Some(max)) => Some(earlier_baskets(id, &model, c, max)),
            (Some(_), None) => {
                pgrx::notice!(
                    "rar_recommend ignored customer: model {id} is not a sequence model, it reads the basket alone"
                );
                None
            }
            (None, _) => None,
        };
        history_read = earlier.as_ref().map(|e| e.pool.len());
        let scores = lib.score(&model, &known, earlier.as_ref()).unwrap_or_else(|e| e.raise());
        for (i, p) in scores.iter().enumerate() {
            let name = &model.vocab[i];
            if basket.binary_search(name).is_ok() {
                continue;
            }
            cands
                .entry(name.clone())
                .or_insert(Candidate { rule: 0.0, lift: 0.0, rule_text: None, model: None })
                .model = Some(*p as f64);
        }
    }
    let score = |c: &Candidate| match method {
        "rules" => c.rule,
        "model" => c.model.unwrap_or(0.0),
        _ => (c.rule + c.model.unwrap_or(0.0)) / 2.0,
    };
    let mut ranked: Vec<(String, Candidate)> = cands.into_iter().collect();
    ranked.sort_by(|a, b| score(&b.1).total_cmp(&score(&a.1)).then(b.1.lift.total_cmp(&a.1.lift)).then(a.0.cmp(&b.0)));
    ranked.truncate(k as usize);
    let rows: Vec<_> = ranked
        .into_iter()
        .enumerate()
        .map(|(r, (item, c))| {
            let after = match history_read {
                Some(1) => " after the customer's 1 earlier basket".to_string(),
                Some(n) => format!(" after the customer's {n} earlier baskets"),
                None => String::new(),
            };
            let evidence = match (&c.rule_text, c.model) {
                (Some(t), Some(p)) => format!("rule {t}; model probability {p:.3}{after}"),
                (Some(t), None) => format!("rule {t}"),
                (None, Some(p)) => format!("model probability {p:.3}{after}"),
                (None, None) => String::new(),
            };
            (r as i32 + 1, item, score(&c), evidence)
        })
        .collect();
    TableIterator::new(rows)
}
