//! The miner against a brute-force enumerator on many random small data
//! sets: the same rules, with the same counts and measures, in the
//! documented order.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rar_core::baskets::BasketsBuilder;
use rar_core::params::{MineParams, SupportOf};
use rar_core::rules::{mine_rules, Measures};

type Key = (Vec<String>, Vec<String>);

/// Every rule, by enumerating every itemset of the items present.
fn brute(baskets: &[BTreeSet<String>], p: &MineParams) -> BTreeMap<Key, (u64, Measures)> {
    let n = baskets.len() as u32;
    let items: Vec<String> = baskets.iter().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let count = |set: &[String]| baskets.iter().filter(|b| set.iter().all(|i| b.contains(i))).count() as u32;
    let min_count = p.min_count(baskets.len());
    let mut out = BTreeMap::new();
    for mask in 1u32..(1 << items.len()) {
        let set: Vec<String> = (0..items.len()).filter(|i| mask >> i & 1 == 1).map(|i| items[i].clone()).collect();
        if set.len() > p.max_length || set.len() < p.min_length {
            continue;
        }
        let c_ac = count(&set);
        if c_ac == 0 || (p.support_of == SupportOf::Rule && c_ac < min_count) {
            continue;
        }
        for cmask in 1u32..(1 << set.len()) {
            let cons: Vec<String> = (0..set.len()).filter(|i| cmask >> i & 1 == 1).map(|i| set[i].clone()).collect();
            let ante: Vec<String> = (0..set.len()).filter(|i| cmask >> i & 1 == 0).map(|i| set[i].clone()).collect();
            if cons.len() > p.max_consequent {
                continue;
            }
            let c_a = if ante.is_empty() { n } else { count(&ante) };
            if c_a < min_count {
                continue;
            }
            let m = Measures::from_counts(n, c_ac, c_a, count(&cons));
            if m.confidence + 1e-12 >= p.min_confidence && m.lift + 1e-12 >= p.min_lift {
                out.insert((ante, cons), (c_ac as u64, m));
            }
        }
    }
    out
}

fn data() -> impl Strategy<Value = Vec<BTreeSet<String>>> {
    let item = (0u8..9).prop_map(|i| format!("i{i}"));
    proptest::collection::vec(proptest::collection::btree_set(item, 0..7), 1..40)
}

fn params() -> impl Strategy<Value = MineParams> {
    (0.01f64..0.6, 0.0f64..1.0, 0.0f64..2.0, 1usize..3, 1usize..6, 1usize..4, any::<bool>()).prop_map(
        |(s, c, l, minl, maxl, mc, ante)| MineParams {
            min_support: s,
            min_confidence: c,
            min_lift: l,
            min_length: minl.min(maxl),
            max_length: maxl,
            max_consequent: mc,
            support_of: if ante { SupportOf::Antecedent } else { SupportOf::Rule },
            ..MineParams::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]
    #[test]
    fn same_rules_as_brute_force(baskets in data(), p in params()) {
        let want = brute(&baskets, &p);
        let mut b = BasketsBuilder::default();
        for (t, items) in baskets.iter().enumerate() {
            // Long form, with every line repeated once: repeats count once.
            for i in items {
                b.push(&t.to_string(), i);
                b.push(&t.to_string(), i);
            }
        }
        // Empty baskets still count in N: add them in basket form.
        let empty = baskets.iter().filter(|s| s.is_empty()).count();
        let mut built = b;
        for _ in 0..empty { built.push_basket([]); }
        let built = built.build();
        prop_assert_eq!(built.len(), baskets.len());
        let rules = mine_rules(built, &p, &mut || {}).unwrap();
        let rows: Vec<_> = rules.rows().collect();
        let got: BTreeMap<Key, (u64, Measures)> = rows.iter().map(|r| {
            let key = (r.antecedent.iter().map(|s| s.to_string()).collect(), r.consequent.iter().map(|s| s.to_string()).collect());
            (key, (r.count, Measures { support: r.support, confidence: r.confidence, lift: r.lift, leverage: r.leverage, conviction: r.conviction }))
        }).collect();
        prop_assert_eq!(got.len(), rows.len(), "no rule twice");
        prop_assert_eq!(&got, &want);
        // The documented order.
        for w in rows.windows(2) {
            let (x, y) = (&w[0], &w[1]);
            let ord = y.lift.total_cmp(&x.lift)
                .then(y.confidence.total_cmp(&x.confidence))
                .then(y.count.cmp(&x.count))
                .then(x.antecedent.cmp(&y.antecedent))
                .then(x.consequent.cmp(&y.consequent));
            prop_assert_eq!(ord, std::cmp::Ordering::Less);
        }
    }
}

#[test]
fn rule_budget_stops_mining() {
    let mut b = BasketsBuilder::default();
    for t in 0..50 {
        for i in 0..8 {
            b.push(&t.to_string(), &format!("i{i}"));
        }
    }
    let baskets = b.build();
    let p = MineParams { min_support: 0.5, min_confidence: 0.0, max_rules: 100, ..MineParams::default() };
    assert_eq!(
        mine_rules(baskets.clone(), &p, &mut || {}).unwrap_err(),
        rar_core::MineError::TooManyRules { limit: 100 }
    );
    let p = MineParams { max_rules: 1_000_000, memory_limit: 1000, ..p };
    assert!(matches!(mine_rules(baskets.clone(), &p, &mut || {}), Err(rar_core::MineError::MemoryLimit { .. })));
}

#[test]
fn tick_is_called_and_may_abort() {
    let mut b = BasketsBuilder::default();
    for t in 0..2000 {
        for i in 0..12 {
            if (t * 7 + i * 13) % 5 != 0 {
                b.push(&t.to_string(), &format!("i{i}"));
            }
        }
    }
    let baskets = b.build();
    let p = MineParams { min_support: 0.01, min_confidence: 0.0, max_length: 6, ..MineParams::default() };
    let mut ticks = 0u32;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mine_rules(baskets.clone(), &p, &mut || {
            ticks += 1;
            if ticks == 5 {
                panic!("cancelled");
            }
        })
        .map(|r| r.len())
    }));
    assert!(r.is_err(), "a panicking tick (how PostgreSQL cancels) unwinds out of the miner");
}

