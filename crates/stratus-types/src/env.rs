//! User environment variables (`user_data`): a JSON object of string values.

use crate::error::{Invalid, InvalidResult};
use crate::limits::ENV_TOTAL_MAX;
use std::collections::BTreeMap;

/// Parses and checks `user_data` (or `encrypted_user_data`) as the API sends it: a JSON
/// object serialised into a string. An empty string means no variables.
pub fn parse_user_data(field: &str, text: &str) -> InvalidResult<BTreeMap<String, String>> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Invalid::with_code(
            "FSS.1009",
            field,
            format!("must be a JSON object of strings serialised as text: {e}"),
        )
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(Invalid::with_code(
            "FSS.1009",
            field,
            "must be a JSON object such as {\"KEY\":\"value\"}",
        ));
    };
    let mut vars = BTreeMap::new();
    for (key, value) in map {
        let value = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => {
                return Err(Invalid::with_code(
                    "FSS.1009",
                    field,
                    format!("value of {key:?} must be a string, got {other}"),
                ))
            }
        };
        vars.insert(key, value);
    }
    check_vars(field, &vars)?;
    Ok(vars)
}

/// Checks key rules and the total size of a set of variables.
pub fn check_vars(field: &str, vars: &BTreeMap<String, String>) -> InvalidResult<()> {
    let mut total = 0usize;
    for (key, value) in vars {
        check_key(field, key)?;
        total += key.chars().count() + value.chars().count();
    }
    if total > ENV_TOTAL_MAX {
        return Err(Invalid::with_code(
            "FSS.1009",
            field,
            format!("environment variables total {total} characters; the limit is {ENV_TOTAL_MAX}"),
        ));
    }
    Ok(())
}

fn check_key(field: &str, key: &str) -> InvalidResult<()> {
    let bad = |why: String| Err(Invalid::with_code("FSS.1009", field, why));
    let Some(first) = key.chars().next() else {
        return bad("environment variable names must not be empty".into());
    };
    if !first.is_ascii_alphabetic() {
        return bad(format!(
            "environment variable {key:?} must start with a letter"
        ));
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return bad(format!(
            "environment variable {key:?} may contain only letters, digits and '_'"
        ));
    }
    if key.starts_with("RUNTIME_") {
        return bad(format!("environment variable {key:?} is reserved: names starting with RUNTIME_ are set by the platform"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_objects_of_strings() {
        let vars = parse_user_data("user_data", r#"{"A":"1","b_2":"x"}"#).expect("valid");
        assert_eq!(vars.get("A").map(String::as_str), Some("1"));
        assert!(parse_user_data("user_data", "").expect("empty").is_empty());
    }

    #[test]
    fn rejects_bad_variables() {
        for bad in [
            "not json",
            "[1]",
            r#"{"1A":"x"}"#,
            r#"{"A-B":"x"}"#,
            r#"{"RUNTIME_MEMORY":"1"}"#,
            r#"{"A":{"n":1}}"#,
            r#"{"":"x"}"#,
        ] {
            let err = parse_user_data("user_data", bad).unwrap_err();
            assert_eq!(err.code, "FSS.1009", "{bad}");
        }
        let big = format!(r#"{{"A":"{}"}}"#, "x".repeat(4096));
        assert!(parse_user_data("user_data", &big).is_err());
        let fits = format!(r#"{{"A":"{}"}}"#, "x".repeat(4095));
        assert!(parse_user_data("user_data", &fits).is_ok());
    }
}
