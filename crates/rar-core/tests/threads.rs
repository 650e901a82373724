//! Counting on several threads gives exactly the rules of one thread.

use rar_core::baskets::BasketsBuilder;
use rar_core::params::{MineParams, SupportOf};
use rar_core::rules::mine_rules;

/// 60,000 baskets (above the size where counting goes parallel) of 2 to 9
/// items out of 40, with some items bought together.
fn baskets() -> rar_core::baskets::Baskets {
    let mut b = BasketsBuilder::default();
    let mut state = 42u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for t in 0..60_000 {
        let len = 2 + next() % 8;
        for _ in 0..len {
            let i = next() % 40;
            b.push(&t.to_string(), &format!("item{i}"));
            if i % 5 == 0 {
                b.push(&t.to_string(), &format!("item{}", i + 1));
            }
        }
    }
    b.build()
}

#[test]
fn threads_find_the_same_rules() {
    let data = baskets();
    for support_of in [SupportOf::Rule, SupportOf::Antecedent] {
        let one = MineParams { min_support: 0.002, min_confidence: 0.1, support_of, ..MineParams::default() };
        let rows = |p: &MineParams| {
            let rules = mine_rules(data.clone(), p, &mut || {}).unwrap();
            (0..rules.len())
                .map(|i| {
                    let r = rules.row(i);
                    let a: Vec<String> = r.antecedent.iter().map(|s| s.to_string()).collect();
                    let c: Vec<String> = r.consequent.iter().map(|s| s.to_string()).collect();
                    (a, c, r.count, r.confidence.to_bits(), r.lift.to_bits())
                })
                .collect::<Vec<_>>()
        };
        let want = rows(&one);
        assert!(want.len() > 1000, "{} rules", want.len());
        for threads in [2, 3, 8] {
            assert_eq!(rows(&MineParams { threads, ..one.clone() }), want, "{threads} threads, {support_of:?}");
        }
    }
    // Over 100,000 rules the sort, resolving each rule's itemset and putting
    // the rules in order run on the threads too.
    let many = MineParams { min_support: 0.0005, min_confidence: 0.0, ..MineParams::default() };
    let rows = |p: &MineParams| {
        let rules = mine_rules(data.clone(), p, &mut || {}).unwrap();
        (0..rules.len()).map(|i| format!("{:?}", rules.row(i))).collect::<Vec<_>>()
    };
    let want = rows(&many);
    assert!(want.len() > 100_000, "{} rules", want.len());
    assert_eq!(rows(&MineParams { threads: 3, ..many.clone() }), want);
}

/// A cancel raised in the calling thread's tick (PostgreSQL's
/// check_for_interrupts unwinds as a panic through Rust) ends the mining:
/// the other counting threads stop instead of running to the end.
#[test]
fn a_cancel_in_tick_stops_every_thread() {
    let data = baskets();
    let p = MineParams { min_support: 0.002, min_confidence: 0.1, threads: 4, ..MineParams::default() };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mine_rules(data.clone(), &p, &mut || panic!("canceling statement due to user request"))
    }));
    let message = result.expect_err("the cancel propagates");
    assert_eq!(message.downcast_ref::<&str>(), Some(&"canceling statement due to user request"));
}

/// The allocation-free accessors the extension builds rows from give what
/// `row` gives, for packed rules (at most 4 items) and longer ones.
#[test]
fn sides_and_measures_match_rows() {
    let data = baskets();
    for max_length in [3, 6] {
        let p = MineParams {
            min_support: 0.002,
            min_confidence: 0.1,
            max_length,
            max_consequent: 2,
            ..MineParams::default()
        };
        let rules = mine_rules(data.clone(), &p, &mut || {}).unwrap();
        assert!(rules.len() > 100);
        let (mut items, mut ante, mut cons) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..rules.len() {
            let row = rules.row(i);
            rules.sides_into(i, &mut items, &mut ante, &mut cons);
            let names = |side: &[u32]| side.iter().map(|&r| rules.name_of_rank(r).to_string()).collect::<Vec<_>>();
            assert_eq!(names(&ante), row.antecedent);
            assert_eq!(names(&cons), row.consequent);
            let (m, count) = rules.measures_of(i);
            assert_eq!(
                (m.support, m.confidence, m.lift, m.leverage, m.conviction, count),
                (row.support, row.confidence, row.lift, row.leverage, row.conviction, row.count)
            );
            assert!(ante.iter().chain(&cons).all(|&r| (r as usize) < rules.n_names()));
        }
    }
}

/// The rule budget holds on any number of threads: one rule short of the
/// rules found is an error, exactly as many is not.
#[test]
fn the_rule_budget_holds_on_threads() {
    let data = baskets();
    let p = MineParams { min_support: 0.002, min_confidence: 0.1, ..MineParams::default() };
    let n = mine_rules(data.clone(), &p, &mut || {}).unwrap().len() as u64;
    assert!(n > 2000, "{n} rules: more than a batch on each thread");
    for threads in [1, 2, 3, 8] {
        let short = MineParams { threads, max_rules: n - 1, ..p.clone() };
        assert_eq!(
            mine_rules(data.clone(), &short, &mut || {}).err(),
            Some(rar_core::error::MineError::TooManyRules { limit: n - 1 }),
            "{threads} threads"
        );
        let exact = MineParams { threads, max_rules: n, ..p.clone() };
        assert_eq!(
            mine_rules(data.clone(), &exact, &mut || {}).map(|r| r.len() as u64).ok(),
            Some(n),
            "{threads} threads"
        );
    }
}

/// Fisher's test over many rules runs on the set's threads, with the same
/// p-values as on one.
#[test]
fn p_values_are_the_same_on_threads() {
    let data = baskets();
    let p = MineParams { min_support: 0.0005, min_confidence: 0.0, ..MineParams::default() };
    let one = mine_rules(data.clone(), &p, &mut || {}).unwrap();
    assert!(one.len() >= 100_000, "{} rules: enough to share", one.len());
    let four = mine_rules(data, &MineParams { threads: 4, ..p }, &mut || {}).unwrap();
    let (a, b) = (one.p_values(), four.p_values());
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
}
