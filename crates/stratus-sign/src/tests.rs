//! Crate-level tests: the worked examples of §3.6 and the tolerance rules of §3.5.
#![allow(clippy::unwrap_used)]

use super::*;

const AK: &str = "EXAMPLEAK0000000000A";
const SK: &str = "EXAMPLESK000000000000000000000000000000B";
const PID: &str = "0123456789abcdef0123456789abcdef";
const DATE: &str = "20240102T030405Z";

const A_PATH: &str = "/v2/0123456789abcdef0123456789abcdef/fgs/functions";
const A_QUERY: &str = "func_name=my%20func&marker=0&maxitems=10";
const A_AUTH: &str = "SDK-HMAC-SHA256 Access=EXAMPLEAK0000000000A, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=e95200df29ffbddbb8627fd8136901b539a034f283a92349f71bd69b87567335";

const B_PATH: &str = "/v2/0123456789abcdef0123456789abcdef/fgs/functions/urn%3Afss%3Acn-north-4%3A0123456789abcdef0123456789abcdef%3Afunction%3Adefault%3Ahello%3Alatest/invocations";
const B_BODY: &[u8] = br#"{"name": "world"}"#;
const B_AUTH: &str = "SDK-HMAC-SHA256 Access=EXAMPLEAK0000000000A, SignedHeaders=content-type;host;user-agent;x-cff-log-type;x-cff-request-version;x-project-id;x-sdk-date, Signature=67d5a105f742976b2c1e74c5fa94113b012ba69ed546ec60ebb473a248b06a3f";

const C_PATH: &str = "/v2/0123456789abcdef0123456789abcdef/fgs/functions/urn:fss:cn-north-4:0123456789abcdef0123456789abcdef:function:default:hello:latest/invocations";
const C_BODY: &[u8] = br#"{"name":"world"}"#;
const C_AUTH: &str = "SDK-HMAC-SHA256 Access=EXAMPLEAK0000000000A, SignedHeaders=content-type;host;x-cff-request-version;x-project-id;x-sdk-date, Signature=a35ce8ca6018a0771c8706b8f8d63ff7b1b886091432de55928128ec9bd45fc3";

fn a_headers(date: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("Content-Type", "application/json"),
        ("Host", "localhost:8080"),
        ("User-Agent", "huaweicloud-usdk-python/3.0"),
        ("X-Project-Id", PID),
        ("X-Sdk-Date", date),
    ]
}

fn b_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Content-Type", "application/json"),
        ("Host", "localhost:8080"),
        ("User-Agent", "huaweicloud-usdk-python/3.0"),
        ("X-Cff-Log-Type", "tail"),
        ("X-CFF-Request-Version", "v1"),
        ("X-Project-Id", PID),
        ("X-Sdk-Date", DATE),
    ]
}

fn c_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("content-type", " application/json"),
        ("host", " localhost:8080"),
        ("X-CFF-Request-Version", " v1"),
        ("X-Project-Id", PID),
        ("X-Sdk-Date", DATE),
        // Sent but not signed by the Node SDK.
        ("User-Agent", "huaweicloud-usdk-nodejs/3.0"),
        ("X-Cff-Log-Type", "tail"),
    ]
}

fn req<'a>(
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
) -> RawRequest<'a> {
    RawRequest {
        method,
        path,
        query,
        headers,
        body,
    }
}

fn check(r: &RawRequest<'_>, auth_header: &str) -> Result<(), SignError> {
    let auth = parse_authorization(auth_header)?;
    verify(r, &auth, SK)
}

// ---------------------------------------------------------------- vectors

#[test]
fn vector_a_canonical_request_and_hash() {
    let h = a_headers(DATE);
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    let auth = parse_authorization(A_AUTH).unwrap();
    let creq = canonical_request(&r, &auth.signed_headers).unwrap();
    let expected = "GET\n\
/v2/0123456789abcdef0123456789abcdef/fgs/functions/\n\
func_name=my%20func&marker=0&maxitems=10\n\
content-type:application/json\n\
host:localhost:8080\n\
user-agent:huaweicloud-usdk-python/3.0\n\
x-project-id:0123456789abcdef0123456789abcdef\n\
x-sdk-date:20240102T030405Z\n\
\n\
content-type;host;user-agent;x-project-id;x-sdk-date\n\
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(creq, expected);
    let sts = string_to_sign(DATE, &creq);
    assert_eq!(
        sts,
        "SDK-HMAC-SHA256\n20240102T030405Z\n4f2126d9c157b1364617d07e088f8105e4860226e289255f3faa42465e4e5796"
    );
    assert_eq!(signature(SK, &sts), auth.signature);
}

