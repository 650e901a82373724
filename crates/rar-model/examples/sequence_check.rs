//! The sequence model against the basket-only models on the same held-out
//! baskets: reads a CSV of (basket, customer, time, item) lines (a header
//! first; `time` a number, larger later; `customer` empty where unknown),
//! splits the baskets 80/10/10 by a hash of their id, builds the
//! vocabulary from the training baskets as `rar_train` does (items in at
//! least 5 of them, the 5,000 most frequent), gives each basket the
//! customer's earlier baskets (by time then id; for training and
//! validation baskets only from those sets, for a test basket from any),
//! trains each
//! model with the defaults and prints validation and test recall@10 with
//! popularity's. Run by `benches/sequence.sh`.
//!
//!   sequence_check FILE.csv [MODELS] (default mlp,autoencoder,gru)

use std::collections::HashMap;

use rar_model::config::TrainConfig;
use rar_model::data::{Histories, HistoryData, SparseBaskets};
use rar_model::train::{train, Control, Scorer, TrainData};

struct Basket {
    id: String,
    customer: Option<String>,
    time: f64,
    items: Vec<String>,
}

/// FNV-1a: a split that does not depend on the file's order.
fn bucket(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h % 100
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: sequence_check FILE.csv [MODELS]");
    let models = args.next().unwrap_or_else(|| "mlp,autoencoder,gru".into());
    let mut baskets: Vec<Basket> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut reader = csv::Reader::from_path(&path).expect("readable CSV");
    for rec in reader.records() {
        let rec = rec.expect("CSV record");
        let k = *by_id.entry(rec[0].to_string()).or_insert_with(|| {
            baskets.push(Basket {
                id: rec[0].to_string(),
                customer: (!rec[1].is_empty()).then(|| rec[1].to_string()),
                time: rec[2].parse().unwrap_or(0.0),
                items: Vec::new(),
            });
            baskets.len() - 1
        });
        baskets[k].items.push(rec[3].to_string());
    }
    let split: Vec<u64> = baskets.iter().map(|b| bucket(&b.id)).collect();
    // The vocabulary of the training baskets.
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for (b, s) in baskets.iter().zip(&split) {
        if *s < 80 {
            let mut seen: Vec<&str> = b.items.iter().map(|s| s.as_str()).collect();
            seen.sort_unstable();
            seen.dedup();
            for i in seen {
                *counts.entry(i).or_default() += 1;
            }
        }
    }
    let mut vocab: Vec<(&str, u64)> = counts.into_iter().filter(|&(_, n)| n >= 5).collect();
    vocab.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    vocab.truncate(5000);
    let index: HashMap<&str, u32> = vocab.iter().enumerate().map(|(k, (v, _))| (*v, k as u32)).collect();
    let encoded: Vec<Vec<u32>> =
        baskets.iter().map(|b| b.items.iter().filter_map(|i| index.get(i.as_str()).copied()).collect()).collect();
    // Each basket's customer's earlier baskets, as the server finds them.
    let customers: Vec<Option<&str>> = baskets.iter().map(|b| b.customer.as_deref()).collect();
    let times: Vec<Option<f64>> = baskets.iter().map(|b| Some(b.time)).collect();
    let ids: Vec<&str> = baskets.iter().map(|b| b.id.as_str()).collect();
    let max = TrainConfig::default().history as usize;
    // Training and validation baskets draw their histories from those two
    // sets alone (a test basket is never an input in training); a test
    // basket from every earlier basket, as a customer's past at the time.
    let not_test: Vec<Option<&str>> = customers.iter().zip(&split).map(|(c, &s)| c.filter(|_| s < 90)).collect();
    let earlier_in_training = rar_core::history::earlier_baskets(&not_test, &times, &ids, max);
    let earlier_all = rar_core::history::earlier_baskets(&customers, &times, &ids, max);
    let earlier: Vec<Vec<u32>> = (0..baskets.len())
        .map(|k| if split[k] < 90 { earlier_in_training[k].clone() } else { earlier_all[k].clone() })
        .collect();
    let n_customers = customers.iter().flatten().collect::<std::collections::HashSet<_>>().len();
    let set = |lo: u64, hi: u64| -> (SparseBaskets, Histories) {
        let ks: Vec<usize> = (0..baskets.len()).filter(|&k| split[k] >= lo && split[k] < hi).collect();
        let lists: Vec<Vec<u32>> = ks.iter().map(|&k| encoded[k].clone()).collect();
        let hist: Vec<Vec<u32>> = ks.iter().map(|&k| earlier[k].clone()).collect();
        (SparseBaskets::from_lists(&lists), Histories::from_lists(&hist))
    };
    let (train_b, train_h) = set(0, 80);
    let (valid_b, valid_h) = set(80, 90);
    let (test_b, test_h) = set(90, 100);
    let with_history = (0..baskets.len()).filter(|&k| split[k] >= 90 && !earlier[k].is_empty()).count();
    println!(
        "{} baskets ({} for training, {} for validation, {} for test, {} of them with earlier baskets), {} customers, {} items",
        baskets.len(),
        train_b.len(),
        valid_b.len(),
        test_b.len(),
        with_history,
        n_customers,
        vocab.len()
    );
    let item_counts = train_b.item_counts(vocab.len());
    let data = TrainData {
        vocab: vocab.len() as i64,
        train: train_b,
        valid: valid_b,
        item_counts,
        history: Some(HistoryData { pool: SparseBaskets::from_lists(&encoded), train: train_h, valid: valid_h }),
    };
    let threads: i64 = std::env::var("THREADS").map_or(2, |t| t.parse().expect("THREADS: a number"));
    for model in models.split(',') {
        let c = TrainConfig { model: model.into(), threads, device: "cpu".into(), ..TrainConfig::default() };
        let out = match train(&c, &data, &mut |_| Control::Continue) {
            Ok(o) => o,
            Err(e) => {
                println!("{model}: {e:?}");
                continue;
            }
        };
        let r = &out.report;
        let scorer = Scorer::load(&c, data.vocab, &out.weights).expect("the weights just saved");
        let pool = &data.history.as_ref().expect("histories").pool;
        let (test, popularity) = scorer.metrics(&test_b, Some((pool, &test_h)), &data.item_counts);
        println!(
            "{{\"model\": \"{model}\", \"epochs\": {}, \"best_epoch\": {}, \"seconds\": {:.1}, \"valid_recall_at_10\": {:.4}, \
             \"test_recall_at_10\": {:.4}, \"test_ndcg_at_10\": {:.4}, \"popularity_test_recall_at_10\": {:.4}, \"test_cases\": {}}}",
            r.epochs_run, r.best_epoch, r.seconds, r.metrics.recall_at_10, test.recall_at_10, test.ndcg_at_10,
            popularity.recall_at_10, test.cases
        );
    }
}
