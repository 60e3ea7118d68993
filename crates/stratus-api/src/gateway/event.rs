//! The APIG event of a request (spec 4.2) and the response a function must return
//! (`statusCode`, `headers`, `body`, `isBase64Encoded`; anything else is the 500 of guide
//! 14.3.1).

use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// Headers that describe one connection, never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// The example response of the error message.
const SHAPE: &str = r#"{"statusCode":200,"isBase64Encoded":false,"headers":{},"body":""}"#;

/// What the event is built from.
pub(crate) struct Request<'a> {
    /// Request method.
    pub method: &'a str,
    /// The path after the group segment, as received.
    pub path: &'a str,
    /// The raw query, if any.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Request body.
    pub body: &'a [u8],
    /// Path parameters of the API.
    pub params: &'a [(String, String)],
    /// API id.
    pub api_id: &'a str,
    /// Gateway request id.
    pub request_id: &'a str,
    /// Environment.
    pub stage: &'a str,
    /// Client address.
    pub source_ip: &'a str,
    /// The function is an HTTP function (the bridge also gets the raw query).
    pub http_function: bool,
}

/// `application/x-www-form-urlencoded`-style decoding of one query key or value.
fn decode_query(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The query's parameters; a key given more than once keeps its last value.
pub(crate) fn query_parameters(query: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode_query(k);
        if !k.is_empty() {
            out.insert(k, Value::String(decode_query(v)));
        }
    }
    out
}

/// The request as an APIG event.
pub(crate) fn build(r: &Request<'_>) -> Vec<u8> {
    let mut headers = Map::new();
    for (name, value) in r.headers {
        let name = name.as_str();
        if HOP_BY_HOP.contains(&name) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name) {
            Some(Value::String(s)) => {
                s.push_str(", ");
                s.push_str(&value);
            }
            _ => {
                headers.insert(name.to_string(), Value::String(value));
            }
        }
    }
    let forwarded = match headers.get("x-forwarded-for").and_then(Value::as_str) {
        Some(f) => format!("{f}, {}", r.source_ip),
        None => r.source_ip.to_string(),
    };
    headers.insert("x-forwarded-for".into(), json!(forwarded));
    headers.insert("x-real-ip".into(), json!(r.source_ip));
    headers.insert("x-forwarded-proto".into(), json!("http"));
    headers.insert("x-request-id".into(), json!(r.request_id));
    let (body, b64) = match std::str::from_utf8(r.body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(r.body),
            true,
        ),
    };
    let params: Map<String, Value> = r
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut event = json!({
        "httpMethod": r.method,
        "path": r.path,
        "headers": headers,
        "queryStringParameters": query_parameters(r.query),
        "pathParameters": params,
        "body": body,
        "isBase64Encoded": b64,
        "requestContext": {
            "apiId": r.api_id,
            "requestId": r.request_id,
            "stage": r.stage,
            "sourceIp": r.source_ip,
        },
    });
    if r.http_function {
        if let (Some(q), Some(o)) = (r.query, event.as_object_mut()) {
            o.insert("rawQuery".into(), json!(q));
        }
    }
    serde_json::to_vec(&event).unwrap_or_default()
}

/// A function's answer as an HTTP response.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers (a name may repeat).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

fn invalid(result: &[u8]) -> String {
    let text = String::from_utf8_lossy(result);
    let cut: String = text.chars().take(200).collect();
    format!("invalid type of APIG trigger invocation result:[{cut}], type format must be: {SHAPE}")
}

/// Reads a function result in the APIG response shape; the error is the message of the
/// `FSS.1206` answer.
pub(crate) fn parse_reply(result: &[u8]) -> Result<Reply, String> {
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(result) else {
        return Err(invalid(result));
    };
    let status = match o.get("statusCode") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().ok_or_else(|| invalid(result))?,
    };
    if status == 0 {
        return Err(
            "'statusCode' of APIG trigger invocation result not specified, statusCode can not be 0"
                .into(),
        );
    }
    if !(100..=599).contains(&status) {
        return Err(format!(
            "'statusCode' {status} of APIG trigger invocation result is not an HTTP status (100 to 599)"
        ));
    }
    let b64 = match o.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid(result)),
    };
    let mut headers = Vec::new();
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                let one = |v: &Value| -> Option<String> {
                    match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    }
                };
                match v {
                    Value::Array(a) => {
                        for x in a {
                            headers.push((k.clone(), one(x).ok_or_else(|| invalid(result))?));
                        }
                    }
                    v => headers.push((k.clone(), one(v).ok_or_else(|| invalid(result))?)),
                }
            }
        }
        Some(_) => return Err(invalid(result)),
    }
    let body = match o.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if b64 => base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| {
                format!("the body of the APIG trigger invocation result is not valid base64 ({e}) although isBase64Encoded is true")
            })?,
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(_) => return Err(invalid(result)),
    };
    Ok(Reply {
        status: status as u16,
        headers,
        body,
    })
}

