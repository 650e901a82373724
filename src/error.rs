//! Errors of the extension and their one conversion into SQL errors.
//!
//! Every error the user can cause is a [`RarError`]; [`RarError::raise`]
//! turns it into an `ereport(ERROR)` with a proper SQLSTATE, a message in
//! PostgreSQL's style (lowercase, no final period), a DETAIL and a HINT.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use rar_core::{DefaultsError, MineError};

/// A number as PostgreSQL writes it: Rust's `inf` is `Infinity` there.
fn as_sql(value: &str) -> &str {
    match value {
        "inf" => "Infinity",
        "-inf" => "-Infinity",
        v => v,
    }
}

/// The HINT for a mining threshold out of its range, given to `rar_mine`
/// or in a source's defaults.
fn threshold_hint(name: &str) -> &'static str {
    match name {
        "min_support" => "Give min_support as a share of baskets, for example 0.01 for 1%.",
        "min_confidence" => "Give min_confidence as a share, for example 0.5 for 50%.",
        "min_lift" => "Give a min_lift of 0 to keep every rule, or 1 to keep rules above independence.",
        "max_length" | "min_length" => "Rules hold at least min_length and at most max_length items in all; 2 to 5 is usual.",
        "min_interest" => "Give min_interest as a ratio, for example 1.1 (the default) to keep rules 10% above what their ancestor rules predict, or 0 to keep all.",
        _ => "Give a value in the range above.",
    }
}

