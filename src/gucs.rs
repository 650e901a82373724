//! The `rar.*` settings. Any user may change them in a session
//! (`SET rar.max_rules = ...`); `ALTER SYSTEM` or `ALTER ROLE ... SET` make
//! a default for everyone. `rar.max_memory_limit`, a ceiling of the memory
//! settings, is a superuser's.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Most rules one mining call may produce before it stops with an error.
pub static MAX_RULES: GucSetting<i32> = GucSetting::<i32>::new(10_000_000);

/// Memory budget of one mining call in kB: baskets, itemset tree, rules.
/// -1 (the default): `maintenance_work_mem`, like index builds and VACUUM.
pub static MEMORY_LIMIT_KB: GucSetting<i32> = GucSetting::<i32>::new(-1);

/// Ceiling of `rar.memory_limit` and `rar.basket_cache` in kB, for
/// superusers to set (-1: none): on a shared server any role may raise
/// `rar.memory_limit` (or `maintenance_work_mem`), but not past this.
pub static MAX_MEMORY_LIMIT_KB: GucSetting<i32> = GucSetting::<i32>::new(-1);

/// Memory for the baskets a session keeps between calls, in kB (0: none).
pub static BASKET_CACHE_KB: GucSetting<i32> = GucSetting::<i32>::new(65_536);

/// Default device of rar_train: 'auto', 'cpu' or 'cuda' (an enum setting:
/// PostgreSQL refuses another value at `SET`, with the values in its HINT).
pub static DEVICE: GucSetting<Device> = GucSetting::<Device>::new(Device::Auto);

/// The values of `rar.device`.
#[derive(Debug, Clone, Copy, PartialEq, pgrx::PostgresGucEnum)]
pub enum Device {
    #[name = c"auto"]
    Auto,
    #[name = c"cpu"]
    Cpu,
    #[name = c"cuda"]
    Cuda,
}

/// Whether rar_mine counts itemsets on the Citus workers where it can.
pub static COUNT_ON_WORKERS: GucSetting<bool> = GucSetting::<bool>::new(true);

pub fn init() {
    GucRegistry::define_int_guc(
        c"rar.basket_cache",
        c"Memory for the encoded baskets a session keeps between calls.",
        c"Baskets of tables tracked by rar_track_changes are kept after a read, so that the next call on the unchanged table does not read it again; least recently used out first. 0 keeps nothing.",
        &BASKET_CACHE_KB,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_bool_guc(
        c"rar.count_on_workers",
        c"Whether rar_mine counts itemsets on the workers of a Citus table distributed by its basket column.",
        c"On (the default), each shard finds its frequent itemsets and counts the candidates, in two rounds, and only itemsets and counts reach the coordinator; off, the workers encode the baskets and the coordinator mines them. The rules are the same.",
        &COUNT_ON_WORKERS,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"rar.device",
        c"Default device of rar_train: auto, cpu or cuda.",
        c"auto trains on the GPU when libtorch sees one, else on the CPU; params => '{\"device\": ...}' overrides it per call.",
        &DEVICE,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"rar.max_rules",
        c"Most association rules one rar_mine call may produce.",
        c"A call that would produce more stops with an error instead of exhausting memory; raise min_support or min_confidence, or this setting.",
        &MAX_RULES,
        1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"rar.max_memory_limit",
        c"Ceiling of rar.memory_limit and rar.basket_cache, which any role may set; only a superuser sets this.",
        c"On a shared server, ALTER SYSTEM SET rar.max_memory_limit = '2GB' keeps every role's rar calls within it, whatever they set rar.memory_limit or maintenance_work_mem to. -1 (the default) sets no ceiling.",
        &MAX_MEMORY_LIMIT_KB,
        -1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_int_guc(
        c"rar.memory_limit",
        c"Memory budget of one rar_mine call.",
        c"Covers the baskets read, the frequent itemsets and the rules, checked up front from the planner's statistics and while reading; a call that would need more stops with an error. -1 uses maintenance_work_mem.",
        &MEMORY_LIMIT_KB,
        -1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_KB,
    );
}

pub fn count_on_workers() -> bool {
    COUNT_ON_WORKERS.get()
}

pub fn max_rules() -> u64 {
    MAX_RULES.get() as u64
}

/// `kb` within `rar.max_memory_limit`, when a superuser set one.
fn within_ceiling(kb: i32) -> i32 {
    match MAX_MEMORY_LIMIT_KB.get() {
        c if c >= 0 => kb.min(c),
        _ => kb,
    }
}

/// The budget the session asks for, in kB: `rar.memory_limit`, or
/// `maintenance_work_mem` when it is -1.
fn asked_kb() -> i32 {
    match MEMORY_LIMIT_KB.get() {
        // SAFETY: a GUC variable of this backend, read on its own thread.
        v if v < 0 => unsafe { pgrx::pg_sys::maintenance_work_mem },
        v => v,
    }
}

/// The budget in bytes: what the session asks for, within
/// `rar.max_memory_limit`. At least 1 MB.
pub fn memory_limit_bytes() -> u64 {
    within_ceiling(asked_kb()).max(1024) as u64 * 1024
}

/// Whether `rar.max_memory_limit` holds the budget below what the session
/// asked for.
pub fn memory_limit_capped() -> bool {
    let asked = asked_kb();
    within_ceiling(asked) < asked
}

/// `rar.basket_cache` in bytes, within `rar.max_memory_limit`.
pub fn basket_cache_bytes() -> u64 {
    within_ceiling(BASKET_CACHE_KB.get().max(0)) as u64 * 1024
}

/// Whether the budget is `maintenance_work_mem` (rar.memory_limit = -1).
pub fn memory_limit_follows_maintenance_work_mem() -> bool {
    MEMORY_LIMIT_KB.get() < 0
}

pub fn device() -> String {
    match DEVICE.get() {
        Device::Auto => "auto",
        Device::Cpu => "cpu",
        Device::Cuda => "cuda",
    }
    .into()
}

/// Threads for mining (counting, itemset search, rules, sort): the backend and as many as
/// PostgreSQL would give a parallel query (`max_parallel_workers_per_gather`),
/// at most the machine's cores.
pub fn mining_threads() -> usize {
    // SAFETY: a GUC variable of this backend, read on its own thread.
    let workers = unsafe { pgrx::pg_sys::max_parallel_workers_per_gather }.max(0) as usize;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (1 + workers).min(cores)
}

/// Run first by every counting thread: PostgreSQL's signals (cancel,
/// terminate, latches) must reach the backend's own thread, which checks
/// for them; the mining threads call no PostgreSQL function.
pub fn block_signals() {
    // SAFETY: a zeroed sigset filled by sigfillset, applied to this thread only.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
}
