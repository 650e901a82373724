//! Training: each architecture learns what popularity cannot (synthetic
//! themed baskets), the same seed gives the same training on the arules
//! Groceries baskets shipped in `data/`, progress can stop training, and
//! budgets and data sizes are checked.

use std::collections::HashMap;
use std::sync::Mutex;

use rar_model::config::TrainConfig;
use rar_model::data::{Histories, HistoryData, SparseBaskets};
use rar_model::train::{train, Control, TrainData, TrainError};

fn groceries() -> TrainData {
    // RAR_DATA_DIR: where a prebuilt test binary finds `data/` on another machine.
    let dir =
        std::env::var("RAR_DATA_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../data").into());
    let text = std::fs::read_to_string(format!("{dir}/groceries.csv")).unwrap();
    let mut baskets: Vec<(String, Vec<String>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for line in text.lines().skip(1) {
        let (t, i) = line.split_once(',').unwrap();
        let i = i.trim_matches('"').to_string();
        let k = *index.entry(t.to_string()).or_insert_with(|| {
            baskets.push((t.to_string(), Vec::new()));
            baskets.len() - 1
        });
        baskets[k].1.push(i);
    }
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let lists: Vec<Vec<u32>> = baskets
        .iter()
        .map(|(_, items)| {
            items
                .iter()
                .map(|i| {
                    let n = vocab.len() as u32;
                    *vocab.entry(i.clone()).or_insert(n)
                })
                .collect()
        })
        .collect();
    // Every tenth basket for validation.
    let (valid, train_l): (Vec<_>, Vec<_>) = lists.into_iter().enumerate().partition(|(k, _)| k % 10 == 0);
    let train_l: Vec<Vec<u32>> = train_l.into_iter().map(|(_, l)| l).collect();
    let valid: Vec<Vec<u32>> = valid.into_iter().map(|(_, l)| l).collect();
    let train = SparseBaskets::from_lists(&train_l);
    let counts = train.item_counts(vocab.len());
    TrainData {
        vocab: vocab.len() as i64,
        train,
        valid: SparseBaskets::from_lists(&valid),
        item_counts: counts,
        history: None,
    }
}

/// 2,000 baskets drawn from 20 themes of 6 items, plus one of 10 popular
/// items: the hidden item of a basket follows from the visible ones, which
/// popularity cannot know.
fn themes() -> TrainData {
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut lists = Vec::new();
    for _ in 0..2000 {
        let t = next(20) as u32;
        let mut b: Vec<u32> = (0..6).filter(|_| next(3) > 0).map(|k| 10 + t * 6 + k).collect();
        b.push(next(10) as u32);
        lists.push(b);
    }
    let valid: Vec<Vec<u32>> = lists.iter().step_by(10).cloned().collect();
    let train_l: Vec<Vec<u32>> =
        lists.iter().enumerate().filter(|(k, _)| k % 10 != 0).map(|(_, l)| l.clone()).collect();
    let train = SparseBaskets::from_lists(&train_l);
    let counts = train.item_counts(130);
    TrainData { vocab: 130, train, valid: SparseBaskets::from_lists(&valid), item_counts: counts, history: None }
}

/// libtorch's random generator and thread count are process-wide: one
/// training at a time, as in a PostgreSQL backend.
static TORCH: Mutex<()> = Mutex::new(());

/// The device the tests train on: the CPU, or `RAR_TEST_DEVICE` (`cuda` on a
/// GPU machine, as `benches/gpu.sh` runs them).
fn test_device() -> String {
    std::env::var("RAR_TEST_DEVICE").unwrap_or_else(|_| "cpu".into())
}

fn cfg(model: &str, epochs: i64) -> TrainConfig {
    TrainConfig {
        model: model.into(),
        epochs,
        device: test_device(),
        threads: 1,
        hidden: 128,
        bottleneck: 32,
        embedding: 32,
        layers: 1,
        ..TrainConfig::default()
    }
}