/// Whether a function's header may be sent as is (the gateway frames the body itself).
pub(crate) fn forwardable(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !HOP_BY_HOP.contains(&lower.as_str()) && lower != "content-length"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn request<'a>(headers: &'a HeaderMap, body: &'a [u8], http: bool) -> Request<'a> {
        Request {
            method: "POST",
            path: "/users/42",
            query: Some("q=a+b&x=1&x=2&e=%E4%BD%A0&flag"),
            headers,
            body,
            params: &[],
            api_id: "api1",
            request_id: "rid1",
            stage: "RELEASE",
            source_ip: "198.51.100.7",
            http_function: http,
        }
    }

    #[test]
    fn the_event_is_spec_4_2() {
        let mut h = HeaderMap::new();
        h.insert("content-type", "application/json".parse().unwrap());
        h.insert("connection", "keep-alive".parse().unwrap());
        h.append("accept", "a".parse().unwrap());
        h.append("accept", "b".parse().unwrap());
        let params = [("id".to_string(), "42".to_string())];
        let mut r = request(&h, b"{\"k\":1}", false);
        r.params = &params;
        let e: Value = serde_json::from_slice(&build(&r)).unwrap();
        assert_eq!(e["httpMethod"], "POST");
        assert_eq!(e["path"], "/users/42");
        assert_eq!(e["pathParameters"], json!({"id": "42"}));
        assert_eq!(
            e["queryStringParameters"],
            json!({"q": "a b", "x": "2", "e": "你", "flag": ""})
        );
        assert_eq!(e["body"], "{\"k\":1}");
        assert_eq!(e["isBase64Encoded"], false);
        assert_eq!(e["headers"]["content-type"], "application/json");
        assert_eq!(e["headers"]["accept"], "a, b");
        assert_eq!(e["headers"]["x-request-id"], "rid1");
        assert_eq!(e["headers"]["x-forwarded-for"], "198.51.100.7");
        assert!(e["headers"].get("connection").is_none());
        assert_eq!(
            e["requestContext"],
            json!({"apiId": "api1", "requestId": "rid1", "stage": "RELEASE", "sourceIp": "198.51.100.7"})
        );
        assert!(e.get("rawQuery").is_none());
    }

    #[test]
    fn binary_bodies_are_base64_and_http_functions_get_the_raw_query() {
        let h = HeaderMap::new();
        let e: Value = serde_json::from_slice(&build(&request(&h, &[0, 159, 255], true))).unwrap();
        assert_eq!(e["body"], "AJ//");
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(e["rawQuery"], "q=a+b&x=1&x=2&e=%E4%BD%A0&flag");
    }

    #[test]
    fn replies_in_the_apig_shape() {
        let r = parse_reply(br#"{"statusCode":201,"headers":{"X-A":"1","Set-Cookie":["a=1","b=2"],"N":5},"body":"hi","isBase64Encoded":false}"#).unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"hi");
        assert_eq!(
            r.headers,
            vec![
                ("N".to_string(), "5".to_string()),
                ("Set-Cookie".to_string(), "a=1".to_string()),
                ("Set-Cookie".to_string(), "b=2".to_string()),
                ("X-A".to_string(), "1".to_string()),
            ]
        );
        let r = parse_reply(br#"{"statusCode":200,"body":"AJ//","isBase64Encoded":true}"#).unwrap();
        assert_eq!(r.body, vec![0, 159, 255]);
        let r = parse_reply(br#"{"statusCode":204}"#).unwrap();
        assert!(r.body.is_empty() && r.headers.is_empty());
    }

    #[test]
    fn other_results_are_refused_as_the_guide_says() {
        for (result, needle) in [
            (
                &b"\"hello\""[..],
                "invalid type of APIG trigger invocation result:[\"hello\"]",
            ),
            (b"hello", "invalid type"),
            (b"[1]", "invalid type"),
            (b"{\"body\":\"x\"}", "statusCode can not be 0"),
            (b"{\"statusCode\":0}", "statusCode can not be 0"),
            (b"{\"statusCode\":\"200\"}", "invalid type"),
            (b"{\"statusCode\":99}", "100 to 599"),
            (b"{\"statusCode\":200,\"body\":{\"a\":1}}", "invalid type"),
            (b"{\"statusCode\":200,\"headers\":[]}", "invalid type"),
            (
                b"{\"statusCode\":200,\"isBase64Encoded\":\"no\"}",
                "invalid type",
            ),
            (
                b"{\"statusCode\":200,\"body\":\"***\",\"isBase64Encoded\":true}",
                "not valid base64",
            ),
        ] {
            let e = parse_reply(result).unwrap_err();
            assert!(
                e.contains(needle),
                "{}: {e}",
                String::from_utf8_lossy(result)
            );
        }
    }
}
