//! Names of the tables and views the extension creates beside a user's
//! table (`<table>_rar_rejected`, `<table>_rar_items`): always within
//! PostgreSQL's 63-byte identifiers, never truncated onto another name.

/// Longest identifier PostgreSQL keeps (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER: usize = 63;

/// `<table><suffix>`, or, when that would pass 63 bytes, the table's name
/// cut short (on a character boundary) with a hash of the whole name, so
/// that two long names sharing a prefix get different results and none of
/// them is the table's own name.
pub fn derived_name(table: &str, suffix: &str) -> String {
    let full = format!("{table}{suffix}");
    if full.len() <= MAX_IDENTIFIER {
        return full;
    }
    // FNV-1a: stable across builds and platforms.
    let hash = table.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    let tag = format!("_{:08x}", hash as u32);
    let mut cut = MAX_IDENTIFIER.saturating_sub(suffix.len() + tag.len()).min(table.len());
    while !table.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{tag}{suffix}", &table[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_keep_the_plain_suffix() {
        assert_eq!(derived_name("sales", "_rar_rejected"), "sales_rar_rejected");
    }

    #[test]
    fn long_names_fit_and_do_not_collide() {
        let a = "a".repeat(63);
        let b = format!("{}b", "a".repeat(62));
        let (qa, qb) = (derived_name(&a, "_rar_rejected"), derived_name(&b, "_rar_rejected"));
        assert!(qa.len() <= MAX_IDENTIFIER && qb.len() <= MAX_IDENTIFIER);
        assert_ne!(qa, qb);
        assert_ne!(qa, a);
        assert!(qa.ends_with("_rar_rejected"));
        // Multi-byte characters are never cut in half.
        let c = "é".repeat(40);
        let qc = derived_name(&c, "_rar_rejected");
        assert!(qc.len() <= MAX_IDENTIFIER);
        assert!(qc.starts_with('é'));
    }
}
