//! `rar_train`: trains a basket model on a table's training split, inside
//! the backend, and stores it in the registry `rar.models`.
//!
//! The work is done by the model library (`crates/rar-model`), loaded only
//! here. Progress goes to this backend's activity (visible in
//! `pg_stat_activity` and the view `rar.training` from any session) and,
//! once per epoch, to a NOTICE. A cancel or timeout stops training at the
//! next batch; nothing is written unless training finishes.

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr, CString};

use pgrx::prelude::*;
use pgrx::JsonB;
use rar_core::layout::Layout;
use rar_core::model_protocol::ModelError;
use rar_core::vocab::{encode, vocabulary};
use serde_json::{json, Value};

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::report_activity;
use crate::spi::pin_search_path;
use crate::splits;
use crate::{gucs, history, model_lib, reader, relation, sources};

struct ProgressState {
    label: String,
    /// The error PostgreSQL raised while processing interrupts in the
    /// callback (a cancel, a timeout), raised again once training returns.
    interrupt: Option<Box<dyn std::any::Any + Send>>,
}

/// Called by the library after every batch, on this thread. Interrupts are
/// processed here, as anywhere in PostgreSQL; an error they raise (cancel,
/// timeout) is caught before it can unwind into the library, training is
/// told to stop, and the error is raised again when the library returns.
extern "C" fn on_progress(user: *mut c_void, json: *const c_char) -> i32 {
    // SAFETY: `user` is the ProgressState of the running rar_train call.
    let state = unsafe { &mut *(user as *mut ProgressState) };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the library passes a NUL-terminated string that lives for the call.
        let text = unsafe { CStr::from_ptr(json) }.to_string_lossy();
        let p: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let f = |k: &str| p[k].as_f64().unwrap_or(0.0);
        let valid = &p["valid"];
        let val = if valid.is_object() {
            format!(", validation recall@10 {:.4}", valid["recall_at_10"].as_f64().unwrap_or(0.0))
        } else {
            String::new()
        };
        let line = format!(
            "epoch {}/{}, batch {}/{}, train loss {:.5}{val}, about {:.0} s left",
            f("epoch"),
            f("epochs"),
            f("batch"),
            f("batches"),
            f("train_loss"),
            f("eta_seconds")
        );
        report_activity(&format!("rar_train: {}, {line}", state.label));
        if valid.is_object() {
            pgrx::notice!("rar_train: {line}");
        }
        check_for_interrupts!();
    }));
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            state.interrupt = Some(e);
            1
        }
    }
}

fn train_error(e: ModelError, relation: &str) -> RarError {
    match e {
        ModelError::Config { name, value, expected } => RarError::ModelSetting { name, value, expected },
        ModelError::NoCuda => RarError::NoCuda,
        ModelError::TooLarge { needed, limit } => RarError::ModelTooLarge { needed, limit },
        ModelError::TooFewBaskets { train, valid } => {
            RarError::TooFewBaskets { relation: relation.to_string(), train, valid }
        }
        ModelError::Cancelled => RarError::Torch { message: "training was stopped".into() },
        ModelError::Torch { message } => RarError::Torch { message },
    }
}

/// Trains a `model` ('mlp', 'autoencoder' or 'transformer', or 'gru' with
/// `customer_column` and `time_column`: the sequence model over customers'
/// earlier baskets) on `source`'s training split and stores it as a new
/// version in `rar.models`; the first model of a source is deployed.
/// `params` overrides the hyperparameters (see the README); `rar.device`
/// gives the default device.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe, name = "rar_train")]
pub fn train(
    source: Option<&str>,
    model: default!(Option<&str>, "'autoencoder'"),
    params: default!(Option<crate::args::Json>, "'{}'"),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    customer_column: default!(Option<&str>, "NULL"),
    time_column: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(model_id, i64),
        name!(version, i32),
        name!(model, String),
        name!(device, String),
        name!(epochs, i64),
        name!(best_epoch, i64),
        name!(recall_at_10, f64),
        name!(ndcg_at_10, f64),
        name!(popularity_recall_at_10, f64),
        name!(popularity_ndcg_at_10, f64),
        name!(valid_loss, f64),
        name!(baskets_per_second, f64),
        name!(seconds, f64),
        name!(deployed, bool),
    ),
