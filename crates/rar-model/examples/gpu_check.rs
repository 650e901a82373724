//! The GPU check: trains each architecture on a CSV of (basket, item) lines
//! on the CPU and on CUDA, with the same settings, and prints the device,
//! the time per epoch, the throughput, recall@10 on the validation baskets
//! and the speed-up. `MODELS=mlp,transformer` picks architectures (default:
//! all three); `THREADS` the CPU threads (default: every core). Run by
//! `benches/gpu.sh`.

use std::collections::HashMap;

use rar_model::config::TrainConfig;
use rar_model::data::SparseBaskets;
use rar_model::train::{train, Control, TrainData};

fn main() {
    let path = std::env::args().nth(1).expect("usage: gpu_check FILE.csv [EPOCHS]");
    let epochs: i64 = std::env::args().nth(2).map_or(3, |e| e.parse().unwrap());
    let text = std::fs::read_to_string(path).unwrap();
    let mut baskets: HashMap<String, Vec<u32>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut vocab: HashMap<String, u32> = HashMap::new();
    for line in text.lines().skip(1) {
        let mut f = line.split(',');
        let (t, i) = (f.next().unwrap().to_string(), f.next().unwrap_or("").trim_matches('"').to_string());
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
    println!("CUDA available: {}, devices: {}", tch::Cuda::is_available(), tch::Cuda::device_count());
    let models = std::env::var("MODELS").unwrap_or_else(|_| "mlp,autoencoder,transformer".into());
    let threads: i64 = std::env::var("THREADS").map_or_else(
        |_| std::thread::available_parallelism().map_or(1, |n| n.get() as i64),
        |t| t.parse().expect("THREADS: a number"),
    );
    println!("{} baskets for training, {} for validation, {} items", data.train.len(), data.valid.len(), data.vocab);
    for model in models.split(',') {
        let mut per_epoch = Vec::new();
        for device in ["cpu", "cuda"] {
            let c = TrainConfig {
                model: model.into(),
                epochs,
                patience: 1000,
                device: device.into(),
                threads,
                ..TrainConfig::default()
            };
            match train(&c, &data, &mut |_| Control::Continue) {
                Ok(o) => {
                    let r = o.report;
                    let s = r.seconds / r.epochs_run as f64;
                    println!(
                        "{model} on {}: {s:.2} s/epoch, {:.0} baskets/s, recall@10 {:.4}",
                        r.device, r.baskets_per_second, r.metrics.recall_at_10
                    );
                    per_epoch.push(s);
                }
                Err(e) => println!("{model} on {device}: {e:?}"),
            }
        }
        if let [cpu, gpu] = per_epoch[..] {
            println!("{model}: GPU speed-up over CPU {:.1}x", cpu / gpu);
        }
    }
}