#[test]
fn vector_b_and_c_canonical_hashes() {
    let h = b_headers();
    let r = req("POST", B_PATH, None, &h, B_BODY);
    let auth = parse_authorization(B_AUTH).unwrap();
    let creq = canonical_request(&r, &auth.signed_headers).unwrap();
    assert!(creq.ends_with("\nefcab326e2f04a967c1da72c4dd1424095b1ccf30e7fc6d872d464db248ba52f"));
    assert_eq!(
        canonical::sha256_hex(creq.as_bytes()),
        "2c631191ffaa8af5aefd8ef028ae67eb0dfd97defc3783bce0c75124e32ff820"
    );

    let h = c_headers();
    let r = req("POST", C_PATH, None, &h, C_BODY);
    let auth = parse_authorization(C_AUTH).unwrap();
    let creq_c = canonical_request(&r, &auth.signed_headers).unwrap();
    assert_eq!(
        creq_c.lines().nth(1),
        creq.lines().nth(1),
        "canonical URI of B and C agree"
    );
    assert_eq!(
        canonical::sha256_hex(creq_c.as_bytes()),
        "646eeabc122ac58e8d8bdb0fa6e58bf1869de60c32ce18538866536cb0ebe12e"
    );
}

#[test]
fn vectors_verify() {
    let h = a_headers(DATE);
    check(&req("GET", A_PATH, Some(A_QUERY), &h, b""), A_AUTH).unwrap();
    let h = b_headers();
    check(&req("POST", B_PATH, None, &h, B_BODY), B_AUTH).unwrap();
    let h = c_headers();
    check(&req("POST", C_PATH, None, &h, C_BODY), C_AUTH).unwrap();
}

#[test]
fn sign_reproduces_python_vectors() {
    let h = a_headers(DATE);
    let a = sign(&req("GET", A_PATH, Some(A_QUERY), &h, b""), AK, SK).unwrap();
    assert_eq!(a, A_AUTH);
    let h = b_headers();
    let b = sign(&req("POST", B_PATH, None, &h, B_BODY), AK, SK).unwrap();
    assert_eq!(b, B_AUTH);
}

#[test]
fn authorization_display_round_trips() {
    for header in [A_AUTH, B_AUTH, C_AUTH] {
        assert_eq!(parse_authorization(header).unwrap().to_string(), header);
    }
}

// ---------------------------------------------------------------- tampering

#[test]
fn flipped_body_byte_fails() {
    let h = b_headers();
    for i in 0..B_BODY.len() {
        let mut body = B_BODY.to_vec();
        body[i] ^= 0x01;
        let r = req("POST", B_PATH, None, &h, &body);
        assert_eq!(
            check(&r, B_AUTH),
            Err(SignError::SignatureMismatch),
            "byte {i}"
        );
    }
    // Python-style spacing is not the Node-style body.
    let r = req("POST", B_PATH, None, &h, C_BODY);
    assert_eq!(check(&r, B_AUTH), Err(SignError::SignatureMismatch));
}

#[test]
fn changed_date_fails() {
    let h = a_headers("20240102T030406Z");
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    assert_eq!(check(&r, A_AUTH), Err(SignError::SignatureMismatch));

    let h = a_headers("2024-01-02T03:04:05Z");
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    assert!(matches!(check(&r, A_AUTH), Err(SignError::BadDate(_))));
}

