//! Runtimes a function can be created with, and what each implies.

use crate::error::{Invalid, InvalidResult};

/// The language family of a runtime, which decides how instances start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeKind {
    /// Python shim.
    Python,
    /// Node.js shim.
    NodeJs,
    /// Java shim.
    Java,
    /// Go 1.x binary speaking net/rpc.
    Go,
    /// The package's own `bootstrap` talking to the runtime API.
    Custom,
    /// An HTTP server started by `bootstrap` on port 8000.
    Http,
    /// A container image.
    CustomImage,
}

/// A runtime id as the API spells it (`Python3.9`, `Node.js18.15`, `Custom`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Runtime {
    id: &'static str,
    kind: RuntimeKind,
}

/// Every runtime id accepted at creation: the guide's list (table 14-1, section 14.1.4:
/// Python 2.7/3.6/3.9, Node.js 6.10 to 18.15, Java 8 and 11, Go 1.x) plus the custom
/// runtime, HTTP functions and container images.
pub const RUNTIMES: &[(&str, RuntimeKind)] = &[
    ("Python2.7", RuntimeKind::Python),
    ("Python3.6", RuntimeKind::Python),
    ("Python3.9", RuntimeKind::Python),
    ("Node.js6.10", RuntimeKind::NodeJs),
    ("Node.js8.10", RuntimeKind::NodeJs),
    ("Node.js10.16", RuntimeKind::NodeJs),
    ("Node.js12.13", RuntimeKind::NodeJs),
    ("Node.js14.18", RuntimeKind::NodeJs),
    ("Node.js16.17", RuntimeKind::NodeJs),
    ("Node.js18.15", RuntimeKind::NodeJs),
    ("Java8", RuntimeKind::Java),
    ("Java11", RuntimeKind::Java),
    ("Go1.x", RuntimeKind::Go),
    ("Custom", RuntimeKind::Custom),
    ("http", RuntimeKind::Http),
    ("Custom Image", RuntimeKind::CustomImage),
];

impl Runtime {
    /// Parses a runtime id; unknown ids give `FSS.1005`.
    pub fn parse(id: &str) -> InvalidResult<Self> {
        RUNTIMES
            .iter()
            .find(|(name, _)| *name == id)
            .map(|(name, kind)| Runtime {
                id: name,
                kind: *kind,
            })
            .ok_or_else(|| {
                let names: Vec<&str> = RUNTIMES.iter().map(|(n, _)| *n).collect();
                Invalid::with_code(
                    "FSS.1005",
                    "runtime",
                    format!(
                        "{id:?} is not a supported runtime; use one of {}",
                        names.join(", ")
                    ),
                )
            })
    }

    /// The id as the API spells it.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The language family.
    pub fn kind(&self) -> RuntimeKind {
        self.kind
    }

    /// Handler used when the create request has none (guide table 4-4).
    pub fn default_handler(&self) -> &'static str {
        match self.kind {
            RuntimeKind::Python | RuntimeKind::NodeJs => "index.handler",
            RuntimeKind::Java => "com.demo.TriggerTests.apigTest",
            RuntimeKind::Go => "handler",
            RuntimeKind::Custom | RuntimeKind::Http => "bootstrap",
            RuntimeKind::CustomImage => "-",
        }
    }

    /// Memory used when the create request has none (guide table 4-4).
    pub fn default_memory(&self) -> u32 {
        if self.kind == RuntimeKind::Java {
            512
        } else {
            128
        }
    }

    /// Timeout used when the create request has none (guide table 4-4).
    pub fn default_timeout(&self) -> u32 {
        if self.kind == RuntimeKind::Java {
            15
        } else {
            3
        }
    }

    /// Checks a handler string for this runtime (spec section 1.3).
    pub fn check_handler(&self, field: &str, handler: &str) -> InvalidResult<()> {
        let bad = |why: &str| Err(Invalid::field(field, format!("{handler:?} {why}")));
        if handler.len() > 128 {
            return bad("is longer than 128 characters");
        }
        if handler.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("must not contain spaces or control characters");
        }
        match self.kind {
            RuntimeKind::Python | RuntimeKind::NodeJs => {
                let Some((file, func)) = handler.rsplit_once('.') else {
                    return bad("must have the form file.function, e.g. index.handler");
                };
                if file.is_empty() || func.is_empty() {
                    return bad("must have the form file.function, e.g. index.handler");
                }
                if file.starts_with('/') || file.split('/').any(|p| p == "..") {
                    return bad("must name a file inside the code package");
                }
                if !func
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
                {
                    return bad("has an invalid function name after the last '.'");
                }
                Ok(())
            }
            RuntimeKind::Java => {
                let parts: Vec<&str> = handler.split('.').collect();
                if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
                    return bad("must have the form package.Class.method");
                }
                Ok(())
            }
            RuntimeKind::Go | RuntimeKind::Custom | RuntimeKind::Http => {
                if handler.is_empty() || handler.contains("..") || handler.starts_with('/') {
                    return bad("must name a file inside the code package");
                }
                Ok(())
            }
            RuntimeKind::CustomImage => Ok(()),
        }
    }

    /// Whether inline code is allowed for this runtime (guide table 1-2).
    pub fn allows_inline(&self) -> bool {
        matches!(
            self.kind,
            RuntimeKind::Python | RuntimeKind::NodeJs | RuntimeKind::Custom | RuntimeKind::Http
        )
    }

    /// The file name inline source is stored under inside the package.
    pub fn inline_file_name(&self, handler: &str) -> String {
        match self.kind {
            RuntimeKind::Python => format!(
                "{}.py",
                handler.rsplit_once('.').map_or("index", |(f, _)| f)
            ),
            RuntimeKind::NodeJs => format!(
                "{}.js",
                handler.rsplit_once('.').map_or("index", |(f, _)| f)
            ),
            _ => "bootstrap".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_runtimes_only() {
        assert_eq!(
            Runtime::parse("Python3.9").map(|r| r.kind()),
            Ok(RuntimeKind::Python)
        );
        assert_eq!(
            Runtime::parse("Custom Image").map(|r| r.kind()),
            Ok(RuntimeKind::CustomImage)
        );
        let err = Runtime::parse("python3.9").unwrap_err();
        assert_eq!(err.code, "FSS.1005");
        // Newer cloud runtimes that the guide does not list are refused.
        for id in ["Python3.10", "Java17", "Go1.8", "PHP7.3", "Node.js20.15"] {
            assert_eq!(
                Runtime::parse(id).map(|r| r.id()).unwrap_err().code,
                "FSS.1005",
                "{id}"
            );
        }
        assert_eq!(RUNTIMES.len(), 16);
    }

    #[test]
    fn handler_formats() {
        let py = Runtime::parse("Python3.9").expect("known");
        assert!(py.check_handler("handler", "index.handler").is_ok());
        assert!(py.check_handler("handler", "src/app.main").is_ok());
        assert!(py.check_handler("handler", "index").is_err());
        assert!(py.check_handler("handler", "../x.handler").is_err());
        assert!(py.check_handler("handler", "index.").is_err());
        let java = Runtime::parse("Java11").expect("known");
        assert!(java
            .check_handler("handler", "com.demo.Handler.run")
            .is_ok());
        assert!(java.check_handler("handler", "run").is_err());
        assert_eq!(py.inline_file_name("app.main"), "app.py");
    }
}
