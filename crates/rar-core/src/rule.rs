//! The one shape of a rule outside the miner: what `rar_mine` returns (exact,
//! neural or hybrid), what `rar_rules_agg` writes as JSON and
//! `rar_mine_segments` reads back, what `rar_evaluate` judges.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::rules::RuleRow;

/// A rule with its items by name (each side sorted by name, byte order) and
/// its measures on the data it was counted on.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub antecedent: Vec<String>,
    pub consequent: Vec<String>,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
    pub leverage: f64,
    pub conviction: f64,
    /// Baskets holding antecedent and consequent.
    pub count: u64,
    /// The model's probability of the consequent (neural and hybrid rules).
    pub model_score: Option<f64>,
}

impl From<RuleRow<'_>> for Rule {
    fn from(r: RuleRow<'_>) -> Rule {
        Rule {
            antecedent: r.antecedent.iter().map(|s| s.to_string()).collect(),
            consequent: r.consequent.iter().map(|s| s.to_string()).collect(),
            support: r.support,
            confidence: r.confidence,
            lift: r.lift,
            leverage: r.leverage,
            conviction: r.conviction,
            count: r.count,
            model_score: None,
        }
    }
}

/// A float as JSON: infinities as the strings PostgreSQL reads back.
fn number(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        json!(if x > 0.0 { "Infinity" } else { "-Infinity" })
    }
}

fn float(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        _ => f64::NAN,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

impl Rule {
    /// The documented order of rules: lift, confidence and count descending,
    /// then antecedent and consequent ascending.
    pub fn order(a: &Rule, b: &Rule) -> Ordering {
        b.lift
            .total_cmp(&a.lift)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(b.count.cmp(&a.count))
            .then(a.antecedent.cmp(&b.antecedent))
            .then(a.consequent.cmp(&b.consequent))
    }

    /// The rule as `rar_rules_agg` writes it.
    pub fn to_json(&self) -> Value {
        json!({
            "antecedent": self.antecedent,
            "consequent": self.consequent,
            "support": number(self.support),
            "confidence": number(self.confidence),
            "lift": number(self.lift),
            "leverage": number(self.leverage),
            "conviction": number(self.conviction),
            "count": self.count,
        })
    }

    /// About the memory the rule takes when held: the struct and its item
    /// strings (with their `String` headers).
    pub fn heap_bytes(&self) -> u64 {
        let items = self.antecedent.iter().chain(&self.consequent);
        std::mem::size_of::<Rule>() as u64
            + items.map(|x| (x.len() + std::mem::size_of::<String>()) as u64).sum::<u64>()
    }

    /// One-sided Fisher's exact p-value of the rule, from its measures: the
    /// basket counts they are ratios of (exact in f64) are recovered first.
    pub fn p_value(&self) -> f64 {
        if self.count == 0 || !(self.support > 0.0 && self.confidence > 0.0 && self.lift > 0.0) {
            return f64::NAN;
        }
        let ac = self.count as f64;
        let n = (ac / self.support).round();
        let a = (ac / self.confidence).round();
        let c = (ac * n / (a * self.lift)).round();
        crate::significance::fisher_greater(n as u64, self.count, a as u64, c as u64)
    }

    /// A rule written by [`Rule::to_json`].
    pub fn from_json(v: &Value) -> Rule {
        Rule {
            antecedent: strings(&v["antecedent"]),
            consequent: strings(&v["consequent"]),
            support: float(&v["support"]),
            confidence: float(&v["confidence"]),
            lift: float(&v["lift"]),
            leverage: float(&v["leverage"]),
            conviction: float(&v["conviction"]),
            count: v["count"].as_u64().unwrap_or(0),
            model_score: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(a: &[&str], lift: f64, conviction: f64) -> Rule {
        Rule {
            antecedent: a.iter().map(|s| s.to_string()).collect(),
            consequent: vec!["z".into()],
            support: 0.25,
            confidence: 1.0,
            lift,
            leverage: 0.1,
            conviction,
            count: 3,
            model_score: None,
        }
    }

    #[test]
    fn json_round_trips_infinities() {
        let r = rule(&["a", "b"], 2.5, f64::INFINITY);
        assert_eq!(Rule::from_json(&r.to_json()), r);
        assert_eq!(r.to_json()["conviction"], "Infinity");
    }

    #[test]
    fn order_is_lift_then_names() {
        let mut v = [rule(&["b"], 2.0, 1.0), rule(&["a"], 2.0, 1.0), rule(&["c"], 3.0, 1.0)];
        v.sort_by(Rule::order);
        let names: Vec<&str> = v.iter().map(|r| r.antecedent[0].as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
    }

    #[test]
    fn heap_bytes_grow_with_item_text() {
        let short = rule(&["a"], 1.0, 1.0);
        let long = rule(&[&"x".repeat(1000)], 1.0, 1.0);
        assert!(short.heap_bytes() >= std::mem::size_of::<Rule>() as u64 + 2);
        assert_eq!(long.heap_bytes() - short.heap_bytes(), 999);
    }
}
