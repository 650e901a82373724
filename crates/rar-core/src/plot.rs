//! Pictures of rules as SVG documents, the two of R's arulesViz that users
//! know: a support × confidence scatter coloured by lift, with ticks, grid
//! and a colour bar (support on a log scale when it spans a decade or more,
//! as rule supports usually do); and a graph in three columns, items of the
//! left-hand sides, one node per rule (size: support, colour: lift), items
//! of the right-hand sides, so that a rule with two items on the left is
//! one node with two edges in, and a rule and its mirror are two nodes.
//!
//! Every label is placed on a grid of rows at least a line apart and its
//! box is recorded (`Canvas::labels`), so that tests can check that no two
//! labels overlap; a browser test checks the same with real font metrics.

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

/// Labels longer than this are cut, with an ellipsis; the whole text is in
/// the tooltip.
const MAX_LABEL_CHARS: usize = 40;
/// Average advance of a sans-serif character, in em (an upper estimate).
const CHAR_EM: f64 = 0.62;

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
        crate::keys::items_text(&r.antecedent),
        crate::keys::items_text(&r.consequent),
        r.support,
        r.confidence,
        r.lift
    )
}

/// A label trimmed and cut to [`MAX_LABEL_CHARS`], with an ellipsis when cut.
fn short(label: &str) -> String {
    let label = label.trim();
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// A colour from light yellow (t = 0) to dark red (t = 1).
fn heat(t: f64) -> String {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 1.0 };
    let (r, g, b) = (255.0 - 75.0 * t, 237.0 - 220.0 * t, 160.0 - 130.0 * t);
    format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
}