#[test]
fn empty_input_gives_no_rules() {
    let baskets = BasketsBuilder::default().build();
    let rules = mine_rules(baskets.clone(), &MineParams::default(), &mut || {}).unwrap();
    assert!(rules.is_empty());
}

/// Improvement (confidence minus the best confidence of a more general rule
/// with the same consequent) and p-values, against counting every subset
/// directly in the baskets.
#[test]
fn improvements_and_p_values_match_direct_counting() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(60));
    let strategy = proptest::collection::vec(proptest::collection::btree_set(0u8..7, 1..6), 5..40);
    runner
        .run(&strategy, |raw| {
            let baskets: Vec<BTreeSet<String>> =
                raw.iter().map(|b| b.iter().map(|i| format!("i{i}")).collect()).collect();
            let mut builder = BasketsBuilder::default();
            for (k, b) in baskets.iter().enumerate() {
                for i in b {
                    builder.push(&k.to_string(), i);
                }
            }
            let p = MineParams { min_support: 0.1, min_confidence: 0.0, max_length: 4, ..MineParams::default() };
            let rules = mine_rules(builder.build(), &p, &mut || {}).unwrap();
            let n = baskets.len() as f64;
            let count = |set: &[&str]| baskets.iter().filter(|b| set.iter().all(|i| b.contains(*i))).count() as f64;
            let imp = rules.improvements(&mut || {});
            let pv = rules.p_values();
            for (k, row) in rules.rows().enumerate() {
                let a = &row.antecedent;
                let c = &row.consequent;
                if a.is_empty() {
                    prop_assert!(imp[k].is_infinite());
                    continue;
                }
                let mut best = count(c) / n;
                for mask in 0u32..(1 << a.len()) - 1 {
                    let sub: Vec<&str> = (0..a.len()).filter(|i| mask >> i & 1 == 1).map(|i| a[i]).collect();
                    if sub.is_empty() {
                        continue;
                    }
                    let with: Vec<&str> = sub.iter().chain(c.iter()).copied().collect();
                    best = best.max(count(&with) / count(&sub));
                }
                prop_assert!(
                    (imp[k] - (row.confidence - best)).abs() < 1e-12,
                    "{row:?}: {} vs {}",
                    imp[k],
                    row.confidence - best
                );
                let all: Vec<&str> = a.iter().chain(c.iter()).copied().collect();
                let want = rar_core::significance::fisher_greater(
                    n as u64,
                    count(&all) as u64,
                    count(a) as u64,
                    count(c) as u64,
                );
                prop_assert_eq!(pv[k].to_bits(), want.to_bits());
            }
            Ok(())
        })
        .unwrap();
}

/// With the antecedent's support and consequents of two items, a few
/// baskets holding many items: only `{}` and `{1}` are frequent
/// antecedents, so no rule has more than three items, and the search must
/// not count the millions of longer itemsets those baskets hold (it ran out
/// of a 1 GB budget at `max_length` 5 before). The rules: `{1} => {a, b}`
/// for every pair of the other 99 items.
#[test]
fn antecedent_support_with_long_consequents_counts_only_usable_itemsets() {
    let mut b = BasketsBuilder::default();
    for t in 1..=3 {
        for k in 1..=100 {
            b.push(&t.to_string(), &k.to_string());
        }
    }
    for t in 4..=100 {
        b.push(&t.to_string(), "1");
    }
    let baskets = b.build();
    let p = MineParams {
        min_support: 0.96,
        min_confidence: 0.0,
        max_length: 5,
        min_length: 3,
        max_consequent: 2,
        support_of: SupportOf::Antecedent,
        memory_limit: 64 << 20,
        ..MineParams::default()
    };
    let rules = mine_rules(baskets, &p, &mut || {}).unwrap();
    assert_eq!(rules.len(), 99 * 98 / 2);
    assert!(rules.rows().all(|r| r.antecedent == ["1"] && r.consequent.len() == 2 && r.count == 3));
}

/// A confidence within 1e-12 of `min_confidence` is kept in both support
/// modes, also when the antecedent is in thousands of baskets (the least
/// itemset count of the antecedent's mode once ignored the tolerance).
#[test]
fn confidence_tolerance_holds_for_large_antecedents_in_both_modes() {
    let mut b = BasketsBuilder::default();
    for t in 0..2000 {
        b.push(&t.to_string(), "a");
        if t < 1000 {
            b.push(&t.to_string(), "b");
        }
    }
    let baskets = b.build();
    for (support_of, min_support) in [(SupportOf::Rule, 0.5), (SupportOf::Antecedent, 1.0)] {
        let p =
            MineParams { min_support, min_confidence: 0.5 + 6e-13, max_length: 2, support_of, ..MineParams::default() };
        let rules = mine_rules(baskets.clone(), &p, &mut || {}).unwrap();
        let to_b: Vec<_> = rules.rows().filter(|r| r.consequent == ["b"]).map(|r| r.antecedent.len()).collect();
        assert_eq!(to_b.len(), 2, "{support_of:?}: {{}} => {{b}} and {{a}} => {{b}}");
    }
}
