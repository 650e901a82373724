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

/// Whether `name` holds a dot outside double quotes: then it is a
/// schema-qualified table, never a source's name (`rar_register` refuses
/// dots), so that the extension's own calls, which name tables qualified,
/// cannot be steered to a source another role registered.
pub fn is_qualified(name: &str) -> bool {
    let mut quoted = false;
    name.chars().any(|c| {
        if c == '"' {
            quoted = !quoted;
        }
        c == '.' && !quoted
    })
}

/// Whether `to_regclass` can parse `name` (one or two parts, each a quoted
/// identifier or a run of characters without blanks or quotes): any other
/// name is looked up as a source only, never raising a syntax error.
pub fn relation_syntax(name: &str) -> bool {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                parts.last_mut().expect("a part").push_str("\"\"");
            }
            '"' => {
                quoted = !quoted;
                parts.last_mut().expect("a part").push('"');
            }
            '.' if !quoted => parts.push(String::new()),
            c => parts.last_mut().expect("a part").push(c),
        }
    }
    let part_ok = |p: &String| {
        let p = p.trim();
        if p.starts_with('"') {
            p.len() >= 3 && p.ends_with('"') && !p[1..p.len() - 1].replace("\"\"", "").contains('"')
        } else {
            !p.is_empty() && !p.contains('"') && !p.chars().any(char::is_whitespace)
        }
    };
    !quoted && parts.len() <= 2 && parts.iter().all(part_ok) && name.len() <= 1000
}

#[cfg(test)]
mod relation_name_tests {
    use super::{is_qualified, relation_syntax};

    #[test]
    fn names_that_read_as_tables() {
        assert!(is_qualified("public.sales") && is_qualified("\"my schema\".t") && !is_qualified("\"a.b\""));
        assert!(!is_qualified("sales"));
        for ok in ["sales", "public.sales", "\"My Table\"", "s.\"t\"\"x\"", "  sales  "] {
            assert!(relation_syntax(ok), "{ok}");
        }
        for bad in ["", "a.b.c", "lab \"x\"", "a b", "\"unterminated", "a..b", ".a", "\"\""] {
            assert!(!relation_syntax(bad), "{bad}");
        }
    }
}

/// Whether SQL `text` holds `prefix` (a schema's name as SQL quotes it,
/// and its dot) where a name can start: not inside a longer identifier
/// (`workshop.` does not name `shop`). Bytes, not characters: a name may
/// hold any.
pub fn names_schema(text: &[u8], prefix: &[u8]) -> bool {
    let part_of_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
    !prefix.is_empty()
        && text
            .windows(prefix.len())
            .enumerate()
            .any(|(i, w)| w == prefix && (i == 0 || prefix[0] == b'"' || !part_of_name(text[i - 1])))
}

#[cfg(test)]
mod schema_tests {
    use super::names_schema;

    #[test]
    fn a_schema_is_named_only_where_a_name_starts() {
        assert!(names_schema(b"SELECT * FROM shop.lines", b"shop."));
        assert!(names_schema(b"shop.lines", b"shop."));
        assert!(names_schema(b"FROM(shop.lines)", b"shop."));
        assert!(!names_schema(b"SELECT * FROM workshop.t", b"shop."));
        assert!(!names_schema(b"SELECT * FROM my_shop.t", b"shop."));
        assert!(!names_schema(b"SELECT * FROM \xc3\xa9shop.t", b"shop."));
        assert!(names_schema(b"FROM \"Shop\".t", b"\"Shop\"."));
        assert!(!names_schema(b"FROM shop_x.t", b"shop."));
        assert!(!names_schema(b"", b"shop."));
        assert!(!names_schema(b"shop.", b""));
    }
}
