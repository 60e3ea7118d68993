//! Where the client's endpoint and keys come from.

use crate::ClientError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Endpoint, project and key pair; the content of `credentials.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub endpoint: String,
    /// Project id.
    pub project_id: String,
    /// Access key.
    pub access_key: String,
    /// Secret key.
    pub secret_key: String,
    /// Region name used in URNs.
    #[serde(default = "default_region")]
    pub region: String,
}

fn default_region() -> String {
    "local".into()
}

impl Credentials {
    /// Reads a credentials file.
    pub fn from_file(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ClientError::Credentials(format!("cannot read {}: {e}", path.display()))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            ClientError::Credentials(format!("{} is not a credentials file: {e}", path.display()))
        })
    }

    /// Resolves credentials: an explicit profile file, else `STRATUS_ENDPOINT`,
    /// `STRATUS_ACCESS_KEY`, `STRATUS_SECRET_KEY`, `STRATUS_PROJECT_ID` (all four), else
    /// `<data dir>/credentials.json` (`STRATUS_DATA_DIR`, default `./stratus-data`).
    pub fn resolve(
        profile: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ClientError> {
        if let Some(p) = profile {
            return Self::from_file(p);
        }
        let vars = [
            "STRATUS_ENDPOINT",
            "STRATUS_ACCESS_KEY",
            "STRATUS_SECRET_KEY",
            "STRATUS_PROJECT_ID",
        ]
        .map(&env);
        if let [Some(endpoint), Some(access_key), Some(secret_key), Some(project_id)] = vars {
            return Ok(Credentials {
                endpoint,
                project_id,
                access_key,
                secret_key,
                region: env("STRATUS_REGION").unwrap_or_else(default_region),
            });
        }
        let dir =
            env("STRATUS_DATA_DIR").map_or_else(|| PathBuf::from("stratus-data"), PathBuf::from);
        let path = dir.join("credentials.json");
        if !path.exists() {
            return Err(ClientError::Credentials(format!(
                "no credentials: start the server with `stratus serve` (it writes {}), or set STRATUS_ENDPOINT, STRATUS_ACCESS_KEY, STRATUS_SECRET_KEY and STRATUS_PROJECT_ID, or pass --profile FILE",
                path.display()
            )));
        }
        let mut creds = Self::from_file(&path)?;
        if let Some(e) = env("STRATUS_ENDPOINT") {
            creds.endpoint = e;
        }
        Ok(creds)
    }
}
