//! `SDK-HMAC-SHA256` request signing, as done by the Huawei Cloud SDKs (Python and Node).
//!
//! This crate owns the signature algorithm and nothing else: parsing and formatting of the
//! `Authorization` header, the canonical request (URI, query, headers, payload hash), the string
//! to sign, the HMAC, server-side verification and client-side signing. It consists of pure
//! functions over borrowed data ([`RawRequest`]): no I/O, no clock, no HTTP library types, no key
//! storage. Key lookup, clock-skew checks and HTTP error mapping belong to the callers (the API
//! server and the client).
//!
//! The server must verify against the request *as received* (raw path before any router
//! normalisation, raw query, raw body bytes), because the Python and Node SDKs put different
//! bytes on the wire for the same logical request (`%3A` vs `:` in paths, query order,
//! header-name case, JSON spacing); the canonical form makes them equivalent.
//!
//! Server-side use:
//!
//! ```
//! use stratus_sign::{parse_authorization, parse_sdk_date, verify, RawRequest};
//!
//! let headers = [
//!     ("Host", "localhost:8080"),
//!     ("X-Sdk-Date", "20240102T030405Z"),
//! ];
//! let req = RawRequest { method: "GET", path: "/v2/p/fgs/functions", query: None,
//!                        headers: &headers, body: b"" };
//! let header = stratus_sign::sign(&req, "AK", "SK").expect("signable");
//! let auth = parse_authorization(&header).expect("well-formed");
//! // look up the SK for auth.access_key, check the date against the clock, then:
//! verify(&req, &auth, "SK").expect("valid signature");
//! assert!(parse_sdk_date("20240102T030405Z").is_ok());
//! ```

#![warn(missing_docs)]

mod authorization;
mod canonical;
mod encoding;
mod signer;

pub use authorization::{parse_authorization, Authorization};
pub use canonical::{canonical_query, canonical_request, canonical_uri};
pub use encoding::encode_component;
pub use signer::{parse_sdk_date, sign, signature, string_to_sign, verify, verify_with, VerifyKey};

/// Name of the signing algorithm, the first word of the `Authorization` header value.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// Lower-case hex SHA-256 of the empty string: the payload hash of a request without body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Header carrying the signing time, `%Y%m%dT%H%M%SZ` in UTC (lower-case name).
pub const DATE_HEADER: &str = "x-sdk-date";

/// Header with which a client may declare the payload hash itself (lower-case name).
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";

/// Value of [`CONTENT_SHA256_HEADER`] the SDKs send for bodies they do not hash
/// (content types other than JSON and BSON).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A request as received on the wire (raw path before any router normalisation).
///
/// All parts are borrowed; nothing is validated on construction. Every function of the crate
/// accepts arbitrary contents without panicking.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// HTTP method (upper-cased in the canonical form).
    pub method: &'a str,
    /// Raw path, possibly percent-encoded, without the query.
    pub path: &'a str,
    /// Raw query string without the leading `?`; `None` when the URI has no `?`.
    pub query: Option<&'a str>,
    /// Headers as received: `(name in any case, value)`; a name may repeat.
    pub headers: &'a [(&'a str, &'a str)],
    /// Raw body bytes as received (never re-serialised).
    pub body: &'a [u8],
}

/// Why a request could not be signed or verified.
///
/// For a server, every variant maps to `401 Unauthorized`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The `Authorization` value does not match
    /// `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<64 lower-case hex>`.
    #[error("malformed Authorization header")]
    MalformedAuthorization,
    /// The `Authorization` value names another scheme (e.g. `SDK-HMAC-SM3`).
    #[error("unsupported signing algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A header listed in `SignedHeaders` is absent from the request.
    #[error("signed header {0:?} is missing from the request")]
    MissingSignedHeader(String),
    /// `X-Sdk-Date` is absent from the request or not listed in `SignedHeaders`.
    #[error("X-Sdk-Date is missing or not signed")]
    MissingDate,
    /// `X-Sdk-Date` is not of the form `YYYYMMDDTHHMMSSZ`.
    #[error("bad X-Sdk-Date {0:?}")]
    BadDate(String),
    /// `host` is not listed in `SignedHeaders`.
    #[error("the host header is not signed")]
    HostNotSigned,
    /// The recomputed signature differs from the one in `Authorization`.
    #[error("signature does not match")]
    SignatureMismatch,
    /// Signing: a header name that would be signed is not a valid HTTP token.
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    /// Signing: the access key is empty or contains `,`, whitespace or control characters.
    #[error("invalid access key")]
    InvalidAccessKey,
}

#[cfg(test)]
mod tests;
