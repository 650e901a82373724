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

/// The keys of the subsets of `basket` (sorted, without duplicates) with 1
/// to `max` items, each subset in the basket's order; at most `limit` of
/// them, the smaller subsets first within each starting item.
pub fn subset_keys(basket: &[String], max: usize, limit: usize) -> Vec<String> {
    let mut keys = Vec::new();
    let mut stack: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new())];
    while let Some((start, chosen)) = stack.pop() {
        if !chosen.is_empty() {
            let items: Vec<&str> = chosen.iter().map(|&i| basket[i].as_str()).collect();
            keys.push(rule_key(&items));
            if keys.len() >= limit {
                break;
            }
        }
        if chosen.len() < max {
            for i in (start..basket.len()).rev() {
                let mut next = chosen.clone();
                next.push(i);
                stack.push((i + 1, next));
            }
        }
    }
    keys
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
        let mut keys = subset_keys(&basket, 2, 100);
        keys.sort();
        let mut expected: Vec<String> =
            [&["a"][..], &["b"], &["c"], &["a", "b"], &["a", "c"], &["b", "c"]].iter().map(|s| rule_key(s)).collect();
        expected.sort();
        assert_eq!(keys, expected);
        assert_eq!(subset_keys(&basket, 3, 4).len(), 4);
    }
}
