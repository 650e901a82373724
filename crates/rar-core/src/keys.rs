//! Lookup keys of item lists: how stored rules are found by their
//! antecedent. Each item is prefixed by its length in characters and a
//! colon, so that two different lists never share a key, whatever bytes
//! their items hold (a separator character could occur inside an item).
//! The catalog's SQL function `rar.rule_key(text[])` builds the same keys.

/// The key of an item list, in the list's order.
pub fn rule_key<S: AsRef<str>>(items: &[S]) -> String {
    let mut key = String::new();
    for item in items {
        let item = item.as_ref();
        key.push_str(&item.chars().count().to_string());
        key.push(':');
        key.push_str(item);
    }
    key
}

/// An item list as one unambiguous line for people and BI tools, as the
/// SQL function `rar.items_text(text[])` writes it: each label trimmed of
/// blanks and line breaks, joined by ", ", a label holding a comma, a double
/// quote or a line break put in double quotes (inner quotes doubled), as in
/// CSV.
pub fn items_text<S: AsRef<str>>(labels: &[S]) -> String {
    labels.iter().map(|l| item_text(l.as_ref())).collect::<Vec<_>>().join(", ")
}

/// One label as [`items_text`] writes it in a list: trimmed, and in double
/// quotes when it holds a comma, a double quote or a line break.
pub fn item_text(label: &str) -> std::borrow::Cow<'_, str> {
    let t = label.trim_matches([' ', '\t', '\r', '\n']);
    if t.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", t.replace('"', "\"\"")).into()
    } else {
        t.into()
    }
}

/// The keys of the subsets of `basket` (sorted, without duplicates) with 1
/// to `max` items, each subset in the basket's order, the smaller subsets
/// first; `None` when there would be more than `limit` keys or more than
/// about `max_bytes` bytes of them (a basket of many items has too many
/// subsets to look up one by one: the caller finds its rules another way,
/// never a part of them). Combinations are generated in place, one at a
/// time.
pub fn subset_keys(basket: &[String], max: usize, limit: usize, max_bytes: usize) -> Option<Vec<String>> {
    let mut keys = Vec::new();
    let mut bytes = 0usize;
    for size in 1..=max.min(basket.len()) {
        // The first combination of `size` indices, then the next in
        // lexicographic order until none is left.
        let mut idx: Vec<usize> = (0..size).collect();
        loop {
            let items: Vec<&str> = idx.iter().map(|&i| basket[i].as_str()).collect();
            let key = rule_key(&items);
            bytes += key.len();
            keys.push(key);
            if keys.len() > limit || bytes > max_bytes {
                return None;
            }
            let Some(pos) = (0..size).rev().find(|&p| idx[p] < basket.len() - size + p) else { break };
            idx[pos] += 1;
            for q in pos + 1..size {
                idx[q] = idx[q - 1] + 1;
            }
        }
    }
    Some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unambiguous_for_any_text() {
        // Lists that a separator-joined key would confuse.
        let pairs: [(&[&str], &[&str]); 4] = [
            (&["a\u{1f}b"], &["a", "b"]),
            (&["a,b"], &["a", "b"]),
            (&["1:a"], &["1", "a"]),
            (&["ab", ""], &["a", "b"]),
        ];
        for (x, y) in pairs {
            assert_ne!(rule_key(x), rule_key(y), "{x:?} vs {y:?}");
        }
        assert_eq!(rule_key(&["é", "ab"]), "1:é2:ab");
    }

    #[test]
    fn subsets_cover_every_combination_up_to_max() {
        let basket: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let mut keys = subset_keys(&basket, 2, 100, usize::MAX).expect("6 keys");
        keys.sort();
        let mut expected: Vec<String> =
            [&["a"][..], &["b"], &["c"], &["a", "b"], &["a", "c"], &["b", "c"]].iter().map(|s| rule_key(s)).collect();
        expected.sort();
        assert_eq!(keys, expected);
        // All seven subsets or none: never a part.
        assert_eq!(subset_keys(&basket, 3, 7, usize::MAX).map(|k| k.len()), Some(7));
        assert_eq!(subset_keys(&basket, 3, 6, usize::MAX), None);
        // The byte budget stops it early, whatever the limit.
        let long: Vec<String> = (0..1000).map(|i| format!("{i:0>200}")).collect();
        assert_eq!(subset_keys(&long, 31, 100_000, 1 << 20), None);
    }

    #[test]
    fn items_text_is_one_unambiguous_line() {
        // The same as rar.items_text in tests/pg_regress/expected/16_names.out.
        assert_eq!(
            items_text(&["  KEY FOB , BACK DOOR ", "MUG \"HOME\"", "plain"]),
            "\"KEY FOB , BACK DOOR\", \"MUG \"\"HOME\"\"\", plain"
        );
        assert_eq!(
            items_text(&["ROSES REGENCY TEACUP AND SAUCER ", "two\nlines"]),
            "ROSES REGENCY TEACUP AND SAUCER, \"two\nlines\""
        );
        assert_eq!(items_text::<&str>(&[]), "");
    }
}
