//! The JSON documents of OCI images and Docker v2 schema 2 images.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::digest::Digest;
use crate::{ImageConfig, ImageError};

pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The most a manifest or index may weigh.
pub(crate) const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The most an image config may weigh.
pub(crate) const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// A content descriptor.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: u64,
    #[serde(default)]
    pub(crate) platform: Option<Platform>,
    #[serde(default)]
    pub(crate) annotations: Option<HashMap<String, String>>,
}

impl Descriptor {
    /// The validated digest.
    pub(crate) fn digest(&self) -> Result<Digest, ImageError> {
        Digest::parse(&self.digest).map_err(ImageError::Corrupt)
    }
}

/// The platform of an index entry.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Platform {
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

/// A manifest or an index, told apart by [`Document::kind`].
#[derive(Debug, Deserialize)]
struct RawDocument {
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<u32>,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

/// A parsed manifest-like document.
#[derive(Debug)]
pub(crate) enum Document {
    /// An image index or Docker manifest list.
    Index(Vec<Descriptor>),
    /// An image manifest.
    Manifest {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

/// Parses a manifest or index. `content_type` is what the server said (registry only).
pub(crate) fn parse_document(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<Document, ImageError> {
    let raw: RawDocument = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::Corrupt(format!("manifest is not valid json: {e}")))?;
    if raw.schema_version == Some(1) {
        return Err(ImageError::Corrupt(
            "docker schema 1 manifests are not supported; push the image again with a current client".into(),
        ));
    }
    let media_type = raw
        .media_type
        .clone()
        .or_else(|| content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    let is_index = match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        _ => raw.manifests.is_some() && raw.layers.is_none(),
    };
    if is_index {
        let manifests = raw
            .manifests
            .ok_or_else(|| ImageError::Corrupt("image index has no \"manifests\"".into()))?;
        return Ok(Document::Index(manifests));
    }
    match (raw.config, raw.layers) {
        (Some(config), Some(layers)) => Ok(Document::Manifest { config, layers }),
        _ => Err(ImageError::Corrupt(format!(
            "document of type \"{media_type}\" is neither an image manifest nor an index"
        ))),
    }
}

/// The platform this host runs, in OCI terms.
pub(crate) fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    };
    ("linux", arch)
}

/// Picks the entry of an index that runs on this host.
pub(crate) fn pick_platform(entries: &[Descriptor]) -> Result<&Descriptor, ImageError> {
    let (os, arch) = host_platform();
    let mut seen = Vec::new();
    for d in entries {
        let Some(p) = &d.platform else { continue };
        seen.push(match &p.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{v}", p.os, p.architecture),
            _ => format!("{}/{}", p.os, p.architecture),
        });
        if p.os == os && p.architecture == arch {
            return Ok(d);
        }
    }
    // An index without any platform information (as some tools write for a single
    // image) leaves no choice to make.
    if seen.is_empty() && entries.len() == 1 {
        return Ok(&entries[0]);
    }
    Err(ImageError::NotFound(format!(
        "image index has no {os}/{arch} image (it has: {})",
        if seen.is_empty() {
            "no platform information".to_string()
        } else {
            seen.join(", ")
        }
    )))
}

#[derive(Debug, Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    config: Option<RawContainerConfig>,
    #[serde(default)]
    rootfs: Option<RawRootfs>,
}

