//! Mining across a hierarchy against brute force on random small data sets:
//! the same rules as enumerating every itemset of the baskets with their
//! ancestors added, minus those holding an item and its own ancestor; and
//! the interest filter's flags against Srikant and Agrawal's definition,
//! counted directly in the baskets.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rar_core::baskets::BasketsBuilder;
use rar_core::hierarchy::{across_levels, at_level, Hierarchy};
use rar_core::params::MineParams;
use rar_core::rules::{mine_rules, Measures};

/// i0-i2 in aisle a, i3-i5 in aisle b, i6-i7 in aisle c; aisles a and b in
/// department x, c in y; i8 has no labels, i7 no department.
fn hierarchy() -> Hierarchy {
    let mut h = Hierarchy::new(vec!["aisle".into(), "dept".into()]);
    for i in 0..8 {
        let aisle = ["a", "a", "a", "b", "b", "b", "c", "c"][i];
        let dept = if i == 7 { None } else { Some(if aisle == "c" { "y" } else { "x" }.to_string()) };
        h.add(&format!("i{i}"), vec![Some(aisle.to_string()), dept]).unwrap();
    }
    h
}

/// Ancestors of each name, as `across_levels` names them.
fn ancestors() -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    for i in 0..8 {
        let aisle = ["a", "a", "a", "b", "b", "b", "c", "c"][i];
        let mut up = vec![format!("aisle: {aisle}")];
        if i != 7 {
            up.push(format!("dept: {}", if aisle == "c" { "y" } else { "x" }));
        }
        m.insert(format!("i{i}"), up);
    }
    m.insert("aisle: a".into(), vec!["dept: x".into()]);
    m.insert("aisle: b".into(), vec!["dept: x".into()]);
    // Only i6 (not i7) puts aisle c in department y.
    m.insert("aisle: c".into(), vec!["dept: y".into()]);
    m
}

type Key = (Vec<String>, Vec<String>);

fn data() -> impl Strategy<Value = Vec<BTreeSet<String>>> {
    let item = (0u8..9).prop_map(|i| format!("i{i}"));
    proptest::collection::vec(proptest::collection::btree_set(item, 0..6), 1..40)
}

fn build(baskets: &[BTreeSet<String>]) -> rar_core::baskets::Baskets {
    let mut b = BasketsBuilder::default();
    for items in baskets {
        b.push_basket(items.iter().map(String::as_str));
    }
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn across_levels_same_rules_as_brute_force(baskets in data(), s in 0.02f64..0.5, c in 0.0f64..1.0, r in 0.5f64..2.0) {
        let anc = ancestors();
        let related = |x: &str, y: &str| {
            anc.get(x).is_some_and(|u| u.iter().any(|a| a == y)) || anc.get(y).is_some_and(|u| u.iter().any(|a| a == x))
        };
        // The baskets with every ancestor added.
        let full: Vec<BTreeSet<String>> = baskets
            .iter()
            .map(|b| b.iter().flat_map(|i| std::iter::once(i.clone()).chain(anc.get(i).into_iter().flatten().cloned())).collect())
            .collect();
        let p = MineParams { min_support: s, min_confidence: c, max_length: 3, max_consequent: 2, ..MineParams::default() };
        let n = full.len() as u32;
        let count = |set: &[String]| full.iter().filter(|b| set.iter().all(|i| b.contains(i))).count() as u32;
        let names: Vec<String> = full.iter().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        let min_count = p.min_count(full.len());
        let mut want: BTreeMap<Key, (u32, Measures)> = BTreeMap::new();
        for mask in 1u32..(1 << names.len()) {
            if mask.count_ones() as usize > p.max_length {
                continue;
            }
            let set: Vec<String> = (0..names.len()).filter(|i| mask >> i & 1 == 1).map(|i| names[i].clone()).collect();
            if set.iter().enumerate().any(|(x, a)| set[x + 1..].iter().any(|b| related(a, b))) {
                continue;
            }
            let c_ac = count(&set);
            if c_ac < min_count {
                continue;
            }
            for cmask in 1u32..(1 << set.len()) {
                let cons: Vec<String> = (0..set.len()).filter(|i| cmask >> i & 1 == 1).map(|i| set[i].clone()).collect();
                let ante: Vec<String> = (0..set.len()).filter(|i| cmask >> i & 1 == 0).map(|i| set[i].clone()).collect();
                if cons.len() > p.max_consequent {
                    continue;
                }
                let c_a = if ante.is_empty() { n } else { count(&ante) };
                let m = Measures::from_counts(n, c_ac, c_a, count(&cons));
                if m.confidence + 1e-12 >= p.min_confidence {
                    want.insert((ante, cons), (c_ac, m));
                }
            }
        }
        let mined = mine_rules(across_levels(&build(&baskets), &hierarchy(), 1 << 30, &mut || {}).unwrap(), &p, &mut || {}).unwrap();
        let rows: Vec<_> = mined.rows().collect();
        let got: BTreeMap<Key, (u32, Measures)> = rows.iter().map(|r| {
            let key = (r.antecedent.iter().map(|s| s.to_string()).collect(), r.consequent.iter().map(|s| s.to_string()).collect());
            (key, (r.count as u32, Measures { support: r.support, confidence: r.confidence, lift: r.lift, leverage: r.leverage, conviction: r.conviction }))
        }).collect();
        prop_assert_eq!(&got, &want);

        // The interest filter, from the definition.
        let parent = |x: &str| -> Option<String> { anc.get(x).and_then(|u| u.first().cloned()) };
        let flags = mined.interesting(r, &mut || {});
        for (k, row) in rows.iter().enumerate() {
            let ante: Vec<String> = row.antecedent.iter().map(|s| s.to_string()).collect();
            let cons: Vec<String> = row.consequent.iter().map(|s| s.to_string()).collect();
            let all: Vec<String> = ante.iter().chain(cons.iter()).cloned().collect();
            let conf = count(&all) as f64 / if ante.is_empty() { n as f64 } else { count(&ante) as f64 };
            let mut keep = true;
            for z in &all {
                let Some(pz) = parent(z) else { continue };
                if all.iter().any(|y| y != z && (*y == pz || related(y, &pz))) {
                    continue;
                }
                let swap = |side: &[String]| -> Vec<String> { side.iter().map(|y| if y == z { pz.clone() } else { y.clone() }).collect() };
                let (a2, all2) = (swap(&ante), swap(&all));
                // Where the lookup is not a tree, an ancestor can be rarer
                // than the item; one below the minimum support is not
                // compared with.
                if count(&all2) < min_count {
                    continue;
                }
                let ratio = count(std::slice::from_ref(z)) as f64 / count(std::slice::from_ref(&pz)) as f64;
                let exp_count = count(&all2) as f64 * ratio;
                let conf2 = count(&all2) as f64 / if a2.is_empty() { n as f64 } else { count(&a2) as f64 };
                let exp_conf = conf2 * if cons.contains(z) { ratio } else { 1.0 };
                if !(count(&all) as f64 >= r * exp_count * (1.0 - 1e-12) || conf >= r * exp_conf * (1.0 - 1e-12)) {
                    keep = false;
                }
            }
            prop_assert_eq!(flags[k], keep, "{:?}", row);
        }
    }
}