> {
    let model = required("model", "'autoencoder'", model);
    let sequence = match (model, customer_column, time_column) {
        ("gru", Some(c), Some(t)) => Some((c, t)),
        ("gru", _, _) => RarError::ConflictingOptions {
            message: "the sequence model 'gru' reads each customer's earlier baskets: it needs customer_column and time_column",
            hint: "Name the columns of the customer and of the time of each line, for example rar_train('sales', 'gru', customer_column => 'customer_id', time_column => 'sold_at').",
        }
        .raise(),
        (_, None, None) => None,
        _ => RarError::ConflictingOptions {
            message: "customer_column and time_column are read only by the sequence model 'gru'",
            hint: "Leave them out, or train model 'gru'.",
        }
        .raise(),
    };
    let target = sources::relation_of("source", source);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe(target.relation, "rar_train");
    let _pinned = pin_search_path();
    src.check_manage("train models");
    let mut cfg = match params.map(|p| p.0).unwrap_or_else(|| json!({})) {
        Value::Object(m) => m,
        other => RarError::ModelSetting {
            name: "params".into(),
            value: other.to_string(),
            expected: "a jsonb object".into(),
        }
        .raise(),
    };
    cfg.insert("model".into(), json!(model));
    cfg.entry("device").or_insert_with(|| json!(gucs::device()));
    cfg.insert("memory_limit".into(), json!(gucs::memory_limit_bytes()));
    let cfg = Value::Object(cfg);
    let lib = model_lib::get().or_raise();
    if let Some(e) = lib.check(&cfg.to_string()) {
        train_error(e, "").raise();
    }

    if cfg["device"] == "auto" && !lib.cuda_available() {
        pgrx::notice!("rar_train: no GPU is available to this server; training on the CPU");
    }

    let layout = src.layout(tid_column, item_column).or_raise();
    let tid = match &layout {
        Layout::Long { tid, .. } | Layout::Baskets { tid: Some(tid), .. } => tid.clone(),
        Layout::Baskets { tid: None, .. } => RarError::ConflictingOptions {
            message: "rar_train needs a basket id column to split the baskets",
            hint: "Name it with tid_column.",
        }
        .raise(),
    };
    let (the_split, split_name) = splits::for_source(&src, &tid);
    let memory = gucs::memory_limit_bytes();
    // The sequence model reads each basket with its customer and time, set
    // by set; the others read baskets alone (through the basket cache).
    let mut customers = sequence.map(|(customer, time)| {
        history::customer_column(&src, customer);
        src.time_column(time, "time of a basket", "of type date, timestamp or timestamptz");
        let Layout::Long { item, .. } = &layout else {
            RarError::ConflictingOptions {
                message: "the sequence model 'gru' needs a long-form source (one row per basket and item)",
                hint: "Name the basket and item columns with tid_column and item_column, or unnest the item array in a view.",
            }
            .raise()
        };
        // A customer is neither the item nor the basket: its history would be
        // one basket.
        for (role, columns) in
            [("items", vec![item.clone()]), ("basket id", src.basket_column_names(&tid)), ("time", vec![time.to_string()])]
        {
            if columns.iter().any(|c| c == customer) {
                RarError::SameColumn { column: customer.to_string(), roles: ["customer", role] }.raise();
            }
        }
        let mut budget = history::Budget { limit: memory, bytes: 0, lines: 0 };
        let sets = ["train", "validation"].map(|set| {
            history::read_set(&src, &tid, item, customer, time, &the_split, set, &mut budget).or_raise()
        });
        // Without any time, a customer's baskets follow in the order of
        // their ids: said, as it is rarely what was meant.
        let rows = sets.iter().flatten();
        if rows.clone().any(|r| r.customer.is_some()) && rows.clone().all(|r| r.time.is_none()) {
            pgrx::notice!(
                "rar_train: no basket of {} has a time in column \"{time}\": each customer's earlier baskets are taken in the order of their ids",
                src.display
            );
        }
        (sets, budget)
    });
    let ((train_b, stats), (valid_b, _)) = match &customers {
        Some(([train, valid], _)) => (history::baskets(train), history::baskets(valid)),
        None => (
            reader::read_baskets(&src, &layout, Some(splits::filter(&src, &the_split, "train")), memory, true)
                .or_raise(),
            reader::read_baskets(&src, &layout, Some(splits::filter(&src, &the_split, "validation")), memory, true)
                .or_raise(),
        ),
    };
    let min_count = cfg["min_item_count"].as_u64().unwrap_or(5);
    let max_vocab = cfg["max_vocab"].as_u64().unwrap_or(5000) as usize;
    let (vocab, counts) = vocabulary(&train_b, min_count, max_vocab);
    if vocab.len() < 2 {
        RarError::TooFewItems { relation: src.display.clone(), items: vocab.len(), min_count }.raise();
    }
    let index: HashMap<&str, u32> = vocab.iter().enumerate().map(|(k, v)| (v.as_str(), k as u32)).collect();
    // With customers, the baskets go over in the order of their rows, which
    // the histories name.
    let (history_parts, (t_off, t_items), (v_off, v_items)) = match &mut customers {
        Some((sets, budget)) => {
            let max = cfg["history"].as_i64().unwrap_or(rar_core::history::DEFAULT_HISTORY) as usize;
            let h = history::Encoded::new(sets, &index, max, budget).or_raise();
            let (t, v) = (h.set(0), h.set(1));
            (Some(h), t, v)
        }
        None => (None, encode(&train_b, &index), encode(&valid_b, &index)),
    };
    let history_arrays = history_parts.as_ref().map(|h| h.arrays());
    let lines = train_b.lines() + valid_b.lines() + stats.null_lines;
    let train_checksum = format!("{:016x}", train_b.checksum());

    let mut state = ProgressState { label: format!("{model} on {}", src.display), interrupt: None };
    report_activity(&format!("rar_train: {}, starting", state.label));
    let config = CString::new(cfg.to_string()).unwrap_or_default();
    let (mut report_ptr, mut weights_ptr, mut weights_len): (*mut c_char, *mut u8, u64) =
        (std::ptr::null_mut(), std::ptr::null_mut(), 0);
    // SAFETY: the arrays outlive the call; the library copies what it keeps.
    let status = unsafe {
        (lib.train)(
            config.as_ptr(),
            vocab.len() as u32,
            t_off.as_ptr(),
            t_items.as_ptr(),
            train_b.len() as u64,
            v_off.as_ptr(),
            v_items.as_ptr(),
            valid_b.len() as u64,
            counts.as_ptr(),
            on_progress,
            &mut state as *mut ProgressState as *mut c_void,
            &mut report_ptr,
            &mut weights_ptr,
            &mut weights_len,
            history_arrays.as_ref().map_or(std::ptr::null(), |h| h as *const _),
        )
    };
    // SAFETY: both come from the call above and are freed once, below.
    let raw = unsafe { CStr::from_ptr(report_ptr) }.to_string_lossy().into_owned();
    let report: Value = if status == 0 { serde_json::from_str(&raw).unwrap_or(Value::Null) } else { Value::Null };
    // SAFETY: the library returned `weights_len` bytes at `weights_ptr` (or 0 bytes).
    let weights: Vec<u8> = unsafe { std::slice::from_raw_parts(weights_ptr, weights_len as usize) }.to_vec();
    // SAFETY: freed once, with the library's own allocator.
    unsafe { (lib.free)(report_ptr, weights_ptr, weights_len) };
    // SAFETY: debug_query_string is this backend's current statement.
    unsafe { pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_RUNNING, pg_sys::debug_query_string) };
    if let Some(e) = state.interrupt.take() {
        std::panic::resume_unwind(e);
    }
    if status != 0 {
        train_error(ModelError::parse(&raw), &src.display).raise();
    }

    let m = &report["metrics"];
    let p = &report["popularity"];
    // Versions are numbered per table: one new model of a table at a time.
    // First the rows of its models (only the table's owner can lock them;
    // as rar_deploy does, so that a transaction that deployed a model and
    // then trains does not wait on a training that waits on it), then,
    // for a table without models yet, a lock of the table's own: an object
    // lock on its pg_class entry, which no SQL statement takes, so nobody
    // else can hold it or be held up by it; both kept to the end of the
    // transaction. At READ COMMITTED the statement below then sees the model
    // a concurrent training saved; a snapshot older than that model
    // (REPEATABLE READ) ends in a serialization failure, never in a
    // duplicate version.
    crate::spi::exec("SELECT 1 FROM rar.models WHERE source = $1 FOR NO KEY UPDATE", &[src.oid.into()]).or_raise();
    // SAFETY: a lock of the transaction, released by PostgreSQL at its end.
    unsafe {
        pg_sys::LockDatabaseObject(pg_sys::RelationRelationId, src.oid, 0, pg_sys::ExclusiveLock as pg_sys::LOCKMODE)
    };
    // The fingerprint has a column from 0.2.0 on (a 0.1.0 catalog, before
    // ALTER EXTENSION rar UPDATE, trains without it).
    let fingerprint = crate::spi::catalog_has_column("models", "train_checksum").or_raise();
    let (checksum_column, checksum_value) = if fingerprint { (", train_checksum", ", $14") } else { ("", "") };
    // So are the columns it read (the sequence model's customer and time).
    let with_columns = crate::spi::catalog_has_column("models", "read_columns").or_raise();
    let (columns_column, columns_value) = if with_columns {
        (", read_columns", format!(", ${}", 14 + fingerprint as usize))
    } else {
        ("", String::new())
    };
    let read_columns = {
        let tid = match &layout {
            Layout::Long { tid, .. } => Some(tid.as_str()),
            Layout::Baskets { tid, .. } => tid.as_deref(),
        };
        let mut c = json!({"tid_column": tid, "item_column": layout.item_column()});
        if let Some((customer, time)) = sequence {
            c["customer_column"] = json!(customer);
            c["time_column"] = json!(time);
        }
        c
    };
    let row = Spi::connect_mut(|client| {
        let mut args = vec![
                src.oid.into(),
                model.to_string().into(),
                JsonB(cfg.clone()).into(),
                vocab.clone().into(),
                weights.as_slice().into(),
                JsonB(report["curves"].clone()).into(),
                JsonB(json!({"validation": m, "popularity": p, "best_epoch": report["best_epoch"], "epochs_run": report["epochs_run"],
                             "parameters": report["parameters"], "baskets_per_second": report["baskets_per_second"]}))
                .into(),
                report["device"].as_str().unwrap_or("cpu").to_string().into(),
                report["seconds"].as_f64().unwrap_or(0.0).into(),
                (lines as i64).into(),
                report["train_baskets"].as_i64().unwrap_or(0).into(),
                report["valid_baskets"].as_i64().unwrap_or(0).into(),
                split_name.to_string().into(),
            ];
        if fingerprint {
            args.push(train_checksum.clone().into());
        }
        if with_columns {
            args.push(JsonB(read_columns.clone()).into());
        }
        let t = client.update(
            &format!(
                "INSERT INTO rar.models (source, version, architecture, params, vocab, weights, curves, metrics, device, seconds, \
                                         lines, train_baskets, valid_baskets, split, deployed, deployed_at{checksum_column}{columns_column}) \
                 SELECT $1, coalesce((SELECT max(version) FROM rar.models WHERE source = $1), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, \
                        $10, $11, $12, $13, d, CASE WHEN d THEN pg_catalog.now() END{checksum_value}{columns_value} \
                 FROM (SELECT NOT EXISTS (SELECT 1 FROM rar.models WHERE source = $1 AND deployed) AS d) s \
                 ON CONFLICT DO NOTHING \
                 RETURNING model_id, version, deployed"
            ),
            None,
            &args,
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((
            r.get::<i64>(1)?.unwrap_or(0),
            r.get::<i32>(2)?.unwrap_or(0),
            r.get::<bool>(3)?.unwrap_or(false),
        )))
    })
    .or_raise()
    // Only a row written around the lock (an INSERT into rar.models by hand)
    // takes the version or the deployment first.
    .unwrap_or_else(|| RarError::ModelSavedConcurrently { relation: src.display.clone() }.raise());
    // The table's first model: deployed by training, and recorded so (when
    // the catalog has the history: not between new binaries and
    // ALTER EXTENSION rar UPDATE from 0.1.0).
    let history = crate::spi::one::<bool>("SELECT pg_catalog.to_regclass('rar.deployments') IS NOT NULL", &[])
        .or_raise()
        .unwrap_or(false);
    if row.2 && history {
        crate::spi::exec(
            "INSERT INTO rar.deployments (source, model_id, replaced, action) VALUES ($1, $2, NULL, 'train')",
            &[src.oid.into(), row.0.into()],
        )
        .or_raise();
    }
    let num = |v: &Value| v.as_f64().unwrap_or(0.0);
    TableIterator::once((
        row.0,
        row.1,
        model.to_string(),
        report["device"].as_str().unwrap_or("cpu").to_string(),
        report["epochs_run"].as_i64().unwrap_or(0),
        report["best_epoch"].as_i64().unwrap_or(0),
        num(&m["recall_at_10"]),
        num(&m["ndcg_at_10"]),
        num(&p["recall_at_10"]),
        num(&p["ndcg_at_10"]),
        num(&m["loss"]),
        num(&report["baskets_per_second"]),
        num(&report["seconds"]),
        row.2,
    ))
}

