//! Hyperparameter search plans: every combination of a grid, or a seeded
//! random sample of them.

use serde_json::{Map, Value};

/// The trials of a search: `grid` maps each hyperparameter to a list of
/// values (a single value counts as a list of one). `random` picks `trials`
/// distinct combinations with a seeded generator; otherwise all of them, in
/// order (the last key varies fastest). Keys come out sorted.
pub fn plan(grid: &Map<String, Value>, random: Option<(usize, u64)>) -> Vec<Map<String, Value>> {
    let mut keys: Vec<&String> = grid.keys().collect();
    keys.sort();
    let lists: Vec<Vec<Value>> = keys
        .iter()
        .map(|k| match &grid[*k] {
            Value::Array(a) if !a.is_empty() => a.clone(),
            Value::Array(_) => vec![Value::Null],
            v => vec![v.clone()],
        })
        .collect();
    let total: usize = lists.iter().map(Vec::len).product();
    let nth = |mut n: usize| {
        let mut m = Map::new();
        for (k, list) in keys.iter().zip(&lists).rev() {
            m.insert((*k).clone(), list[n % list.len()].clone());
            n /= list.len();
        }
        m
    };
    match random {
        None => (0..total).map(nth).collect(),
        Some((trials, seed)) => {
            let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
            let mut picked: Vec<usize> = Vec::new();
            let mut tries = 0;
            while picked.len() < trials.min(total) && tries < 100_000 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let n = ((state >> 33) as usize) % total;
                if !picked.contains(&n) {
                    picked.push(n);
                }
                tries += 1;
            }
            picked.into_iter().map(nth).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grid() -> Map<String, Value> {
        json!({"hidden": [64, 128], "learning_rate": [0.001, 0.005, 0.01], "epochs": 3}).as_object().unwrap().clone()
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        let p = plan(&grid(), None);
        assert_eq!(p.len(), 6);
        assert_eq!(Value::Object(p[0].clone()), json!({"epochs": 3, "hidden": 64, "learning_rate": 0.001}));
        assert_eq!(Value::Object(p[5].clone()), json!({"epochs": 3, "hidden": 128, "learning_rate": 0.01}));
    }

    #[test]
    fn random_search_is_seeded_and_distinct() {
        let a = plan(&grid(), Some((4, 1)));
        assert_eq!(a, plan(&grid(), Some((4, 1))));
        assert_eq!(a.len(), 4);
        for i in 0..a.len() {
            for j in i + 1..a.len() {
                assert_ne!(a[i], a[j]);
            }
        }
        assert_eq!(plan(&grid(), Some((50, 1))).len(), 6);
    }
}
