//! `rar_mine(..., method => 'neural' | 'hybrid')`: rules from a trained
//! model, every one counted exactly on the data.
//!
//! - `neural`: antecedents and consequents proposed by probing the model
//!   (`rar_core::probe`), then counted on the baskets; rules below the
//!   thresholds are dropped, so every number returned is true of the data.
//! - `hybrid`: the exact rules, kept when the model also gives the
//!   consequent at least `consequent_threshold` given the antecedent.
//!
//! Without a `consequent_threshold` (the default), each item has its own:
//! the 75th percentile of the probabilities the model gives it when it is
//! held out of a real basket (`rar_core::probe::calibrate`), so that the
//! same default suits models whose probabilities differ in scale (an
//! autoencoder's against an mlp's).
//!
//! Both fill `model_score` with the model's probability of the consequent.

use std::collections::HashMap;
use std::sync::Arc;

use pgrx::prelude::*;
use rar_core::baskets::Baskets;
use rar_core::params::{defaults, MineParams};
use rar_core::probe::{bytes_per_scored_row, calibrate, count_proposals, probe, rows_per_batch, ProbeParams};
use rar_core::rule::Rule;
use rar_core::rules::mine_rules;

use crate::error::{OrRaise, RarError};
use crate::model_lib;

/// Baskets the model scores to set each item's consequent threshold (one
/// held-out item each, spread evenly over the table).
const CALIBRATION_CASES: usize = 5000;

/// Each item's threshold when no basket has two items the model knows.
const CALIBRATION_FALLBACK: f32 = 0.1;

/// The deployed (or given) model of a table: id and architecture.
fn pick_model(rel: pg_sys::Oid, display: &str, model: Option<i64>) -> (i64, String) {
    let row = Spi::connect(|c| {
        let t = c.select(
            "SELECT model_id, architecture FROM rar.models WHERE source = $1 AND ($2::pg_catalog.int8 IS NULL AND deployed OR model_id = $2)",
            Some(1),
            &[rel.into(), model.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((r.get::<i64>(1)?.unwrap_or(0), r.get::<String>(2)?.unwrap_or_default())))
    })
    .or_raise();
    row.unwrap_or_else(|| {
        // The model may exist and be hidden: models are data of their table.
        let readable = crate::spi::one::<bool>("SELECT rar.may_read($1)", &[rel.into()]).or_raise().unwrap_or(false);
        if !readable {
            RarError::NotReadable { relation: display.to_string() }.raise();
        }
        RarError::NoModel { source: display.to_string(), model_id: model }.raise()
    })
}

/// A model knows the items of the column it was trained on
/// (`rar.models.read_columns`, recorded since 0.2.0): the rules of another
/// column would silently be none.
fn check_item_column(model_id: i64, item_column: &str) {
    let trained = crate::spi::one::<String>(
        "SELECT read_columns->>'item_column' FROM rar.models WHERE model_id = $1",
        &[model_id.into()],
    )
    .or_raise();
    if let Some(trained) = trained.filter(|t| t != item_column) {
        RarError::ModelOtherColumn { model_id, trained, asked: item_column.to_string() }.raise();
    }
}

/// Refuses thresholds that are not probabilities (22023): `rar_mine`
/// checks them whatever the method, `rar_evaluate` before the neural rules.
pub fn check_thresholds(antecedent_threshold: f64, consequent_threshold: Option<f64>) {
    for (name, v) in
        [("antecedent_threshold", Some(antecedent_threshold)), ("consequent_threshold", consequent_threshold)]
    {
        if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
            RarError::InvalidOption { name, value: v.to_string(), expected: "probabilities between 0 and 1" }.raise();
        }
    }
}