#[derive(Debug)]
pub enum RarError {
    Mine(MineError),
    /// A registered source's mining defaults a refresh could not use.
    Defaults(DefaultsError),
    /// A named column that the relation does not have.
    UndefinedColumn {
        function: &'static str,
        relation: String,
        column: String,
        columns: Vec<String>,
        /// Plausible basket and item columns, for the hint.
        suggestion: Box<(String, String)>,
    },
    /// A segment column that the relation does not have.
    UndefinedSegment {
        relation: String,
        column: String,
        columns: Vec<String>,
    },
    /// Basket and item columns not given and not detectable.
    ColumnsNotDetected {
        function: &'static str,
        relation: String,
        role: &'static str,
        candidates: Vec<String>,
        columns: Vec<String>,
        /// Plausible basket and item columns, for the hint.
        suggestion: Box<(String, String)>,
    },
    /// A column whose type cannot serve.
    WrongType {
        column: String,
        type_name: String,
        role: &'static str,
        expected: &'static str,
    },
    /// One column named for two roles (the basket id and the items, or
    /// the customer and one of them).
    SameColumn {
        column: String,
        roles: [&'static str; 2],
    },
    /// The baskets read so far outgrow `rar.memory_limit`.
    InputTooLarge {
        lines: usize,
        limit_bytes: u64,
    },
    /// The up-front estimate of a scan exceeds `rar.memory_limit`.
    WouldNotFit {
        lines: u64,
        baskets: u64,
        needed: u64,
        limit_bytes: u64,
    },
    /// A worker's or shard's partial state passes the 1 GB a value may hold.
    StateTooLarge {
        bytes: usize,
    },
    /// Bytes that are not a partial state of this version of rar.
    BadState {
        message: String,
    },
    /// A partial state whose baskets would pass `rar.memory_limit`.
    StateOverBudget {
        needed: u64,
        limit_bytes: u64,
    },
    /// Text that is not a `rar.basket_state` (not base64).
    BadStateText {
        message: String,
    },
    /// A request to `rar.shard_counts` that is not one rar_mine made.
    BadShardRequest {
        message: String,
        /// The text is not base64 (else its bytes are not a request).
        text: bool,
    },
    /// NULL given for an argument that needs a value.
    NullArgument {
        name: &'static str,
        default: &'static str,
    },
    /// The caller may not change a table that a function cleans in place.
    CannotModify {
        relation: String,
        user: String,
    },
    /// `rar_restore` on a table never cleaned.
    NoQuarantine {
        relation: String,
        quarantine: String,
    },
    /// Too many distinct values to one-hot encode as columns.
    TooManyValues {
        column: String,
        values: i64,
        limit: i64,
    },
    /// The model library could not be loaded.
    ModelLibrary {
        path: String,
        message: String,
    },
    /// A hyperparameter outside its range.
    ModelSetting {
        name: String,
        value: String,
        expected: String,
    },
    /// `device => 'cuda'` on a server without a GPU.
    NoCuda,
    /// The model and one batch would outgrow `rar.memory_limit`.
    ModelTooLarge {
        needed: u64,
        limit: u64,
    },
    /// Too few baskets of two items or more to train and validate.
    TooFewBaskets {
        relation: String,
        train: u64,
        valid: u64,
    },
    /// Too few items reach `min_item_count`.
    TooFewItems {
        relation: String,
        items: usize,
        min_count: u64,
    },
    /// An error inside libtorch.
    Torch {
        message: String,
    },
    /// No deployed model for a source, or the given model is not one of
    /// its table's.
    NoModel {
        source: String,
        model_id: Option<i64>,
    },
    /// None of a basket's items is known to the model.
    UnknownItems {
        source: String,
        items: usize,
    },
    /// A split set asked for on a table never split.
    NoSplit {
        relation: String,
    },
    /// Options that cannot go together, or a source of the wrong shape.
    ConflictingOptions {
        message: &'static str,
        hint: &'static str,
    },
    /// Something rar does not do, with what to do instead.
    Unsupported {
        message: &'static str,
        hint: &'static str,
    },
    /// An option with a value outside its documented set.
    InvalidOption {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A pattern given as the empty string, which matches every line.
    EmptyPattern {
        name: &'static str,
    },
    /// A statement run through SPI failed in a way PostgreSQL did not report
    /// itself (a type mismatch between a query and its reader: a bug).
    Spi {
        message: String,
    },
    /// The extension's catalog entry is missing (called during DROP EXTENSION).
    NotInstalled,
    /// A cleaning run whose figures do not add up (a bug): rolled back.
    LostRows {
        before: i64,
        after: i64,
        removed: i64,
    },
    /// A run of rar_clean that cannot be undone (out of order, or rows
    /// changed again since).
    CannotRestore {
        relation: String,
        run: i64,
        reason: String,
        hint: String,
    },
    /// A plain DROP EXTENSION while the catalog holds user work.
    DropWouldDelete {
        work: String,
        /// The statement that would drop the extension: `DROP EXTENSION`
        /// without CASCADE, or one that drops it along with other objects.
        by: &'static str,
    },
    /// A column with no value to encode.
    NoValues {
        column: String,
        relation: String,
    },
    /// A relation of a kind the function cannot take.
    WrongObject {
        display: String,
        what: &'static str,
        hint: &'static str,
    },
    /// A `source` argument that names neither a registered source nor a
    /// table or view.
    NoSuchSource {
        name: String,
    },
    /// A name that is a registered source of one table and names another.
    AmbiguousSource {
        name: String,
        source_table: String,
        table: String,
    },
    /// A name that is neither a registered source nor a registered table,
    /// given where a source is needed.
    UnknownSource {
        name: String,
    },
    /// A table no source is registered on, given where a source is needed.
    NotRegistered {
        name: String,
        table: String,
    },
    /// A table several sources are registered on, given where one is needed.
    SeveralSources {
        name: String,
        sources: Vec<String>,
    },
    /// One group's rules would pass the most a jsonb value may hold.
    JsonbTooLarge {
        rules: usize,
        bytes: u64,
    },
    /// A group's rules as jsonb would take more than `rar.memory_limit`
    /// to build.
    JsonOverBudget {
        rules: usize,
        needed: u64,
        limit_bytes: u64,
    },
    /// `rar_mine(level => ...)` on a source without a product hierarchy.
    NoHierarchy {
        source: String,
    },
    /// A level the source's hierarchy does not have.
    NoSuchLevel {
        level: String,
        source: String,
        levels: Vec<String>,
    },
    /// A temporary relation of the session with the name of a work table.
    TempNameTaken {
        name: &'static str,
    },
    /// Merged duplicate lines whose summed quantity the column cannot hold.
    QuantityOverflow {
        column: String,
        type_name: String,
        largest: String,
    },
    /// A hierarchy recorded with levels rar_hierarchy would refuse (a direct
    /// write to `rar.sources`).
    BadHierarchy {
        source: String,
    },
    /// A column of the lookup table dropped or renamed since rar_hierarchy.
    HierarchyColumnMissing {
        source: String,
        table: String,
        column: String,
    },
    /// A lookup table that passes `rar.memory_limit`.
    HierarchyTooLarge {
        source: String,
        rows: usize,
        limit_bytes: u64,
    },
    /// A hierarchy whose lookup table the caller may not read.
    HierarchyNotReadable {
        source: String,
        table: String,
    },
    /// A hierarchy whose lookup table was dropped.
    HierarchyDropped {
        source: String,
    },
    /// A registered source whose table was dropped.
    SourceTableDropped {
        name: String,
    },
    /// A relation OID that names no relation.
    NoSuchRelation {
        oid: u32,
    },
    /// The relation's definition changed while the call waited for its lock
    /// (made a view, a column's type changed): what was checked is not
    /// what a read would read.
    ChangedWhileLocking {
        relation: String,
    },
    /// A schema whose name rar's SQL uses to reach a relation it checked
    /// was renamed (another schema took the name) during the call.
    SchemaRenamed {
        schema: String,
        relation: String,
    },
    /// The extension's schema no longer has the name its install script
    /// gave it (`@extschema@`), by which rar's SQL names its functions.
    ExtensionSchemaRenamed {
        installed: String,
        now: String,
    },
    /// As [`RarError::SchemaRenamed`], by the calling transaction itself.
    SchemaRenamedHere {
        schema: String,
        relation: String,
    },
    /// A tuning plan whose trials would take more than `rar.memory_limit`.
    PlanTooLarge {
        needed: u64,
        limit_bytes: u64,
    },
    /// A `jsonb` value (an argument, or a row of rar's catalog) that
    /// serde_json cannot hold: a number beyond double precision, nesting
    /// deeper than 128 levels.
    BadJson {
        message: String,
    },
    /// A plot whose rules' labels would take more than `rar.memory_limit`.
    PlotTooLarge {
        source: String,
        needed: u64,
        limit_bytes: u64,
    },
    /// A change to what rar keeps about a table, by a role that does not own it.
    NotOwner {
        relation: String,
        action: &'static str,
        user: String,
    },
    /// Something derived from a table the caller may not read in full.
    NotReadable {
        relation: String,
    },
    /// A view named like the one rar_encode makes, owned by another role.
    ItemsViewNotOwned {
        view: String,
        relation: String,
    },
    /// A superuser changing a table a role without superuser owns.
    SuperuserOnUserTable {
        function: &'static str,
        relation: String,
        owner: String,
    },
    /// A column rar_encode would write that is not its own to write.
    ColumnExists {
        relation: String,
        column: String,
        why: &'static str,
    },
    /// An evaluation with no basket to learn from or to judge on.
    EmptySplit {
        relation: String,
        train: u64,
        split: String,
        held_out: u64,
    },
    /// Neural rules asked of a model trained on another item column.
    ModelOtherColumn {
        model_id: i64,
        trained: String,
        asked: String,
    },
    /// A column a model recorded reading (`rar.models.read_columns`) that
    /// its table no longer has.
    ModelColumnGone {
        model_id: i64,
        relation: String,
        column: String,
    },
    /// A superuser reading a view or foreign table a role without superuser owns.
    SuperuserReadsUserView {
        function: &'static str,
        relation: String,
        owner: String,
    },
    /// A superuser reading a table whose indexes, constraints or statistics
    /// call functions of a role's (the planner runs them).
    SuperuserRunsOwnerCode {
        function: &'static str,
        relation: String,
        owner: String,
    },
    /// A hierarchy lookup the owner of its source's table may not read.
    HierarchyNotReadableByOwner {
        source: String,
        table: String,
        owner: String,
    },
    /// A value read back of another type than rar wrote there.
    UnexpectedType {
        message: String,
    },
    /// Another transaction saved a model of the same table first, unseen by
    /// this transaction's snapshot (REPEATABLE READ or SERIALIZABLE).
    ModelSavedConcurrently {
        relation: String,
    },
    /// A quarantine table that serves another table (dropped since) of the same name.
    QuarantineOfAnother {
        quarantine: String,
        relation: String,
    },
    /// A quarantine table the caller cannot read, insert into or delete from.
    QuarantinePrivilege {
        quarantine: String,
        user: String,
    },
    /// A quarantine table that is not owned by the owner of its table.
    QuarantineNotOwned {
        quarantine: String,
        relation: String,
    },
    /// A request whose size passes a named cap before anything is allocated.
    TooMany {
        what: &'static str,
        requested: String,
        limit: u64,
        hint: &'static str,
    },
    /// A stored model whose settings or weights cannot be used.
    BadModel {
        model_id: i64,
        message: String,
    },
}

impl From<pgrx::spi::SpiError> for RarError {
    fn from(e: pgrx::spi::SpiError) -> Self {
        match e {
            // A value of another type than rar wrote: one of its tables (its
            // catalog, a quarantine) was changed by hand.
            pgrx::spi::SpiError::DatumError(d) => RarError::UnexpectedType { message: d.to_string() },
            e => RarError::Spi { message: e.to_string() },
        }
    }
}

impl From<DefaultsError> for RarError {
    fn from(e: DefaultsError) -> Self {
        RarError::Defaults(e)
    }
}

impl From<MineError> for RarError {
    fn from(e: MineError) -> Self {
        RarError::Mine(e)
    }
}

/// The first line of a libtorch error, without the C++ backtrace that
/// follows it.
pub fn torch_message(text: &str) -> String {
    let cut = text.find("Exception raised from").unwrap_or(text.len());
    let line = text[..cut].lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown error");
    // Its first sentence: libtorch goes on with advice about checkpoints.
    let sentence = match line.char_indices().skip(20).find(|&(i, c)| c == '.' && line[i + 1..].starts_with(' ')) {
        Some((i, _)) => &line[..=i],
        None => line,
    };
    sentence.chars().take(300).collect()
}

fn pretty_bytes(b: u64) -> String {
    if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
        format!("{}GB", b >> 30)
    } else if b >= 1 << 20 {
        format!("{}MB", b >> 20)
    } else {
        format!("{}kB", b >> 10)
    }
}

/// The memory budget as shown in a message: its size, and when a
/// superuser's `rar.max_memory_limit` holds it below what the session asked.
fn limit_text(b: u64) -> String {
    if crate::gucs::memory_limit_capped() {
        format!("{} (held there by rar.max_memory_limit, which a superuser sets)", pretty_bytes(b))
    } else {
        pretty_bytes(b)
    }
}

/// Bytes rounded up to a whole MB (estimates: never understate).
fn pretty_bytes_up(b: u64) -> String {
    format!("{}MB", b.div_ceil(1 << 20).max(1))
}

fn call_example(function: &str, relation: &str, (t, i): &(String, String)) -> String {
    // Functions without column arguments read a registered source's: the
    // columns are named when it is registered again.
    let function = match function {
        "rar_refresh" | "rar_evaluate" | "rar_recommend" | "rar_plot" | "rar_diff" => "rar_register",
        f => f,
    };
    let name = if function == "rar_register" { "'<name>', " } else { "" };
    format!(
        "Name them, for example: SELECT * FROM {function}({name}'{}', tid_column => '{}', item_column => '{}').",
        relation.replace('\'', "''"),
        t.replace('\'', "''"),
        i.replace('\'', "''")
    )
}

impl RarError {
    fn report(&self) -> ErrorReport {
        use PgSqlErrorCode::*;
        const F: &str = "rar";
        match self {
            RarError::Mine(MineError::InvalidParameter { name, value, expected }) => {
                ErrorReport::new(ERRCODE_INVALID_PARAMETER_VALUE, format!("{name} must be {expected}"), F)
                    .set_detail(format!("The value given was {}.", as_sql(value)))
                    .set_hint(threshold_hint(name))
            }
            RarError::Mine(MineError::TooManyRules { limit }) => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("more than {limit} {} the thresholds", if *limit == 1 { "rule satisfies" } else { "rules satisfy" }),
                F,
            )
            .set_detail(format!("rar.max_rules is {limit}; mining stopped as soon as it was passed. Rules count before min_improvement, max_p_value and min_interest filter them."))
            .set_hint("Raise min_support or min_confidence, or lower max_length; or raise rar.max_rules if the rules are really wanted."),
            RarError::Mine(MineError::MemoryLimit { limit_bytes }) => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "mining needs more memory than rar.memory_limit allows",
                F,
            )
            .set_detail(format!("rar.memory_limit is {}.", limit_text(*limit_bytes)))
            .set_hint("Raise min_support or lower max_length; or raise rar.memory_limit if the server has the memory."),
            RarError::InputTooLarge { lines, limit_bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "the source's baskets do not fit in rar.memory_limit",
                F,
            )
            .set_detail(format!("Reading stopped after {lines} lines; rar.memory_limit is {}.", limit_text(*limit_bytes)))
            .set_hint("Raise rar.memory_limit, or mine a subset of the table (a view with a WHERE clause)."),
            RarError::WouldNotFit { lines, baskets, needed, limit_bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "the source's baskets would not fit in rar.memory_limit",
                F,
            )
            .set_detail(format!(
                "The planner's statistics estimate {lines} lines in {baskets} baskets, about {} to read and encode; rar.memory_limit is {}{}.",
                pretty_bytes_up(*needed),
                limit_text(*limit_bytes),
                if crate::gucs::memory_limit_follows_maintenance_work_mem() { " (-1: maintenance_work_mem)" } else { "" }
            ))
            .set_hint(format!(
                "SET rar.memory_limit = '{}' if the server has the memory, mine per segment with rar_mine_segments, or mine a subset (a view with a WHERE clause).",
                pretty_bytes((*needed).next_power_of_two().max(1 << 20))
            )),
            RarError::StateTooLarge { bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "a partial basket state is too large to pass between processes",
                F,
            )
            .set_detail(format!("One worker's or shard's baskets take {} as bytes; a value holds at most 1GB.", pretty_bytes(*bytes as u64)))
            .set_hint("Let more workers share the scan (max_parallel_workers_per_gather), add shards, or mine per segment."),
            RarError::BadState { message } => ErrorReport::new(
                ERRCODE_INVALID_BINARY_REPRESENTATION,
                message.clone(),
                F,
            )
            .set_hint("Shards and the coordinator must run the same version of rar."),
            RarError::StateOverBudget { needed, limit_bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "a partial basket state does not fit in rar.memory_limit",
                F,
            )
            .set_detail(format!(
                "Reading it would take more than {}; rar.memory_limit is {}.",
                pretty_bytes(*needed),
                limit_text(*limit_bytes)
            ))
            .set_hint("Raise rar.memory_limit if the server has the memory (on a Citus coordinator, where the shards' states are merged)."),
            RarError::BadStateText { message } => ErrorReport::new(
                ERRCODE_INVALID_TEXT_REPRESENTATION,
                "invalid input syntax for type rar.basket_state",
                F,
            )
            .set_detail(format!("The text is not base64: {}.", message.trim_end_matches('.')))
            .set_hint("A rar.basket_state is the running state of the aggregate rar.baskets_shared; its text is what Citus passes between nodes, not typed in."),
            RarError::BadShardRequest { message, text } => ErrorReport::new(
                if *text { ERRCODE_INVALID_TEXT_REPRESENTATION } else { ERRCODE_INVALID_BINARY_REPRESENTATION },
                "invalid request to rar.shard_counts",
                F,
            )
            .set_detail(format!("The candidate itemsets are not a request of this version of rar: {message}."))
            .set_hint("rar_mine sends this request to each shard of a Citus table; it is not typed in."),
            RarError::UndefinedColumn { function, relation, column, columns, suggestion } => ErrorReport::new(
                ERRCODE_UNDEFINED_COLUMN,
                format!("column \"{column}\" of relation \"{relation}\" does not exist"),
                F,
            )
            .set_detail(format!("The relation has the columns {}.", columns.join(", ")))
            .set_hint(call_example(function, relation, suggestion)),
            RarError::UndefinedSegment { relation, column, columns } => ErrorReport::new(
                ERRCODE_UNDEFINED_COLUMN,
                format!("column \"{column}\" of relation \"{relation}\" does not exist"),
                F,
            )
            .set_detail(format!("The relation has the columns {}.", columns.join(", ")))
            .set_hint(format!(
                "Give the column that names the segment (a store, a region, a month), for example: SELECT * FROM rar_mine_segments('{}', '{}').",
                relation.replace('\'', "''"),
                columns.last().map(String::as_str).unwrap_or("store_id").replace('\'', "''")
            )),
            RarError::ColumnsNotDetected { function, relation, role, candidates, columns, suggestion } => {
                let msg = if candidates.is_empty() {
                    format!("could not tell which column of \"{relation}\" holds the {role}")
                } else {
                    format!("more than one column of \"{relation}\" could hold the {role}: {}", candidates.join(", "))
                };
                let code = if candidates.is_empty() { ERRCODE_UNDEFINED_COLUMN } else { ERRCODE_AMBIGUOUS_COLUMN };
                ErrorReport::new(code, msg, F)
                    .set_detail(format!("The relation has the columns {}.", columns.join(", ")))
                    .set_hint(call_example(function, relation, suggestion))
            }
            RarError::WrongType { column, type_name, role, expected } => ErrorReport::new(
                ERRCODE_DATATYPE_MISMATCH,
                format!("column \"{column}\" of type {type_name} cannot hold the {role}"),
                F,
            )
            .set_detail(format!("The {role} must be {expected}."))
            .set_hint("Name a column of the right type, or use a view that casts this one."),
            RarError::SameColumn { column, roles: [a, b] } => ErrorReport::new(
                ERRCODE_INVALID_PARAMETER_VALUE,
                format!("column \"{column}\" cannot be both the {a} and the {b}"),
                F,
            )
            .set_hint("Name a column of its own for each (SELECT * FROM rar_columns('<table>') shows the basket id and item columns rar detects)."),
            RarError::NullArgument { name, default } => {
                ErrorReport::new(ERRCODE_NULL_VALUE_NOT_ALLOWED, format!("{name} must not be NULL"), F).set_hint(
                    if *name == "source" || *name == "target" {
                        format!("Give the table or view to work on, for example {name} => 'sales'.")
                    } else if *default == "none" {
                        format!("Give {name} a value.")
                    } else {
                        format!("Leave {name} out to use its default ({default}), or give a value.")
                    },
                )
            }
            RarError::CannotModify { relation, user } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied to clean table {relation}"),
                F,
            )
            .set_detail("rar_clean reads, deletes and updates rows of the table.")
            .set_hint(format!(
                "Ask its owner for GRANT SELECT, UPDATE, DELETE ON {relation} TO {user}; the first run also needs CREATE on the schema for the quarantine table."
            )),
            RarError::NoQuarantine { relation, quarantine } => ErrorReport::new(
                ERRCODE_UNDEFINED_TABLE,
                format!("table {relation} has no quarantine table {quarantine}"),
                F,
            )
            .set_hint("rar_clean creates it on its first run; there is nothing to restore."),
            RarError::TooManyValues { column, values, limit } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("column \"{column}\" has {values} distinct values, more than {limit} 0/1 columns"),
                F,
            )
            .set_hint("Leave as_columns out: the values become item tokens in the _rar_items view instead of columns."),
            RarError::ModelLibrary { path, message } => ErrorReport::new(
                ERRCODE_UNDEFINED_FILE,
                format!("could not load the model library \"{path}\""),
                F,
            )
            .set_detail(message.clone())
            .set_hint("Install it with ./scripts/setup.sh, which builds crates/rar-model and copies it beside rar.so."),
            RarError::ModelSetting { name, value, expected } => {
                // A value that quotes its own parts (an unknown key) is
                // not quoted again.
                let value = rar_core::text::shortened(value, 40);
                let shown = if value.contains('"') { value } else { format!("\"{}\"", as_sql(&value)) };
                ErrorReport::new(ERRCODE_INVALID_PARAMETER_VALUE, format!("invalid value for {name}: {shown}"), F)
                    .set_hint(format!("Give {expected}."))
            }
            RarError::NoCuda => ErrorReport::new(ERRCODE_FEATURE_NOT_SUPPORTED, "no CUDA device is available to this server", F)
                .set_hint("Give \"device\": \"auto\" in params (the GPU when there is one, else the CPU) or \"cpu\", or SET rar.device = 'auto'."),
            RarError::ModelTooLarge { needed, limit } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "the model does not fit in rar.memory_limit",
                F,
            )
            .set_detail(format!("Weights, optimizer state and one batch need about {}; rar.memory_limit is {}.", pretty_bytes(*needed), limit_text(*limit)))
            .set_hint("Lower max_vocab, hidden or batch_size (for gru: history) in params, or raise rar.memory_limit."),
            RarError::TooFewBaskets { relation, train, valid } => ErrorReport::new(
                ERRCODE_DATA_EXCEPTION,
                format!("{relation} has too few baskets to train a model"),
                F,
            )
            .set_detail(format!("The training split has {train} baskets of two known items or more (10 needed), the validation split {valid} (1 needed)."))
            .set_hint("Train on more data, or lower min_item_count in params so that more items are known."),
            RarError::TooFewItems { relation, items, min_count } => ErrorReport::new(
                ERRCODE_DATA_EXCEPTION,
                format!("{relation} has too few items to train a model"),
                F,
            )
            .set_detail(format!("{items} items are in at least {min_count} training baskets; 2 are needed."))
            .set_hint("Lower min_item_count in params, or train on more data."),
            RarError::Torch { message } => ErrorReport::new(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, "libtorch failed while training", F)
                .set_detail(torch_message(message))
                .set_hint("The transaction was rolled back and no model was stored; lower hidden, batch_size or max_vocab in params if memory ran out."),
            RarError::NoModel { source, model_id: None } => ErrorReport::new(
                ERRCODE_UNDEFINED_OBJECT,
                format!("source \"{source}\" has no deployed model"),
                F,
            )
            .set_hint("Train one on its table with rar_train (a table's first model is deployed), or deploy one of its models with rar_deploy (rar.models lists them)."),
            RarError::NoModel { source, model_id: Some(id) } => ErrorReport::new(
                ERRCODE_UNDEFINED_OBJECT,
                format!("model {id} is not a model of the table of source \"{source}\""),
                F,
            )
            .set_hint("Give the model_id of one of its table's models (rar.models lists them), or leave model_id out for the deployed one."),
            RarError::UnknownItems { source, items } => ErrorReport::new(
                ERRCODE_INVALID_PARAMETER_VALUE,
                format!("none of the {items} items of the basket is known to the model of \"{source}\""),
                F,
            )
            .set_hint("Items are compared as text with the item column of the source, for example stock codes."),
            RarError::NoSplit { relation } => ErrorReport::new(
                ERRCODE_UNDEFINED_OBJECT,
                format!("table {relation} has no recorded split"),
                F,
            )
            .set_hint(format!("Split it first: SELECT * FROM rar_split('{}');", relation.replace('\'', "''"))),
            RarError::ConflictingOptions { message, hint } => {
                ErrorReport::new(ERRCODE_INVALID_PARAMETER_VALUE, *message, F).set_hint(*hint)
            }
            RarError::Unsupported { message, hint } => {
                ErrorReport::new(ERRCODE_FEATURE_NOT_SUPPORTED, *message, F).set_hint(*hint)
            }
            RarError::InvalidOption { name, value, expected } => {
                ErrorReport::new(ERRCODE_INVALID_PARAMETER_VALUE, format!("invalid value for {name}: \"{}\"", as_sql(value)), F)
                    .set_hint(format!("Valid values are {expected}."))
            }
            RarError::EmptyPattern { name } => {
                ErrorReport::new(ERRCODE_INVALID_PARAMETER_VALUE, format!("{name} must not be empty"), F)
                    .set_detail("The empty regular expression matches every line: the rule would remove them all.")
                    .set_hint(format!("Leave {name} out (or NULL) to skip this rule, or give a pattern such as '^C'."))
            }
            RarError::Spi { message } => ErrorReport::new(ERRCODE_INTERNAL_ERROR, format!("rar could not read a query's result: {message}"), F)
                .set_hint("This is a bug in rar; please report it with the call that raised it."),
            RarError::NotInstalled => ErrorReport::new(ERRCODE_UNDEFINED_OBJECT, "extension \"rar\" is not installed in this database", F)
                .set_hint("CREATE EXTENSION rar;"),
            RarError::LostRows { before, after, removed } => ErrorReport::new(
                ERRCODE_INTERNAL_ERROR,
                "rar_clean would have lost rows: the run was rolled back",
                F,
            )
            .set_detail(format!("{before} lines before, {after} after, {removed} moved to the quarantine."))
            .set_hint("Nothing was changed. Please report this with the options of the call."),
            RarError::CannotRestore { relation, run, reason, hint } => ErrorReport::new(
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("run {run} of table {relation} cannot be restored"),
                F,
            )
            .set_detail(reason.clone())
            .set_hint(hint.clone()),
            RarError::DropWouldDelete { work, by } => ErrorReport::new(
                ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                format!("cannot {by} because its catalog holds user work"),
                F,
            )
            .set_detail(format!("The schema rar holds {work}; dropping the extension would delete them."))
            .set_hint("Keep them with pg_dump first (ALTER EXTENSION rar UPDATE upgrades in place), or use DROP EXTENSION rar CASCADE to delete them."),
            RarError::NoValues { column, relation } => ErrorReport::new(
                ERRCODE_DATA_EXCEPTION,
                format!("column \"{column}\" of relation \"{relation}\" has no values to encode"),
                F,
            )
            .set_hint("Encode it once the table holds rows with a value in it."),
            RarError::WrongObject { display, what, hint } => {
                ErrorReport::new(ERRCODE_WRONG_OBJECT_TYPE, format!("\"{display}\" is not {what}"), F).set_hint(*hint)
            }
            RarError::NoSuchSource { name } => ErrorReport::new(
                ERRCODE_UNDEFINED_TABLE,
                format!("relation or source \"{name}\" does not exist"),
                F,
            )
            .set_hint(
                "Name a registered source (SELECT name, relation FROM rar.sources), or a table or view, schema-qualified or as your search_path finds it.",
            ),
            RarError::AmbiguousSource { name, source_table, table } => ErrorReport::new(
                ERRCODE_AMBIGUOUS_ALIAS,
                format!("\"{name}\" is ambiguous: it is a registered source of {source_table} and a name of {table}"),
                F,
            )
            .set_detail("A registered source's name comes first only when it does not also name another table or view.")
            .set_hint(format!(
                "Name the table schema-qualified (as in '{table}'), or register the source under another name."
            )),
            RarError::UnknownSource { name } => ErrorReport::new(
                ERRCODE_UNDEFINED_OBJECT,
                format!("source \"{name}\" is not registered"),
                F,
            )
            .set_hint(format!("Register it first: SELECT rar_register('{}', '<table>');", name.replace('\'', "''"))),
            RarError::NotRegistered { name, table } => ErrorReport::new(
                ERRCODE_UNDEFINED_OBJECT,
                format!("source \"{name}\" is not registered"),
                F,
            )
            .set_detail(format!("\"{name}\" names the table {table}, on which no source is registered."))
            .set_hint(format!("Register it first: SELECT rar_register('{}', '{}');", name.replace('\'', "''"), table.replace('\'', "''"))),
            RarError::SeveralSources { name, sources } => ErrorReport::new(
                ERRCODE_AMBIGUOUS_ALIAS,
                format!("\"{name}\" is ambiguous: it designates the sources {}", sources.join(", ")),
                F,
            )
            .set_hint("Name one of these sources instead of the table."),
            RarError::JsonbTooLarge { rules, bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "the rules of one group would pass the 256MB a jsonb value may hold",
                F,
            )
            .set_detail(format!("{rules} rules, about {}MB as jsonb.", bytes >> 20))
            .set_hint("Raise min_support or min_confidence, or lower max_length; or mine the group with rar_mine on a view of its lines, which returns rows without this limit."),
            RarError::JsonOverBudget { rules, needed, limit_bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "the rules of one group do not fit in rar.memory_limit as jsonb",
                F,
            )
            .set_detail(format!(
                "Building {rules} {} as jsonb would take about {}; rar.memory_limit is {}.",
                if *rules == 1 { "rule" } else { "rules" },
                pretty_bytes(*needed),
                limit_text(*limit_bytes)
            ))
            .set_hint("Raise min_support or min_confidence, or lower max_length; raise rar.memory_limit if the server has the memory; or mine the group with rar_mine on a view of its lines, which returns rows."),
            RarError::NoHierarchy { source } => ErrorReport::new(
                ERRCODE_UNDEFINED_OBJECT,
                format!("source \"{source}\" has no product hierarchy"),
                F,
            )
            .set_detail("A level names a column of the lookup table that rar_hierarchy recorded for a registered source.")
            .set_hint(format!(
                "Name one, lowest level first: SELECT rar_hierarchy('{}', '<lookup table>', levels => '{{aisle, department}}'); a table needs rar_register first.",
                source.replace('\'', "''")
            )),
            RarError::NoSuchLevel { level, source, levels } => ErrorReport::new(
                ERRCODE_INVALID_PARAMETER_VALUE,
                format!("invalid value for level: \"{level}\""),
                F,
            )
            .set_detail(format!("The hierarchy of source \"{source}\" has the levels {}.", levels.join(", ")))
            .set_hint("Give one of them, or 'all' for rules across the items and every level."),
            RarError::TempNameTaken { name } => ErrorReport::new(
                ERRCODE_DUPLICATE_TABLE,
                format!("relation \"pg_temp.{name}\" already exists"),
                F,
            )
            .set_detail("rar_clean keeps its work in a temporary table of that name, and does not touch one it did not create.")
            .set_hint(format!("Rename or drop your temporary \"{name}\" in this session, then run rar_clean again.")),
            RarError::QuantityOverflow { column, type_name, largest } => ErrorReport::new(
                ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                format!("merging duplicate lines would put a quantity out of the range of column \"{column}\" ({type_name})"),
                F,
            )
            .set_detail(format!("The largest sum of a basket's lines of one item is {largest}; nothing was changed."))
            .set_hint(format!(
                "Widen the column first (ALTER TABLE ... ALTER COLUMN \"{column}\" TYPE numeric), or clean without merge_duplicates."
            )),
            RarError::BadHierarchy { source } => ErrorReport::new(
                ERRCODE_INVALID_PARAMETER_VALUE,
                format!("the hierarchy of source \"{source}\" has invalid levels"),
                F,
            )
            .set_detail(format!("Its levels must be 1 to {} distinct column names, none NULL and none \"all\".", crate::hierarchy::MAX_LEVELS))
            .set_hint(format!("Name the hierarchy again: SELECT rar_hierarchy('{}', '<lookup table>', levels => '{{...}}');", source.replace('\'', "''"))),
            RarError::HierarchyColumnMissing { source, table, column } => ErrorReport::new(
                ERRCODE_UNDEFINED_COLUMN,
                format!("column \"{column}\" of relation \"{table}\" does not exist"),
                F,
            )
            .set_detail(format!("The hierarchy of source \"{source}\" reads it; it was dropped or renamed since."))
            .set_hint(format!("Name the hierarchy again with the lookup's columns: SELECT rar_hierarchy('{}', '{}', levels => '{{...}}');", source.replace('\'', "''"), table.replace('\'', "''"))),
            RarError::HierarchyTooLarge { source, rows, limit_bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("the hierarchy of source \"{source}\" does not fit in rar.memory_limit"),
                F,
            )
            .set_detail(format!("Reading its lookup table stopped after {rows} rows; rar.memory_limit is {}.", limit_text(*limit_bytes)))
            .set_hint("Raise rar.memory_limit, or give rar_hierarchy a view of the lookup with only the items sold and short labels."),
            RarError::HierarchyNotReadable { source, table } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied for table {table}"),
                F,
            )
            .set_detail(format!("The hierarchy of source \"{source}\" is read from it with your rights."))
            .set_hint(format!("Ask the owner of {table} for SELECT on it.")),
            RarError::HierarchyDropped { source } => ErrorReport::new(
                ERRCODE_UNDEFINED_TABLE,
                format!("the lookup table of the hierarchy of source \"{source}\" was dropped"),
                F,
            )
            .set_hint(format!("Name the hierarchy again: SELECT rar_hierarchy('{}', '<lookup table>', levels => '{{...}}');", source.replace('\'', "''"))),
            RarError::Mine(MineError::HierarchyConflict { item, level, first, second }) => ErrorReport::new(
                ERRCODE_CARDINALITY_VIOLATION,
                format!("item \"{item}\" has two {level} labels in the hierarchy"),
                F,
            )
            .set_detail({
                let label = |l: &Option<String>| l.as_ref().map_or("NULL".to_string(), |l| format!("\"{l}\""));
                format!("The lookup table gives it {} and {}.", label(first), label(second))
            })
            .set_hint("Give each item one row in the lookup table, or one label per level (a view with DISTINCT ON can choose)."),
            RarError::Mine(MineError::HierarchyNameClash { name }) => ErrorReport::new(
                ERRCODE_DUPLICATE_OBJECT,
                format!("\"{name}\" names two things across the levels of the hierarchy"),
                F,
            )
            .set_detail("Across levels, a category is named \"<level>: <label>\"; an item, or a category of another level, of that name could not be told apart from it.")
            .set_hint("Rename the item, or the level (through a view over the lookup table), then call rar_hierarchy again."),
            RarError::Defaults(e) => {
                const EXAMPLE: &str = "For example: '{\"min_support\": 0.005, \"min_confidence\": 0.6, \"level\": \"aisle\"}'.";
                let report = ErrorReport::new(ERRCODE_INVALID_PARAMETER_VALUE, e.to_string(), F);
                match e {
                    DefaultsError::NotObject | DefaultsError::WrongKind { .. } => report.set_hint(EXAMPLE),
                    DefaultsError::UnknownKey { .. } => {
                        let [rest @ .., last] = rar_core::params::SOURCE_DEFAULT_KEYS;
                        report.set_hint(format!("The keys of defaults are {} and {last}.", rest.join(", ")))
                    }
                    DefaultsError::MaxLength { .. } => report.set_hint(
                        "max_length is a whole number of items from 2 to 32 (a refresh keeps rules of two items or more), for example 4.",
                    ),
                    DefaultsError::InterestWithoutLevel => {
                        report.set_hint("Give \"level\": \"all\" with it (rules across the items and every level), or leave min_interest out.")
                    }
                    DefaultsError::Level => {
                        report.set_hint("Give a level of the source's hierarchy (rar_hierarchy names them), or \"all\".")
                    }
                    DefaultsError::LevelWithModel => report
                        .set_hint("Give \"method\": \"exact\" with level (a model knows items, not levels), or leave level out."),
                    DefaultsError::Method { .. } => report.set_hint("Valid values are 'exact', 'neural' and 'hybrid'."),
                    DefaultsError::OutOfRange { name, expected, .. } => {
                        report.set_detail(format!("{name} must be {expected}.")).set_hint(threshold_hint(name))
                    }
                }
            }
            RarError::SourceTableDropped { name } => ErrorReport::new(
                ERRCODE_UNDEFINED_TABLE,
                format!("the table of source \"{name}\" was dropped"),
                F,
            )
            .set_hint(format!("Register the source again on its new table: SELECT rar_register('{name}', '<table>');")),
            RarError::NoSuchRelation { oid } => ErrorReport::new(ERRCODE_UNDEFINED_TABLE, format!("relation with OID {oid} does not exist"), F)
                .set_hint("Give the table or view by name, for example 'sales'."),
            RarError::BadJson { message } => ErrorReport::new(
                ERRCODE_INVALID_PARAMETER_VALUE,
                format!("rar cannot read this jsonb value: {message}"),
                F,
            )
            .set_hint(
                "Settings and grids take numbers within double precision (about 1.8e308) and at most 127 levels of nesting.",
            ),
            RarError::PlanTooLarge { needed, limit_bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                "the trials of this grid would need more memory than rar.memory_limit allows",
                F,
            )
            .set_detail(format!(
                "Each trial copies its values: about {} in all; rar.memory_limit is {}.",
                limit_text(*needed),
                limit_text(*limit_bytes)
            ))
            .set_hint("Give shorter values or fewer of them, or raise rar.memory_limit if the server has the memory."),
            RarError::PlotTooLarge { source, needed, limit_bytes } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("the plot of source \"{source}\" would need more memory than rar.memory_limit allows"),
                F,
            )
            .set_detail(format!(
                "Its rules' labels take about {} to draw; rar.memory_limit is {}.",
                limit_text(*needed),
                limit_text(*limit_bytes)
            ))
            .set_hint("Draw fewer rules (top => ...), or raise rar.memory_limit if the server has the memory."),
            RarError::ChangedWhileLocking { relation } => ErrorReport::new(
                ERRCODE_T_R_SERIALIZATION_FAILURE,
                format!("the definition of {relation} changed while rar waited to read it"),
                F,
            )
            .set_detail("Another transaction changed the relation's kind or a column's type and committed while this call read its definition.")
            .set_hint("Run the call again."),
            RarError::SchemaRenamed { schema, relation } => ErrorReport::new(
                ERRCODE_T_R_SERIALIZATION_FAILURE,
                format!("schema \"{schema}\" was renamed while rar read {relation}"),
                F,
            )
            .set_detail(
                "Another transaction renamed the schema, or gave its name to another schema, and committed during the call: \
                 rar's statements name the relation by schema and name, and would have reached another relation than the one checked.",
            )
            .set_hint("Run the call again."),
            RarError::ExtensionSchemaRenamed { installed, now } => ErrorReport::new(
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("the schema of extension rar was renamed from {installed} to {}", pgrx::spi::quote_identifier(now)),
                F,
            )
            .set_detail(format!(
                "rar's functions call one another as {installed}.name: another schema of that name, with functions of its own, would be called instead."
            ))
            .set_hint(format!(
                "A superuser should rename it back (ALTER SCHEMA {} RENAME TO {installed}, after renaming any other schema of that name), and keep the extension in a schema no untrusted role owns.",
                pgrx::spi::quote_identifier(now),
            )),
            RarError::SchemaRenamedHere { schema, relation } => ErrorReport::new(
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("schema \"{schema}\" was renamed in this transaction while rar holds {relation}"),
                F,
            )
            .set_detail(
                "rar names the relation by schema and name until the statement (or, for rar_refresh, the transaction) that read it ends: \
                 a statement naming the schema now would reach another schema than the one rar checked.",
            )
            .set_hint("Rename the schema in a transaction of its own, before or after the rar call."),
            RarError::NotOwner { relation, action, user } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied to {action} of table {relation}"),
                F,
            )
            .set_detail("Only the owner of the table (or a member of its owning role) may change what rar keeps about it.")
            .set_hint(format!("Ask the owner of {relation} to do it, or to GRANT its owning role to {user}.")),
            RarError::QuarantineNotOwned { quarantine, relation } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("quarantine table {quarantine} is not owned by the owner of {relation}"),
                F,
            )
            .set_detail("Rows of a table are kept aside only in a table owned like it, so that nobody else can read, change or trigger on them.")
            .set_hint(format!("Ask the owner of {relation} to drop or take over {quarantine} (ALTER TABLE ... OWNER TO), then run again.")),
            RarError::NotReadable { relation } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied for the models of table {relation}"),
                F,
            )
            .set_detail("Models are data of their table: they are used for roles that may read all of its rows.")
            .set_hint(format!("Ask the owner of {relation} for SELECT on it (all of its rows).")),
            RarError::ItemsViewNotOwned { view, relation } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("view {view} is not owned by the owner of {relation}"),
                F,
            )
            .set_detail("rar_encode keeps the items of a table in a view owned like the table; another role's view is neither replaced nor used.")
            .set_hint(format!("Ask the owner of {relation} to drop or take over {view}, then run again.")),
            RarError::SuperuserOnUserTable { function, relation, owner } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("a superuser does not run {function} on table {relation}, which {owner} owns"),
                F,
            )
            .set_detail("The table's triggers, rules, defaults and constraints would run with the superuser's rights.")
            .set_hint(format!("Run it as the owner: SET ROLE {owner}; then call {function} again.")),
            RarError::ColumnExists { relation, column, why } => ErrorReport::new(
                ERRCODE_DUPLICATE_COLUMN,
                format!("column \"{column}\" of {relation} already exists"),
                F,
            )
            .set_detail(format!("rar_encode writes its results into new columns, and {why}."))
            .set_hint("Rename or drop that column first, or encode a copy of the table (nothing was changed)."),
            RarError::EmptySplit { relation, train, split, held_out } => ErrorReport::new(
                ERRCODE_DATA_EXCEPTION,
                format!("{relation} has too few baskets to evaluate on"),
                F,
            )
            .set_detail(format!("The training split has {train} baskets with an item, the {split} split {held_out}; each needs one or more."))
            .set_hint("Evaluate a larger table, or split it again with rar_split and other shares (train, validation, test) so that each set gets baskets."),
            RarError::ModelOtherColumn { model_id, trained, asked } => ErrorReport::new(
                ERRCODE_INVALID_PARAMETER_VALUE,
                format!("model {model_id} was trained on item column \"{trained}\", not \"{asked}\""),
                F,
            )
            .set_detail("A model knows the items of the column it was trained on: it would find no rules among others.")
            .set_hint(format!(
                "Mine with item_column => '{trained}', or train a model on \"{asked}\" with rar_train(..., item_column => '{asked}') and deploy it."
            )),
            RarError::ModelColumnGone { model_id, relation, column } => ErrorReport::new(
                ERRCODE_UNDEFINED_COLUMN,
                format!("model {model_id} reads column \"{column}\" of {relation}, which has no such column now"),
                F,
            )
            .set_detail("A sequence model reads customers' earlier baskets through the columns it was trained on (rar.models.read_columns).")
            .set_hint("Train the model again with rar_train on the table's columns now, or deploy another one with rar_deploy(model_id)."),
            RarError::SuperuserReadsUserView { function, relation, owner } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("a superuser does not read {relation} for {function}: it is a view or foreign table {owner} owns"),
                F,
            )
            .set_detail("The functions in its definition would run with the superuser's rights.")
            .set_hint(format!("Run it as the owner or a role without superuser: SET ROLE {owner}; then call {function} again.")),
            RarError::SuperuserRunsOwnerCode { function, relation, owner } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("a superuser does not read or change {relation} for {function}: it would run the code of a role without superuser"),
                F,
            )
            .set_detail("A partition or inheritance child of it, or a relation a view among them reads, is such a role's (or, for a read, its foreign table or view), or the definitions of those views or the expressions of their indexes, constraints, partition keys, statistics, defaults, triggers or rules call such a role's function, operator or type, or a column has such a role's type: planning, reading or changing the table runs them with the superuser's rights.")
            .set_hint(format!("Run it as a role without superuser (the table's owner is {owner}): SET ROLE ...; then call {function} again.")),
            RarError::HierarchyNotReadableByOwner { source, table, owner } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("the owner of source \"{source}\"'s table, {owner}, may not read its hierarchy lookup {table}"),
                F,
            )
            .set_detail("A lookup's labels are data of its table: they go only into rules of a table whose owner may read it.")
            .set_hint(format!("GRANT SELECT ON {table} TO {owner}, or name another lookup with rar_hierarchy.")),
            RarError::UnexpectedType { message } => ErrorReport::new(
                ERRCODE_DATATYPE_MISMATCH,
                format!("rar read a value of another type than it wrote: {message}"),
                F,
            )
            .set_detail("A table rar keeps (in schema rar, or a table's quarantine) was changed by hand.")
            .set_hint("Give the column back the type rar gave it (see \\d of the table in a fresh database with CREATE EXTENSION rar), or drop and recreate what rar made."),
            RarError::ModelSavedConcurrently { relation } => ErrorReport::new(
                ERRCODE_T_R_SERIALIZATION_FAILURE,
                format!("could not save the model of {relation}: another transaction saved one of that table at the same time"),
                F,
            )
            .set_detail("Models of a table are numbered one after another; this transaction's snapshot does not see the other model.")
            .set_hint("Run rar_train again in a new transaction (or at READ COMMITTED, where trainings of one table wait for each other)."),
            RarError::QuarantineOfAnother { quarantine, relation } => ErrorReport::new(
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("quarantine table {quarantine} serves another table named like {relation}"),
                F,
            )
            .set_detail("The table it was made for was dropped (or renamed) since; its rows are not this table's.")
            .set_hint(format!("Rename or drop {quarantine} (after restoring its rows by hand if they are wanted), then run again.")),
            RarError::QuarantinePrivilege { quarantine, user } => ErrorReport::new(
                ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied for quarantine table {quarantine}"),
                F,
            )
            .set_hint(format!("Ask its owner for GRANT SELECT, INSERT, DELETE ON {quarantine} TO {user}.")),
            RarError::TooMany { what, requested, limit, hint } => ErrorReport::new(
                ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("too many {what}: {requested}"),
                F,
            )
            .set_detail(format!("At most {limit} are allowed."))
            .set_hint(*hint),
            RarError::BadModel { model_id, message } => ErrorReport::new(
                ERRCODE_INVALID_BINARY_REPRESENTATION,
                format!("model {model_id} cannot be loaded"),
                F,
            )
            .set_detail(message.chars().take(500).collect::<String>())
            .set_hint("Train the model again with rar_train, or deploy another one with rar_deploy(model_id)."),
        }
    }

    /// Raises the error with a DETAIL of its own; does not return.
    pub fn raise_with_detail(self, detail: String) -> ! {
        self.report().set_detail(detail).report(PgLogLevel::ERROR);
        unreachable!("ereport(ERROR) returned")
    }

    /// Raises the error as an SQL `ERROR`; does not return.
    pub fn raise(self) -> ! {
        self.report().report(PgLogLevel::ERROR);
        unreachable!("ereport(ERROR) returned")
    }
}

