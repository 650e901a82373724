//! Rules in plain English, with numbers formatted for people.

use crate::keys::item_text;

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage: whole numbers from 10%, one decimal below, two
/// below 0.1%, and below 0.01% down to its first significant digit (one
/// basket in 100,000 is 0.001%, not 0.00%). Never 100% nor 0% for a share
/// that is not all or nothing: 0.999 is 99.9%, a share too close to 1 for
/// four decimals "nearly 100%", one below a millionth of a percent "less
/// than 0.000001%".
pub fn percent(x: f64) -> String {
    let p = x * 100.0;
    if !p.is_finite() || p <= 0.0 || p >= 100.0 {
        return if p >= 10.0 { format!("{p:.0}%") } else { format!("{p:.2}%") };
    }
    if p < 1e-6 {
        return "less than 0.000001%".to_string();
    }
    let mut p = p;
    // A share that rounds up into the next band is written as that band
    // writes it: 0.0999 is 10%, as 0.1 is, not 10.0%.
    while p < 10.0 {
        let d = percent_decimals(p);
        let s = format!("{p:.d$}");
        match s.parse::<f64>() {
            Ok(v) if v > p && (v >= 10.0 || percent_decimals(v) < d) => p = v,
            _ => return format!("{s}%"),
        }
    }
    // As few decimals as keep it below 100.
    (0..=4)
        .map(|d| format!("{p:.d$}"))
        .find(|s| s.parse::<f64>().is_ok_and(|v| v < 100.0))
        .map_or_else(|| "nearly 100%".to_string(), |s| format!("{s}%"))
}

/// Decimals of a percentage below 10: one, two below 0.1, then down to the
/// first significant digit.
fn percent_decimals(p: f64) -> usize {
    if p >= 0.1 {
        1
    } else if p >= 0.01 {
        2
    } else {
        (-p.log10()).ceil() as usize
    }
}

/// A ratio for people: one decimal below 1,000 (`14.3`), whole numbers
/// with separators up to a trillion (`12,346`), then in powers of ten
/// (`1.2e15`).
pub fn times(x: f64) -> String {
    if x < 999.95 {
        format!("{x:.1}")
    } else if x < 1e12 {
        thousands(x.round() as u64)
    } else {
        format!("{x:.1e}")
    }
}

/// `a`, `a and b`, `a, b and c`; each label as [`crate::keys::items_text`] writes it
/// (trimmed; in double quotes when it holds a comma, so that "BIRTHDAY
/// CARD, RETRO SPOT" reads as one item), and in a list of two or more also
/// when it holds " and ": "Fish and Chips" and Peas, not Fish and Chips and
/// Peas.
pub fn list(items: &[&str]) -> String {
    let in_list = |label: &str| {
        let t = item_text(label);
        if !t.starts_with('"') && t.contains(" and ") {
            format!("\"{t}\"")
        } else {
            t.into_owned()
        }
    };
    match items {
        [] => "anything".into(),
        [one] => item_text(one).into_owned(),
        [init @ .., last] => {
            let init: Vec<_> = init.iter().map(|l| in_list(l)).collect();
            format!("{} and {}", init.join(", "), in_list(last))
        }
    }
}

/// The sentence for a rule, for example: "Baskets with PAPER CHAIN KIT 50'S
/// CHRISTMAS also hold PAPER CHAIN KIT VINTAGE CHRISTMAS in 62% of cases,
/// 14.3 times as often as usual; seen in 1.2% of 20,728 baskets (251)."
pub fn explain(
    antecedent: &[&str],
    consequent: &[&str],
    confidence: f64,
    lift: f64,
    support: f64,
    count: u64,
    baskets: u64,
    test_confidence: Option<f64>,
) -> String {
    let how_often = if lift >= 1.05 {
        format!("{} times as often as usual", times(lift))
    } else if lift > 0.95 {
        "about as often as usual".to_string()
    } else {
        format!("only {lift:.1} times as often as usual")
    };
    let head = if antecedent.is_empty() {
        format!("{} of all baskets hold {}", percent(confidence), list(consequent))
    } else {
        format!(
            "Baskets with {} also hold {} in {} of cases, {how_often}",
            list(antecedent),
            list(consequent),
            percent(confidence)
        )
    };
    let mut s = format!(
        "{head}; seen in {} of {} basket{} ({})",
        percent(support),
        thousands(baskets),
        if baskets == 1 { "" } else { "s" },
        thousands(count)
    );
    if let Some(t) = test_confidence {
        s.push_str(&format!("; it held on test data at {}", percent(t)));
    }
    s.push('.');
    s
}

