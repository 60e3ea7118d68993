//! String to sign, HMAC signature, server-side verification and client-side signing.

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::authorization::{is_header_token, is_valid_access_key};
use crate::canonical::{
    build_canonical_request, canonical_request, header_value, payload_hash, sha256_hex,
};
use crate::{
    Authorization, RawRequest, SignError, ALGORITHM, CONTENT_SHA256_HEADER, DATE_HEADER,
    EMPTY_SHA256,
};

type HmacSha256 = Hmac<Sha256>;

/// Longest offending date value echoed back in [`SignError::BadDate`].
const MAX_ECHOED_DATE: usize = 64;

/// The string to sign: `SDK-HMAC-SHA256\n<sdk_date>\n<hex SHA-256 of canonical_request>`.
///
/// `sdk_date` is the `X-Sdk-Date` value exactly as signed (trimmed header value).
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// HMAC-SHA256 of `string_to_sign` keyed with the UTF-8 bytes of `secret_key`, as 64 lower-case
/// hex characters. There is no key derivation in this algorithm.
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    hex::encode(mac(secret_key, string_to_sign).finalize().into_bytes())
}

fn mac(secret_key: &str, string_to_sign: &str) -> HmacSha256 {
    let mut mac = VerifyKey::new(secret_key).mac;
    mac.update(string_to_sign.as_bytes());
    mac
}

/// A secret key with its HMAC state prepared: the padded key blocks are hashed once here
/// instead of on every request. A server that verifies many requests with one key keeps
/// this next to the key and calls [`verify_with`].
#[derive(Clone)]
pub struct VerifyKey {
    mac: HmacSha256,
}

impl VerifyKey {
    /// Prepares `secret_key` (its UTF-8 bytes are the HMAC key).
    pub fn new(secret_key: &str) -> VerifyKey {
        VerifyKey {
            mac: <HmacSha256 as Mac>::new_from_slice(secret_key.as_bytes())
                .expect("HMAC accepts keys of any length"),
        }
    }
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyKey(..)")
    }
}

/// Parse an `X-Sdk-Date` value (`%Y%m%dT%H%M%SZ`, e.g. `20240102T030405Z`) as UTC.
///
/// The format is checked strictly: exactly 16 characters, digits, `T` and a final `Z`.
///
/// # Errors
///
/// [`SignError::BadDate`] carrying (a prefix of) the offending value.
pub fn parse_sdk_date(value: &str) -> Result<DateTime<Utc>, SignError> {
    let bad = || SignError::BadDate(value.chars().take(MAX_ECHOED_DATE).collect());
    let b = value.as_bytes();
    let shape_ok = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[9..15].iter().all(u8::is_ascii_digit);
    if !shape_ok {
        return Err(bad());
    }
    // The shape is fixed, so the fields are read directly (this runs on every signed
    // request; a format-string parse costs several times more). A leap second (60) goes
    // through chrono's parser, which decides what it means.
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let second = num(13..15);
    if second < 60 {
        return chrono::NaiveDate::from_ymd_opt(num(0..4) as i32, num(4..6), num(6..8))
            .and_then(|d| d.and_hms_opt(num(9..11), num(11..13), second))
            .map(|naive| naive.and_utc())
            .ok_or_else(bad);
    }
    NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ")
        .map(|naive| naive.and_utc())
        .map_err(|_| bad())
}

/// Check the signature of a received request: everything the server does except looking up the
/// secret key for `auth.access_key` and checking the clock skew of the date.
///
/// Steps: `x-sdk-date` and `host` must be listed in `SignedHeaders`; `X-Sdk-Date` must be present
/// and parse with [`parse_sdk_date`]; the canonical request is rebuilt from the raw request with
/// the client's list of signed headers; the expected signature is compared with
/// `auth.signature` in constant time.
///
/// Node SDK tolerance: when `X-Sdk-Content-Sha256` is present and the body is empty, the Python
/// SDK signs [`EMPTY_SHA256`] while the Node SDK signs the header value; both are accepted.
/// Note that a request carrying `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` and a body is accepted
/// with its body *not* covered by the signature, as in the SDKs.
///
/// # Errors
///
/// * [`SignError::MissingDate`] when `x-sdk-date` is not signed or absent;
/// * [`SignError::HostNotSigned`] when `host` is not signed;
/// * [`SignError::BadDate`] when the date does not parse;
/// * [`SignError::MissingSignedHeader`] when another signed header is absent;
/// * [`SignError::MalformedAuthorization`] when `auth.signature` is not 64 hex characters;
/// * [`SignError::SignatureMismatch`] when the signature does not match.
pub fn verify(
    req: &RawRequest<'_>,
    auth: &Authorization,
    secret_key: &str,
) -> Result<(), SignError> {
    verify_with(req, auth, &VerifyKey::new(secret_key))
}

