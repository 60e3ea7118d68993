//! Checking and splitting entry names.

use crate::{shown, PackageError};

/// Longest entry name accepted, in bytes (Linux `PATH_MAX`).
pub(crate) const MAX_NAME_BYTES: usize = 4096;
/// Longest path component accepted, in bytes (Linux `NAME_MAX`).
pub(crate) const MAX_COMPONENT_BYTES: usize = 255;

/// Whether `text` starts with a drive prefix such as `C:`.
pub(crate) fn has_drive_prefix(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// Checks an entry name and splits it into its path components, with `/` and
/// `\` both treated as separators and empty and `.` components dropped. An
/// empty result means the name denotes the archive root (`./`).
pub(crate) fn split(name: &str) -> Result<Vec<&str>, PackageError> {
    if name.is_empty() {
        return Err(PackageError::Corrupt("an entry has an empty name".into()));
    }
    if name.contains('\0') {
        return Err(PackageError::Corrupt(format!(
            "entry {:?} has a nul byte in its name",
            shown(name)
        )));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(PackageError::Corrupt(format!(
            "entry {:?} has a name longer than {MAX_NAME_BYTES} bytes",
            shown(name)
        )));
    }
    if name.starts_with(['/', '\\']) || has_drive_prefix(name) {
        return Err(PackageError::AbsolutePath(shown(name)));
    }
    let mut comps = Vec::new();
    for comp in name.split(['/', '\\']) {
        match comp {
            "" | "." => {}
            ".." => return Err(PackageError::PathEscapesRoot(shown(name))),
            c if c.len() > MAX_COMPONENT_BYTES => {
                return Err(PackageError::Corrupt(format!(
                    "entry {:?} has a path component longer than {MAX_COMPONENT_BYTES} bytes",
                    shown(name)
                )))
            }
            c => comps.push(c),
        }
    }
    Ok(comps)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_normalises() {
        assert_eq!(split("a/b/c.txt").unwrap(), vec!["a", "b", "c.txt"]);
        assert_eq!(split("./a//b/").unwrap(), vec!["a", "b"]);
        assert_eq!(split("a\\b").unwrap(), vec!["a", "b"]);
        assert!(split("./").unwrap().is_empty());
        assert_eq!(split("a/...").unwrap(), vec!["a", "..."]);
    }

    #[test]
    fn refuses_bad_names() {
        for name in ["/etc/passwd", "\\x", "C:/x", "c:x", "\\\\server\\share"] {
            assert!(
                matches!(split(name), Err(PackageError::AbsolutePath(_))),
                "{name}"
            );
        }
        for name in ["../x", "a/../b", "a\\..\\..\\b", ".."] {
            assert!(
                matches!(split(name), Err(PackageError::PathEscapesRoot(_))),
                "{name}"
            );
        }
        assert!(matches!(split(""), Err(PackageError::Corrupt(_))));
        assert!(matches!(split("a\0b"), Err(PackageError::Corrupt(_))));
        assert!(matches!(
            split(&"a".repeat(300)),
            Err(PackageError::Corrupt(_))
        ));
        assert!(matches!(
            split(&"a/".repeat(3000)),
            Err(PackageError::Corrupt(_))
        ));
    }
}
