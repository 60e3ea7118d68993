//! App keys: the AppKey/AppSecret pairs that API gateway triggers with App authentication
//! accept (requests signed with SDK-HMAC-SHA256, the AppSecret as the key).

/// One app of a project and its key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKeyRecord {
    /// App id (UUID).
    pub id: String,
    /// Project the app belongs to.
    pub project_id: String,
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// Public key (the `Access=` of a signed request).
    pub app_key: String,
    /// Signing secret.
    pub app_secret: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
}
