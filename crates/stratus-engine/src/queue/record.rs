//! The execution record of guide table 5-9 that destinations receive, and the bucket
//! directory that stands in for object storage.

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What one finished (or discarded) request produced.
pub(crate) struct Outcome<'a> {
    pub request_id: &'a str,
    pub function_urn: String,
    /// Start of the last attempt (acceptance when it never ran), Unix ms.
    pub started_ms: i64,
    /// Empty on success; otherwise the error type (`CodeError`, `EventAgeExceeded`, ...).
    pub condition: &'a str,
    pub attempts: u32,
    pub request_payload: &'a [u8],
    /// 200 when the function ran to a result (its own error included), else 500.
    pub status_code: u16,
    pub function_error: &'a str,
    pub response_payload: &'a [u8],
}

/// The record as guide table 5-9 lays it out.
pub(crate) fn record(o: &Outcome<'_>) -> Value {
    let ts = chrono::DateTime::from_timestamp_millis(o.started_ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    json!({
        "timestamp": ts,
        "request_context": {
            "request_id": o.request_id,
            "function_urn": o.function_urn,
            "condition": o.condition,
            "approximate_invoke_count": o.attempts,
        },
        "request_payload": String::from_utf8_lossy(o.request_payload),
        "response_context": {
            "status_code": o.status_code,
            "function_error": o.function_error,
        },
        "response_payload": String::from_utf8_lossy(o.response_payload),
    })
}

/// Where `bucket`/`prefix`/`<request id>.json` lives under the bucket root.
pub(crate) fn object_path(root: &Path, bucket: &str, prefix: &str, request_id: &str) -> PathBuf {
    let mut p = root.join(bucket);
    for seg in prefix.split('/').filter(|s| !s.is_empty()) {
        p.push(seg);
    }
    p.join(format!("{request_id}.json"))
}

/// Writes an object durably (temporary file, fsync, rename); a rewrite of the same key
/// replaces it, so delivering twice after a crash leaves one object.
pub(crate) fn write_object(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("object")
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_has_the_fields_of_table_5_9() {
        let r = record(&Outcome {
            request_id: "r1",
            function_urn: "urn:fss:local:p:function:default:f:latest".into(),
            started_ms: 0,
            condition: "",
            attempts: 1,
            request_payload: br#"{"a":1}"#,
            status_code: 200,
            function_error: "",
            response_payload: b"hello world!",
        });
        assert_eq!(r["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(r["request_context"]["approximate_invoke_count"], 1);
        assert_eq!(r["request_payload"], r#"{"a":1}"#);
        assert_eq!(r["response_context"]["status_code"], 200);
        assert_eq!(r["response_payload"], "hello world!");
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5);
    }

    #[test]
    fn objects_land_under_bucket_and_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let p = object_path(dir.path(), "b", "x/y", "id");
        assert_eq!(p, dir.path().join("b/x/y/id.json"));
        write_object(&p, b"1").unwrap();
        write_object(&p, b"2").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"2");
    }
}
