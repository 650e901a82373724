//! Small SPI helpers for statements built from quoted identifiers, with
//! every value passed as a parameter (`$1`, `$2`, ...).

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

/// Runs a statement; returns the number of rows it processed.
pub fn exec_count(sql: &str, args: &[DatumWithOid]) -> i64 {
    Spi::connect_mut(|client| client.update(sql, None, args).map(|t| t.len() as i64))
        .unwrap_or_else(|e| panic!("SPI statement failed: {e}"))
}

/// Runs a statement.
pub fn exec(sql: &str, args: &[DatumWithOid]) {
    exec_count(sql, args);
}

/// Runs a query returning one bigint (a count).
pub fn count(sql: &str, args: &[DatumWithOid]) -> i64 {
    Spi::get_one_with_args::<i64>(sql, args).ok().flatten().unwrap_or(0)
}