#[test]
fn changed_signed_header_value_fails_unsigned_does_not() {
    let mut h = c_headers();
    h[2].1 = "v2"; // X-CFF-Request-Version (signed)
    let r = req("POST", C_PATH, None, &h, C_BODY);
    assert_eq!(check(&r, C_AUTH), Err(SignError::SignatureMismatch));

    let mut h = c_headers();
    h[5].1 = "something-else/1.0"; // User-Agent (not signed by Node)
    h[6].1 = "None"; // X-Cff-Log-Type (not signed by Node)
    let r = req("POST", C_PATH, None, &h, C_BODY);
    check(&r, C_AUTH).unwrap();

    // Surrounding whitespace is not significant, inner whitespace is.
    let mut h = a_headers(DATE);
    h[2].1 = "  huaweicloud-usdk-python/3.0\t";
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    check(&r, A_AUTH).unwrap();
    h[2].1 = "huaweicloud-usdk-python/3.0 ";
    h[0].1 = "application/ json";
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    assert_eq!(check(&r, A_AUTH), Err(SignError::SignatureMismatch));
}

#[test]
fn changed_method_path_query_fail() {
    let h = a_headers(DATE);
    for r in [
        req("POST", A_PATH, Some(A_QUERY), &h, b""),
        req(
            "GET",
            "/v2/0123456789abcdef0123456789abcdef/fgs/function",
            Some(A_QUERY),
            &h,
            b"",
        ),
        req(
            "GET",
            A_PATH,
            Some("func_name=my%20func&marker=1&maxitems=10"),
            &h,
            b"",
        ),
        req(
            "GET",
            A_PATH,
            Some("func_name=my+func&marker=0&maxitems=10"),
            &h,
            b"",
        ),
        req("GET", A_PATH, None, &h, b""),
    ] {
        assert_eq!(check(&r, A_AUTH), Err(SignError::SignatureMismatch));
    }
    // The method is upper-cased for the canonical form.
    check(&req("get", A_PATH, Some(A_QUERY), &h, b""), A_AUTH).unwrap();
}

#[test]
fn wrong_secret_fails() {
    let h = a_headers(DATE);
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    let auth = parse_authorization(A_AUTH).unwrap();
    assert_eq!(
        verify(&r, &auth, "other"),
        Err(SignError::SignatureMismatch)
    );
}

// ---------------------------------------------------------------- wire tolerance

#[test]
fn query_order_on_the_wire_does_not_matter() {
    let h = a_headers(DATE);
    for q in [
        "maxitems=10&marker=0&func_name=my%20func",
        "marker=0&maxitems=10&func_name=my%20func",
        "maxitems=10&func_name=my func&marker=0",
        "maxitems=%31%30&func_name=my%20func&marker=0",
        "maxitems=10&&func_name=my%20func&marker=0&",
    ] {
        check(&req("GET", A_PATH, Some(q), &h, b""), A_AUTH).unwrap();
    }
}

#[test]
fn encoded_and_raw_colon_are_equivalent() {
    // B's Python signature over the Node-style raw path.
    let h = b_headers();
    check(&req("POST", C_PATH, None, &h, B_BODY), B_AUTH).unwrap();
    // Lower-case hex escapes too.
    let lower = B_PATH.replace("%3A", "%3a");
    check(&req("POST", &lower, None, &h, B_BODY), B_AUTH).unwrap();
    // C's Node signature over the Python-style encoded path.
    let h = c_headers();
    check(&req("POST", B_PATH, None, &h, C_BODY), C_AUTH).unwrap();
}

#[test]
fn trailing_slash_does_not_matter() {
    let h = a_headers(DATE);
    let p = format!("{A_PATH}/");
    check(&req("GET", &p, Some(A_QUERY), &h, b""), A_AUTH).unwrap();
    let h = b_headers();
    let p = format!("{B_PATH}/");
    check(&req("POST", &p, None, &h, B_BODY), B_AUTH).unwrap();
}

#[test]
fn header_name_case_does_not_matter() {
    let h: Vec<(&str, &str)> = vec![
        ("CONTENT-TYPE", "application/json"),
        ("host", "localhost:8080"),
        ("user-agent", "huaweicloud-usdk-python/3.0"),
        ("x-PROJECT-id", PID),
        ("x-sdk-date", DATE),
    ];
    check(&req("GET", A_PATH, Some(A_QUERY), &h, b""), A_AUTH).unwrap();
}

