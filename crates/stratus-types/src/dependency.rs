//! Dependency packages: their name rule, the limits of guide section 11 and FAQ 14.4.3,
//! and the reference a function keeps to each dependency version it uses.

use crate::error::{Invalid, InvalidResult};
use serde::{Deserialize, Serialize};

/// Longest dependency name.
pub const NAME_MAX: usize = 96;
/// Dependency versions one function may reference (guide section 11).
pub const PER_FUNCTION_MAX: usize = 20;
/// Files one dependency package may contain (guide 14.4.3).
pub const FILES_MAX: usize = 30_000;
/// Largest package uploaded in the request body, bytes (API reference: 40 MB).
pub const ZIP_MAX: u64 = 40 * 1024 * 1024;
/// Largest package fetched from a URL, bytes (guide 14.4.3: 300 MB through OBS).
pub const LINK_MAX: u64 = 300 * 1024 * 1024;

/// Dependency name: 1 to 96 characters, starts with a letter, ends with a letter or digit;
/// letters, digits, `-`, `.` and `_` in between (guide figure 11-2).
pub fn check_name(name: &str) -> InvalidResult<()> {
    let problem = |msg: String| Err(Invalid::field("name", msg));
    let len = name.chars().count();
    if len == 0 || len > NAME_MAX {
        return problem(format!("must be 1 to {NAME_MAX} characters, got {len}"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return problem(format!(
            "{name:?} contains {c:?}; only letters, digits, '-', '.' and '_' are allowed"
        ));
    }
    let bytes = name.as_bytes();
    if !bytes[0].is_ascii_alphabetic() {
        return problem(format!("{name:?} must start with a letter"));
    }
    if !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return problem(format!("{name:?} must end with a letter or digit"));
    }
    Ok(())
}

/// Checks the paths of a package's files (not directories): at least one, at most
/// [`FILES_MAX`], and no name ending with `~` (guide 14.4.3). `field` is the request field
/// that carried the package.
pub fn check_files<'a>(field: &str, paths: impl IntoIterator<Item = &'a str>) -> InvalidResult<()> {
    let mut count = 0usize;
    for path in paths {
        count += 1;
        if count > FILES_MAX {
            return Err(Invalid::field(
                field,
                format!("the package holds more than {FILES_MAX} files; a dependency may hold at most {FILES_MAX}"),
            ));
        }
        if let Some(part) = path.split('/').find(|p| p.ends_with('~')) {
            return Err(Invalid::field(
                "depend_file",
                format!(
                    "{path:?}: the name {part:?} ends with '~', which a dependency may not contain"
                ),
            ));
        }
    }
    if count == 0 {
        return Err(Invalid::field(field, "the package holds no files"));
    }
    Ok(())
}

/// A function's reference to one dependency version, with what the configuration
/// responses show about it. Dependency versions never change after they are created and
/// cannot be deleted while referenced, so this copy stays true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyRef {
    /// Dependency-version id (what `depend_version_list` holds).
    pub id: String,
    /// Id of the dependency (shared by its versions).
    pub dep_id: String,
    /// Dependency name.
    pub name: String,
    /// Version number, 1, 2, ...
    pub version: u32,
    /// Runtime the package was built for.
    pub runtime: String,
    /// Description of the version.
    pub description: String,
    /// File name of the package.
    pub file_name: String,
    /// SHA-256 of the package (blob key).
    pub sha256: String,
    /// MD5 of the package, the API's `etag`.
    pub etag: String,
    /// Package size, bytes.
    pub size: u64,
    /// Owner (the project).
    pub owner: String,
    /// Creation time, Unix milliseconds.
    pub last_modified_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "pymysql", "my.dep-1_x", "A9", &"a".repeat(96)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "-abc",
            ".abc",
            "abc-",
            "abc.",
            "abc_",
            "a b",
            "a/b",
            "ä",
            "aé1",
            &"a".repeat(97),
        ] {
            let err = check_name(bad).expect_err(bad);
            assert_eq!(err.field, "name");
        }
    }

    #[test]
    fn files() {
        let f = "depend_file";
        assert!(check_files(f, ["a.py", "pkg/__init__.py"]).is_ok());
        let err = check_files(f, ["a.py", "pkg/b.py~"]).expect_err("tilde");
        assert!(err.message.contains("b.py~"), "{}", err.message);
        assert_eq!(err.field, f);
        assert!(check_files(f, ["dir~/x.py"]).is_err());
        assert!(check_files(f, []).is_err(), "an empty package");
        let many: Vec<String> = (0..=FILES_MAX).map(|i| format!("f{i}")).collect();
        assert!(check_files(f, many.iter().map(String::as_str)).is_err());
        assert!(check_files(f, many[..FILES_MAX].iter().map(String::as_str)).is_ok());
    }
}
