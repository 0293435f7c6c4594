//! Redis's glob matching (`stringmatchlen`), used by KEYS, SCAN MATCH,
//! PSUBSCRIBE and friends.
//!
//! `*` matches any run of bytes, `?` one byte, `[abc]`, `[^a]` and `[a-z]` a
//! set (ranges may be reversed), and `\x` the byte `x` literally. An
//! unterminated `[` set extends to the end of the pattern.
//!
//! A naive backtracking matcher takes exponential time on patterns like
//! `*a*a*a*a*b` against a long run of `a`s. Redis 7 bounds it in two ways,
//! kept here: recursion deeper than 1000 `*`s fails, and once the rest of
//! the pattern after a `*` failed to match at every later position, no
//! earlier `*` retries with a longer match (it could only start the rest
//! even later, which already failed).

/// Deepest `*` nesting tried before giving up (no match).
const MAX_NESTING: u32 = 1000;

/// Whether `string` matches the glob `pattern`, like Redis's
/// `stringmatchlen`; `nocase` folds ASCII case.
///
/// As in Redis, the empty string matches only the empty pattern (not even
/// `*`: callers such as KEYS special-case a lone `*` before matching).
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// ASCII lower-casing, as C's `tolower` in the C locale.
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

fn match_impl(mut pat: &[u8], mut s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    while !pat.is_empty() && !s.is_empty() {
        match pat[0] {
            b'*' => {
                while pat.len() > 1 && pat[1] == b'*' {
                    pat = &pat[1..];
                }
                if pat.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_impl(&pat[1..], s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                // The rest matched nowhere: longer matches for earlier
                // stars cannot help either.
                *skip_longer = true;
                return false;
            }
            b'?' => s = &s[1..],
            b'[' => {
                let (matched, next) = match_set(pat, s[0], nocase);
                if !matched {
                    return false;
                }
                // Step back one byte: the common step below moves past it.
                pat = &pat[next - 1..];
                s = &s[1..];
            }
            b'\\' if pat.len() >= 2 => {
                pat = &pat[1..];
                if fold(pat[0], nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if fold(c, nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        pat = &pat[1..];
        if s.is_empty() {
            while pat.first() == Some(&b'*') {
                pat = &pat[1..];
            }
            break;
        }
    }
    pat.is_empty() && s.is_empty()
}

/// Matches byte `c` against the set at the start of `pat` (which begins
/// with `[`). Returns whether it matched and the index in `pat` just past the
/// set: past its `]`, or the end of the pattern when the set is unterminated.
fn match_set(pat: &[u8], c: u8, nocase: bool) -> (bool, usize) {
    let negate = pat.get(1) == Some(&b'^');
    let body_start = if negate { 2 } else { 1 };
    let body = &pat[body_start..];
    let mut matched = false;
    let mut i = 0;
    loop {
        let rest = &body[i..];
        if rest.len() >= 2 && rest[0] == b'\\' {
            // An escaped byte, compared case-sensitively as Redis does.
            i += 1;
            if body[i] == c {
                matched = true;
            }
        } else if rest.first() == Some(&b']') {
            return (matched != negate, body_start + i + 1);
        } else if rest.is_empty() {
            return (matched != negate, pat.len());
        } else if rest.len() >= 3 && rest[1] == b'-' {
            // Redis compares plain (signed) chars here.
            let (mut lo, mut hi) = (rest[0] as i8, rest[2] as i8);
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            let mut ch = c as i8;
            if nocase {
                lo = (lo as u8).to_ascii_lowercase() as i8;
                hi = (hi as u8).to_ascii_lowercase() as i8;
                ch = c.to_ascii_lowercase() as i8;
            }
            i += 2;
            if ch >= lo && ch <= hi {
                matched = true;
            }
        } else if fold(rest[0], nocase) == fold(c, nocase) {
            matched = true;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        // Redis quirk: an empty string matches only the empty pattern (KEYS
        // special-cases a lone "*"; `KEYS **` does not list the key "").
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("*", "anything"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(m("h[^e]llo", "hbllo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hallo"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("*a", "bba"));
        assert!(m("a**", "a"));
        assert!(m("a*", "a"));
    }

    #[test]
    fn escapes() {
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        // A lone trailing backslash matches a backslash.
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn unterminated_sets() {
        // Redis's own cases: "[a" matches "a", "[" matches nothing.
        assert!(m("[a", "a"));
        assert!(!m("[a", "b"));
        assert!(m("[ab", "b"));
        assert!(!m("[", "a"));
        assert!(!m("[", "["));
        assert!(m("[^", "a") || !m("[^", "a")); // no panic
        assert!(m("[a-", "a"));
        assert!(m("[a-", "-"));
        assert!(!m("[\\", "a"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"h[A-Z]llo", b"hello", true));
        assert!(glob_match(b"h[E]llo", b"hello", true));
        assert!(glob_match(b"h\\Ello", b"hello", true));
    }

    #[test]
    fn signed_char_ranges() {
        // With signed chars, [a-\xff] is the reversed range [-1, 'a'].
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(glob_match(b"[a-\xff]", b"0", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
    }

    #[test]
    fn no_exponential_blowup() {
        // Redis's regression: would take ages without skipping longer matches.
        let s = "a".repeat(50) + "b";
        let p = "*a".repeat(30) + "c";
        assert!(!m(&p, &s));
        let p = "a*".repeat(40) + "b";
        assert!(m(&p, &s));
        // Deep nesting gives up instead of overflowing the stack.
        let p = "*?".repeat(2000);
        assert!(!m(&p, &"x".repeat(3000)));
    }

    /// A plain backtracking matcher for patterns without sets or escapes.
    fn model(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, _) => s.is_empty(),
            (Some(b'*'), _) => model(&p[1..], s) || (!s.is_empty() && model(p, &s[1..])),
            (Some(b'?'), Some(_)) => model(&p[1..], &s[1..]),
            (Some(&c), Some(&d)) => c == d && model(&p[1..], &s[1..]),
            (Some(_), None) => false,
        }
    }

    proptest! {
        #[test]
        fn agrees_with_backtracking_model(p in "[ab*?]{0,8}", s in "[ab]{0,10}") {
            let want = if s.is_empty() { p.is_empty() } else { model(p.as_bytes(), s.as_bytes()) };
            prop_assert_eq!(m(&p, &s), want);
        }

        #[test]
        fn never_panics(p in prop::collection::vec(any::<u8>(), 0..12),
                        s in prop::collection::vec(any::<u8>(), 0..12)) {
            glob_match(&p, &s, false);
            glob_match(&p, &s, true);
        }
    }
}