impl From<rar_core::partial::StateError> for RarError {
    fn from(e: rar_core::partial::StateError) -> Self {
        match e {
            rar_core::partial::StateError::Bad(b) => RarError::BadState { message: b.to_string() },
            rar_core::partial::StateError::TooLarge { bytes } => {
                RarError::StateOverBudget { needed: bytes, limit_bytes: crate::gucs::memory_limit_bytes() }
            }
        }
    }
}

/// Unwraps a result or raises its error as an SQL error.
pub trait OrRaise<T> {
    fn or_raise(self) -> T;
}

impl<T, E: Into<RarError>> OrRaise<T> for Result<T, E> {
    fn or_raise(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => e.into().raise(),
        }
    }
}

/// While alive, an error PostgreSQL raises with one of the SQLSTATEs
/// `codes` gets `hint` as its HINT (PostgreSQL's own message and SQLSTATE
/// are kept: an error context callback adds the hint while the error is
/// reported). For errors
/// rar cannot see coming without doing PostgreSQL's work twice: a user's
/// regular expression that does not compile, a time past the range of
/// `timestamp`. Dropped (unwinding too), it takes its callback off the
/// stack again.
pub struct HintOn {
    previous: *mut pgrx::pg_sys::ErrorContextCallback,
    /// The callback and its argument, at an address that stays put while
    /// they are on the stack.
    _frame: Box<HintFrame>,
}

