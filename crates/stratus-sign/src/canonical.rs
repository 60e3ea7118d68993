//! Construction of the canonical request (§3.2 of the FunctionGraph reference).

use sha2::{Digest, Sha256};

use crate::encoding::{decode_lossy, decode_lossy_cow, encode_component, encode_path_into};
use crate::{RawRequest, SignError, CONTENT_SHA256_HEADER, EMPTY_SHA256};

/// Canonical form of a raw request path.
///
/// The path is percent-decoded (byte-wise, tolerant: see [`encode_component`] for the
/// re-encoding), split on `/`, every segment is re-encoded with [`encode_component`], the
/// segments are joined with `/`, and a trailing `/` is appended when missing. Hence `%3A` and a
/// raw `:` give the same result, and `/a/b` and `/a/b/` are equivalent. A `%2F` in the raw path
/// decodes to `/` and therefore separates segments, as in the SDK signers.
///
/// ```
/// assert_eq!(stratus_sign::canonical_uri("/v2/p/fgs/functions"), "/v2/p/fgs/functions/");
/// assert_eq!(stratus_sign::canonical_uri("/f/urn:a%3Ab"), "/f/urn%3Aa%3Ab/");
/// ```
pub fn canonical_uri(raw_path: &str) -> String {
    let mut out = String::with_capacity(raw_path.len() + 8);
    push_canonical_uri(&mut out, raw_path);
    out
}

/// Appends [`canonical_uri`] of `raw_path` to `out`.
fn push_canonical_uri(out: &mut String, raw_path: &str) {
    let start = out.len();
    encode_path_into(out, &decode_lossy_cow(raw_path));
    if !out[start..].ends_with('/') {
        out.push('/');
    }
}

/// Canonical form of a raw query string (without the leading `?`).
///
/// Items are split on `&` and each at its first `=` (an item without `=` is a key with an empty
/// value). Key and value are percent-decoded (`+` stays `+`), the pairs are sorted by key and
/// then by value in byte order of the decoded strings, re-encoded with [`encode_component`] and
/// joined as `k=v` with `&`. Repeated keys stay repeated. Empty items (as in `a=1&&b=2` or a
/// lone `?`) are skipped; `None` gives the empty string.
///
/// ```
/// assert_eq!(
///     stratus_sign::canonical_query(Some("maxitems=10&func_name=my%20func&flag")),
///     "flag=&func_name=my%20func&maxitems=10"
/// );
/// ```
pub fn canonical_query(raw_query: Option<&str>) -> String {
    let Some(raw) = raw_query else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (decode_lossy(k), decode_lossy(v)),
            None => (decode_lossy(item), String::new()),
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(raw.len() + pairs.len());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encode_component(k));
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
}

/// Value of header `name` (case-insensitive) as used in the canonical form.
///
/// Each occurrence is trimmed of leading and trailing whitespace; when the header occurs more
/// than once, the trimmed values are joined with `,` in the order received (the HTTP rule for
/// combining repeated fields, also what SigV4 does). `None` when the header is absent.
/// Appends [`header_value`] of `name` to `out`; false (and nothing appended) when absent.
fn push_header_value(out: &mut String, headers: &[(&str, &str)], name: &str) -> bool {
    let mut found = false;
    for (n, v) in headers {
        if n.eq_ignore_ascii_case(name) {
            if found {
                out.push(',');
            }
            out.push_str(v.trim());
            found = true;
        }
    }
    found
}

