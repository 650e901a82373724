//! Whether a rule is more than chance: Fisher's exact test of `A => C` and
//! the correction of its p-values for the number of rules tested.
//!
//! The test is one-sided: the p-value is the probability that, with `A` and
//! `C` independent, at least `count(A ∪ C)` of the `count(A)` baskets holding
//! `A` would hold `C` (a hypergeometric tail). It starts from one term
//! computed with log-gamma functions and walks the tail by the ratio of
//! consecutive terms, stopping when they no longer change the sum: a few
//! dozen steps for any rule, whatever its counts.

/// How p-values are corrected for the number of rules tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PAdjust {
    None,
    Bonferroni,
    Holm,
}

impl PAdjust {
    pub fn parse(s: &str) -> Option<PAdjust> {
        match s {
            "none" => Some(PAdjust::None),
            "bonferroni" => Some(PAdjust::Bonferroni),
            "holm" => Some(PAdjust::Holm),
            _ => None,
        }
    }
}

fn ln_choose(n: f64, k: f64) -> f64 {
    libm::lgamma(n + 1.0) - libm::lgamma(k + 1.0) - libm::lgamma(n - k + 1.0)
}

/// `ln k!` for every `k` up to a number of baskets, each from the log-gamma
/// function (no running sum, so no accumulated rounding): what testing
/// many rules of one data set looks up instead of computing.
pub struct LnFactorials(Vec<f64>);

impl LnFactorials {
    pub fn new(n: u64) -> LnFactorials {
        LnFactorials((0..=n).map(|k| libm::lgamma(k as f64 + 1.0)).collect())
    }

    /// Bytes the table takes for `n` baskets.
    pub fn bytes(n: u64) -> u64 {
        (n + 1) * 8
    }

    fn ln_choose(&self, n: f64, k: f64) -> f64 {
        let f = |x: f64| self.0[x as usize];
        f(n) - f(k) - f(n - k)
    }

    /// As [`fisher_greater`], with the table (`n` at most the table's).
    pub fn fisher_greater(&self, n: u64, ac: u64, a: u64, c: u64) -> f64 {
        if n as usize >= self.0.len() {
            return fisher_greater(n, ac, a, c);
        }
        fisher(&|n, k| self.ln_choose(n, k), n, ac, a, c)
    }
}

/// One-sided Fisher's exact test (alternative "greater") of a rule: `n`
/// baskets, `ac` holding `A ∪ C`, `a` holding `A`, `c` holding `C`. The same
/// value as scipy's `fisher_exact([[ac, a - ac], [c - ac, n - a - c + ac]],
/// alternative='greater')`.
pub fn fisher_greater(n: u64, ac: u64, a: u64, c: u64) -> f64 {
    fisher(&ln_choose, n, ac, a, c)
}

fn fisher(ln_choose: &dyn Fn(f64, f64) -> f64, n: u64, ac: u64, a: u64, c: u64) -> f64 {
    if a > n || c > n || ac > a.min(c) || a + c > n + ac {
        return f64::NAN;
    }
    let (lo, hi) = ((a + c).saturating_sub(n), a.min(c));
    if ac <= lo {
        return 1.0;
    }
    let (nf, af, cf) = (n as f64, a as f64, c as f64);
    // P(X = k) = C(c, k) C(n - c, a - k) / C(n, a).
    let ln_p = |k: f64| ln_choose(cf, k) + ln_choose(nf - cf, af - k) - ln_choose(nf, af);
    // ratio P(k + 1) / P(k).
    let up = |k: f64| (cf - k) * (af - k) / ((k + 1.0) * (nf - cf - af + k + 1.0));
    let mode = ((af + 1.0) * (cf + 1.0) / (nf + 2.0)).floor();
    let tail = |from: u64, to: u64, step_up: bool| -> f64 {
        // Sum of P(k) over [from, to], starting at the end nearest the mode
        // (the largest term), each term from the last by the ratio.
        let start = if step_up { from } else { to };
        let mut term = ln_p(start as f64).exp();
        let (mut sum, mut k) = (term, start);
        loop {
            if step_up {
                if k >= to {
                    break;
                }
                term *= up(k as f64);
                k += 1;
            } else {
                if k <= from {
                    break;
                }
                term /= up((k - 1) as f64);
                k -= 1;
            }
            sum += term;
            if term <= sum * 1e-17 {
                break;
            }
        }
        sum
    };
    let p = if (ac as f64) > mode {
        // The upper tail, from its largest term.
        tail(ac, hi, true)
    } else {
        // Near or below the mean: one minus the lower tail.
        1.0 - tail(lo, ac - 1, false)
    };
    p.clamp(0.0, 1.0)
}

