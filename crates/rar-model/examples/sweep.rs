//! Quick comparison of settings on a CSV of (basket, item) lines:
//! `cargo run --release -p rar-model --example sweep -- FILE '{"model":"mlp","epochs":5}' ...`

use std::collections::HashMap;

use rar_model::config::TrainConfig;
use rar_model::data::SparseBaskets;
use rar_model::train::{train, Control, TrainData};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let mut baskets: HashMap<String, Vec<u32>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut vocab: HashMap<String, u32> = HashMap::new();
    for line in text.lines().skip(1) {
        let mut f = line.split(',');
        let (t, i) = (f.next().unwrap().to_string(), f.next().unwrap().trim_matches('"').to_string());
        let n = vocab.len() as u32;
        let id = *vocab.entry(i).or_insert(n);
        baskets
            .entry(t.clone())
            .or_insert_with(|| {
                order.push(t.clone());
                Vec::new()
            })
            .push(id);
    }
    let lists: Vec<Vec<u32>> = order.iter().map(|t| baskets[t].clone()).collect();
    let train_l: Vec<Vec<u32>> =
        lists.iter().enumerate().filter(|(k, _)| k % 10 != 0).map(|(_, l)| l.clone()).collect();
    let valid: Vec<Vec<u32>> = lists.iter().enumerate().filter(|(k, _)| k % 10 == 0).map(|(_, l)| l.clone()).collect();
    let train_b = SparseBaskets::from_lists(&train_l);
    let counts = train_b.item_counts(vocab.len());
    let data = TrainData {
        vocab: vocab.len() as i64,
        train: train_b,
        valid: SparseBaskets::from_lists(&valid),
        item_counts: counts,
        history: None,
    };
    for cfg in &args[2..] {
        let c = TrainConfig::from_json(cfg).unwrap();
        let r = train(&c, &data, &mut |_| Control::Continue).unwrap().report;
        println!(
            "{cfg}: recall@10 {:.4} ndcg@10 {:.4} (popularity {:.4}) best epoch {} of {}, {:.0} baskets/s",
            r.metrics.recall_at_10,
            r.metrics.ndcg_at_10,
            r.popularity.recall_at_10,
            r.best_epoch,
            r.epochs_run,
            r.baskets_per_second
        );
    }
}
