//! `rar`: retail association rules inside PostgreSQL.
//!
//! # Layout
//! - `crates/rar-core`: the pure Rust core (baskets, mining, rules,
//!   measures); no PostgreSQL, reached by plain `cargo test`.
//! - [`api`]: every SQL function of the extension, one file per function
//!   family. This is the SQL surface; the rest is internal.
//! - [`sources`]: the one naming rule: what a `source` argument names (a
//!   registered source or a table), for every function.
//! - [`relation`]: finding a source relation's basket and item columns.
//! - [`reader`]: streaming a relation's rows into compact baskets via SPI.
//! - [`basket_cache`]: the baskets a session keeps between calls on a
//!   table `rar_track_changes` tracks (`sql/tracking.sql`).
//! - [`distributed`]: counting itemsets on the shards of a Citus table
//!   (two rounds, through `api::shards` on each shard).
//! - [`progress`]: what a long call is doing, for `rar.progress`.
//! - [`splits`]: recorded and default train/validation/test splits.
//! - [`neural`]: rules read off a trained model (`rar_mine(method => 'neural' | 'hybrid')`).
//! - [`model_lib`]: loading the libtorch model library (`crates/rar-model`)
//!   on first use, so that mining backends never map libtorch.
//! - [`compat`]: 0.1.0's C symbols, kept until `ALTER EXTENSION rar UPDATE`.
//! - [`error`]: the one place where errors become SQL errors (SQLSTATE,
//!   message, detail, hint).
//! - [`gucs`]: the `rar.*` settings.
//! - `sql/bootstrap.sql`: the catalog schema `rar` (cleaning log, splits,
//!   encodings) and who may read and write it, created first by `CREATE
//!   EXTENSION`; `sql/models.sql` the model registry and tuning;
//!   `sql/rulesets.sql` sources, rule sets and the BI views;
//!   `sql/lifecycle.sql` the DROP guard. SECURITY.md says who may do what.

use pgrx::prelude::*;

pub mod api;
pub mod args;
pub mod basket_cache;
pub mod bindings;
pub mod compat;
pub mod distributed;
pub mod error;
pub mod gucs;
pub mod hierarchy;
pub mod history;
pub mod lifecycle;
pub mod model_lib;
pub mod neural;
pub mod progress;
pub mod reader;
pub mod relation;
pub mod sources;
pub mod spi;
pub mod splits;
pub mod srf;

// The catalog schema `rar` and its tables, before everything else.
::pgrx::extension_sql_file!("../sql/bootstrap.sql", name = "bootstrap", bootstrap);
// rar_mine, whose rows go straight into the result (see `srf`).
::pgrx::extension_sql_file!("../sql/mine.sql", name = "mine", requires = ["bootstrap"]);
// Change tracking for the baskets sessions keep (see `basket_cache`).
::pgrx::extension_sql_file!("../sql/tracking.sql", name = "tracking", requires = ["bootstrap"]);
// rar.basket_state and rar.baskets_shared, what rar_mine reads a Citus
// table through (see `api::basket_state`).
::pgrx::extension_sql_file!("../sql/basket_state.sql", name = "basket_state", requires = ["bootstrap"]);
// The model registry, deployment and tuning.
::pgrx::extension_sql_file!("../sql/models.sql", name = "models", requires = ["bootstrap"]);
// The guard on DROP EXTENSION.
::pgrx::extension_sql_file!("../sql/lifecycle.sql", name = "lifecycle", requires = ["models"]);
// Rule sets, the refresh procedure and the BI views.
::pgrx::extension_sql_file!(
    "../sql/rulesets.sql",
    name = "rulesets",
    requires = ["lifecycle", api::rulesets::rar::may_read_set, api::rulesets::rar::may_manage_set]
);
// The trend of each rule over the refreshes of its source.
::pgrx::extension_sql_file!(
    "../sql/trends.sql",
    name = "trends",
    requires = ["rulesets", api::trend::rar::confidence_change_p]
);
// SQL functions whose source argument is resolved before their pinned body
// runs (rar_tune, rar_rollback).
::pgrx::extension_sql_file!(
    "../sql/names.sql",
    name = "names",
    requires = ["rulesets", sources::rar::source_name, sources::rar::relation_of_sql, sources::rar::resolved_name]
);
// Help for \df+ and \d+ on everything above: last.
::pgrx::extension_sql_file!("../sql/comments.sql", name = "comments", finalize);

::pgrx::pg_module_magic!(name, version);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // pgrx puts a Rust backtrace into the DETAIL of every error raised while
    // Rust code runs when RUST_BACKTRACE is set in the server's environment;
    // users should see PostgreSQL's plain message. This runs before any
    // thread of ours exists.
    // SAFETY: no other thread of this process reads the environment yet.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    gucs::init();
    basket_cache::init();
    bindings::init();
    api::aggregate::init();
    rar_core::itemsets::set_thread_start(gucs::block_signals);
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