/// Why measures describe no rule, if they do not: each side's baskets hold
/// the rule's (confidence at least support; lift at most confidence /
/// support), a consequent's support is at most 1 (lift at least
/// confidence), a rule held by some basket has a confidence and a lift, and
/// there is a basket. A point of slack for rounded figures.
pub fn impossible_measures(confidence: f64, lift: f64, support: f64, count: u64, baskets: u64) -> Option<&'static str> {
    let consequent_support = (lift > 0.0).then(|| confidence / lift);
    if baskets == 0 {
        Some("baskets must be at least 1")
    } else if count > 0 && (confidence == 0.0 || lift == 0.0) {
        Some("a rule held by some basket has a confidence and a lift above 0")
    } else if confidence + 0.01 < support {
        Some("confidence cannot be below support: the antecedent is in every basket that holds the rule")
    } else if consequent_support.is_some_and(|s| s > 1.01) {
        Some("lift cannot be below confidence: the consequent's support (confidence / lift) is at most 1")
    } else if consequent_support.is_some_and(|s| s + 0.01 < support) {
        Some("lift cannot be above confidence / support: the consequent is in every basket that holds the rule")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_of_no_rule_are_named() {
        // The measures of real rules (rounded as reports round them).
        assert_eq!(impossible_measures(0.62, 14.3, 0.0121, 251, 20728), None);
        assert_eq!(impossible_measures(0.3, 1.0, 0.3, 30, 100), None);
        assert_eq!(impossible_measures(0.5, 12345.6, 0.00001, 1, 100000), None);
        assert_eq!(impossible_measures(1.0, 1.0, 1.0, 1, 1), None);
        assert_eq!(impossible_measures(0.0, 0.0, 0.0, 0, 10), None);
        // And of none.
        for (c, l, s, n, b) in [
            (0.5, 2.0, 1.0, 100, 100),
            (0.01, 2.0, 0.5, 50, 100),
            (0.5, 0.0, 0.5, 50, 100),
            (0.0, 2.0, 0.1, 10, 100),
            (0.8, 0.5, 0.1, 10, 100),
            (0.5, 1e308, 0.1, 10, 100),
            (0.0, 0.0, 0.0, 0, 0),
        ] {
            assert!(impossible_measures(c, l, s, n, b).is_some(), "{c} {l} {s} {n} {b}");
        }
    }

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(thousands(20728), "20,728");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(percent(0.62), "62%");
        assert_eq!(percent(0.0121), "1.2%");
        assert_eq!(percent(0.00049), "0.05%");
        assert_eq!(percent(0.00001), "0.001%");
        assert_eq!(percent(0.0000049), "0.0005%");
        assert_eq!(percent(0.0), "0.00%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.999), "99.9%");
        assert_eq!(percent(0.9996), "99.96%");
        assert_eq!(percent(1.0 - 1e-9), "nearly 100%");
        assert_eq!(percent(0.995), "99.5%");
        assert_eq!(percent(0.994), "99%");
        assert_eq!(percent(1e-300), "less than 0.000001%");
        assert_eq!(percent(1e-8), "0.000001%");
        // Rounding up into the next band: written as the band writes it.
        assert_eq!(percent(0.0999), "10%");
        assert_eq!(percent(0.09999), "10%");
        assert_eq!(percent(0.0998), "10%");
        assert_eq!(percent(0.0949), "9.5%");
        assert_eq!(percent(0.000999), "0.1%");
        assert_eq!(percent(0.0000999), "0.01%");
        assert_eq!(percent(0.00000999), "0.001%");
        assert_eq!(percent(0.0000000999), "0.00001%");
        assert_eq!(percent(0.00000001), "0.000001%");
        // Shares from 0.0005% to 100%: each written with its own band's
        // decimals (never "10.0%" nor "0.10%"), never falling as the share
        // grows.
        let mut last = 0.0;
        for k in 1..200_000u32 {
            let x = f64::from(k) * 5e-6;
            let s = percent(x);
            let n: f64 = s.trim_end_matches('%').parse().unwrap();
            let decimals = s.trim_end_matches('%').split('.').nth(1).map_or(0, str::len);
            if n < 10.0 {
                assert_eq!(decimals, percent_decimals(n), "{x}: {s}");
            } else if n < 99.0 {
                assert_eq!(decimals, 0, "{x}: {s}");
            }
            assert!(n >= last && n < 100.0, "{x}: {s} after {last}");
            last = n;
        }
        assert_eq!(
            list(&["SUKI SHOULDER BAG", "BIRTHDAY CARD, RETRO SPOT"]),
            "SUKI SHOULDER BAG and \"BIRTHDAY CARD, RETRO SPOT\""
        );
        assert_eq!(list(&[" spaced "]), "spaced");
        assert_eq!(list(&["a", "b", "c"]), "a, b and c");
        // " and " inside a label of a list is quoted; alone it needs no quotes.
        assert_eq!(list(&["Fish and Chips", "Peas"]), "\"Fish and Chips\" and Peas");
        assert_eq!(list(&["Peas", "Salt", "Fish and Chips"]), "Peas, Salt and \"Fish and Chips\"");
        assert_eq!(list(&["Fish and Chips"]), "Fish and Chips");
        assert_eq!(list(&["BLACK AND WHITE", "Peas"]), "BLACK AND WHITE and Peas");
        assert_eq!(list(&["Fish, Chips and Peas", "Salt"]), "\"Fish, Chips and Peas\" and Salt");
        assert_eq!(times(14.34), "14.3");
        assert_eq!(times(999.9), "999.9");
        assert_eq!(times(12_345.6), "12,346");
        assert_eq!(times(1e308), "1.0e308");
    }

    #[test]
    fn the_issue_example() {
        let s = explain(
            &["PAPER CHAIN KIT 50'S CHRISTMAS"],
            &["PAPER CHAIN KIT VINTAGE CHRISTMAS"],
            0.62,
            14.3,
            0.0121,
            251,
            20728,
            Some(0.58),
        );
        assert_eq!(
            s,
            "Baskets with PAPER CHAIN KIT 50'S CHRISTMAS also hold PAPER CHAIN KIT VINTAGE CHRISTMAS in 62% of cases, \
             14.3 times as often as usual; seen in 1.2% of 20,728 baskets (251); it held on test data at 58%."
        );
    }

    #[test]
    fn weak_and_empty_antecedents() {
        assert!(explain(&["a"], &["b"], 0.3, 0.5, 0.1, 10, 100, None).contains("only 0.5 times as often as usual"));
        assert_eq!(
            explain(&[], &["milk"], 0.25, 1.0, 0.25, 25, 100, None),
            "25% of all baskets hold milk; seen in 25% of 100 baskets (25)."
        );
    }
}
