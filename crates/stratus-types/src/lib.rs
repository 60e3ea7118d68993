//! The domain vocabulary of Stratus: functions, runtimes, URNs, limits and their
//! validation rules. No I/O, no async, no HTTP or SQL.
//!
//! Serde derives are used on the stored records (`FunctionSpec`) so the store can keep
//! them as JSON; the FunctionGraph wire format lives in `stratus-api-types`.
#![deny(missing_docs)]

pub mod dependency;
pub mod env;
pub mod error;
pub mod function;
pub mod limits;
pub mod name;
pub mod runtime;
pub mod urn;

pub use dependency::DependencyRef;
pub use error::{Invalid, InvalidResult};
pub use function::{CodeInfo, FunctionSpec, Strategy};
pub use runtime::{Runtime, RuntimeKind};
pub use urn::{Qualifier, Urn};
