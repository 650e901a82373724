//! `rar-core`: the part of the `rar` PostgreSQL extension that needs no
//! PostgreSQL. Plain `cargo test -p rar-core` and `cargo bench -p rar-core`
//! reach everything here.
//!
//! # Layout
//! - [`baskets`]: interning of basket ids and item names into compact
//!   integers, and the baskets themselves in compressed sparse (CSR) form.
//! - [`cache`]: values kept by bytes, least recently used out first (the
//!   baskets a session keeps between calls).
//! - [`params`]: the mining thresholds, validated in one place.
//! - [`partial`]: partial baskets of one scan (a parallel worker, a shard,
//!   a group), merged and shipped as bytes: the state of the aggregates.
//! - [`itemsets`]: frequent itemset mining (Eclat over sorted tid-lists,
//!   with a triangular pair-count matrix for the second level). Itemsets are
//!   kept in a prefix tree so that every subset's count is one walk away.
//! - [`intersect`]: sorted-list intersection, the inner loop of the miner.
//! - [`rules`]: association rules read off the itemset tree as it grows, the
//!   rule budget, the measures and the documented output order.
//! - [`layout`]: which columns of a source hold baskets and items.
//! - [`probe`]: rules proposed by probing a trained model (Aerial+ style),
//!   and counted exactly on the baskets.
//! - [`shards`]: rules of a table whose baskets lie on several shards,
//!   counted on the shards in two rounds (SON).
//! - [`rule`]: the one owned shape of a rule (rows, JSON, evaluation).
//! - [`significance`]: Fisher's exact test of a rule and the corrections
//!   for the number of rules (Holm, Bonferroni).
//! - [`trend`]: rules counted window by window, and the test of a change.
//! - [`evaluate`]: held-out metrics of rule sets and recommenders.
//! - [`profile`]: basket-size and item statistics of a sales table.
//! - [`text`]: item text normalization and mojibake repair (cleaning).
//! - [`explain`]: rules as English sentences.
//! - [`plot`]: SVG pictures of rules (scatter, graph).
//! - [`tune`]: hyperparameter search plans (grid, random), capped.
//! - [`names`]: names of the tables and views made beside a user's table.
//! - [`vocab`]: the vocabulary of a basket model, baskets encoded over it.
//! - [`model_protocol`]: the errors the model library reports across its C ABI.
//! - [`keys`]: unambiguous lookup keys of item lists (stored rules).
//! - [`error`]: the one error type of the core.
//!
//! # Example
//! ```
//! use rar_core::{baskets::BasketsBuilder, params::MineParams, rules::mine_rules};
//! let mut b = BasketsBuilder::default();
//! for (basket, item) in [("1", "bread"), ("1", "butter"), ("2", "bread"), ("2", "butter"), ("3", "milk")] {
//!     b.push(basket, item);
//! }
//! let baskets = b.build();
//! let params = MineParams { min_support: 0.5, min_confidence: 0.9, min_length: 2, ..MineParams::default() };
//! let rules = mine_rules(baskets, &params, &mut || {}).unwrap();
//! assert_eq!(rules.len(), 2); // bread => butter and butter => bread
//! let row = rules.row(0);
//! assert_eq!((row.antecedent, row.consequent), (vec!["bread"], vec!["butter"]));
//! assert_eq!(row.count, 2);
//! ```

pub mod baskets;
pub mod cache;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod hierarchy;
pub mod history;
pub mod intersect;
pub mod itemsets;
pub mod keys;
pub mod layout;
pub mod model_protocol;
pub mod names;
pub mod params;
pub mod partial;
pub mod plot;
pub mod probe;
pub mod profile;
pub mod rule;
pub mod rules;
pub mod shards;
pub mod significance;
pub mod text;
pub mod trend;
pub mod tune;
pub mod vocab;

pub use error::{DefaultsError, MineError};