/// A key that sorts p-values as `f64::total_cmp` does them, for values in
/// [0, 1] and NaN (last); -0 as 0.
fn sort_key(x: f64) -> u64 {
    if x.is_nan() {
        u64::MAX
    } else if x > 0.0 {
        x.to_bits()
    } else {
        0
    }
}

/// Corrects `p` in place for the number of tests (`p.len()`): Bonferroni
/// (`m · p`) or Holm's step-down (`max over j ≤ i of (m - j + 1) · p(j)`
/// in ascending order), each at most 1.
pub fn adjust(p: &mut [f64], how: PAdjust) {
    adjust_in(p, how, None)
}

/// [`adjust`], with Holm's sort on the threads of `pool` when there is one
/// (the result does not depend on it: the keys are distinct).
pub(crate) fn adjust_in(p: &mut [f64], how: PAdjust, pool: Option<&rayon::ThreadPool>) {
    let m = p.len() as f64;
    match how {
        PAdjust::None => {}
        PAdjust::Bonferroni => p.iter_mut().for_each(|x| *x = (*x * m).min(1.0)),
        PAdjust::Holm => {
            // Ascending p-values, ties by position: a p-value is in [0, 1],
            // so its bits sort as it does, and plain pairs sort without
            // reaching back into the slice for every comparison.
            let mut order: Vec<(u64, usize)> = p.iter().enumerate().map(|(i, &x)| (sort_key(x), i)).collect();
            match pool {
                Some(pool) => pool.install(|| {
                    use rayon::slice::ParallelSliceMut;
                    order.par_sort_unstable()
                }),
                None => order.sort_unstable(),
            }
            let mut running: f64 = 0.0;
            for (rank, &(_, i)) in order.iter().enumerate() {
                running = running.max(((m - rank as f64) * p[i]).min(1.0));
                p[i] = running;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail summed term by term from the definition, for small tables.
    fn brute(n: u64, ac: u64, a: u64, c: u64) -> f64 {
        let ln_c = |n: u64, k: u64| ln_choose(n as f64, k as f64);
        let hi = a.min(c);
        (ac..=hi).map(|k| (ln_c(c, k) + ln_c(n - c, a - k) - ln_c(n, a)).exp()).sum::<f64>().min(1.0)
    }

    #[test]
    fn matches_known_values() {
        // Fisher's tea tasting: [[3, 1], [1, 3]], one-sided.
        assert!((fisher_greater(8, 3, 4, 4) - 0.242_857_142_857_142_85).abs() < 1e-12);
        // [[8, 2], [1, 5]] (scipy's documentation example, greater).
        assert!((fisher_greater(16, 8, 10, 9) - 0.024_475_524_475_524_48).abs() < 1e-12);
        // Independence exactly at the mean and below: large p-values.
        assert!(fisher_greater(100, 10, 50, 20) > 0.5);
        assert_eq!(fisher_greater(100, 0, 50, 20), 1.0);
    }

    #[test]
    fn agrees_with_the_definition_on_every_small_table() {
        for n in 1..=30u64 {
            for a in 0..=n {
                for c in 0..=n {
                    let lo = (a + c).saturating_sub(n);
                    for ac in lo..=a.min(c) {
                        let (p, q) = (fisher_greater(n, ac, a, c), brute(n, ac, a, c));
                        assert!((p - q).abs() <= 1e-12 + 1e-9 * q, "n {n} ac {ac} a {a} c {c}: {p} vs {q}");
                    }
                }
            }
        }
    }

    #[test]
    fn tiny_p_values_keep_their_precision() {
        // Far below f64's epsilon, still a number (and 0 only below f64's
        // least value, as for the demo's strongest rules).
        let q = fisher_greater(20_000, 30, 237, 240);
        assert!((q - 4.232_471_091_924_162_3e-22).abs() <= 1e-9 * q, "{q} (scipy: 4.2324710919241623e-22)");
        assert!((q - brute(20_000, 30, 237, 240)).abs() <= 1e-9 * q);
        assert_eq!(fisher_greater(20_000, 221, 237, 240), 0.0);
        // The relative error against the definition stays small.
        let (n, ac, a, c) = (5_000u64, 60u64, 200u64, 300u64);
        let (p, q) = (fisher_greater(n, ac, a, c), brute(n, ac, a, c));
        assert!((p - q).abs() <= 1e-9 * q, "{p} vs {q}");
    }

    #[test]
    fn the_table_gives_the_same_p_values() {
        let t = LnFactorials::new(2_000);
        for (n, ac, a, c) in
            [(8, 3, 4, 4), (2_000, 30, 237, 240), (2_000, 5, 100, 100), (2_000, 0, 10, 10), (1_500, 70, 80, 90)]
        {
            let (p, q) = (t.fisher_greater(n, ac, a, c), fisher_greater(n, ac, a, c));
            assert!((p - q).abs() <= 1e-12 * q.max(1e-300), "{n} {ac} {a} {c}: {p} vs {q}");
        }
        // Beyond the table: computed directly.
        assert_eq!(t.fisher_greater(5_000, 60, 200, 300), fisher_greater(5_000, 60, 200, 300));
        assert_eq!(LnFactorials::bytes(2_000), 16_008);
    }

    #[test]
    fn impossible_counts_give_nan() {
        assert!(fisher_greater(10, 5, 3, 8).is_nan());
        assert!(fisher_greater(10, 1, 11, 2).is_nan());
    }

    /// Holm's step-down against its definition, computed the slow way, on
    /// vectors with ties, zeros and ones.
    #[test]
    fn holm_on_threads_is_holm() {
        // Ties, zeros, ones and NaN included.
        let mut x: u64 = 7;
        let p: Vec<f64> = (0..50_000)
            .map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                match i % 97 {
                    0 => f64::NAN,
                    1 => 0.0,
                    2 => 1.0,
                    3 => 0.25,
                    _ => (x >> 11) as f64 / (1u64 << 53) as f64,
                }
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let (mut one, mut three) = (p.clone(), p);
        adjust(&mut one, PAdjust::Holm);
        adjust_in(&mut three, PAdjust::Holm, Some(&pool));
        assert!(one.iter().zip(&three).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn holm_matches_its_definition() {
        let mut seed = 11u64;
        for n in [1usize, 2, 5, 40, 300] {
            let p: Vec<f64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    match seed >> 60 {
                        0 => 0.0,
                        1 => 1.0,
                        2 => 0.01,
                        _ => (seed >> 11) as f64 / (1u64 << 53) as f64 * 0.2,
                    }
                })
                .collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&i, &j| p[i].total_cmp(&p[j]).then(i.cmp(&j)));
            let mut want = vec![0.0; n];
            for (rank, &i) in order.iter().enumerate() {
                want[i] = (0..=rank).map(|r| ((n - r) as f64 * p[order[r]]).min(1.0)).fold(0.0, f64::max);
            }
            let mut got = p.clone();
            adjust(&mut got, PAdjust::Holm);
            assert_eq!(got, want, "n = {n}");
        }
    }

    #[test]
    fn corrections() {
        let close = |x: &[f64], y: &[f64]| x.len() == y.len() && x.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-12);
        let mut p = vec![0.01, 0.04, 0.03, 0.005];
        adjust(&mut p, PAdjust::Holm);
        assert!(close(&p, &[0.03, 0.06, 0.06, 0.02]), "{p:?}");
        let mut b = vec![0.01, 0.4, 0.9];
        adjust(&mut b, PAdjust::Bonferroni);
        assert!(close(&b, &[0.03, 1.0, 1.0]), "{b:?}");
        let mut none = vec![0.3];
        adjust(&mut none, PAdjust::None);
        assert_eq!(none, vec![0.3]);
        assert_eq!(PAdjust::parse("holm"), Some(PAdjust::Holm));
        assert_eq!(PAdjust::parse("BH"), None);
    }
}
