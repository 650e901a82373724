//! The SQL surface of the extension: one file per function family. A file
//! here uses the plumbing (`crate::*`) and the core, never another file here.
//!
//! | function | file |
//! | --- | --- |
//! | `rar_mine` | [`mine`] (exact; neural and hybrid rules in `crate::neural`) |
//! | `rar_rules_agg` (and `rar.baskets`, `rar.baskets_state`) | [`aggregate`] |
//! | `rar_mine_segments` | [`segments`] |
//! | `rar.shard_itemsets`, `rar.shard_counts` (run on Citus shards by `crate::distributed`) | [`shards`] |
//! | `rar_clean`, `rar_restore`, `rar_normalize_item` | [`clean`] |
//! | `rar_split` (and `rar_split_bucket` in `sql/bootstrap.sql`; splits are read by `crate::splits`) | [`split`] |
//! | `rar_track_changes`, `rar_basket_cache` (the cache itself is `crate::basket_cache`) | [`track`] |
//! | `rar_profile` | [`profile`] |
//! | `rar_recommend` | [`recommend`] |
//! | `rar_evaluate` | [`evaluate`] |
//! | `rar_encode` | [`encode`] |
//! | `rar_rules_over_time` | [`trend`] |
//! | `rar_train` (and, in `sql/bootstrap.sql`, `rar_deploy`, `rar_rollback`, `rar.training`) | [`train`] |
//! | `rar_columns`, `rar_explain`, `rar_plot` (and, in `sql/rulesets.sql`, `rar_register`, `rar_unregister`, `rar_refresh`, `rar_diff`, the views) | [`rulesets`] |

pub mod aggregate;
pub mod basket_state;
pub mod clean;
pub mod encode;
pub mod evaluate;
pub mod mine;
pub mod profile;
pub mod recommend;
pub mod rulesets;
pub mod segments;
pub mod shards;
pub mod split;
pub mod track;
pub mod train;
pub mod trend;