/// [`verify`] with a prepared key: the same checks and errors.
///
/// # Errors
///
/// As [`verify`].
pub fn verify_with(
    req: &RawRequest<'_>,
    auth: &Authorization,
    key: &VerifyKey,
) -> Result<(), SignError> {
    let lists = |wanted: &str| {
        auth.signed_headers
            .iter()
            .any(|n| n.eq_ignore_ascii_case(wanted))
    };
    if !lists(DATE_HEADER) {
        return Err(SignError::MissingDate);
    }
    if !lists("host") {
        return Err(SignError::HostNotSigned);
    }
    let date = header_value(req.headers, DATE_HEADER).ok_or(SignError::MissingDate)?;
    parse_sdk_date(&date)?;

    let mut expected = [0u8; 32];
    if hex::decode_to_slice(&auth.signature, &mut expected).is_err() {
        return Err(SignError::MalformedAuthorization);
    }

    let mut candidates = vec![payload_hash(req)];
    if req.body.is_empty() {
        if let Some(declared) = header_value(req.headers, CONTENT_SHA256_HEADER) {
            if declared != EMPTY_SHA256 {
                candidates.push(declared);
            }
        }
    }

    for payload in &candidates {
        let creq = build_canonical_request(req, &auth.signed_headers, payload)?;
        // The string to sign goes into the MAC piece by piece (the same bytes as
        // `string_to_sign`), without building it.
        let mut hash = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(creq.as_bytes()), &mut hash)
            .expect("64 hex digits for 32 bytes");
        let mut mac = key.mac.clone();
        mac.update(ALGORITHM.as_bytes());
        mac.update(b"\n");
        mac.update(date.as_bytes());
        mac.update(b"\n");
        mac.update(&hash);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err(SignError::SignatureMismatch)
}

/// Sign a request as the Python SDK does and return the `Authorization` header value.
///
/// Every header in `req.headers` whose name contains no `_` is signed, except an
/// `Authorization` header if one is passed in. Names are lower-cased and sorted; a name given
/// more than once is signed once, with its values joined as described in
/// [`canonical_request`]. The payload hash follows the Python SDK: the empty hash for an empty
/// body, else `X-Sdk-Content-Sha256` when set, else the SHA-256 of the body.
///
/// `req.headers` must contain `Host` and a valid `X-Sdk-Date`; the caller sends exactly these
/// headers (and path, query and body) on the wire.
///
/// # Errors
///
/// * [`SignError::InvalidAccessKey`] when the key is empty or contains `,` or whitespace;
/// * [`SignError::InvalidHeaderName`] when a header name to sign is not an HTTP token;
/// * [`SignError::MissingSignedHeader`] (`"host"`) when there is no `Host` header;
/// * [`SignError::MissingDate`] / [`SignError::BadDate`] for a missing or malformed date.
pub fn sign(req: &RawRequest<'_>, access_key: &str, secret_key: &str) -> Result<String, SignError> {
    if !is_valid_access_key(access_key) {
        return Err(SignError::InvalidAccessKey);
    }
    let mut names: Vec<String> = Vec::with_capacity(req.headers.len());
    for (name, _) in req.headers {
        let lower = name.to_ascii_lowercase();
        if lower.contains('_') || lower == "authorization" {
            continue;
        }
        if !is_header_token(&lower) {
            return Err(SignError::InvalidHeaderName(name.to_string()));
        }
        names.push(lower);
    }
    names.sort();
    names.dedup();

    if !names.iter().any(|n| n == "host") {
        return Err(SignError::MissingSignedHeader("host".to_owned()));
    }
    let date = header_value(req.headers, DATE_HEADER).ok_or(SignError::MissingDate)?;
    parse_sdk_date(&date)?;

    let creq = canonical_request(req, &names)?;
    let sig = signature(secret_key, &string_to_sign(&date, &creq));
    Ok(Authorization {
        access_key: access_key.to_owned(),
        signed_headers: names,
        signature: sig,
    }
    .to_string())
}
