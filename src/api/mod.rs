//! The SQL surface of the extension: one file per function family.
//!
//! | function | file |
//! | --- | --- |
//! | `rar_mine` | [`mine`] |

pub mod mine;