#[test]
fn each_model_learns_what_popularity_cannot() {
    let _one = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let data = themes();
    for model in ["mlp", "autoencoder", "transformer"] {
        let epochs = if model == "transformer" { 40 } else { 10 };
        let c = TrainConfig { patience: 40, ..cfg(model, epochs) };
        let r = train(&c, &data, &mut |_| Control::Continue).unwrap().report;
        println!("{model}: recall@10 {:.4} (popularity {:.4})", r.metrics.recall_at_10, r.popularity.recall_at_10);
        assert!(r.metrics.recall_at_10 > r.popularity.recall_at_10 + 0.2, "{model} beats popularity");
    }
}

#[test]
fn same_seed_same_training_on_groceries() {
    let _one = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let data = groceries();
    let c = cfg("mlp", 10);
    let a = train(&c, &data, &mut |_| Control::Continue).unwrap();
    let r = &a.report;
    // On Groceries popularity is a strong baseline (the model is level with
    // it; the margin is checked on Online Retail in tests/python).
    println!("groceries mlp: recall@10 {:.4} (popularity {:.4})", r.metrics.recall_at_10, r.popularity.recall_at_10);
    assert!(r.metrics.recall_at_10 > 0.3);
    let b = train(&c, &data, &mut |_| Control::Continue).unwrap();
    // The saved archive carries a random serialization id: compare what the
    // weights do, epoch by epoch.
    let curve = |o: &rar_model::train::Outcome| {
        o.report.curves.iter().map(|e| (e.train_loss, e.valid.clone())).collect::<Vec<_>>()
    };
    assert!(curve(&a) == curve(&b), "same seed, same training curve");
    assert!(r.metrics == b.report.metrics, "same seed, same metrics");
}

#[test]
fn progress_can_stop_training() {
    let _one = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let data = groceries();
    let mut calls = 0;
    let r = train(&cfg("mlp", 5), &data, &mut |_| {
        calls += 1;
        if calls == 3 {
            Control::Stop
        } else {
            Control::Continue
        }
    });
    assert_eq!(r.err(), Some(TrainError::Cancelled));
}

#[test]
fn budget_and_data_errors() {
    let _one = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let data = groceries();
    let c = TrainConfig { memory_limit: 1000, ..cfg("mlp", 1) };
    assert!(matches!(train(&c, &data, &mut |_| Control::Continue), Err(TrainError::TooLarge { .. })));
    let tiny = TrainData {
        vocab: 3,
        train: SparseBaskets::from_lists(&[vec![0, 1]]),
        valid: SparseBaskets::from_lists(&[vec![1, 2]]),
        item_counts: vec![1, 1, 0],
        history: None,
    };
    assert!(matches!(train(&cfg("mlp", 1), &tiny, &mut |_| Control::Continue), Err(TrainError::TooFewBaskets { .. })));
}

#[test]
fn a_saved_model_scores_the_same_after_loading() {
    let _one = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let data = themes();
    let c = TrainConfig { patience: 40, ..cfg("autoencoder", 10) };
    let out = train(&c, &data, &mut |_| Control::Continue).unwrap();
    let scorer = rar_model::train::Scorer::load(&c, data.vocab, &out.weights).unwrap();
    // Theme 3 is items 28..34: a basket with three of them ranks the others high.
    let scores = scorer.score(&[&[28, 29, 30]], None);
    assert_eq!(scores.len(), 130);
    let mut order: Vec<usize> = (0..130).filter(|i| ![28, 29, 30].contains(i)).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let top3: Vec<usize> = order[..3].to_vec();
    assert!(top3.iter().all(|i| (31..34).contains(i)), "top items {top3:?} are the rest of the theme");
    assert!(rar_model::train::Scorer::load(&c, data.vocab, b"not weights").is_err());
}

