//! Wire format of app keys (`/v2/{project_id}/apigw/apps`), a Stratus extension modelled
//! on API Gateway's apps: an app holds the AppKey/AppSecret pair that App-authenticated
//! API triggers accept.

use serde::{Deserialize, Serialize};

/// Body of `POST /apigw/apps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppBody {
    /// App name: 3 to 64 letters, digits or `_`, starting with a letter (generated when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
}

/// An app as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    /// App id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// The key a signed request names in `Access=`.
    pub app_key: String,
    /// The signing secret: only in the answer to the create request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
    /// Creation time.
    pub register_time: String,
}

/// Answer of `GET /apigw/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppList {
    /// Number of apps.
    pub total: usize,
    /// Number in this answer.
    pub size: usize,
    /// The apps, oldest first, without secrets.
    pub apps: Vec<AppView>,
}