pub(crate) fn header_value(headers: &[(&str, &str)], name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for (n, v) in headers {
        if n.eq_ignore_ascii_case(name) {
            let v = v.trim();
            match &mut found {
                Some(acc) => {
                    acc.push(',');
                    acc.push_str(v);
                }
                None => found = Some(v.to_owned()),
            }
        }
    }
    found
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The payload hash the Python SDK signs: the empty hash for an empty body, else the
/// `X-Sdk-Content-Sha256` value when present, else the SHA-256 of the raw body.
pub(crate) fn payload_hash(req: &RawRequest<'_>) -> String {
    if req.body.is_empty() {
        return EMPTY_SHA256.to_owned();
    }
    match header_value(req.headers, CONTENT_SHA256_HEADER) {
        Some(v) => v,
        None => sha256_hex(req.body),
    }
}

/// Build the canonical request of `req` for the given `signed_headers`.
///
/// The lines are: upper-cased method, [`canonical_uri`] of the raw path,
/// [`canonical_query`] of the raw query, one `name:value` line per signed header (name
/// lower-cased, value as described below) followed by an empty line, the signed header names
/// joined with `;` verbatim, and the payload hash.
///
/// Header values are trimmed of leading and trailing whitespace (inner whitespace is kept).
/// When a signed header occurs more than once in the request, its trimmed values are joined with
/// `,` in the order received. The Huawei SDKs never send a signed header twice, so this only
/// fixes a deterministic answer for odd clients.
///
/// The payload hash is [`EMPTY_SHA256`] for an empty body, else the `X-Sdk-Content-Sha256`
/// header value when present (e.g. `UNSIGNED-PAYLOAD`), else the lower-case hex SHA-256 of the
/// raw body bytes. [`verify`](crate::verify) additionally accepts the Node SDK variant.
///
/// # Errors
///
/// [`SignError::MissingSignedHeader`] (with the name as listed) when a signed header is absent
/// from the request.
pub fn canonical_request(
    req: &RawRequest<'_>,
    signed_headers: &[String],
) -> Result<String, SignError> {
    build_canonical_request(req, signed_headers, &payload_hash(req))
}

/// [`canonical_request`] with an explicit payload hash.
pub(crate) fn build_canonical_request(
    req: &RawRequest<'_>,
    signed_headers: &[String],
    payload_hash: &str,
) -> Result<String, SignError> {
    // Built in one buffer: this runs for every signed request.
    let mut out = String::with_capacity(256 + req.path.len() + payload_hash.len());
    out.push_str(req.method);
    out.make_ascii_uppercase();
    out.push('\n');
    push_canonical_uri(&mut out, req.path);
    out.push('\n');
    if req.query.is_some() {
        out.push_str(&canonical_query(req.query));
    }
    out.push('\n');
    for name in signed_headers {
        let start = out.len();
        out.push_str(name);
        out[start..].make_ascii_lowercase();
        out.push(':');
        if !push_header_value(&mut out, req.headers, name) {
            return Err(SignError::MissingSignedHeader(name.clone()));
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_forms() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/a/b"), "/a/b/");
        assert_eq!(canonical_uri("/a/b/"), "/a/b/");
        assert_eq!(canonical_uri("/a//b"), "/a//b/");
        assert_eq!(canonical_uri("/a b/%20c"), "/a%20b/%20c/");
        assert_eq!(canonical_uri("/x:y"), canonical_uri("/x%3Ay"));
        assert_eq!(canonical_uri("/x:y"), canonical_uri("/x%3ay"));
        assert_eq!(canonical_uri("/a%2Fb"), "/a/b/");
        assert_eq!(canonical_uri("/bad%zz%"), "/bad%25zz%25/");
        assert_eq!(canonical_uri("/%FF"), "/%EF%BF%BD/");
        assert_eq!(canonical_uri("/ä"), "/%C3%A4/");
    }

    #[test]
    fn query_forms() {
        assert_eq!(canonical_query(None), "");
        assert_eq!(canonical_query(Some("")), "");
        assert_eq!(canonical_query(Some("b=2&a=1")), "a=1&b=2");
        assert_eq!(canonical_query(Some("a=2&a=1&a=1")), "a=1&a=1&a=2");
        assert_eq!(canonical_query(Some("k")), "k=");
        assert_eq!(canonical_query(Some("k=")), "k=");
        assert_eq!(canonical_query(Some("k=a=b")), "k=a%3Db");
        assert_eq!(canonical_query(Some("a=1&&b=2&")), "a=1&b=2");
        assert_eq!(canonical_query(Some("q=a+b")), "q=a%2Bb");
        assert_eq!(canonical_query(Some("q=(x)*!'")), "q=%28x%29%2A%21%27");
        assert_eq!(canonical_query(Some("n=%E4%BD%A0")), "n=%E4%BD%A0");
        assert_eq!(canonical_query(Some("n=你")), "n=%E4%BD%A0");
        assert_eq!(canonical_query(Some("%zz=%")), "%25zz=%25");
        // Sorting is on decoded values: "%41" is "A", which sorts before "a".
        assert_eq!(canonical_query(Some("k=a&k=%41")), "k=A&k=a");
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let headers = [("X-A", "  one "), ("x-a", "\ttwo  three"), ("B", "b")];
        assert_eq!(
            header_value(&headers, "x-a").as_deref(),
            Some("one,two  three")
        );
        assert_eq!(header_value(&headers, "b").as_deref(), Some("b"));
        assert_eq!(header_value(&headers, "c"), None);
    }

    #[test]
    fn missing_header_is_reported() {
        let req = RawRequest {
            method: "get",
            path: "/",
            query: None,
            headers: &[("Host", "h")],
            body: b"",
        };
        let err = canonical_request(&req, &["host".into(), "x-sdk-date".into()]);
        assert!(matches!(err, Err(SignError::MissingSignedHeader(n)) if n == "x-sdk-date"));
        let ok = canonical_request(&req, &["host".into()]).expect("host is present");
        assert_eq!(ok, format!("GET\n/\n\nhost:h\n\nhost\n{EMPTY_SHA256}"));
    }
}