/// Where a text's anchor is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// The box a label takes (estimated from its length), for overlap checks.
#[derive(Debug, Clone)]
pub struct LabelBox {
    pub text: String,
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl LabelBox {
    pub fn overlaps(&self, o: &LabelBox) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// An SVG document being drawn, with the boxes of its labels.
pub struct Canvas {
    pub width: f64,
    pub height: f64,
    out: String,
    pub labels: Vec<LabelBox>,
}

impl Canvas {
    fn new(width: f64, height: f64, title: &str) -> Canvas {
        let mut c = Canvas { width, height, out: String::new(), labels: Vec::new() };
        let _ = write!(
            c.out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" \
             font-family=\"DejaVu Sans, Verdana, sans-serif\"><title>{}</title><rect width=\"{width:.0}\" height=\"{height:.0}\" fill=\"white\"/>",
            esc(title)
        );
        c.text(width / 2.0, 26.0, 16.0, Anchor::Middle, title, None);
        c
    }

    /// A label; `rotate` turns it by -90 degrees around its anchor.
    fn text(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, text: &str, tooltip: Option<&str>) {
        self.text_rotated(x, y, size, anchor, text, tooltip, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn text_rotated(
        &mut self,
        x: f64,
        y: f64,
        size: f64,
        anchor: Anchor,
        text: &str,
        tooltip: Option<&str>,
        rotate: bool,
    ) {
        let w = text.chars().count() as f64 * CHAR_EM * size;
        let (a, name) = match anchor {
            Anchor::Start => (0.0, "start"),
            Anchor::Middle => (0.5, "middle"),
            Anchor::End => (1.0, "end"),
        };
        let (x0, x1, y0, y1) = if rotate {
            (x - size, x + 0.25 * size, y - (1.0 - a) * w, y + a * w)
        } else {
            (x - a * w, x - a * w + w, y - size, y + 0.25 * size)
        };
        self.labels.push(LabelBox { text: text.to_string(), x0, y0, x1, y1 });
        let transform = if rotate { format!(" transform=\"rotate(-90 {x:.1} {y:.1})\"") } else { String::new() };
        let tip = tooltip.map(|t| format!("<title>{}</title>", esc(t))).unwrap_or_default();
        let _ = write!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"{name}\"{transform}>{tip}{}</text>",
            esc(text)
        );
    }

    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// A vertical colour bar for lift, from `lo` (bottom) to `hi` (top).
    fn lift_bar(&mut self, x: f64, y: f64, height: f64, lo: f64, hi: f64) {
        self.text(x, y - 10.0, 12.0, Anchor::Start, "lift", None);
        let _ = write!(
            self.out,
            "<defs><linearGradient id=\"lift\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">{}</linearGradient></defs>\
             <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"14\" height=\"{height:.1}\" fill=\"url(#lift)\" stroke=\"#666\" stroke-width=\"0.5\"/>",
            (0..=4).map(|k| format!("<stop offset=\"{}\" stop-color=\"{}\"/>", k as f64 / 4.0, heat(k as f64 / 4.0))).collect::<String>()
        );
        // Tick labels at least 16 px apart.
        let n = ((height / 16.0).floor() as usize).clamp(1, 4);
        let ticks = if hi > lo { nice_ticks(lo, hi, n) } else { vec![lo] };
        let ticks: Vec<f64> = if ticks.len() > n + 1 { ticks.into_iter().step_by(2).collect() } else { ticks };
        for &t in &ticks {
            let ty = if hi > lo { y + height * (1.0 - (t - lo) / (hi - lo)) } else { y + height / 2.0 };
            let _ = write!(
                self.out,
                "<line x1=\"{:.1}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"#666\"/>",
                x + 14.0,
                x + 18.0
            );
            self.text(x + 21.0, ty + 4.0, 11.0, Anchor::Start, &tick_label(t, &ticks), None);
        }
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// Round numbers between `lo` and `hi`, about `n` of them (steps of 1, 2 or
/// 5 times a power of ten).
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 50 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// Ticks of a log axis: 1, 2 and 5 times each power of ten in range (only
/// the powers when that is too many).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return Vec::new();
    }
    // Shares: a few decades at most; never more than 700 powers of ten.
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let a = a.max(b - 700);
    let all: Vec<f64> = (a..=b)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
        .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
        .collect();
    if all.len() > 9 {
        all.into_iter().filter(|v| (v.log10() - v.log10().round()).abs() < 1e-9).collect()
    } else {
        all
    }
}

/// A tick's text: as many decimals as the ticks need to differ.
fn tick_label(v: f64, ticks: &[f64]) -> String {
    let smallest = ticks.iter().map(|t| t.abs()).filter(|t| *t > 0.0).fold(f64::MAX, f64::min);
    let spread = ticks.windows(2).map(|w| (w[1] - w[0]).abs()).filter(|d| *d > 0.0).fold(f64::MAX, f64::min);
    let unit = spread.min(smallest).min(v.abs().max(1e-12));
    let decimals = if unit >= 1.0 || unit == f64::MAX { 0 } else { (-unit.log10().floor()) as usize };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Support on x (a log scale when it spans a decade or more), confidence on
/// y, one circle per rule coloured by lift, with ticks, grid lines and a
/// colour bar; each circle's `<title>` names its rule (a tooltip).
pub fn scatter(title: &str, rules: &[PlotRule]) -> String {
    scatter_canvas(title, rules).finish()
}

pub fn scatter_canvas(title: &str, rules: &[PlotRule]) -> Canvas {
    let (w, h) = (820.0, 520.0);
    let (px0, px1, py0, py1) = (90.0, w - 170.0, 50.0, h - 70.0);
    let mut c = Canvas::new(w, h, title);
    // Supports and confidences are shares: a stored value outside [0, 1]
    // (rows are their owner's to edit) is drawn at the edge.
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let share = |v: f64| finite(v).clamp(0.0, 1.0);
    let (mut s_lo, mut s_hi) = rules.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
        let s = share(r.support).max(1e-12);
        (lo.min(s), hi.max(s))
    });
    if rules.is_empty() {
        (s_lo, s_hi) = (0.01, 0.1);
    }
    let log = s_hi / s_lo >= 10.0;
    if !log {
        let pad = ((s_hi - s_lo) * 0.05).max(s_hi * 0.05).max(1e-6);
        (s_lo, s_hi) = ((s_lo - pad).max(0.0), s_hi + pad);
    } else {
        (s_lo, s_hi) = (s_lo / 1.15, s_hi * 1.15);
    }
    let (mut c_lo, mut c_hi) = rules.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
        let v = share(r.confidence);
        (lo.min(v), hi.max(v))
    });
    if rules.is_empty() {
        (c_lo, c_hi) = (0.0, 1.0);
    }
    let pad = ((c_hi - c_lo) * 0.05).max(0.02);
    (c_lo, c_hi) = ((c_lo - pad).max(0.0), (c_hi + pad).min(1.0).max(c_lo + 2.0 * pad));
    let (l_lo, l_hi) =
        rules.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(finite(r.lift)), hi.max(finite(r.lift))));
    let x = |s: f64| {
        let s = share(s).max(1e-12);
        let t = if log { (s.ln() - s_lo.ln()) / (s_hi.ln() - s_lo.ln()) } else { (s - s_lo) / (s_hi - s_lo) };
        px0 + (px1 - px0) * t.clamp(0.0, 1.0)
    };
    let y = |v: f64| py1 - (py1 - py0) * ((share(v) - c_lo) / (c_hi - c_lo)).clamp(0.0, 1.0);
    // Grid, ticks and tick labels.
    let xt = if log { log_ticks(s_lo, s_hi) } else { nice_ticks(s_lo, s_hi, 6) };
    let yt = nice_ticks(c_lo, c_hi, 6);
    c.raw("<g class=\"grid\" stroke=\"#e4e4e4\">");
    for t in &xt {
        c.raw(&format!("<line x1=\"{0:.1}\" y1=\"{py0}\" x2=\"{0:.1}\" y2=\"{py1}\"/>", x(*t)));
    }
    for t in &yt {
        c.raw(&format!("<line x1=\"{px0}\" y1=\"{0:.1}\" x2=\"{px1}\" y2=\"{0:.1}\"/>", y(*t)));
    }
    c.raw(&format!(
        "</g><rect x=\"{px0}\" y=\"{py0}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#444\"/>",
        px1 - px0,
        py1 - py0
    ));
    for t in &xt {
        c.raw(&format!(
            "<line x1=\"{0:.1}\" y1=\"{py1}\" x2=\"{0:.1}\" y2=\"{1}\" stroke=\"#444\"/>",
            x(*t),
            py1 + 5.0
        ));
        c.text(x(*t), py1 + 19.0, 11.0, Anchor::Middle, &tick_label(*t, &xt), None);
    }
    for t in &yt {
        c.raw(&format!(
            "<line x1=\"{0}\" y1=\"{1:.1}\" x2=\"{px0}\" y2=\"{1:.1}\" stroke=\"#444\"/>",
            px0 - 5.0,
            y(*t)
        ));
        c.text(px0 - 8.0, y(*t) + 4.0, 11.0, Anchor::End, &tick_label(*t, &yt), None);
    }
    let x_title = if log { "support (share of baskets, log scale)" } else { "support (share of baskets)" };
    c.text((px0 + px1) / 2.0, h - 22.0, 13.0, Anchor::Middle, x_title, None);
    c.text_rotated(30.0, (py0 + py1) / 2.0, 13.0, Anchor::Middle, "confidence", None, true);
    c.raw("<g class=\"rules\">");
    for r in rules {
        let t = if l_hi > l_lo { (finite(r.lift) - l_lo) / (l_hi - l_lo) } else { 1.0 };
        c.raw(&format!(
            "<circle class=\"rule\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\" stroke=\"#333\" stroke-width=\"0.5\" fill-opacity=\"0.85\"><title>{}</title></circle>",
            x(r.support),
            y(r.confidence),
            heat(t),
            esc(&rule_text(r))
        ));
    }
    c.raw("</g>");
    if !rules.is_empty() {
        c.lift_bar(px1 + 40.0, py0 + 20.0, 200.0, l_lo, l_hi);
    }
    c
}

