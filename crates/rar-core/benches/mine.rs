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
    for s in [0.01, 0.005, 0.003] {
        let p = MineParams { min_support: s, min_confidence: 0.5, ..MineParams::default() };
        let t = Instant::now();
        let rules = mine_rules(baskets.clone(), &p, &mut || {}).unwrap();
        println!(
            "min_support {s}: {} itemsets, {} rules in {:.3} s",
            rules.n_itemsets(),
            rules.len(),
            t.elapsed().as_secs_f64()
        );
    }
}
