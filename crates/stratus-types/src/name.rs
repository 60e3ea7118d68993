//! Name rules for functions, packages, aliases and test events.

use crate::error::{Invalid, InvalidResult};

/// Function name: 1-60 characters, starts with a letter, ends with a letter or digit,
/// letters, digits, `-` and `_` in between.
pub fn check_function_name(name: &str) -> InvalidResult<()> {
    check_identifier("func_name", name, 60)
}

/// Package (function group) name: same character rules, up to 64 characters.
pub fn check_package_name(name: &str) -> InvalidResult<()> {
    check_identifier("package", name, 64)
}

/// Alias name: same character rules, up to 63 characters.
pub fn check_alias_name(name: &str) -> InvalidResult<()> {
    check_identifier("name", name, 63)
}

/// Version name: 1-64 characters of letters, digits, `.`, `-` and `_`, starting with a
/// letter or digit (`v1`, `1.0.2`, the generated `v20240102-030405`); `latest` is taken.
pub fn check_version_name(name: &str) -> InvalidResult<()> {
    let problem = |msg: String| Err(Invalid::field("version", msg));
    if name.is_empty() || name.len() > 64 {
        return problem(format!(
            "must be 1 to 64 characters, got {}",
            name.chars().count()
        ));
    }
    if name.eq_ignore_ascii_case("latest") {
        return problem("\"latest\" names the editable head and cannot be published".into());
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return problem(format!("{name:?} must start with a letter or digit"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return problem(format!(
            "{name:?} contains {c:?}; only letters, digits, '.', '-' and '_' are allowed"
        ));
    }
    Ok(())
}

/// Test event name (guide table 6-1): 1 to 25 characters, starts with a letter, ends
/// with a letter or digit, letters, digits, `-` and `_` in between.
pub fn check_event_name(name: &str) -> InvalidResult<()> {
    check_identifier("name", name, crate::limits::TEST_EVENT_NAME_MAX)
}

fn check_identifier(field: &str, name: &str, max: usize) -> InvalidResult<()> {
    let problem = |msg: String| Err(Invalid::field(field, msg));
    if name.is_empty() || name.len() > max {
        return problem(format!(
            "must be 1 to {max} characters, got {}",
            name.chars().count()
        ));
    }
    let bytes = name.as_bytes();
    if !bytes[0].is_ascii_alphabetic() {
        return problem(format!("{name:?} must start with a letter"));
    }
    if !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return problem(format!("{name:?} must end with a letter or digit"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return problem(format!(
            "{name:?} contains {c:?}; only letters, digits, '-' and '_' are allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names() {
        for ok in ["v1", "1.0.2", "v20240102-030405", "a_b"] {
            assert!(check_version_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "latest",
            "LATEST",
            "-v",
            ".v",
            "v 1",
            "v!",
            "v:1",
            &"v".repeat(65),
        ] {
            assert!(check_version_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn function_names() {
        for ok in ["a", "hello", "my-func_1", &"a".repeat(60)] {
            assert!(check_function_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "-abc",
            "abc-",
            "abc_",
            "a b",
            "a.b",
            "ä",
            &"a".repeat(61),
        ] {
            assert!(check_function_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_names() {
        // The guide's own example, and the edges of table 6-1.
        for ok in ["even-123test", "a", "A_1", "test", &"e".repeat(25)] {
            assert!(check_event_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1event",
            "_event",
            "event-",
            "event_",
            "my event",
            "event.json",
            "événement",
            &"e".repeat(26),
        ] {
            let e = check_event_name(bad).expect_err(bad);
            assert_eq!((e.code, e.field.as_str()), ("FSS.0400", "name"), "{bad}");
        }
    }
}
