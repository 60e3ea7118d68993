//! Saved test events of functions (guide section 6): named JSON documents a function
//! can be invoked with from the console or `stratus fn test`.

use crate::StoreResult;
use async_trait::async_trait;

/// One saved test event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEventRecord {
    /// Server-generated id (the API's `event_id`).
    pub id: String,
    /// Id of the function the event belongs to.
    pub function_id: String,
    /// Name, unique within the function.
    pub name: String,
    /// The event as JSON text.
    pub content: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
    /// Last change of the content, Unix milliseconds.
    pub modified_ms: i64,
}

/// Storage of test events. Deleting a function deletes its events with it.
#[async_trait]
pub trait TestEventStore {
    /// Saves a new event. `NotFound` when the function does not exist, `Conflict` when
    /// the function already has an event of that name, `Quota` when it already has
    /// `max_events` events; both checks and the insert are one transaction.
    async fn create_test_event(
        &self,
        function_id: &str,
        name: &str,
        content: &str,
        max_events: usize,
    ) -> StoreResult<TestEventRecord>;
    /// A function's events in the order they were created.
    async fn list_test_events(&self, function_id: &str) -> StoreResult<Vec<TestEventRecord>>;
    /// One event of a function.
    async fn get_test_event(
        &self,
        function_id: &str,
        event_id: &str,
    ) -> StoreResult<Option<TestEventRecord>>;
    /// Replaces an event's content; `NotFound` when the function has no such event.
    async fn update_test_event(
        &self,
        function_id: &str,
        event_id: &str,
        content: &str,
    ) -> StoreResult<TestEventRecord>;
    /// Deletes an event; `NotFound` when the function has no such event.
    async fn delete_test_event(&self, function_id: &str, event_id: &str) -> StoreResult<()>;
}