#[test]
fn unicode_and_space_query_values() {
    let h = a_headers(DATE);
    let signed = sign(
        &req(
            "GET",
            A_PATH,
            Some("func_name=%E4%BD%A0%E5%A5%BD%20%E4%B8%96%E7%95%8C"),
            &h,
            b"",
        ),
        AK,
        SK,
    )
    .unwrap();
    // Raw UTF-8 and a literal space on the wire mean the same thing.
    for q in [
        "func_name=%E4%BD%A0%E5%A5%BD%20%E4%B8%96%E7%95%8C",
        "func_name=你好 世界",
        "func_name=你好%20世界",
        "func_name=%e4%bd%a0%e5%a5%bd%20%e4%b8%96%e7%95%8c",
    ] {
        check(&req("GET", A_PATH, Some(q), &h, b""), &signed).unwrap();
    }
    // '+' is not a space.
    let r = req("GET", A_PATH, Some("func_name=你好+世界"), &h, b"");
    assert_eq!(check(&r, &signed), Err(SignError::SignatureMismatch));
    assert_eq!(
        canonical_query(Some("func_name=my%20func")),
        "func_name=my%20func"
    );
    assert_eq!(
        canonical_query(Some("func_name=my func")),
        "func_name=my%20func"
    );
}

#[test]
fn key_without_equals_and_repeated_keys() {
    let h = a_headers(DATE);
    let signed = sign(&req("GET", A_PATH, Some("flag&a=2&a=1"), &h, b""), AK, SK).unwrap();
    for q in ["a=1&flag=&a=2", "flag&a=1&a=2", "a=2&a=1&flag"] {
        check(&req("GET", A_PATH, Some(q), &h, b""), &signed).unwrap();
    }
    for q in ["a=1&flag", "a=1&a=2", "a=1&a=2&flag=x", "a=1&a=1&a=2&flag"] {
        let r = req("GET", A_PATH, Some(q), &h, b"");
        assert_eq!(check(&r, &signed), Err(SignError::SignatureMismatch), "{q}");
    }
}

#[test]
fn repeated_signed_header_values_are_joined() {
    let h: Vec<(&str, &str)> = vec![
        ("Host", "localhost:8080"),
        ("X-Sdk-Date", DATE),
        ("X-Tag", " a "),
        ("x-tag", "b"),
    ];
    let r = req("GET", "/", None, &h, b"");
    let header = sign(&r, AK, SK).unwrap();
    let auth = parse_authorization(&header).unwrap();
    assert_eq!(auth.signed_headers, ["host", "x-sdk-date", "x-tag"]);
    let creq = canonical_request(&r, &auth.signed_headers).unwrap();
    assert!(creq.contains("\nx-tag:a,b\n"), "{creq}");
    verify(&r, &auth, SK).unwrap();
    let h2: Vec<(&str, &str)> = vec![
        ("Host", "localhost:8080"),
        ("X-Sdk-Date", DATE),
        ("X-Tag", "a,b"),
    ];
    verify(&req("GET", "/", None, &h2, b""), &auth, SK).unwrap();
}

#[test]
fn node_content_sha256_with_empty_body() {
    // The Node SDK signs the header value, the Python SDK the empty hash; both verify.
    let declared = "UNSIGNED-PAYLOAD";
    let h: Vec<(&str, &str)> = vec![
        ("host", "localhost:8080"),
        ("x-sdk-content-sha256", declared),
        ("x-sdk-date", DATE),
    ];
    let r = req("DELETE", "/v2/p/x", None, &h, b"");
    let names: Vec<String> = ["host", "x-sdk-content-sha256", "x-sdk-date"]
        .map(String::from)
        .to_vec();
    let mk = |payload: &str| {
        let creq = canonical::build_canonical_request(&r, &names, payload).unwrap();
        Authorization {
            access_key: AK.into(),
            signed_headers: names.clone(),
            signature: signature(SK, &string_to_sign(DATE, &creq)),
        }
    };
    verify(&r, &mk(declared), SK).unwrap();
    verify(&r, &mk(EMPTY_SHA256), SK).unwrap();
    assert_eq!(
        verify(&r, &mk("deadbeef"), SK),
        Err(SignError::SignatureMismatch)
    );
    // The Python-style signer uses the empty hash here.
    let python = sign(&r, AK, SK).unwrap();
    assert_eq!(parse_authorization(&python).unwrap(), mk(EMPTY_SHA256));

    // With a body the declared value is used literally, and nothing else.
    let r = req("PUT", "/v2/p/x", None, &h, b"binary");
    let header = sign(&r, AK, SK).unwrap();
    let auth = parse_authorization(&header).unwrap();
    let creq = canonical_request(&r, &auth.signed_headers).unwrap();
    assert!(creq.ends_with("\nUNSIGNED-PAYLOAD"));
    verify(&r, &auth, SK).unwrap();
}

