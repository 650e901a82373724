//! Hyperparameter search plans: every combination of a grid, or a seeded
//! random sample of them.

use serde_json::{Map, Value};

/// Most trials one search may plan: each trial trains a model, so even
/// this many is days of work; more is a mistake, refused before anything
/// is allocated.
pub const MAX_TRIALS: u64 = 1000;

/// A plan with more trials than [`MAX_TRIALS`]; `trials` is the number asked
/// for (the size of the grid, saturated at `u64::MAX`).
#[derive(Debug, Clone, PartialEq)]
pub struct TooManyTrials {
    pub trials: u64,
}

/// The trials of a search: `grid` maps each hyperparameter to a list of
/// values (a single value counts as a list of one). `random` picks `trials`
/// distinct combinations with a seeded generator; otherwise all of them, in
/// order (the last key varies fastest). Keys come out sorted; a value given
/// twice for one key is tried once (each trial trains a model). A grid search
/// of more than [`MAX_TRIALS`] combinations, or a random one asking for more
/// trials, is refused.
pub fn plan(grid: &Map<String, Value>, random: Option<(usize, u64)>) -> Result<Vec<Map<String, Value>>, TooManyTrials> {
    let mut keys: Vec<&String> = grid.keys().collect();
    keys.sort();
    let lists: Vec<Vec<Value>> = keys
        .iter()
        .map(|k| match &grid[*k] {
            Value::Array(a) if !a.is_empty() => {
                // By their JSON text (a hash set: a random search may draw
                // from lists of any length).
                let mut seen = std::collections::HashSet::with_capacity(a.len());
                a.iter().filter(|v| seen.insert(v.to_string())).cloned().collect()
            }
            Value::Array(_) => vec![Value::Null],
            v => vec![v.clone()],
        })
        .collect();
    let total = lists.iter().try_fold(1u64, |acc, l| acc.checked_mul(l.len() as u64)).unwrap_or(u64::MAX);
    let wanted = match random {
        None => total,
        Some((trials, _)) => (trials as u64).min(total),
    };
    if wanted > MAX_TRIALS {
        return Err(TooManyTrials { trials: wanted });
    }
    let total = total as usize;
    let nth = |mut n: usize| {
        let mut m = Map::new();
        for (k, list) in keys.iter().zip(&lists).rev() {
            m.insert((*k).clone(), list[n % list.len()].clone());
            n /= list.len();
        }
        m
    };
    Ok(match random {
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
    })
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
        let p = plan(&grid(), None).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(Value::Object(p[0].clone()), json!({"epochs": 3, "hidden": 64, "learning_rate": 0.001}));
        assert_eq!(Value::Object(p[5].clone()), json!({"epochs": 3, "hidden": 128, "learning_rate": 0.01}));
    }

    #[test]
    fn random_search_is_seeded_and_distinct() {
        let a = plan(&grid(), Some((4, 1))).unwrap();
        assert_eq!(a, plan(&grid(), Some((4, 1))).unwrap());
        assert_eq!(a.len(), 4);
        for i in 0..a.len() {
            for j in i + 1..a.len() {
                assert_ne!(a[i], a[j]);
            }
        }
        assert_eq!(plan(&grid(), Some((50, 1))).unwrap().len(), 6);
    }

    #[test]
    fn a_value_given_twice_is_tried_once() {
        let g = json!({"hidden": [64, 64, 128, 64], "epochs": [3, 3]}).as_object().unwrap().clone();
        let p = plan(&g, None).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(Value::Object(p[1].clone()), json!({"epochs": 3, "hidden": 128}));
        assert_eq!(plan(&g, Some((10, 3))).unwrap().len(), 2);
    }

    #[test]
    fn huge_grids_are_refused_before_allocating() {
        // Ten keys of ten values: 10^10 combinations.
        let mut g = Map::new();
        for k in 0..10 {
            g.insert(format!("k{k}"), json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
        }
        assert_eq!(plan(&g, None), Err(TooManyTrials { trials: 10_000_000_000 }));
        // A random search draws at most MAX_TRIALS of them.
        assert_eq!(plan(&g, Some((MAX_TRIALS as usize, 7))).unwrap().len(), MAX_TRIALS as usize);
        assert!(plan(&g, Some((usize::MAX, 7))).is_err());
        // Products that overflow saturate and are refused.
        let mut h = Map::new();
        for k in 0..40 {
            h.insert(format!("k{k}"), json!([0, 1, 2, 3]));
        }
        assert!(plan(&h, None).is_err());
    }
}
