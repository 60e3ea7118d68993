//! Saved test events (guide section 6): at most ten named JSON events per function,
//! kept until they are deleted or their function is.

use crate::error::DeployError;
use crate::functions::Functions;
use std::sync::Arc;
use stratus_store::{FunctionKey, Store, StoreError, TestEventRecord};
use stratus_types::limits::{TEST_EVENTS_PER_FUNCTION, TEST_EVENT_CONTENT_MAX};
use stratus_types::{name, Invalid};

/// Failures of test event management.
#[derive(Debug, thiserror::Error)]
pub enum TestEventError {
    /// Bad name or content.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The function does not exist.
    #[error("{0}")]
    FunctionNotFound(String),
    /// The function has no such event.
    #[error("{0}")]
    NotFound(String),
    /// The function already has an event of that name.
    #[error("{0}")]
    Conflict(String),
    /// The function already has the most events allowed.
    #[error("{0}")]
    Quota(String),
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for TestEventError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => {
                TestEventError::FunctionNotFound("the function does not exist".into())
            }
            StoreError::Conflict(m) => TestEventError::Conflict(m),
            StoreError::Quota(m) => TestEventError::Quota(m),
            StoreError::Stale { .. } => TestEventError::Conflict(
                "the test event was changed by another request at the same time; retry".into(),
            ),
            StoreError::Internal(e) => TestEventError::Internal(e),
        }
    }
}

impl From<DeployError> for TestEventError {
    fn from(e: DeployError) -> Self {
        match e {
            DeployError::NotFound(m)
            | DeployError::VersionNotFound(m)
            | DeployError::AliasNotFound(m) => TestEventError::FunctionNotFound(m),
            DeployError::Invalid(i) => TestEventError::Invalid(i),
            DeployError::Conflict(m) => TestEventError::Conflict(m),
            DeployError::Quota(m) => TestEventError::Quota(m),
            DeployError::TooLarge(m) => {
                TestEventError::Invalid(Invalid::with_code("FSS.1069", "content", m))
            }
            DeployError::Internal(e) => TestEventError::Internal(e),
        }
    }
}

/// Checks an event's content: JSON text of at most `TEST_EVENT_CONTENT_MAX` bytes.
pub fn check_content(content: &str) -> Result<(), Invalid> {
    if content.len() > TEST_EVENT_CONTENT_MAX {
        return Err(Invalid::with_code(
            "FSS.1069",
            "content",
            format!(
                "the event is {} bytes; a test event may hold at most {TEST_EVENT_CONTENT_MAX} bytes of JSON",
                content.len()
            ),
        ));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(content)
        .map(|_| ())
        .map_err(|e| Invalid::field("content", format!("the event is not valid JSON: {e}")))
}

/// Test event management.
#[derive(Clone)]
pub struct TestEvents {
    store: Arc<dyn Store>,
    functions: Functions,
}

impl TestEvents {
    pub(crate) fn new(store: Arc<dyn Store>, functions: Functions) -> Self {
        TestEvents { store, functions }
    }

    async fn function_id(&self, key: &FunctionKey) -> Result<String, TestEventError> {
        Ok(self.functions.get(key).await?.id.clone())
    }

    /// Saves a new event for a function.
    pub async fn create(
        &self,
        key: &FunctionKey,
        event_name: &str,
        content: &str,
    ) -> Result<TestEventRecord, TestEventError> {
        name::check_event_name(event_name)?;
        check_content(content)?;
        let id = self.function_id(key).await?;
        let created = self
            .store
            .create_test_event(&id, event_name, content, TEST_EVENTS_PER_FUNCTION)
            .await;
        match created {
            Err(StoreError::NotFound) => Err(gone(key)),
            other => Ok(other?),
        }
    }

    /// A function's events, oldest first.
    pub async fn list(&self, key: &FunctionKey) -> Result<Vec<TestEventRecord>, TestEventError> {
        let id = self.function_id(key).await?;
        Ok(self.store.list_test_events(&id).await?)
    }

    /// One event of a function.
    pub async fn get(
        &self,
        key: &FunctionKey,
        event_id: &str,
    ) -> Result<TestEventRecord, TestEventError> {
        let id = self.function_id(key).await?;
        self.store
            .get_test_event(&id, event_id)
            .await?
            .ok_or_else(|| no_event(key, event_id))
    }

    /// Replaces an event's content.
    pub async fn update(
        &self,
        key: &FunctionKey,
        event_id: &str,
        content: &str,
    ) -> Result<TestEventRecord, TestEventError> {
        check_content(content)?;
        let id = self.function_id(key).await?;
        match self.store.update_test_event(&id, event_id, content).await {
            Err(StoreError::NotFound) => Err(no_event(key, event_id)),
            other => Ok(other?),
        }
    }

    /// Deletes an event.
    pub async fn delete(&self, key: &FunctionKey, event_id: &str) -> Result<(), TestEventError> {
        let id = self.function_id(key).await?;
        match self.store.delete_test_event(&id, event_id).await {
            Err(StoreError::NotFound) => Err(no_event(key, event_id)),
            other => Ok(other?),
        }
    }
}

fn gone(key: &FunctionKey) -> TestEventError {
    TestEventError::FunctionNotFound(format!(
        "function {:?} in package {:?} does not exist",
        key.name, key.package
    ))
}

fn no_event(key: &FunctionKey, event_id: &str) -> TestEventError {
    TestEventError::NotFound(format!(
        "function {:?} has no test event with id {event_id:?}",
        key.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_must_be_json_within_the_bound() {
        assert!(check_content("{\"key\": \"value\"}").is_ok());
        assert!(check_content("[1, 2]").is_ok());
        let bad = check_content("{not json").unwrap_err();
        assert_eq!((bad.code, bad.field.as_str()), ("FSS.0400", "content"));
        assert!(bad.message.contains("not valid JSON"), "{}", bad.message);
        assert!(check_content("").is_err());
        let just_fits = format!("\"{}\"", "x".repeat(TEST_EVENT_CONTENT_MAX - 2));
        assert!(check_content(&just_fits).is_ok());
        let too_big = format!("\"{}\"", "x".repeat(TEST_EVENT_CONTENT_MAX - 1));
        let e = check_content(&too_big).unwrap_err();
        assert_eq!(e.code, "FSS.1069");
        assert!(e.message.contains("4096"), "{}", e.message);
    }
}
