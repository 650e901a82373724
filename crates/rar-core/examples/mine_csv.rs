//! Mine a CSV file with the pure core, for quick checks against pyfim:
//! `cargo run --release -p rar-core --example mine_csv -- FILE TID_COL ITEM_COL MIN_SUPPORT MIN_CONFIDENCE [MAX_LENGTH]`
//! (columns by 0-based index; the first line is a header). `SUPPORT_OF=antecedent` mines
//! with the antecedent's support, `THREADS=n` on `n` threads; `REPEAT=n` mines
//! `n` times more before the timed run (for profiling the mining alone).

use std::time::Instant;

use rar_core::baskets::BasketsBuilder;
use rar_core::params::{MineParams, SupportOf};
use rar_core::rules::mine_rules;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, tid, item, supp, conf, rest @ ..] = args.as_slice() else {
        eprintln!("usage: mine_csv FILE TID_COL ITEM_COL MIN_SUPPORT MIN_CONFIDENCE [MAX_LENGTH]");
        std::process::exit(2);
    };
    let (tid, item): (usize, usize) = (tid.parse().unwrap(), item.parse().unwrap());
    let t0 = Instant::now();
    let mut reader = csv::Reader::from_path(path).expect("readable CSV");
    let mut b = BasketsBuilder::default();
    for rec in reader.records() {
        let rec = rec.expect("CSV record");
        b.push(&rec[tid], &rec[item]);
    }
    let baskets = b.build();
    let read = t0.elapsed();
    let p = MineParams {
        min_support: supp.parse().unwrap(),
        min_confidence: conf.parse().unwrap(),
        max_length: rest.first().map_or(4, |s| s.parse().unwrap()),
        support_of: if std::env::var("SUPPORT_OF").as_deref() == Ok("antecedent") {
            SupportOf::Antecedent
        } else {
            SupportOf::Rule
        },
        threads: std::env::var("THREADS").map_or(1, |s| s.parse().expect("THREADS: a number")),
        ..MineParams::default()
    };
    let repeat: usize = std::env::var("REPEAT").map_or(0, |s| s.parse().expect("REPEAT: a number"));
    for _ in 0..repeat {
        drop(mine_rules(baskets.clone(), &p, &mut || {}).expect("mining"));
    }
    let t1 = Instant::now();
    let rules = mine_rules(baskets, &p, &mut || {}).expect("mining");
    let t2 = Instant::now();
    // What rar_mine adds by default: Fisher's test and Holm's correction.
    let mut p_values = rules.p_values();
    rules.adjust_p_values(&mut p_values, rar_core::significance::PAdjust::Holm);
    let t3 = Instant::now();
    println!(
        "{} baskets, {} itemsets, {} rules; read {:.3} s, mine {:.3} s, p-values (Holm) {:.3} s",
        rules.n_baskets(),
        rules.n_itemsets(),
        rules.len(),
        read.as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        (t3 - t2).as_secs_f64()
    );
    if let Some(r) = rules.rows().next() {
        println!("top: {:?} => {:?} lift {:.3}", r.antecedent, r.consequent, r.lift);
    };
}