#[derive(Debug, Deserialize, Default)]
struct RawContainerConfig {
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    cmd: Option<Vec<String>>,
    #[serde(rename = "Env", default)]
    env: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    working_dir: Option<String>,
    #[serde(rename = "User", default)]
    user: Option<String>,
    #[serde(rename = "ExposedPorts", default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize, Default)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// What the image config says that the store uses.
pub(crate) struct ParsedConfig {
    pub(crate) config: ImageConfig,
    pub(crate) diff_ids: Vec<Digest>,
}

/// Checks the config descriptor's media type.
pub(crate) fn check_config_type(media_type: &str) -> Result<(), ImageError> {
    match media_type {
        OCI_CONFIG | DOCKER_CONFIG | "" => Ok(()),
        other => Err(ImageError::BadReference(format!(
            "not a container image: its config has media type \"{other}\""
        ))),
    }
}

/// Parses an image config blob and checks it is for this host's platform.
pub(crate) fn parse_config(bytes: &[u8]) -> Result<ParsedConfig, ImageError> {
    let raw: RawConfig = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::Corrupt(format!("image config is not valid json: {e}")))?;
    let (host_os, host_arch) = host_platform();
    let os = raw.os.unwrap_or_default();
    let arch = raw.architecture.unwrap_or_default();
    if (!os.is_empty() && os != host_os) || (!arch.is_empty() && arch != host_arch) {
        return Err(ImageError::NotFound(format!(
            "image is built for {os}/{arch}, this host runs {host_os}/{host_arch}"
        )));
    }
    let c = raw.config.unwrap_or_default();
    let diff_ids = raw
        .rootfs
        .unwrap_or_default()
        .diff_ids
        .iter()
        .map(|d| Digest::parse(d).map_err(|e| ImageError::Corrupt(format!("image config: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ParsedConfig {
        config: ImageConfig {
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            env: c.env.unwrap_or_default(),
            working_dir: c.working_dir.unwrap_or_default(),
            user: c.user.unwrap_or_default(),
            exposed_ports: c.exposed_ports.unwrap_or_default().into_keys().collect(),
        },
        diff_ids,
    })
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
}

/// Tells a layer's compression from its media type.
pub(crate) fn layer_compression(media_type: &str) -> Result<Compression, ImageError> {
    match media_type {
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => Ok(Compression::None),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Ok(Compression::Gzip),
        "application/vnd.oci.image.layer.v1.tar+zstd"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => {
            Err(ImageError::Corrupt(
                "zstd-compressed layers are not supported; rebuild the image with gzip layers"
                    .into(),
            ))
        }
        other => Err(ImageError::Corrupt(format!(
            "unsupported layer media type \"{other}\""
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(os: &str, arch: &str) -> Descriptor {
        Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            size: 1,
            platform: Some(Platform {
                architecture: arch.into(),
                os: os.into(),
                variant: None,
            }),
            annotations: None,
        }
    }

    #[test]
    fn platform_choice() {
        let (_, arch) = host_platform();
        let list = vec![desc("linux", "s390x-none"), desc("linux", arch)];
        assert_eq!(
            pick_platform(&list)
                .ok()
                .and_then(|d| d.platform.clone())
                .map(|p| p.architecture),
            Some(arch.to_string())
        );
        let err = pick_platform(&[desc("windows", arch)])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("windows/")));
    }

    #[test]
    fn config_fields() {
        let (os, arch) = host_platform();
        let json = format!(
            r#"{{"os":"{os}","architecture":"{arch}","config":{{"Entrypoint":["/bin/sh"],"Cmd":null,
            "Env":["A=1"],"WorkingDir":"/w","User":"1003:1003","ExposedPorts":{{"8000/tcp":{{}}}}}},
            "rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        );
        let p = parse_config(json.as_bytes()).expect("config");
        assert_eq!(p.config.entrypoint, vec!["/bin/sh"]);
        assert!(p.config.cmd.is_empty());
        assert_eq!(p.config.exposed_ports, vec!["8000/tcp"]);
        assert_eq!(p.config.user, "1003:1003");
        assert!(parse_config(br#"{"os":"windows"}"#).is_err());
        assert!(parse_config(b"{}").is_ok());
    }

    #[test]
    fn compression() {
        assert_eq!(
            layer_compression("application/vnd.docker.image.rootfs.diff.tar.gzip").ok(),
            Some(Compression::Gzip)
        );
        let e = layer_compression("application/vnd.oci.image.layer.v1.tar+zstd")
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("zstd")));
    }
}
