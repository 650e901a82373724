//! The errors the model library (`crates/rar-model`, `rar_model.so`) reports
//! across its C ABI, as JSON: one type, written by the library and read by
//! the extension, so that neither side spells the keys by hand.

use serde::{Deserialize, Serialize};

/// Why the model library could not train, check settings or load a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ModelError {
    /// A setting outside its range.
    Config { name: String, value: String, expected: String },
    /// `device => 'cuda'` without a CUDA device.
    NoCuda,
    /// Weights, optimizer state and one batch would pass the budget.
    TooLarge { needed: u64, limit: u64 },
    /// Too few baskets to train or to validate.
    TooFewBaskets { train: u64, valid: u64 },
    /// Stopped by the caller (a cancel or timeout).
    Cancelled,
    /// libtorch failed.
    Torch { message: String },
}

impl ModelError {
    /// As JSON text, for the C ABI.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"error":"torch","message":"unprintable error"}"#.into())
    }

    /// A report read back; text that is not one becomes a libtorch error
    /// carrying it.
    pub fn parse(text: &str) -> ModelError {
        serde_json::from_str(text).unwrap_or_else(|_| ModelError::Torch { message: text.to_string() })
    }
}

/// Customers' earlier baskets across the C ABI (`rar_model_train`'s last
/// argument, NULL for the basket-only models): `pool` holds every basket a
/// history can name (vocabulary indices, as offsets and items); for each
/// training and each validation basket, `*_refs[*_offsets[i]..*_offsets[i + 1]]`
/// are the indices into the pool of its customer's earlier baskets, oldest
/// first.
#[repr(C)]
pub struct HistoryArrays {
    pub pool_offsets: *const u64,
    pub pool_items: *const u32,
    pub n_pool: u64,
    pub train_offsets: *const u64,
    pub train_refs: *const u32,
    pub valid_offsets: *const u64,
    pub valid_refs: *const u32,
}

/// The earlier baskets of the baskets being scored (`rar_model_score`'s
/// last argument, NULL for none), for the sequence model: `pool` as in
/// [`HistoryArrays`]; the earlier baskets of scored basket `i` are
/// `refs[offsets[i]..offsets[i + 1]]`, indices into the pool, oldest first.
/// The basket-only models ignore them.
#[repr(C)]
pub struct ScoreHistory {
    pub pool_offsets: *const u64,
    pub pool_items: *const u32,
    pub n_pool: u64,
    pub offsets: *const u64,
    pub refs: *const u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_and_keeps_its_wire_form() {
        let all = [
            ModelError::Config {
                name: "hidden".into(),
                value: "0".into(),
                expected: "an integer from 4 to 65536".into(),
            },
            ModelError::NoCuda,
            ModelError::TooLarge { needed: 10, limit: 5 },
            ModelError::TooFewBaskets { train: 3, valid: 0 },
            ModelError::Cancelled,
            ModelError::Torch { message: "boom".into() },
        ];
        for e in all {
            assert_eq!(ModelError::parse(&e.to_json()), e);
        }
        assert_eq!(
            ModelError::TooLarge { needed: 10, limit: 5 }.to_json(),
            r#"{"error":"too_large","needed":10,"limit":5}"#
        );
        assert_eq!(ModelError::parse("not json"), ModelError::Torch { message: "not json".into() });
    }
}
