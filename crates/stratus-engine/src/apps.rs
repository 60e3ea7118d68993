//! App keys for App authentication of API gateway triggers: create, list and delete the
//! apps of a project, and look one up by its AppKey when a signed request arrives.

use crate::error::DeployError;
use std::sync::Arc;
use stratus_store::{AppKeyRecord, Store, StoreError};
use stratus_types::Invalid;

/// Longest remark.
const REMARK_MAX: usize = 255;

/// What a create request gives.
#[derive(Debug, Clone, Default)]
pub struct AppInput {
    /// App name (3 to 64 letters, digits or `_`, starting with a letter); generated when
    /// absent.
    pub name: Option<String>,
    /// Free text.
    pub remark: Option<String>,
}

/// App key management.
#[derive(Clone)]
pub struct Apps {
    store: Arc<dyn Store>,
}

fn check_name(name: &str) -> Result<(), Invalid> {
    let ok = (3..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Invalid::field(
            "name",
            format!("{name:?} must be 3 to 64 letters, digits or '_', starting with a letter"),
        ))
    }
}

/// 32 hex characters from the operating system's random source (UUID v4: 122 random bits).
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Apps {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Apps { store }
    }

    /// Creates an app with a new AppKey and AppSecret.
    pub async fn create(
        &self,
        project_id: &str,
        input: &AppInput,
    ) -> Result<AppKeyRecord, DeployError> {
        let name = match input.name.as_deref().map(str::trim) {
            None | Some("") => format!("app_{}", &random_hex()[..8]),
            Some(n) => n.to_string(),
        };
        check_name(&name)?;
        let remark = input.remark.clone().unwrap_or_default();
        if remark.chars().count() > REMARK_MAX {
            return Err(Invalid::field(
                "remark",
                format!("is longer than {REMARK_MAX} characters"),
            )
            .into());
        }
        let app = AppKeyRecord {
            id: uuid::Uuid::new_v4().to_string(),
            project_id: project_id.to_string(),
            name,
            remark,
            app_key: random_hex(),
            app_secret: random_hex(),
            created_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        };
        self.store.create_app_key(&app).await?;
        Ok(app)
    }

    /// The apps of a project.
    pub async fn list(&self, project_id: &str) -> Result<Vec<AppKeyRecord>, DeployError> {
        Ok(self.store.app_keys(project_id).await?)
    }

    /// Deletes an app; requests signed with its key are refused from then on.
    pub async fn delete(&self, project_id: &str, id: &str) -> Result<(), DeployError> {
        self.store
            .delete_app_key(project_id, id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => DeployError::NotFound(format!("app {id} does not exist")),
                e => e.into(),
            })
    }

    /// The app a request names in its `Authorization` header.
    pub async fn find(&self, app_key: &str) -> Result<Option<AppKeyRecord>, DeployError> {
        Ok(self.store.app_key(app_key).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn app_names() {
        for ok in ["shop", "app_1", "A23"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "1app", "my-app", "x".repeat(65).as_str()] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
