//! The per-instance runtime API (`/v1/runtime/...`, guide section 3.3.5 and
//! `docs/runtime-protocol.md`). A `Mailbox` holds the events waiting for one instance and
//! the requests it is working on; `serve` answers the instance's HTTP calls from it.

mod mailbox;
mod server;

pub use mailbox::{Event, Mailbox, Outcome, Readiness};
pub use server::serve;
