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

/// Mining defaults of a registered source (`rar.sources.defaults`) that
/// `CALL rar_refresh` could not mine with; see
/// [`crate::params::check_source_defaults`].
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DefaultsError {
    /// Not a JSON object.
    #[error("defaults must be a jsonb object")]
    NotObject,
    /// A threshold that is not a number, or a method or level that is not a
    /// string.
    #[error("defaults must give the thresholds as numbers, and method and level as strings")]
    WrongKind { key: String },
    /// A key the refresh does not read (a typo would be ignored silently).
    #[error("unknown key in defaults: {key:?}")]
    UnknownKey { key: String },
    /// A `max_length` that is not a whole number from 2 to 32.
    #[error("invalid value for max_length in defaults: {value}")]
    MaxLength { value: String },
    /// `min_interest` without `"level": "all"`: it applies across levels only.
    #[error("min_interest in defaults applies to rules across levels only")]
    InterestWithoutLevel,
    /// An empty level name.
    #[error("invalid value for level in defaults: \"\"")]
    Level,
    /// A level with method neural or hybrid: levels are mined exactly.
    #[error("level in defaults applies to exact rules only")]
    LevelWithModel,
    /// A method other than exact, neural and hybrid.
    #[error("invalid value for method in defaults: {value:?}")]
    Method { value: String },
    /// A threshold outside its range (as `rar_mine` checks it), or a number
    /// beyond double precision.
    #[error("invalid value for {name} in defaults: {value}")]
    OutOfRange { name: &'static str, value: String, expected: &'static str },
}
