//! Function URNs: `urn:fss:<region>:<project>:function:<package>:<name>[:<qualifier>]`.

use crate::error::{Invalid, InvalidResult};
use std::fmt;

/// What a URN's last part selects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// No qualifier: the whole function (reads resolve to `latest`).
    None,
    /// `latest`, the editable head.
    Latest,
    /// A published version, or an alias given without `!` (resolved later).
    Version(String),
    /// `!alias`.
    Alias(String),
}

/// A parsed function URN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Urn {
    /// Region name as configured on the server.
    pub region: String,
    /// Project id.
    pub project_id: String,
    /// Function group.
    pub package: String,
    /// Function name.
    pub name: String,
    /// Version or alias part.
    pub qualifier: Qualifier,
}

impl Urn {
    /// Parses a URN (already percent-decoded).
    pub fn parse(s: &str) -> InvalidResult<Self> {
        let bad = |why: &str| {
            Invalid::with_code(
                "FSS.0400",
                "function_urn",
                format!("{s:?} {why}; expected urn:fss:<region>:<project_id>:function:<package>:<name>[:<version>|:!<alias>]"),
            )
        };
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() < 7 || parts.len() > 8 {
            return Err(bad("has the wrong number of parts"));
        }
        if parts[0] != "urn" || parts[1] != "fss" || parts[4] != "function" {
            return Err(bad("is not a function URN"));
        }
        if parts[2].is_empty() || parts[3].is_empty() || parts[5].is_empty() || parts[6].is_empty()
        {
            return Err(bad("has an empty part"));
        }
        let qualifier = match parts.get(7) {
            None => Qualifier::None,
            Some(&"") => return Err(bad("has an empty qualifier")),
            Some(&"latest") => Qualifier::Latest,
            Some(q) => match q.strip_prefix('!') {
                Some("") => return Err(bad("has an empty alias")),
                Some(alias) => Qualifier::Alias(alias.to_string()),
                None => Qualifier::Version(q.to_string()),
            },
        };
        Ok(Urn {
            region: parts[2].to_string(),
            project_id: parts[3].to_string(),
            package: parts[5].to_string(),
            name: parts[6].to_string(),
            qualifier,
        })
    }

    /// Builds the URN of a function version (`latest` or a version name).
    pub fn of(
        region: &str,
        project_id: &str,
        package: &str,
        name: &str,
        qualifier: Qualifier,
    ) -> Self {
        Urn {
            region: region.to_string(),
            project_id: project_id.to_string(),
            package: package.to_string(),
            name: name.to_string(),
            qualifier,
        }
    }

    /// The URN without qualifier.
    pub fn unqualified(&self) -> Urn {
        Urn {
            qualifier: Qualifier::None,
            ..self.clone()
        }
    }

    /// The same function with another qualifier.
    pub fn with_qualifier(&self, qualifier: Qualifier) -> Urn {
        Urn {
            qualifier,
            ..self.clone()
        }
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "urn:fss:{}:{}:function:{}:{}",
            self.region, self.project_id, self.package, self.name
        )?;
        match &self.qualifier {
            Qualifier::None => Ok(()),
            Qualifier::Latest => write!(f, ":latest"),
            Qualifier::Version(v) => write!(f, ":{v}"),
            Qualifier::Alias(a) => write!(f, ":!{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        let base = "urn:fss:local:0123:function:default:hello";
        let u = Urn::parse(base).expect("valid");
        assert_eq!(u.qualifier, Qualifier::None);
        assert_eq!(u.to_string(), base);
        assert_eq!(
            Urn::parse(&format!("{base}:latest"))
                .expect("valid")
                .qualifier,
            Qualifier::Latest
        );
        assert_eq!(
            Urn::parse(&format!("{base}:v1")).expect("valid").qualifier,
            Qualifier::Version("v1".into())
        );
        let a = Urn::parse(&format!("{base}:!prod")).expect("valid");
        assert_eq!(a.qualifier, Qualifier::Alias("prod".into()));
        assert_eq!(a.to_string(), format!("{base}:!prod"));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "hello",
            "urn:fss:local:0123:function:default",
            "urn:fss:local:0123:trigger:default:hello",
            "urn:fss:local:0123:function:default:hello:",
            "urn:fss:local:0123:function:default:hello:!",
            "urn:fss:local:0123:function:default:hello:v1:extra",
            "urn:fss::0123:function:default:hello",
        ] {
            assert!(Urn::parse(bad).is_err(), "{bad}");
        }
    }
}
