//! The core's one error type. The pgrx layer turns each variant into an SQL
//! error with its own SQLSTATE, message and hint (see `src/error.rs` of the
//! extension), so the variants carry the figures a hint needs.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum MineError {
    /// A threshold or limit outside its documented range.
    #[error("{name} must be {expected}, got {value}")]
    InvalidParameter { name: &'static str, value: String, expected: &'static str },
    /// More rules than the rule budget allows.
    #[error("more than {limit} rules satisfy the thresholds")]
    TooManyRules { limit: u64 },
    /// The itemset tree and rules would outgrow the memory budget.
    #[error("mining needs more than the memory budget of {limit_bytes} bytes")]
    MemoryLimit { limit_bytes: u64 },
    /// A lookup table gives an item two labels at one level.
    #[error("item {item:?} has two {level} labels in the hierarchy: {first:?} and {second:?}")]
    HierarchyConflict { item: String, level: String, first: Option<String>, second: Option<String> },
    /// An item's name is also the name of an ancestor across levels, or two
    /// levels' labels make one name.
    #[error("{name:?} names two things across the levels of the hierarchy")]
    HierarchyNameClash { name: String },
}
