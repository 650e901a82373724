//! Item text normalization for cleaning: white space, case, and repair of
//! UTF-8 text that was once decoded as Latin-1 or Windows-1252 ("mojibake",
//! such as `Â£` for `£` or `â€™` for `’`).

/// How to fold case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseFold {
    None,
    Upper,
    Lower,
}

/// Windows-1252 characters in 0x80..=0x9F, by byte.
const CP1252: [(char, u8); 27] = [
    ('€', 0x80),
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('„', 0x84),
    ('…', 0x85),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8A),
    ('‹', 0x8B),
    ('Œ', 0x8C),
    ('Ž', 0x8E),
    ('‘', 0x91),
    ('’', 0x92),
    ('“', 0x93),
    ('”', 0x94),
    ('•', 0x95),
    ('–', 0x96),
    ('—', 0x97),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9A),
    ('›', 0x9B),
    ('œ', 0x9C),
    ('ž', 0x9E),
    ('Ÿ', 0x9F),
];

fn byte_of(c: char) -> Option<u8> {
    let u = c as u32;
    if u <= 0xFF {
        return Some(u as u8);
    }
    CP1252.iter().find(|(ch, _)| *ch == c).map(|(_, b)| *b)
}

/// Undoes one round of UTF-8-read-as-Latin-1/Windows-1252: when every
/// character maps back to one byte, those bytes are valid UTF-8 and spell
/// something else, returns that. Text that was never mangled (any character
/// beyond the two code pages, or bytes that are not UTF-8) comes back `None`.
pub fn repair_mojibake(s: &str) -> Option<String> {
    if s.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = s.chars().map(byte_of).collect();
    let fixed = String::from_utf8(bytes?).ok()?;
    (fixed != s).then_some(fixed)
}

/// Trims, collapses inner runs of white space to one space, repairs
/// mojibake when asked, and folds case.
pub fn normalize(s: &str, fold: CaseFold, fix_mojibake: bool) -> String {
    let repaired = if fix_mojibake { repair_mojibake(s) } else { None };
    let s = repaired.as_deref().unwrap_or(s);
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match fold {
        CaseFold::None => collapsed,
        CaseFold::Upper => collapsed.to_uppercase(),
        CaseFold::Lower => collapsed.to_lowercase(),
    }
}

/// A PostgreSQL regular expression of text made only of the Unicode white
/// space [`normalize`] trims (`char::is_whitespace`): an item it would make
/// empty, which `rar_clean` removes as blank.
pub const WHITE_SPACE_ONLY: &str =
    r"^[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000]*$";

/// `value` as an error message shows it: its first `max_chars` characters,
/// then "..." when there were more (a 400-digit number, a pasted document).
pub fn shortened(value: &str, max_chars: usize) -> String {
    match value.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}...", &value[..i]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The white space `char::is_whitespace` knows, as ranges of code points.
    const WHITE_SPACE: [(u32, u32); 10] = [
        (0x09, 0x0d),
        (0x20, 0x20),
        (0x85, 0x85),
        (0xa0, 0xa0),
        (0x1680, 0x1680),
        (0x2000, 0x200a),
        (0x2028, 0x2029),
        (0x202f, 0x202f),
        (0x205f, 0x205f),
        (0x3000, 0x3000),
    ];

    #[test]
    fn white_space_is_what_normalize_trims() {
        let listed = |c: u32| WHITE_SPACE.iter().any(|&(a, b)| (a..=b).contains(&c));
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(c.is_whitespace(), listed(c as u32), "U+{:04X}", c as u32);
        }
        // The regular expression names the same ranges.
        let regex: String = WHITE_SPACE
            .iter()
            .map(|&(a, b)| if a == b { format!("\\u{a:04x}") } else { format!("\\u{a:04x}-\\u{b:04x}") })
            .collect();
        assert_eq!(WHITE_SPACE_ONLY, format!("^[{regex}]*$"));
    }

    #[test]
    fn table_driven() {
        let cases = [
            ("  WHITE  HANGING\tHEART ", CaseFold::None, true, "WHITE HANGING HEART"),
            ("Â£ POUND", CaseFold::None, true, "£ POUND"),
            ("Â£ POUND", CaseFold::None, false, "Â£ POUND"),
            ("donâ€™t", CaseFold::None, true, "don’t"),
            ("cafÃ©", CaseFold::Upper, true, "CAFÉ"),
            ("café", CaseFold::None, true, "café"), // real Latin-1 letters stay
            ("日本茶 🍵", CaseFold::None, true, "日本茶 🍵"), // beyond the code pages
            ("Bread", CaseFold::Lower, true, "bread"),
            ("", CaseFold::None, true, ""),
        ];
        for (input, fold, fix, want) in cases {
            assert_eq!(normalize(input, fold, fix), want, "{input:?}");
        }
    }

    #[test]
    fn repair_is_idempotent() {
        for s in ["Â£", "cafÃ©", "â€™", "plain", "é"] {
            let once = normalize(s, CaseFold::None, true);
            assert_eq!(normalize(&once, CaseFold::None, true), once);
        }
    }
}
