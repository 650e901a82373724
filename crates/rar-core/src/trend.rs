//! Rules over time: the same rules counted window by window (a day, a
//! week, a month of baskets), whether each holds in each window, and whether
//! its confidence changed between two windows by more than chance (a test
//! of two proportions, not a raw difference).

use crate::baskets::Baskets;
use crate::intersect::count_holding;

/// The counts of one rule in one window of baskets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowCounts {
    /// Baskets in the window.
    pub n: u32,
    /// Baskets holding `A ∪ C`, `A` and `C`.
    pub ac: u32,
    pub a: u32,
    pub c: u32,
}

impl WindowCounts {
    pub fn support(&self) -> f64 {
        self.ac as f64 / self.n.max(1) as f64
    }

    /// `None` when no basket of the window holds `A`.
    pub fn confidence(&self) -> Option<f64> {
        (self.a > 0).then(|| self.ac as f64 / self.a as f64)
    }

    /// `None` when no basket holds `A` or `C`.
    pub fn lift(&self) -> Option<f64> {
        (self.a > 0 && self.c > 0).then(|| (self.ac as f64 * self.n as f64) / (self.a as f64 * self.c as f64))
    }

    /// Whether the rule reaches the thresholds in this window, as mining
    /// tests them (its least basket count for `min_support`, confidence
    /// within 1e-12).
    pub fn holds(&self, min_support: f64, min_confidence: f64) -> bool {
        let least = crate::params::MineParams { min_support, ..Default::default() }.min_count(self.n as usize);
        self.ac > 0 && self.ac >= least && self.confidence().is_some_and(|c| c + 1e-12 >= min_confidence)
    }
}

/// Counts each rule (antecedent and consequent by item name) in `baskets`;
/// items the window never saw count 0. The empty antecedent is every basket.
pub fn count_rules(
    baskets: &Baskets,
    rules: &[(Vec<String>, Vec<String>)],
    tick: &mut dyn FnMut(),
) -> Vec<WindowCounts> {
    let n = baskets.len() as u32;
    let (tids, by_name) = baskets.tid_lists();
    let mut buf = Vec::new();
    // Item ids of a side, or None when the window never saw one of them.
    let ids = |side: &[String]| -> Option<Vec<u32>> { side.iter().map(|s| by_name.get(s.as_str()).copied()).collect() };
    rules
        .iter()
        .enumerate()
        .map(|(k, (ante, cons))| {
            if k % 1024 == 0 {
                tick();
            }
            let (a_ids, c_ids) = (ids(ante), ids(cons));
            let mut count = |side: Option<&[u32]>| side.map_or(0, |s| count_holding(&tids, s, n, &mut buf));
            let both: Option<Vec<u32>> = a_ids.as_ref().zip(c_ids.as_ref()).map(|(a, c)| [&a[..], &c[..]].concat());
            WindowCounts { n, ac: count(both.as_deref()), a: count(a_ids.as_deref()), c: count(c_ids.as_deref()) }
        })
        .collect()
}

/// Two-sided p-value of the test that a rule's confidence is the same in
/// two windows (two proportions, `ac / a` in each, pooled under the null
/// hypothesis; the normal approximation). `None` when a window has no
/// basket holding the antecedent, or the pooled proportion is 0 or 1.
pub fn confidence_change_p(before: &WindowCounts, after: &WindowCounts) -> Option<f64> {
    if before.a == 0 || after.a == 0 {
        return None;
    }
    let (x1, n1, x2, n2) = (before.ac as f64, before.a as f64, after.ac as f64, after.a as f64);
    let pooled = (x1 + x2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let z = (x2 / n2 - x1 / n1) / se;
    Some(libm::erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0))
}

/// How a rule's standing changed from one window to the next.
pub fn change(held_before: bool, holds: bool) -> &'static str {
    match (held_before, holds) {
        (false, true) => "emerged",
        (true, false) => "vanished",
        (true, true) => "held",
        (false, false) => "absent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baskets::BasketsBuilder;

    #[test]
    fn holds_tests_support_as_mining_does() {
        // 3 of 10 baskets: mining keeps the rule at min_support 0.3 + 5e-11
        // (its least count is 3), and so does a window of the same baskets.
        let w = WindowCounts { n: 10, ac: 3, a: 10, c: 3 };
        assert!(w.holds(0.3 + 5e-11, 0.1));
        assert!(w.holds(0.3, 0.3));
        assert!(!w.holds(0.31, 0.1));
        assert!(!w.holds(0.3, 0.31));
        assert!(!WindowCounts { n: 10, ac: 0, a: 10, c: 0 }.holds(0.0001, 0.0));
    }

    fn baskets(spec: &[&[&str]]) -> Baskets {
        let mut b = BasketsBuilder::default();
        for (t, items) in spec.iter().enumerate() {
            for i in *items {
                b.push(&t.to_string(), i);
            }
        }
        b.build()
    }

    fn rule(a: &[&str], c: &[&str]) -> (Vec<String>, Vec<String>) {
        (a.iter().map(|s| s.to_string()).collect(), c.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn counts_each_rule_in_a_window() {
        let b = baskets(&[&["bread", "butter"], &["bread"], &["bread", "butter", "jam"], &["milk"]]);
        let rules = vec![
            rule(&["bread"], &["butter"]),
            rule(&["bread", "butter"], &["jam"]),
            rule(&["tea"], &["milk"]),
            rule(&[], &["milk"]),
        ];
        let c = count_rules(&b, &rules, &mut || {});
        assert_eq!(c[0], WindowCounts { n: 4, ac: 2, a: 3, c: 2 });
        assert_eq!(c[1], WindowCounts { n: 4, ac: 1, a: 2, c: 1 });
        assert_eq!(c[2], WindowCounts { n: 4, ac: 0, a: 0, c: 1 });
        assert_eq!(c[3], WindowCounts { n: 4, ac: 1, a: 4, c: 1 });
        assert_eq!(c[0].confidence(), Some(2.0 / 3.0));
        assert_eq!(c[2].confidence(), None);
        assert!(c[0].holds(0.5, 0.6) && !c[0].holds(0.6, 0.6) && !c[2].holds(0.0, 0.0));
    }

    #[test]
    fn the_two_proportion_test() {
        let w = |ac, a| WindowCounts { n: 1000, ac, a, c: 100 };
        // 30/100 against 50/100: z = 2.887, p = 0.00389 (as Python's math.erfc gives).
        let p = confidence_change_p(&w(30, 100), &w(50, 100)).unwrap();
        assert!((p - 0.003_892_417_122_778_627).abs() < 1e-12, "{p}");
        // The same proportion: p = 1; no antecedent, or all or none: no test.
        assert!((confidence_change_p(&w(20, 100), &w(10, 50)).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(confidence_change_p(&w(0, 0), &w(10, 50)), None);
        assert_eq!(confidence_change_p(&w(10, 10), &w(50, 50)), None);
        assert_eq!(change(false, true), "emerged");
        assert_eq!(change(true, false), "vanished");
    }
}
