//! Published versions (immutable snapshots of `latest`) and aliases.

use std::collections::BTreeMap;
use stratus_types::FunctionSpec;

/// A published version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// Id of the function.
    pub function_id: String,
    /// Version name.
    pub name: String,
    /// Grows with every publish, server-wide; a version deleted and published again under
    /// the same name gets a new one (instance pools compare it).
    pub seq: i64,
    /// The snapshot: code digest and the whole configuration.
    pub spec: FunctionSpec,
    /// Publish time, RFC 3339 UTC.
    pub created_at: String,
}

/// An alias of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    /// Alias name.
    pub name: String,
    /// Version it points to (`latest` allowed).
    pub version: String,
    /// Free text.
    pub description: String,
    /// Additional version → percentage of traffic sent to it.
    pub weights: BTreeMap<String, u32>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Last change, RFC 3339 UTC.
    pub modified_at: String,
}