/// At a level, the rules are those of the baskets of labels.
#[test]
fn at_a_level_rules_are_those_of_the_labels() {
    let raw: Vec<Vec<&str>> =
        vec![vec!["i0", "i3"], vec!["i1", "i4", "i8"], vec!["i2"], vec!["i6", "i0"], vec!["i5", "i1"]];
    let baskets: Vec<BTreeSet<String>> = raw.iter().map(|b| b.iter().map(|s| s.to_string()).collect()).collect();
    let at = at_level(&build(&baskets), &hierarchy(), 0, &mut || {});
    assert_eq!(at.unlabelled_lines, 1);
    let p = MineParams { min_support: 0.2, min_confidence: 0.5, min_length: 2, ..MineParams::default() };
    let rules = mine_rules(at.baskets, &p, &mut || {}).unwrap();
    let got: Vec<(Vec<&str>, Vec<&str>, u64)> = rules.rows().map(|r| (r.antecedent, r.consequent, r.count)).collect();
    // Aisle baskets: {a,b} three times, {a}, {a,c}: b => a (3 of 3),
    // c => a (1 of 1), a => b (3 of 5); all of lift 1, as a is in each.
    assert_eq!(got, vec![(vec!["b"], vec!["a"], 3), (vec!["c"], vec!["a"], 1), (vec!["a"], vec!["b"], 3)]);
}

/// A rule its ancestor explains is dropped; one that says more is kept.
#[test]
fn the_interest_filter_drops_what_an_ancestor_says() {
    let mut raw: Vec<Vec<&str>> = Vec::new();
    for _ in 0..10 {
        // Every item of aisle a goes with i3 alike; only i0 goes with i6.
        raw.extend([vec!["i0", "i3", "i6"], vec!["i1", "i3"], vec!["i2", "i3"], vec!["i4"], vec!["i7"]]);
    }
    let baskets: Vec<BTreeSet<String>> = raw.iter().map(|b| b.iter().map(|s| s.to_string()).collect()).collect();
    let p = MineParams { min_support: 0.1, min_confidence: 0.9, min_length: 2, max_length: 2, ..MineParams::default() };
    let rules = mine_rules(across_levels(&build(&baskets), &hierarchy(), 1 << 30, &mut || {}).unwrap(), &p, &mut || {})
        .unwrap();
    let flags = rules.interesting(1.1, &mut || {});
    let kept: BTreeMap<(String, String), bool> =
        rules.rows().zip(&flags).map(|(r, &k)| ((r.antecedent.join(","), r.consequent.join(",")), k)).collect();
    let flag = |a: &str, c: &str| kept.get(&(a.to_string(), c.to_string())).copied();
    assert_eq!(flag("i0", "i3"), Some(false), "aisle a => i3 says it: {kept:?}");
    assert_eq!(flag("aisle: a", "i3"), Some(true));
    assert_eq!(flag("i0", "i6"), Some(true), "no other item of aisle a goes with i6");
    assert_eq!(flag("i6", "i0"), Some(true));
    assert!(flags.iter().filter(|k| !**k).count() >= 3, "i0, i1 and i2 => i3 at least");
}
