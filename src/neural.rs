//! `rar_mine(..., method => 'neural' | 'hybrid')`: rules from a trained
//! model, every one counted exactly on the data.
//!
//! - `neural`: antecedents and consequents proposed by probing the model
//!   (`rar_core::probe`), then counted on the baskets; rules below the
//!   thresholds are dropped, so every number returned is true of the data.
//! - `hybrid`: the exact rules, kept when the model also gives the
//!   consequent at least `consequent_threshold` given the antecedent.
//!
//! Both fill `model_score` with the model's probability of the consequent.

use std::collections::HashMap;

use pgrx::prelude::*;
use rar_core::baskets::Baskets;
use rar_core::intersect::intersect_count;
use rar_core::params::MineParams;
use rar_core::probe::{probe, ProbeParams};
use rar_core::rules::{mine_rules, Measures};

use crate::error::{OrRaise, RarError};
use crate::model_lib;

pub type Row = (Vec<String>, Vec<String>, f64, f64, f64, f64, f64, i64, Option<f64>);

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
    row.unwrap_or_else(|| RarError::NoModel { source: display.to_string() }.raise())
}

fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|x, y| {
        y.4.total_cmp(&x.4).then(y.3.total_cmp(&x.3)).then(y.7.cmp(&x.7)).then(x.0.cmp(&y.0)).then(x.1.cmp(&y.1))
    });
}

/// Rules of `baskets` by `method` ('neural' or 'hybrid') with the model of
/// table `rel`.
#[allow(clippy::too_many_arguments)]
pub fn mine(
    baskets: Baskets,
    params: &MineParams,
    rel: pg_sys::Oid,
    display: &str,
    method: &str,
    model: Option<i64>,
    antecedent_threshold: f64,
    consequent_threshold: f64,
) -> Vec<Row> {
    for (name, v) in [("antecedent_threshold", antecedent_threshold), ("consequent_threshold", consequent_threshold)] {
        if !(0.0..=1.0).contains(&v) {
            RarError::InvalidOption { name, value: v.to_string(), expected: "probabilities between 0 and 1" }.raise();
        }
    }
    params.validate().or_raise();
    let (model_id, architecture) = pick_model(rel, display, model);
    let lib = model_lib::get().unwrap_or_else(|e| e.raise());
    let m = lib.model(model_id, || model_lib::fetch(model_id)).unwrap_or_else(|e| e.raise());
    let n = baskets.len() as u32;
    let mut rows: Vec<Row> = Vec::new();
    if method == "hybrid" {
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
        let mut scores: Vec<Vec<f32>> = Vec::new();
        for chunk in sets.chunks(1024) {
            check_for_interrupts!();
            scores.extend(lib.score_batch(&m, chunk).unwrap_or_else(|e| e.raise()));
        }
        for (r, key) in all.iter().zip(keys) {
            let Some((k, cons)) = key else { continue };
            let s = cons.iter().map(|&c| scores[k][c as usize]).fold(f32::INFINITY, f32::min) as f64;
            if s + 1e-12 >= consequent_threshold {
                rows.push((
                    r.antecedent.iter().map(|x| x.to_string()).collect(),
                    r.consequent.iter().map(|x| x.to_string()).collect(),
                    r.support,
                    r.confidence,
                    r.lift,
                    r.leverage,
                    r.conviction,
                    r.count as i64,
                    Some(s),
                ));
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
        ..ProbeParams::default()
    };
    let mut scorer = |sets: &[Vec<u32>]| lib.score_batch(&m, sets).unwrap_or_else(|e| e.raise());
    let proposals = probe(m.vocab.len(), &p, &mut scorer, &mut || {
        check_for_interrupts!();
    });
    // Tid-lists of the data's items, by name.
    let by_name: HashMap<&str, u32> = (0..baskets.n_items() as u32).map(|i| (baskets.item_name(i), i)).collect();
    let mut tids: Vec<Vec<u32>> = vec![Vec::new(); baskets.n_items()];
    for (t, b) in baskets.iter().enumerate() {
        for &i in b {
            tids[i as usize].push(t as u32);
        }
    }
    let min_count = params.min_count(baskets.len());
    let count_of = |items: &[u32]| -> u32 {
        let mut acc = tids[items[0] as usize].clone();
        let mut buf = Vec::new();
        for &i in &items[1..] {
            match rar_core::intersect::intersect_into(&acc, &tids[i as usize], 0, &mut buf) {
                Some(_) => std::mem::swap(&mut acc, &mut buf),
                None => return 0,
            }
        }
        acc.len() as u32
    };
    for (k, prop) in proposals.iter().enumerate() {
        if k % 1024 == 0 {
            check_for_interrupts!();
        }
        let ante: Option<Vec<u32>> =
            prop.antecedent.iter().map(|&i| by_name.get(m.vocab[i as usize].as_str()).copied()).collect();
        let (Some(ante), Some(&cons)) = (ante, by_name.get(m.vocab[prop.consequent as usize].as_str())) else {
            continue;
        };
        if ante.len() + 1 > params.max_length {
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
        let n_c = tids[cons as usize].len() as u32;
        if n_ac < min_count.max(1) {
            continue;
        }
        let ms = Measures::from_counts(n, n_ac, n_a, n_c);
        if ms.confidence + 1e-12 < params.min_confidence || ms.lift + 1e-12 < params.min_lift {
            continue;
        }
        let mut a: Vec<String> = ante.iter().map(|&i| baskets.item_name(i).to_string()).collect();
        a.sort();
        rows.push((
            a,
            vec![baskets.item_name(cons).to_string()],
            ms.support,
            ms.confidence,
            ms.lift,
            ms.leverage,
            ms.conviction,
            n_ac as i64,
            Some(prop.score as f64),
        ));
    }
    sort_rows(&mut rows);
    rows
}