/// Rules of `baskets` by `method` ('neural' or 'hybrid') with the model of
/// table `rel` (trained on `item_column`).
#[allow(clippy::too_many_arguments)]
pub fn mine(
    baskets: Arc<Baskets>,
    params: &MineParams,
    rel: pg_sys::Oid,
    display: &str,
    method: &str,
    model: Option<i64>,
    item_column: &str,
    antecedent_threshold: f64,
    consequent_threshold: Option<f64>,
) -> Vec<Rule> {
    check_thresholds(antecedent_threshold, consequent_threshold);
    params.validate().or_raise();
    let (model_id, architecture) = pick_model(rel, display, model);
    check_item_column(model_id, item_column);
    let lib = model_lib::get().unwrap_or_else(|e| e.raise());
    let m = lib.model(model_id, || model_lib::fetch(model_id)).unwrap_or_else(|e| e.raise());
    // A quarter of the budget for rows of probabilities being scored, half
    // for the proposals.
    let budget = params.memory_limit;
    let batch = rows_per_batch(m.vocab.len(), budget / 4).unwrap_or_else(|| {
        RarError::ModelTooLarge { needed: bytes_per_scored_row(m.vocab.len()) * 4, limit: budget }.raise()
    });
    let mut scorer = |sets: &[Vec<u32>]| lib.score_batch(&m, sets, None).unwrap_or_else(|e| e.raise());
    // Without a consequent_threshold, each item's own, from the model's
    // scores of it in real baskets (rar_core::probe::calibrate).
    let per_item: Vec<f32> = match consequent_threshold {
        Some(_) => Vec::new(),
        None => {
            let t = calibrate(
                &m.vocab,
                &baskets,
                defaults::CONSEQUENT_QUANTILE,
                CALIBRATION_CASES,
                batch,
                CALIBRATION_FALLBACK,
                &mut scorer,
                &mut || {
                    check_for_interrupts!();
                },
            );
            let mut sorted = t.clone();
            sorted.sort_by(f32::total_cmp);
            if let (Some(lo), Some(hi)) = (sorted.first(), sorted.last()) {
                pgrx::debug1!(
                    "rar_mine: consequent thresholds of model {model_id} per item: {lo:.4} to {hi:.4}, median {:.4}",
                    sorted[sorted.len() / 2]
                );
            }
            t
        }
    };
    let consequent_threshold = consequent_threshold.unwrap_or(0.0);
    if method == "hybrid" {
        let mut rows: Vec<Rule> = Vec::new();
        let rules = mine_rules(baskets, params, &mut || {
            check_for_interrupts!();
        })
        .or_raise();
        // One probe per distinct antecedent.
        let mut probes: HashMap<Vec<u32>, usize> = HashMap::new();
        let mut sets: Vec<Vec<u32>> = Vec::new();
        let all: Vec<_> = rules.rows().collect();
        let mut keys: Vec<Option<(usize, Vec<u32>)>> = Vec::new();
        for r in &all {
            let a: Option<Vec<u32>> = r.antecedent.iter().map(|x| m.index.get(*x).copied()).collect();
            let c: Option<Vec<u32>> = r.consequent.iter().map(|x| m.index.get(*x).copied()).collect();
            keys.push(match (a, c) {
                (Some(a), Some(c)) if !a.is_empty() => {
                    let k = *probes.entry(a.clone()).or_insert_with(|| {
                        sets.push(a.clone());
                        sets.len() - 1
                    });
                    Some((k, c))
                }
                _ => None,
            });
        }
        // Scored a batch at a time; each rule takes the least probability
        // of its consequent's items given its antecedent.
        let mut rules_of: Vec<Vec<usize>> = vec![Vec::new(); sets.len()];
        for (i, key) in keys.iter().enumerate() {
            if let Some((k, _)) = key {
                rules_of[*k].push(i);
            }
        }
        let mut score_of: Vec<Option<f64>> = vec![None; all.len()];
        for (c, chunk) in sets.chunks(batch).enumerate() {
            check_for_interrupts!();
            for (j, row) in scorer(chunk).iter().enumerate() {
                for &i in &rules_of[c * batch + j] {
                    if let Some((_, cons)) = &keys[i] {
                        // A score that is not a number (a damaged model) supports nothing.
                        let least = cons.iter().map(|&x| row[x as usize]).fold(f32::INFINITY, f32::min);
                        let finite = cons.iter().all(|&x| row[x as usize].is_finite());
                        score_of[i] = finite.then_some(least as f64);
                    }
                }
            }
        }
        for (r, s) in all.iter().zip(score_of) {
            // Every consequent item at its own threshold too.
            let own = r
                .consequent
                .iter()
                .filter_map(|x| m.index.get(*x))
                .map(|&i| per_item.get(i as usize).copied().unwrap_or(0.0))
                .fold(0.0f32, f32::max) as f64;
            if let Some(s) = s.filter(|s| s + 1e-12 >= consequent_threshold.max(own)) {
                rows.push(Rule { model_score: Some(s), ..Rule::from(r.clone()) });
            }
        }
        return rows;
    }

    // Neural: probe, then count every proposal exactly.
    let p = ProbeParams {
        antecedent_threshold: antecedent_threshold as f32,
        consequent_threshold: consequent_threshold as f32,
        max_antecedent: params.max_length.saturating_sub(1).max(1),
        self_check: architecture == "autoencoder",
        batch,
        max_proposals: (budget / 2 / 64) as usize,
        per_item,
        ..ProbeParams::default()
    };
    let proposals = probe(m.vocab.len(), &p, &mut scorer, &mut || {
        check_for_interrupts!();
    })
    .unwrap_or_else(|e| {
        RarError::TooMany {
            what: "rules proposed by the model",
            requested: format!("more than {}", e.limit),
            limit: e.limit as u64,
            hint: "Raise consequent_threshold (or antecedent_threshold), or raise rar.memory_limit.",
        }
        .raise()
    });
    count_proposals(&baskets, &m.vocab, &proposals, params, &mut || {
        check_for_interrupts!();
    })
}
