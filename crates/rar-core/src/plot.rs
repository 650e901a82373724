//! Pictures of rules as SVG documents: a support × confidence scatter
//! coloured by lift, and a graph of items joined by the strongest rules
//! (the two standard pictures of R's arulesViz).

use std::fmt::Write;

/// A rule to draw.
#[derive(Debug, Clone)]
pub struct PlotRule {
    pub antecedent: Vec<String>,
    pub consequent: Vec<String>,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

const W: f64 = 720.0;
const H: f64 = 480.0;
const M: f64 = 60.0;

fn esc(s: &str) -> String {
    // Characters XML 1.0 does not allow become U+FFFD: one such item must not
    // make the whole picture unreadable.
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'));
    let s: String = s.chars().map(|c| if allowed(c) { c } else { '\u{FFFD}' }).collect();
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn rule_text(r: &PlotRule) -> String {
    format!(
        "{{{}}} => {{{}}}: support {:.4}, confidence {:.3}, lift {:.2}",
        r.antecedent.join(", "),
        r.consequent.join(", "),
        r.support,
        r.confidence,
        r.lift
    )
}

/// A colour from light yellow (t = 0) to dark red (t = 1).
fn heat(t: f64) -> String {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 1.0 };
    let (r, g, b) = (255.0 - 75.0 * t, 237.0 - 220.0 * t, 160.0 - 130.0 * t);
    format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
}

fn header(title: &str, out: &mut String) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\">\
         <title>{}</title><rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\
         <text x=\"{}\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">{}</text>",
        esc(title),
        W / 2.0,
        esc(title)
    );
}

/// Support on x, confidence on y, one circle per rule coloured by lift; each
/// circle's `<title>` names its rule (a tooltip in browsers).
pub fn scatter(title: &str, rules: &[PlotRule]) -> String {
    let mut out = String::new();
    header(title, &mut out);
    let max_s = rules.iter().map(|r| r.support).fold(0.0, f64::max).max(1e-9);
    let min_s = rules.iter().map(|r| r.support).fold(max_s, f64::min).min(max_s * 0.999);
    let (min_c, max_c) =
        rules.iter().fold((1.0f64, 0.0f64), |(lo, hi), r| (lo.min(r.confidence), hi.max(r.confidence)));
    let (min_c, max_c) = if rules.is_empty() { (0.0, 1.0) } else { (min_c.min(max_c - 1e-9), max_c) };
    let (min_l, max_l) = rules.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r.lift), hi.max(r.lift)));
    let x = |s: f64| M + 10.0 + (W - 2.0 * M - 20.0) * (s - min_s) / (max_s - min_s);
    let y = |c: f64| H - M - (H - 2.0 * M) * (c - min_c) / (max_c - min_c);
    // Axes.
    let _ = write!(
        out,
        "<g stroke=\"#444\"><line x1=\"{M}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><line x1=\"{M}\" y1=\"{M}\" x2=\"{M}\" y2=\"{}\"/></g>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">support ({min_s:.4} to {max_s:.4})</text>\
         <text x=\"16\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">confidence ({min_c:.2} to {max_c:.2})</text>",
        H - M, W - M, H - M, H - M, W / 2.0, H - 20.0, H / 2.0, H / 2.0
    );
    out.push_str("<g class=\"rules\">");
    for r in rules {
        let t = if max_l > min_l { (r.lift - min_l) / (max_l - min_l) } else { 1.0 };
        let _ = write!(
            out,
            "<circle class=\"rule\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\" stroke=\"#333\" stroke-width=\"0.5\" fill-opacity=\"0.85\"><title>{}</title></circle>",
            x(r.support),
            y(r.confidence),
            heat(t),
            esc(&rule_text(r))
        );
    }
    out.push_str("</g>");
    if !rules.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"44\" font-size=\"11\" text-anchor=\"end\">colour: lift {min_l:.1} (light) to {max_l:.1} (dark)</text>",
            W - M
        );
    }
    out.push_str("</svg>");
    out
}

/// Items as nodes on a circle, each rule as arrows from its antecedent items
/// to its consequent items, wider for higher confidence.
pub fn graph(title: &str, rules: &[PlotRule]) -> String {
    let mut out = String::new();
    header(title, &mut out);
    let mut items: Vec<&str> = Vec::new();
    for r in rules {
        for i in r.antecedent.iter().chain(&r.consequent) {
            if !items.contains(&i.as_str()) {
                items.push(i);
            }
        }
    }
    let n = items.len().max(1) as f64;
    let (cx, cy, rad) = (W / 2.0, H / 2.0 + 10.0, H / 2.0 - 70.0);
    let pos = |i: usize| {
        let a = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
        (cx + rad * a.cos(), cy + rad * a.sin())
    };
    let at = |name: &str| pos(items.iter().position(|i| *i == name).unwrap_or(0));
    out.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"22\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#b22\"/></marker></defs><g class=\"rules\">",
    );
    for r in rules {
        for a in &r.antecedent {
            for c in &r.consequent {
                let ((x1, y1), (x2, y2)) = (at(a), at(c));
                let _ = write!(
                    out,
                    "<line class=\"rule\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#b22\" stroke-opacity=\"0.6\" stroke-width=\"{:.1}\" marker-end=\"url(#arrow)\"><title>{}</title></line>",
                    0.5 + 4.0 * r.confidence,
                    esc(&rule_text(r))
                );
            }
        }
    }
    out.push_str("</g><g class=\"items\">");
    for (k, name) in items.iter().enumerate() {
        let (x, y) = pos(k);
        let label: String = name.chars().take(28).collect();
        let _ = write!(
            out,
            "<circle class=\"item\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"8\" fill=\"#4a7ab5\"><title>{}</title></circle>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            esc(name),
            y - 12.0,
            esc(&label)
        );
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<PlotRule> {
        vec![
            PlotRule {
                antecedent: vec!["bread".into()],
                consequent: vec!["butter".into()],
                support: 0.1,
                confidence: 0.8,
                lift: 3.0,
            },
            PlotRule {
                antecedent: vec!["a<b&c".into(), "x".into()],
                consequent: vec!["milk".into()],
                support: 0.05,
                confidence: 0.5,
                lift: 1.2,
            },
        ]
    }

    #[test]
    fn scatter_has_one_mark_per_rule_and_escapes_text() {
        let svg = scatter("rules", &rules());
        assert_eq!(svg.matches("<circle class=\"rule\"").count(), 2);
        assert!(svg.contains("a&lt;b&amp;c"));
        assert_eq!(esc("ctl\u{1}\u{8}x\u{FFFE}"), "ctl\u{FFFD}\u{FFFD}x\u{FFFD}");
        assert!(!svg.contains("a<b&c"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn graph_has_nodes_and_arrows() {
        let svg = graph("rules", &rules());
        assert_eq!(svg.matches("<circle class=\"item\"").count(), 5);
        assert_eq!(svg.matches("<line class=\"rule\"").count(), 3);
    }

    #[test]
    fn empty_rule_sets_draw_an_empty_picture() {
        assert!(scatter("none", &[]).contains("</svg>"));
        assert!(graph("none", &[]).contains("</svg>"));
    }
}