/// The trials of a hyperparameter search, as jsonb objects: every
/// combination of `grid` (`search => 'grid'`) or `trials` of them drawn with
/// `seed` (`search => 'random'`). Used by `rar_tune`.
#[pg_extern(immutable, parallel_safe)]
fn rar_tune_plan(
    grid: Option<crate::args::Json>,
    search: default!(Option<&str>, "'grid'"),
    trials: default!(Option<i32>, 10),
    seed: default!(Option<i64>, 0),
) -> SetOfIterator<'static, JsonB> {
    let grid = required("grid", "none", grid);
    let search = required("search", "'grid'", search);
    let trials = required("trials", "10", trials);
    let seed = required("seed", "0", seed);
    let Value::Object(g) = grid.0 else {
        RarError::ModelSetting {
            name: "grid".into(),
            value: grid.0.to_string(),
            expected: "a jsonb object of lists, such as '{\"hidden\": [64, 128]}'".into(),
        }
        .raise()
    };
    let random = match search {
        "grid" => None,
        "random" if trials >= 1 => Some((trials as usize, seed as u64)),
        "random" => RarError::InvalidOption {
            name: "trials",
            value: trials.to_string(),
            expected: "a number of trials of at least 1",
        }
        .raise(),
        other => {
            RarError::InvalidOption { name: "search", value: other.into(), expected: "'grid' and 'random'" }.raise()
        }
    };
    // Every hyperparameter needs a value to try: an empty list would make
    // a trial without it (null), a list of none to choose from.
    if let Some((name, _)) = g.iter().find(|(_, v)| v.as_array().is_some_and(Vec::is_empty)) {
        RarError::ModelSetting {
            name: name.clone(),
            value: "[]".into(),
            expected: "a list of at least one value to try".into(),
        }
        .raise()
    }
    // A value to try is a number, a string or a boolean, and memory_limit is
    // not a hyperparameter (rar.memory_limit sets it): refused here, not at
    // the trial that reaches it, after the trials before it ran.
    for (name, values) in &g {
        let list = values.as_array().cloned().unwrap_or_else(|| vec![values.clone()]);
        let bad = list.iter().find(|v| !(v.is_number() || v.is_string() || v.is_boolean()));
        if name == "memory_limit" || bad.is_some() {
            RarError::ModelSetting {
                name: name.clone(),
                value: bad.map_or_else(|| values.to_string(), Value::to_string),
                expected: if name == "memory_limit" {
                    "no value: set rar.memory_limit instead".into()
                } else {
                    "numbers, strings or booleans to try".into()
                },
            }
            .raise()
        }
    }
    // Each trial holds one value of each hyperparameter: at most the grid's
    // text (four times that as JSON values), for as many trials as the plan
    // may hold. Bounded before any is made.
    let trials_at_most = match random {
        Some((n, _)) => n as u64,
        None => g.values().map(|v| v.as_array().map_or(1, |a| a.len() as u64)).fold(1u64, u64::saturating_mul),
    }
    .min(rar_core::tune::MAX_TRIALS);
    let needed =
        trials_at_most.saturating_mul(serde_json::to_string(&g).map_or(0, |t| t.len()) as u64).saturating_mul(4);
    let limit = crate::gucs::memory_limit_bytes();
    if needed > limit {
        RarError::PlanTooLarge { needed, limit_bytes: limit }.raise();
    }
    let plan = rar_core::tune::plan(&g, random).unwrap_or_else(|e| {
        RarError::TooMany {
            what: "trials",
            // The product of the grid's sizes saturates: it is at least that.
            requested: if e.trials == u64::MAX { format!("at least {}", e.trials) } else { e.trials.to_string() },
            limit: rar_core::tune::MAX_TRIALS,
            hint: if random.is_some() {
                "Ask for fewer trials: a random search draws at most as many as its grid holds, and at most the limit."
            } else {
                "Give fewer values per hyperparameter, or use search => 'random' with a number of trials."
            },
        }
        .raise()
    });
    SetOfIterator::new(plan.into_iter().map(|m| JsonB(Value::Object(m))))
}