/// Customers who each keep to one theme of 5 items (of 20 themes), each
/// basket one item of the customer's theme and two of 30 items everyone
/// buys at random: when the hidden item is the theme's, only the customer's
/// earlier baskets can tell which theme it is. Each customer's last basket
/// is for validation; every basket is in the pool, each example's history
/// its customer's baskets before it.
fn customers() -> TrainData {
    let mut rng = rar_model::data::Rng::new(11);
    let (mut pool, mut train, mut valid, mut train_h, mut valid_h) = (vec![], vec![], vec![], vec![], vec![]);
    for c in 0..1000u32 {
        let theme = c % 20;
        let first = pool.len() as u32;
        for k in 0..8u32 {
            let mut b = vec![theme * 5 + rng.below(5) as u32];
            while b.len() < 3 {
                let noise = 100 + rng.below(30) as u32;
                if !b.contains(&noise) {
                    b.push(noise);
                }
            }
            let earlier: Vec<u32> = (first..first + k).collect();
            if k == 7 {
                valid.push(b.clone());
                valid_h.push(earlier);
            } else {
                train.push(b.clone());
                train_h.push(earlier);
            }
            pool.push(b);
        }
    }
    let train = SparseBaskets::from_lists(&train);
    let counts = train.item_counts(130);
    TrainData {
        vocab: 130,
        train,
        valid: SparseBaskets::from_lists(&valid),
        item_counts: counts,
        history: Some(HistoryData {
            pool: SparseBaskets::from_lists(&pool),
            train: Histories::from_lists(&train_h),
            valid: Histories::from_lists(&valid_h),
        }),
    }
}

#[test]
fn the_sequence_model_reads_what_the_basket_cannot_show() {
    let _one = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    let data = customers();
    let recall = |model: &str| {
        let c = TrainConfig { patience: 40, embedding: 16, ..cfg(model, 15) };
        let out = train(&c, &data, &mut |_| Control::Continue).unwrap();
        println!("{model}: recall@10 {:.4}", out.report.metrics.recall_at_10);
        (out.report.metrics.recall_at_10, c, out.weights)
    };
    let (basket_only, _, _) = recall("mlp");
    let (with_history, c, weights) = recall("gru");
    // A third of the hidden items are the theme's: history finds most of
    // them, a basket none (its visible items are noise).
    assert!(with_history > basket_only + 0.15, "gru {with_history:.3} against mlp {basket_only:.3}");
    // Loaded again, the same metrics on the same baskets and histories.
    let scorer = rar_model::train::Scorer::load(&c, data.vocab, &weights).unwrap();
    let h = data.history.as_ref().unwrap();
    let (m, _) = scorer.metrics(&data.valid, Some((&h.pool, &h.valid)), &data.item_counts);
    assert!((m.recall_at_10 - with_history).abs() < 1e-9, "{} against {with_history}", m.recall_at_10);
    // Scoring a customer's basket with and without its earlier baskets (as
    // rar_recommend does): shown only the noise of each validation basket,
    // the customer's theme comes first when the history is given.
    let noise: Vec<Vec<u32>> =
        (0..data.valid.len()).map(|i| data.valid.basket(i).iter().copied().filter(|&x| x >= 100).collect()).collect();
    let lists: Vec<&[u32]> = noise.iter().map(Vec::as_slice).collect();
    let theme_first = |scores: &[f32]| {
        let hits = scores.chunks(130).enumerate().filter(|(c, s)| {
            let best = (0..100).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap_or(0);
            best / 5 == c % 20
        });
        hits.count() as f64 / lists.len() as f64
    };
    let with = theme_first(&scorer.score(&lists, Some((&h.pool, &h.valid))));
    let without = theme_first(&scorer.score(&lists, None));
    println!("theme first: {with:.3} with history, {without:.3} without");
    assert!(with > 0.8 && without < 0.3, "theme first {with:.3} with history, {without:.3} without");
    // Without histories the caller is told, not given a basket-only model.
    let no_history = TrainData { history: None, ..data };
    assert!(matches!(train(&c, &no_history, &mut |_| Control::Continue), Err(TrainError::Config(_))));
}