// ---------------------------------------------------------------- server requirements

#[test]
fn date_and_host_must_be_signed_and_present() {
    let h = a_headers(DATE);
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    let mut auth = parse_authorization(A_AUTH).unwrap();
    auth.signed_headers.retain(|n| n != "x-sdk-date");
    assert_eq!(verify(&r, &auth, SK), Err(SignError::MissingDate));

    let mut auth = parse_authorization(A_AUTH).unwrap();
    auth.signed_headers.retain(|n| n != "host");
    assert_eq!(verify(&r, &auth, SK), Err(SignError::HostNotSigned));

    let no_date: Vec<(&str, &str)> = h
        .iter()
        .copied()
        .filter(|(n, _)| *n != "X-Sdk-Date")
        .collect();
    let r = req("GET", A_PATH, Some(A_QUERY), &no_date, b"");
    assert_eq!(check(&r, A_AUTH), Err(SignError::MissingDate));

    let no_project: Vec<(&str, &str)> = h
        .iter()
        .copied()
        .filter(|(n, _)| *n != "X-Project-Id")
        .collect();
    let r = req("GET", A_PATH, Some(A_QUERY), &no_project, b"");
    assert_eq!(
        check(&r, A_AUTH),
        Err(SignError::MissingSignedHeader("x-project-id".into()))
    );
}

#[test]
fn sign_requires_host_and_date() {
    let h: Vec<(&str, &str)> = vec![("X-Sdk-Date", DATE)];
    assert_eq!(
        sign(&req("GET", "/", None, &h, b""), AK, SK),
        Err(SignError::MissingSignedHeader("host".into()))
    );
    let h: Vec<(&str, &str)> = vec![("Host", "h")];
    assert_eq!(
        sign(&req("GET", "/", None, &h, b""), AK, SK),
        Err(SignError::MissingDate)
    );
    let h: Vec<(&str, &str)> = vec![("Host", "h"), ("X-Sdk-Date", "yesterday")];
    assert!(matches!(
        sign(&req("GET", "/", None, &h, b""), AK, SK),
        Err(SignError::BadDate(_))
    ));
    let h: Vec<(&str, &str)> = vec![("Host", "h"), ("X-Sdk-Date", DATE), ("Bad Name", "v")];
    assert_eq!(
        sign(&req("GET", "/", None, &h, b""), AK, SK),
        Err(SignError::InvalidHeaderName("Bad Name".into()))
    );
    let h: Vec<(&str, &str)> = vec![("Host", "h"), ("X-Sdk-Date", DATE)];
    for ak in ["", "a,b", "a b"] {
        assert_eq!(
            sign(&req("GET", "/", None, &h, b""), ak, SK),
            Err(SignError::InvalidAccessKey)
        );
    }
}

#[test]
fn sign_skips_underscore_and_authorization_headers() {
    let h: Vec<(&str, &str)> = vec![
        ("X-Sdk-Date", DATE),
        ("Host", "h"),
        ("X_Custom", "skipped"),
        ("Authorization", "old"),
        ("Content-Type", "application/json"),
    ];
    let header = sign(&req("GET", "/", None, &h, b""), AK, SK).unwrap();
    let auth = parse_authorization(&header).unwrap();
    assert_eq!(auth.signed_headers, ["content-type", "host", "x-sdk-date"]);
}

