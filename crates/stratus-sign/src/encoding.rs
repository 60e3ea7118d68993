//! Percent-encoding and tolerant percent-decoding used by the canonical form.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Every byte except the RFC 3986 unreserved set (`A-Z a-z 0-9 - _ . ~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// [`NOT_UNRESERVED`] without `/`: encoding a path with it equals encoding each segment.
const NOT_UNRESERVED_OR_SLASH: &AsciiSet = &NOT_UNRESERVED.remove(b'/');

/// Appends `path` to `out`, every `/`-separated segment encoded with [`encode_component`]
/// and the `/` kept (one pass, no string per segment).
pub(crate) fn encode_path_into(out: &mut String, path: &str) {
    for chunk in utf8_percent_encode(path, NOT_UNRESERVED_OR_SLASH) {
        out.push_str(chunk);
    }
}

/// Percent-encode `s` the way the canonical request needs it.
///
/// The RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` are kept; every other byte of the
/// UTF-8 form becomes `%XX` with upper-case hex digits. A space therefore becomes `%20`
/// (never `+`), `:` becomes `%3A` and `/` becomes `%2F`.
///
/// This is public because the client builds request paths (for example a function URN as a
/// single path segment) with the same rule, which makes the wire form already canonical.
///
/// ```
/// assert_eq!(stratus_sign::encode_component("my func:1/ä"), "my%20func%3A1%2F%C3%A4");
/// ```
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// Percent-decode `s` byte by byte.
///
/// A `%` that is not followed by two hex digits is kept as a literal `%` (the sequence is left
/// untouched), `+` is *not* turned into a space, and bytes that do not form valid UTF-8 after
/// decoding are replaced with U+FFFD, like Python's `urllib.parse.unquote` does.
pub(crate) fn decode_lossy(s: &str) -> String {
    decode_lossy_cow(s).into_owned()
}

/// [`decode_lossy`], borrowing `s` when there is nothing to decode.
pub(crate) fn decode_lossy_cow(s: &str) -> std::borrow::Cow<'_, str> {
    // Without a `%` the decoded bytes are `s` itself (already UTF-8); `contains` is a
    // memchr, the decoder goes byte by byte.
    if !s.contains('%') {
        return std::borrow::Cow::Borrowed(s);
    }
    percent_decode_str(s).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unreserved_only() {
        assert_eq!(encode_component("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(
            encode_component(" !'()*+,;=:@/?#[]&%"),
            "%20%21%27%28%29%2A%2B%2C%3B%3D%3A%40%2F%3F%23%5B%5D%26%25"
        );
        assert_eq!(encode_component("é"), "%C3%A9");
        assert_eq!(encode_component(""), "");
    }

    #[test]
    fn path_encoding_matches_segments() {
        for path in ["", "/", "/a b/c:d/", "//x//", "/ä/%/~"] {
            let mut out = String::new();
            encode_path_into(&mut out, path);
            let by_segment: Vec<String> = path.split('/').map(encode_component).collect();
            assert_eq!(out, by_segment.join("/"), "{path:?}");
        }
    }

    #[test]
    fn decoding_is_tolerant() {
        assert_eq!(decode_lossy("a%20b"), "a b");
        assert_eq!(decode_lossy("a+b"), "a+b");
        assert_eq!(decode_lossy("%zz%4"), "%zz%4");
        assert_eq!(decode_lossy("%"), "%");
        assert_eq!(decode_lossy("%3a%3A"), "::");
        assert_eq!(decode_lossy("%C3%A9"), "é");
        assert_eq!(decode_lossy("%FF"), "\u{FFFD}");
    }
}
