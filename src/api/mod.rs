//! The SQL surface of the extension: one file per function family.
//!
//! | function | file |
//! | --- | --- |
//! | `rar_mine` | [`mine`] |
//! | `rar_clean`, `rar_restore`, `rar_normalize_item` | [`clean`] |
//! | `rar_split` (and `rar_split_bucket` in `sql/bootstrap.sql`) | [`split`] |
//! | `rar_profile` | [`profile`] |
//! | `rar_encode` | [`encode`] |

pub mod clean;
pub mod encode;
pub mod mine;
pub mod profile;
pub mod split;