#[test]
fn sdk_date_parsing() {
    let d = parse_sdk_date(DATE).unwrap();
    assert_eq!(d.to_rfc3339(), "2024-01-02T03:04:05+00:00");
    // The direct field reading agrees with chrono's format parser.
    for v in [
        "20240229T235959Z",
        "20230229T000000Z",
        "00000101T000000Z",
        "99991231T235959Z",
        "20240102T236005Z",
        "20240102T030460Z",
        "20241231T000099Z",
    ] {
        let chrono = chrono::NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ")
            .map(|n| n.and_utc())
            .ok();
        assert_eq!(parse_sdk_date(v).ok(), chrono, "{v}");
    }
    for bad in [
        "",
        "20240102T030405",
        "20240102T030405z",
        "20240102 030405Z",
        "2024010T0304055Z",
        "20241302T030405Z",
        "20240230T030405Z",
        "20240102T250405Z",
        "+2024012T030405Z",
        " 20240102T030405Z",
        "20240102T030405Z ",
        "２0240102T030405Z",
        "20240102T03040５Z",
    ] {
        assert!(
            matches!(parse_sdk_date(bad), Err(SignError::BadDate(_))),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- Authorization parsing

#[test]
fn malformed_authorization_rejected() {
    let sig = "e95200df29ffbddbb8627fd8136901b539a034f283a92349f71bd69b87567335";
    let malformed = [
        String::new(),
        "SDK-HMAC-SHA256".into(),
        "SDK-HMAC-SHA256 ".into(),
        format!("SDK-HMAC-SHA256 SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, Signature={sig}"),
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host".into(),
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=".into(),
        format!("SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature={sig}"),
        // upper-case hex
        format!(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature={}",
            sig.to_uppercase()
        ),
        // short / long / non-hex signature
        format!(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature={}",
            &sig[..63]
        ),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature={sig}0"),
        format!(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature={}g",
            &sig[..63]
        ),
        // extra spaces
        format!("SDK-HMAC-SHA256  Access=AK, SignedHeaders=host, Signature={sig}"),
        format!(" SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK,  SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK , SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access= AK, SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host; x-sdk-date, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature= {sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature={sig} "),
        format!("SDK-HMAC-SHA256 Access=AK,SignedHeaders=host,Signature={sig}"),
        // wrong separators, order, empty names, commas
        format!("SDK-HMAC-SHA256 Access=AK; SignedHeaders=host; Signature={sig}"),
        format!("SDK-HMAC-SHA256 SignedHeaders=host, Access=AK, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;;x-sdk-date, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=A,K, SignedHeaders=host, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host,x, Signature={sig}"),
        format!("SDK-HMAC-SHA256 access=AK, SignedHeaders=host, Signature={sig}"),
        format!("Access=AK, SignedHeaders=host, Signature={sig}"),
    ];
    for value in &malformed {
        assert_eq!(
            parse_authorization(value),
            Err(SignError::MalformedAuthorization),
            "{value:?}"
        );
    }
}

#[test]
fn other_algorithms_rejected() {
    let sig = "e95200df29ffbddbb8627fd8136901b539a034f283a92349f71bd69b87567335";
    for alg in [
        "SDK-HMAC-SM3",
        "sdk-hmac-sha256",
        "V11-HMAC-SHA256",
        "Basic",
        "Bearer",
        "AWS4-HMAC-SHA256",
    ] {
        let value = format!("{alg} Access=AK, SignedHeaders=host, Signature={sig}");
        assert_eq!(
            parse_authorization(&value),
            Err(SignError::UnsupportedAlgorithm(alg.into()))
        );
    }
    assert_eq!(
        parse_authorization("Basic dXNlcjpwYXNz"),
        Err(SignError::UnsupportedAlgorithm("Basic".into()))
    );
}

#[test]
fn well_formed_authorization_parsed() {
    let a = parse_authorization(A_AUTH).unwrap();
    assert_eq!(a.access_key, AK);
    assert_eq!(
        a.signed_headers,
        [
            "content-type",
            "host",
            "user-agent",
            "x-project-id",
            "x-sdk-date"
        ]
    );
    assert_eq!(a.signature.len(), 64);
}

#[test]
fn verify_rejects_bad_signature_field() {
    let h = a_headers(DATE);
    let r = req("GET", A_PATH, Some(A_QUERY), &h, b"");
    let mut auth = parse_authorization(A_AUTH).unwrap();
    auth.signature = "zz".into();
    assert_eq!(
        verify(&r, &auth, SK),
        Err(SignError::MalformedAuthorization)
    );
    auth.signature = "00".repeat(32);
    assert_eq!(verify(&r, &auth, SK), Err(SignError::SignatureMismatch));
}

// ---------------------------------------------------------------- property-style

/// Tiny deterministic xorshift generator, enough for fuzz-style loops without extra crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A string built from random bytes, biased towards characters the parsers care about.
    fn string(&mut self, max_len: usize) -> String {
        const SPECIAL: &[&str] = &[
            "%", "%2", "%zz", "%3A", "%2F", "%FF", "%C3", "%E4%BD", "/", "?", "&", "=", "+", ";",
            ",", " ", "\t", "\u{a0}", "é", "你", "\u{FFFD}", "\0", "\n", ":",
        ];
        let len = self.below(max_len + 1);
        let mut bytes = Vec::with_capacity(len * 2);
        while bytes.len() < len {
            if self.below(3) == 0 {
                bytes.extend_from_slice(SPECIAL[self.below(SPECIAL.len())].as_bytes());
            } else {
                bytes.push(self.next() as u8);
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let method = rng.string(8);
        let path = rng.string(40);
        let query = rng.string(40);
        let names: Vec<String> = (0..rng.below(5)).map(|_| rng.string(12)).collect();
        let values: Vec<String> = (0..names.len()).map(|_| rng.string(20)).collect();
        let mut headers: Vec<(&str, &str)> = names
            .iter()
            .zip(&values)
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let date = rng.string(18);
        let host = rng.string(10);
        if rng.below(2) == 0 {
            headers.push(("Host", &host));
            headers.push(("X-Sdk-Date", &date));
        }
        let body: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
        let q = if rng.below(4) == 0 {
            None
        } else {
            Some(query.as_str())
        };
        let r = req(&method, &path, q, &headers, &body);

        let _ = canonical_uri(&path);
        let _ = canonical_query(q);
        let _ = encode_component(&path);
        let _ = parse_sdk_date(&date);
        let signed: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        let _ = canonical_request(&r, &signed);
        let _ = sign(&r, AK, &host);
        let auth_text = format!(
            "{} Access={}, SignedHeaders={}, Signature={}",
            if rng.below(2) == 0 {
                ALGORITHM.to_owned()
            } else {
                rng.string(16)
            },
            rng.string(10),
            rng.string(20),
            rng.string(66)
        );
        let _ = parse_authorization(&auth_text);
        let _ = parse_authorization(&rng.string(80));
        let auth = Authorization {
            access_key: rng.string(10),
            signed_headers: names.clone(),
            signature: rng.string(64),
        };
        let _ = verify(&r, &auth, &host);
    }
}

#[test]
fn random_requests_sign_then_verify() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let token_chars =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!#$%&'*+^`|~";
    for _ in 0..1000 {
        let path = rng.string(40);
        let query = rng.string(40);
        let names: Vec<String> = (0..rng.below(4))
            .map(|_| {
                let len = 1 + rng.below(10);
                (0..len)
                    .map(|_| token_chars[rng.below(token_chars.len())] as char)
                    .collect()
            })
            .collect();
        let values: Vec<String> = (0..names.len()).map(|_| rng.string(20)).collect();
        let mut headers: Vec<(&str, &str)> = vec![("Host", "example.test"), ("X-Sdk-Date", DATE)];
        headers.extend(
            names
                .iter()
                .zip(&values)
                .map(|(n, v)| (n.as_str(), v.as_str())),
        );
        let body: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
        let r = req("POST", &path, Some(&query), &headers, &body);

        let header = sign(&r, AK, SK).unwrap();
        let auth = parse_authorization(&header).unwrap();
        verify(&r, &auth, SK).unwrap();

        // The Python-style wire form (canonical path and query) verifies too.
        let cpath = canonical_uri(&path);
        let cquery = canonical_query(Some(&query));
        let r2 = req("POST", &cpath, Some(&cquery), &headers, &body);
        verify(&r2, &auth, SK).unwrap();

        if !body.is_empty()
            && !names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(CONTENT_SHA256_HEADER))
        {
            let mut tampered = body.clone();
            tampered[0] ^= 0x80;
            let r3 = req("POST", &path, Some(&query), &headers, &tampered);
            assert_eq!(verify(&r3, &auth, SK), Err(SignError::SignatureMismatch));
        }
    }
}
