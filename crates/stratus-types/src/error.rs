//! Validation failures with the FunctionGraph error code that reports them.

use std::fmt;

/// One rejected input: the FunctionGraph error code, the field and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// FunctionGraph error code, e.g. `FSS.0400`.
    pub code: &'static str,
    /// The offending field as the API names it.
    pub field: String,
    /// What is wrong and what is allowed; lower case, no trailing period.
    pub message: String,
}

/// Result of a validation step.
pub type InvalidResult<T> = Result<T, Invalid>;

impl Invalid {
    /// A generic `FSS.0400` problem with a field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::with_code("FSS.0400", field, message)
    }

    /// A problem with a specific error code.
    pub fn with_code(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "invalid {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for Invalid {}