struct HintFrame {
    callback: pgrx::pg_sys::ErrorContextCallback,
    codes: Vec<i32>,
    hint: &'static std::ffi::CStr,
}

impl HintOn {
    pub fn new(codes: &[PgSqlErrorCode], hint: &'static std::ffi::CStr) -> Self {
        extern "C-unwind" {
            // Variadic: not in pgrx's bindings (its own error reporting
            // declares it the same way).
            fn errhint(fmt: *const std::ffi::c_char, ...) -> std::ffi::c_int;
        }
        unsafe extern "C-unwind" fn add_hint(arg: *mut std::ffi::c_void) {
            // SAFETY: `arg` is the boxed frame, alive while the callback is
            // on the stack; geterrcode and errhint act on the error being
            // reported.
            unsafe {
                let f = &*(arg as *const HintFrame);
                if f.codes.contains(&pgrx::pg_sys::geterrcode()) {
                    errhint(c"%s".as_ptr(), f.hint.as_ptr());
                }
            }
        }
        // SAFETY: reads the current stack top; the frame pushed below is
        // boxed, so its address holds until `drop` restores `previous`.
        let previous = unsafe { pgrx::pg_sys::error_context_stack };
        let mut frame = Box::new(HintFrame {
            callback: pgrx::pg_sys::ErrorContextCallback {
                previous,
                callback: Some(add_hint),
                arg: std::ptr::null_mut(),
            },
            codes: codes.iter().map(|&c| c as i32).collect(),
            hint,
        });
        frame.callback.arg = &*frame as *const HintFrame as *mut std::ffi::c_void;
        unsafe { pgrx::pg_sys::error_context_stack = &mut frame.callback };
        HintOn { previous, _frame: frame }
    }
}

impl Drop for HintOn {
    fn drop(&mut self) {
        // SAFETY: restores the stack as it was before `new` pushed.
        unsafe { pgrx::pg_sys::error_context_stack = self.previous };
    }
}
