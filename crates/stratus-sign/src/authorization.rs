//! Parsing and formatting of the `Authorization` header value.

use std::fmt;

use crate::{SignError, ALGORITHM};

/// The three parts of an `SDK-HMAC-SHA256` `Authorization` header.
///
/// Produced by [`parse_authorization`]; its [`Display`](fmt::Display) form is the header value
/// (`SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key (AK) the client claims to sign with.
    pub access_key: String,
    /// Header names from `SignedHeaders`, in the order given (verbatim, normally lower-case and
    /// sorted). They are re-joined with `;` to form the `SignedHeaders` line of the canonical
    /// request.
    pub signed_headers: Vec<String>,
    /// The signature: 64 lower-case hex characters.
    pub signature: String,
}

impl fmt::Display for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM} Access={}, SignedHeaders={}, Signature={}",
            self.access_key,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// Longest algorithm name echoed back in [`SignError::UnsupportedAlgorithm`].
const MAX_ECHOED_ALGORITHM: usize = 64;

/// Parse an `Authorization` header value.
///
/// The accepted grammar is the one of the Huawei API gateway,
/// `^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`,
/// with two tightenings that no SDK ever trips over: the access key and every signed header
/// name must be non-empty and free of whitespace and control characters, and the header names
/// must be HTTP tokens. Nothing is trimmed: leading or extra spaces anywhere make the value
/// malformed.
///
/// # Errors
///
/// * [`SignError::UnsupportedAlgorithm`] when the first word is a well-formed scheme name other
///   than [`ALGORITHM`] (for example `SDK-HMAC-SM3` or `Basic`);
/// * [`SignError::MalformedAuthorization`] for anything else that does not match the grammar
///   (missing parts, extra spaces, upper-case or short hex, empty names, ...).
pub fn parse_authorization(value: &str) -> Result<Authorization, SignError> {
    let (algorithm, rest) = value
        .split_once(' ')
        .ok_or(SignError::MalformedAuthorization)?;
    if algorithm.is_empty()
        || !algorithm
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(SignError::MalformedAuthorization);
    }
    if algorithm != ALGORITHM {
        let echoed: String = algorithm.chars().take(MAX_ECHOED_ALGORITHM).collect();
        return Err(SignError::UnsupportedAlgorithm(echoed));
    }

    let rest = rest
        .strip_prefix("Access=")
        .ok_or(SignError::MalformedAuthorization)?;
    let (access_key, rest) = rest
        .split_once(", SignedHeaders=")
        .ok_or(SignError::MalformedAuthorization)?;
    let (signed_headers, signature) = rest
        .split_once(", Signature=")
        .ok_or(SignError::MalformedAuthorization)?;

    if !is_valid_access_key(access_key) {
        return Err(SignError::MalformedAuthorization);
    }
    if signed_headers.contains(',') {
        return Err(SignError::MalformedAuthorization);
    }
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    if !signed_headers.iter().all(|n| is_header_token(n)) {
        return Err(SignError::MalformedAuthorization);
    }
    if !is_lower_hex_signature(signature) {
        return Err(SignError::MalformedAuthorization);
    }

    Ok(Authorization {
        access_key: access_key.to_owned(),
        signed_headers,
        signature: signature.to_owned(),
    })
}

/// A usable access key: non-empty, no `,`, no whitespace or control characters.
pub(crate) fn is_valid_access_key(ak: &str) -> bool {
    !ak.is_empty()
        && !ak
            .chars()
            .any(|c| c == ',' || c.is_whitespace() || c.is_control())
}

/// An HTTP header name (RFC 9110 `token`), which excludes `;`, `,`, spaces and non-ASCII.
pub(crate) fn is_header_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Exactly 64 characters of `[0-9a-f]`.
pub(crate) fn is_lower_hex_signature(sig: &str) -> bool {
    sig.len() == 64 && sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