/// Orders `n` nodes by the mean position of their neighbours (barycentres),
/// keeping the old order among ties; nodes without neighbours go last.
fn by_barycentre(n: usize, neighbours: impl Fn(usize) -> Vec<f64>) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            let p = neighbours(i);
            (if p.is_empty() { f64::MAX } else { p.iter().sum::<f64>() / p.len() as f64 }, i)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Items of the left-hand sides (left column), one node per rule (middle),
/// items of the right-hand sides (right column); an edge from each item of
/// a rule's left-hand side to its node, and an arrow from the node to each
/// item of its right-hand side. Node size: support; colour: lift.
pub fn graph(title: &str, rules: &[PlotRule]) -> String {
    graph_canvas(title, rules).finish()
}

pub fn graph_canvas(title: &str, rules: &[PlotRule]) -> Canvas {
    use std::collections::HashMap;
    // Each column's items in order of first appearance, found by name;
    // and the rules each item is in (the edges), so that a pass of the
    // ordering below costs the edges, not items times rules.
    fn column<'a>(
        sides: impl Iterator<Item = (usize, &'a [String])>,
    ) -> (Vec<&'a str>, HashMap<&'a str, usize>, Vec<Vec<usize>>) {
        let (mut names, mut index, mut rules_of) = (Vec::new(), HashMap::new(), Vec::<Vec<usize>>::new());
        for (k, side) in sides {
            for name in side {
                let i = *index.entry(name.as_str()).or_insert_with(|| {
                    names.push(name.as_str());
                    rules_of.push(Vec::new());
                    names.len() - 1
                });
                if rules_of[i].last() != Some(&k) {
                    rules_of[i].push(k);
                }
            }
        }
        (names, index, rules_of)
    }
    let (left, left_index, left_rules) = column(rules.iter().enumerate().map(|(k, r)| (k, r.antecedent.as_slice())));
    let (right, right_index, right_rules) = column(rules.iter().enumerate().map(|(k, r)| (k, r.consequent.as_slice())));
    let li = |name: &str| left_index.get(name).copied().unwrap_or(0);
    let ri = |name: &str| right_index.get(name).copied().unwrap_or(0);
    // Few crossings: alternate barycentre orderings of the three columns.
    let mut rule_pos: Vec<f64> = (0..rules.len()).map(|i| i as f64).collect();
    let (mut left_pos, mut right_pos) = (vec![0.0; left.len()], vec![0.0; right.len()]);
    let norm = |k: usize, n: usize| if n <= 1 { 0.5 } else { k as f64 / (n - 1) as f64 };
    for _ in 0..4 {
        let order = by_barycentre(left.len(), |i| left_rules[i].iter().map(|&k| rule_pos[k]).collect());
        for (k, i) in order.iter().enumerate() {
            left_pos[*i] = norm(k, left.len());
        }
        let order = by_barycentre(right.len(), |i| right_rules[i].iter().map(|&k| rule_pos[k]).collect());
        for (k, i) in order.iter().enumerate() {
            right_pos[*i] = norm(k, right.len());
        }
        let order = by_barycentre(rules.len(), |k| {
            let r = &rules[k];
            r.antecedent.iter().map(|a| left_pos[li(a)]).chain(r.consequent.iter().map(|c| right_pos[ri(c)])).collect()
        });
        for (k, i) in order.iter().enumerate() {
            rule_pos[*i] = norm(k, rules.len()) * rules.len().max(1) as f64;
        }
    }
    let rule_pos: Vec<f64> =
        rule_pos.iter().map(|p| if rules.len() <= 1 { 0.5 } else { p / rules.len() as f64 }).collect();
    // Rows at least 24 px apart in every column: labels never meet.
    let row = 24.0;
    let rows = left.len().max(right.len()).max(rules.len()).max(1) as f64;
    let (top, span) = (130.0, row * (rows - 1.0));
    let font = 12.0;
    let label_w =
        |items: &[&str]| items.iter().map(|s| short(s).chars().count()).max().unwrap_or(0) as f64 * CHAR_EM * font;
    // The columns' heads must fit too.
    let (left_head, right_head) = ("if (left-hand side)", "then (right-hand side)");
    let head_w = |h: &str| h.chars().count() as f64 * CHAR_EM * 13.0;
    let (lw, rw) = (label_w(&left).max(head_w(left_head)), label_w(&right).max(head_w(right_head)));
    let xl = 20.0 + lw + 10.0;
    let xm = xl + 220.0;
    let xr = xm + 220.0;
    let w = (xr + 10.0 + rw + 20.0).max(760.0);
    let h = top + span + 50.0;
    let mut c = Canvas::new(w, h, title);
    let at = |pos: f64, n: usize| if n <= 1 { top + span / 2.0 } else { top + span * pos };
    let ly = |name: &str| at(left_pos[li(name)], left.len());
    let ry = |name: &str| at(right_pos[ri(name)], right.len());
    let my = |k: usize| at(rule_pos[k], rules.len());
    // Legend and column heads.
    c.text(xl, 100.0, 13.0, Anchor::End, left_head, None);
    c.text(xm, 100.0, 13.0, Anchor::Middle, "rules", None);
    c.text(xr, 100.0, 13.0, Anchor::Start, right_head, None);
    c.text(
        20.0,
        52.0,
        11.0,
        Anchor::Start,
        "One node per rule: size = support, colour = lift (bar on the right).",
        None,
    );
    c.text(
        20.0,
        68.0,
        11.0,
        Anchor::Start,
        "Lines join a rule's left-hand items to its node; arrows point to its right-hand items.",
        None,
    );
    let max_s = rules.iter().map(|r| r.support).filter(|s| s.is_finite()).fold(0.0, f64::max).max(1e-12);
    let (l_lo, l_hi) = rules
        .iter()
        .map(|r| r.lift)
        .filter(|l| l.is_finite())
        .fold((f64::MAX, f64::MIN), |(lo, hi), l| (lo.min(l), hi.max(l)));
    c.raw(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#777\"/></marker></defs><g class=\"edges\" fill=\"none\" stroke=\"#999\" stroke-opacity=\"0.7\">",
    );
    let curve = |x1: f64, y1: f64, x2: f64, y2: f64| {
        let mx = (x1 + x2) / 2.0;
        format!("M{x1:.1},{y1:.1} C{mx:.1},{y1:.1} {mx:.1},{y2:.1} {x2:.1},{y2:.1}")
    };
    for (k, r) in rules.iter().enumerate() {
        for a in &r.antecedent {
            c.raw(&format!("<path class=\"edge\" d=\"{}\"/>", curve(xl + 6.0, ly(a), xm, my(k))));
        }
        for k2 in &r.consequent {
            c.raw(&format!(
                "<path class=\"edge\" d=\"{}\" marker-end=\"url(#arrow)\"/>",
                curve(xm, my(k), xr - 7.0, ry(k2))
            ));
        }
    }
    c.raw("</g><g class=\"rules\">");
    for (k, r) in rules.iter().enumerate() {
        let t = if l_hi > l_lo { (r.lift - l_lo) / (l_hi - l_lo) } else { 1.0 };
        let s = if r.support.is_finite() { r.support.clamp(0.0, max_s) } else { 0.0 };
        let radius = 3.0 + 7.0 * (s / max_s).sqrt();
        c.raw(&format!(
            "<circle class=\"rule\" cx=\"{xm:.1}\" cy=\"{:.1}\" r=\"{radius:.1}\" fill=\"{}\" stroke=\"#333\" stroke-width=\"0.5\"><title>{}</title></circle>",
            my(k),
            heat(t),
            esc(&rule_text(r))
        ));
    }
    c.raw("</g><g class=\"items\">");
    // Item nodes: the left column's labels end before its nodes, the
    // right column's start after them.
    for (items, at, node_x, label_x, anchor) in [
        (&left, &ly as &dyn Fn(&str) -> f64, xl + 6.0, xl - 2.0, Anchor::End),
        (&right, &ry as &dyn Fn(&str) -> f64, xr - 6.0, xr + 2.0, Anchor::Start),
    ] {
        for name in items.iter() {
            let y = at(name);
            c.raw(&format!(
                "<circle class=\"item\" cx=\"{node_x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"#4a7ab5\"><title>{}</title></circle>",
                esc(name)
            ));
            c.text(label_x, y + 4.0, font, anchor, &short(name), Some(name));
        }
    }
    c.raw("</g>");
    if !rules.is_empty() {
        c.lift_bar(w - 70.0, 36.0, 38.0, l_lo, l_hi);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(a: &[&str], c: &[&str], support: f64, confidence: f64, lift: f64) -> PlotRule {
        PlotRule {
            antecedent: a.iter().map(|s| s.to_string()).collect(),
            consequent: c.iter().map(|s| s.to_string()).collect(),
            support,
            confidence,
            lift,
        }
    }

    fn rules() -> Vec<PlotRule> {
        vec![rule(&["bread"], &["butter"], 0.1, 0.8, 3.0), rule(&["a<b&c", "x"], &["milk"], 0.05, 0.5, 1.2)]
    }

    /// Many rules of skewed support, long labels, mirror rules and rules
    /// with two items on the left: what real rule sets look like.
    fn realistic() -> Vec<PlotRule> {
        let mut out = Vec::new();
        for i in 0..60 {
            let s = 0.002 * (1.0 + (i as f64 * 0.7).exp() % 50.0);
            let a = format!("PAPER CHAIN KIT VINTAGE CHRISTMAS NUMBER {i} WITH A LONG NAME");
            let b = format!("item {}", (i * 7) % 23);
            out.push(rule(&[&a], &[&b], s, 0.5 + (i % 10) as f64 * 0.05, 1.0 + i as f64));
            out.push(rule(&[&b], &[&a], s, 0.45 + (i % 7) as f64 * 0.05, 1.0 + i as f64));
            if i % 5 == 0 {
                out.push(rule(&[&a, &b], &["item 1"], s / 2.0, 0.9, 30.0));
            }
        }
        out
    }

    fn no_overlaps(c: &Canvas) {
        for (i, a) in c.labels.iter().enumerate() {
            assert!(
                a.x0 >= 0.0 && a.y0 >= 0.0 && a.x1 <= c.width && a.y1 <= c.height,
                "{a:?} outside {}x{}",
                c.width,
                c.height
            );
            for b in &c.labels[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
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
    fn scatter_axes_have_ticks_a_log_scale_when_skewed_and_no_overlapping_labels() {
        let c = scatter_canvas("rules", &realistic());
        no_overlaps(&c);
        let texts: Vec<&str> = c.labels.iter().map(|l| l.text.as_str()).collect();
        assert!(texts.contains(&"support (share of baskets, log scale)"), "{texts:?}");
        assert!(texts.contains(&"0.01") && texts.contains(&"0.8"), "{texts:?}");
        assert!(texts.contains(&"lift"));
        // A narrow range stays linear, with its own ticks.
        let narrow =
            scatter_canvas("rules", &[rule(&["a"], &["b"], 0.010, 0.6, 2.0), rule(&["b"], &["a"], 0.012, 0.7, 2.0)]);
        assert!(narrow.labels.iter().any(|l| l.text == "support (share of baskets)"));
        assert!(narrow.labels.iter().filter(|l| l.text.starts_with("0.01")).count() >= 2);
        no_overlaps(&narrow);
    }

    #[test]
    fn ticks_are_round_numbers_inside_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(log_ticks(0.003, 0.2), vec![0.005, 0.01, 0.02, 0.05, 0.1, 0.2]);
        assert_eq!(tick_label(0.6000000000000001, &[0.4, 0.6, 0.8]), "0.6");
        assert_eq!(tick_label(0.005, &[0.005, 0.01]), "0.005");
        assert_eq!(tick_label(40.0, &[20.0, 40.0]), "40");
    }

    #[test]
    fn graph_draws_one_node_per_rule_and_an_edge_per_item() {
        // Short labels: the columns' heads still fit in the picture.
        no_overlaps(&graph_canvas("rules", &rules()));
        let svg = graph("rules", &rules());
        assert_eq!(svg.matches("<circle class=\"rule\"").count(), 2);
        assert_eq!(svg.matches("<circle class=\"item\"").count(), 5);
        assert_eq!(svg.matches("class=\"edge\"").count(), 5);
        // A rule and its mirror are two nodes, not one line drawn twice.
        let mirror = graph("rules", &[rule(&["a"], &["b"], 0.1, 0.5, 2.0), rule(&["b"], &["a"], 0.1, 0.6, 2.0)]);
        assert_eq!(mirror.matches("<circle class=\"rule\"").count(), 2);
    }

    #[test]
    fn graph_labels_never_overlap_and_long_ones_end_with_an_ellipsis() {
        let c = graph_canvas("rules", &realistic());
        no_overlaps(&c);
        let long = c.labels.iter().find(|l| l.text.starts_with("PAPER CHAIN KIT")).expect("a long label");
        assert!(long.text.ends_with('…') && long.text.chars().count() == MAX_LABEL_CHARS);
        let svg = c.finish();
        assert!(svg.contains("<title>PAPER CHAIN KIT VINTAGE CHRISTMAS NUMBER 0 WITH A LONG NAME</title>"));
    }

    #[test]
    fn empty_rule_sets_draw_an_empty_picture() {
        assert!(scatter("none", &[]).contains("</svg>"));
        assert!(graph("none", &[]).contains("</svg>"));
    }

    #[test]
    fn shares_out_of_range_are_drawn_at_the_edge() {
        // Stored rows are their owner's to edit: a support of 1.7e308 made
        // the axis infinite and the ticks 2^31 powers of ten.
        for bad in [1.7e308, f64::MAX, f64::INFINITY, f64::NAN, -5.0, 1e300] {
            let svg = scatter("rules", &[rule(&["a"], &["b"], bad, bad, bad), rule(&["b"], &["c"], 0.01, 0.5, 2.0)]);
            assert_eq!(svg.matches("<circle class=\"rule\"").count(), 2, "{bad}");
            assert!(svg.matches("<line").count() < 200, "{bad}");
        }
        assert!(log_ticks(1e-3, f64::INFINITY).is_empty());
        assert!(log_ticks(0.0, 1.0).is_empty());
        assert!(log_ticks(1e-300, 1e300).len() <= 702);
        assert_eq!(log_ticks(0.01, 0.1), vec![0.01, 0.02, 0.05, 0.1]);
    }

    #[test]
    fn graph_of_many_rules_with_many_items_keeps_every_edge() {
        // 2,000 rules of 30 distinct items each: the ordering passes cost the
        // edges (it rescanned every rule for every item: 54 s here).
        let rules: Vec<PlotRule> = (0..2000)
            .map(|r| {
                let a: Vec<String> = (0..30).map(|j| format!("x{r}_{j}")).collect();
                let a: Vec<&str> = a.iter().map(String::as_str).collect();
                rule(&a, &[&format!("y{r}")], 0.5, 0.5, 1.0)
            })
            .collect();
        let svg = graph("many", &rules);
        assert_eq!(svg.matches("class=\"edge\"").count(), 2000 * 31);
        assert_eq!(svg.matches("<circle class=\"rule\"").count(), 2000);
    }
}
