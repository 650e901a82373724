//! `cargo bench -p rar-core`: the pure miner on a deterministic synthetic
//! data set (no PostgreSQL). The end-to-end comparison with pyfim and mlxtend
//! lives in the top-level `benches/` folder.

use std::time::Instant;

use rar_core::baskets::BasketsBuilder;
use rar_core::params::MineParams;
use rar_core::rules::mine_rules;

fn main() {
    // 20,000 baskets over 2,000 items with a skewed (roughly Zipf) popularity.
    let mut state: u64 = 42;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut b = BasketsBuilder::default();
    for t in 0..20_000 {
        let size = 2 + (next() * 30.0) as usize;
        for _ in 0..size {
            let item = (2000.0 * next().powi(3)) as u32;
            b.push(&t.to_string(), &format!("item{item}"));
        }
    }
    let baskets = b.build();
    for (s, c) in [(0.01, 0.5), (0.005, 0.5), (0.003, 0.5), (0.0015, 0.0)] {
        let p = MineParams { min_support: s, min_confidence: c, ..MineParams::default() };
        let t = Instant::now();
        let rules = mine_rules(baskets.clone(), &p, &mut || {}).unwrap();
        let mining = t.elapsed().as_secs_f64();
        // What rar_mine adds by default (Fisher's test, Holm's correction),
        // and what min_improvement adds.
        let t = Instant::now();
        let mut pv = rules.p_values();
        rar_core::significance::adjust(&mut pv, rar_core::significance::PAdjust::Holm);
        let testing = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let improved = rules.improvements(&mut || {}).iter().filter(|i| **i > 0.0).count();
        let redundancy = t.elapsed().as_secs_f64();
        println!(
            "min_support {s}, min_confidence {c}: {} itemsets, {} rules in {mining:.3} s; p-values (Holm) {testing:.3} s ({:.0}% of mining); \
             improvement {redundancy:.3} s ({improved} rules improve on every more general one)",
            rules.n_itemsets(),
            rules.len(),
            100.0 * testing / mining
        );
    }
}
