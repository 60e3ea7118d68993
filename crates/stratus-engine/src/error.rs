//! Errors of the use cases. They carry FunctionGraph error codes but no HTTP status;
//! the API layer chooses the status.

use stratus_types::Invalid;

/// Failures of function management.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Bad input.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The function (or version) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The version does not exist.
    #[error("{0}")]
    VersionNotFound(String),
    /// The alias does not exist.
    #[error("{0}")]
    AliasNotFound(String),
    /// The name is taken.
    #[error("{0}")]
    Conflict(String),
    /// A quota would be exceeded.
    #[error("{0}")]
    Quota(String),
    /// The package is too large.
    #[error("{0}")]
    TooLarge(String),
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<stratus_store::StoreError> for DeployError {
    fn from(e: stratus_store::StoreError) -> Self {
        use stratus_store::StoreError as S;
        match e {
            S::NotFound => DeployError::NotFound("the function does not exist".into()),
            S::Conflict(m) => DeployError::Conflict(m),
            S::Quota(m) => DeployError::Quota(m),
            S::Stale { .. } => DeployError::Conflict(
                "the function was changed by another request at the same time; retry".into(),
            ),
            S::Internal(e) => DeployError::Internal(e),
        }
    }
}

/// Failures that stop an invocation before the function runs (platform errors).
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// Bad input (URN, header, payload).
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// Invalid `X-Cff-Instance-Memory` or dynamic memory not enabled.
    #[error("{0}")]
    BadMemory(String),
    /// The function does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The version does not exist.
    #[error("{0}")]
    VersionNotFound(String),
    /// The alias does not exist.
    #[error("{0}")]
    AliasNotFound(String),
    /// The payload exceeds the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Max instances is 0.
    #[error("Function Disabled")]
    Disabled,
    /// No capacity left (max instances or project quota).
    #[error("{0}")]
    Throttled(String),
    /// The server is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
