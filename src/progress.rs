//! Progress of long calls, readable from any session: while a call runs,
//! its backend's activity (the `query` of `pg_stat_activity`, and the view
//! `rar.progress`) reads `<function>: <what it is doing>`; when the call
//! ends, the statement's own text comes back.

use std::ffi::CString;

use pgrx::pg_sys;

/// Reports `text` as this backend's current activity.
pub fn report_activity(text: &str) {
    let c = CString::new(text.replace('\0', " ")).unwrap_or_default();
    // SAFETY: copies the string into this backend's status entry.
    unsafe { pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_RUNNING, c.as_ptr()) };
}

/// The progress of one call of `function`; the statement's text is shown
/// again when it is dropped.
pub struct Progress {
    function: &'static str,
}

impl Progress {
    pub fn start(function: &'static str) -> Progress {
        report_activity(&format!("{function}: starting"));
        Progress { function }
    }

    /// Reports what the call is doing now.
    pub fn report(&self, what: &str) {
        report_activity(&format!("{}: {what}", self.function));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // SAFETY: debug_query_string is this backend's current statement
        // (or NULL, which pgstat_report_activity accepts).
        unsafe { pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_RUNNING, pg_sys::debug_query_string) };
    }
}
