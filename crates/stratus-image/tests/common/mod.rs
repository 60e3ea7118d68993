//! Builders for the tests: tar layers written byte by byte (so hostile entries can be
//! made), OCI layouts written by hand, and checks for the real tools.

#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// `sha256:<hex>` of `bytes`.
pub fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A ustar archive written entry by entry.
#[derive(Default)]
pub struct Tar {
    buf: Vec<u8>,
}

fn octal(field: &mut [u8], v: u64) {
    let n = field.len() - 1;
    let s = format!("{:0width$o}", v, width = n);
    field[..n].copy_from_slice(s.as_bytes());
    field[n] = 0;
}

impl Tar {
    pub fn new() -> Self {
        Self::default()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn entry(
        &mut self,
        name: &[u8],
        kind: u8,
        mode: u32,
        uid: u32,
        gid: u32,
        data: &[u8],
        link: &[u8],
    ) -> &mut Self {
        assert!(
            name.len() <= 100 && link.len() <= 100,
            "test names must fit ustar"
        );
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name);
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], u64::from(uid));
        octal(&mut h[116..124], u64::from(gid));
        octal(&mut h[124..136], data.len() as u64);
        octal(&mut h[136..148], 1_700_000_000);
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        self.buf.extend_from_slice(&h);
        self.buf.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.buf.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn dir(&mut self, name: &str, mode: u32) -> &mut Self {
        self.entry(name.as_bytes(), b'5', mode, 0, 0, b"", b"")
    }

    pub fn dir_owned(&mut self, name: &str, mode: u32, uid: u32, gid: u32) -> &mut Self {
        self.entry(name.as_bytes(), b'5', mode, uid, gid, b"", b"")
    }

    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> &mut Self {
        self.entry(name.as_bytes(), b'0', mode, 0, 0, data, b"")
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name.as_bytes(), b'2', 0o777, 0, 0, b"", target.as_bytes())
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name.as_bytes(), b'1', 0o644, 0, 0, b"", target.as_bytes())
    }

    pub fn chardev(&mut self, name: &str) -> &mut Self {
        self.entry(name.as_bytes(), b'3', 0o666, 0, 0, b"", b"")
    }

    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.buf.clone();
        out.extend(std::iter::repeat_n(0u8, 1024));
        out
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// One layer of a test image.
pub struct Layer {
    pub tar: Vec<u8>,
    pub media_type: &'static str,
}

pub const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const TAR_GZ: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

impl Layer {
    pub fn plain(tar: Vec<u8>) -> Self {
        Self {
            tar,
            media_type: TAR,
        }
    }
    pub fn gz(tar: Vec<u8>) -> Self {
        Self {
            tar,
            media_type: TAR_GZ,
        }
    }
    /// The blob as stored: gzip for gzip media types.
    pub fn blob(&self) -> Vec<u8> {
        if self.media_type.contains("gzip") {
            gzip(&self.tar)
        } else {
            self.tar.clone()
        }
    }
}

/// Writes `bytes` as a blob of the layout at `dir`; returns a descriptor.
pub fn put_blob(dir: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let digest = sha(bytes);
    let p = dir.join("blobs/sha256");
    fs::create_dir_all(&p).expect("blobs dir");
    fs::write(p.join(&digest[7..]), bytes).expect("write blob");
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

/// The path of a blob in a layout.
pub fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    dir.join("blobs/sha256").join(&digest[7..])
}

/// The full image config for `container_config` over `layers`.
pub fn image_config(container_config: Value, layers: &[Layer]) -> Value {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha(&l.tar)).collect();
    json!({
        "architecture": "amd64",
        "os": "linux",
        "config": container_config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    })
}

/// What [`write_image`] wrote.
pub struct Written {
    pub manifest_digest: String,
    pub layer_digests: Vec<String>,
    pub config_digest: String,
}

/// Writes an image (config + layers + manifest) into the layout at `dir` and tags it
/// `tag` in `index.json` (replacing an entry of the same tag).
pub fn write_image(dir: &Path, tag: &str, config: &Value, layers: &[Layer]) -> Written {
    fs::create_dir_all(dir).expect("layout dir");
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    let config_bytes = serde_json::to_vec(config).expect("config json");
    let config_desc = put_blob(
        dir,
        "application/vnd.oci.image.config.v1+json",
        &config_bytes,
    );
    let layer_descs: Vec<Value> = layers
        .iter()
        .map(|l| put_blob(dir, l.media_type, &l.blob()))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": layer_descs,
    });
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest json");
    let mut mdesc = put_blob(
        dir,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest_bytes,
    );
    mdesc["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    add_to_index(dir, mdesc.clone(), tag);
    Written {
        manifest_digest: mdesc["digest"].as_str().expect("digest").to_string(),
        layer_digests: layer_descs
            .iter()
            .map(|d| d["digest"].as_str().expect("d").to_string())
            .collect(),
        config_digest: config_desc["digest"].as_str().expect("d").to_string(),
    }
}

/// Puts `desc` into the layout's `index.json` under `tag`.
pub fn add_to_index(dir: &Path, mut desc: Value, tag: &str) {
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    let path = dir.join("index.json");
    let mut index: Value = fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}));
    let list = index["manifests"].as_array_mut().expect("manifests");
    list.retain(|d| d["annotations"]["org.opencontainers.image.ref.name"] != tag);
    list.push(desc);
    fs::write(&path, serde_json::to_vec(&index).expect("index")).expect("write index");
}

/// Says on the real stderr (not captured by the test harness) that a test did not run.
pub fn skip(msg: &str) {
    let _ = writeln!(std::io::stderr(), "SKIP {msg}; this test did NOT run");
}

/// Whether `tool` is on PATH; says loudly on stderr when it is not.
pub fn have(tool: &str, test: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        skip(&format!(
            "{test}: `{tool}` is not installed (apt-get install {tool})"
        ));
    }
    found
}

/// The static busybox binary, or a loud skip.
pub fn busybox(test: &str) -> Option<Vec<u8>> {
    match fs::read("/bin/busybox") {
        Ok(b) => Some(b),
        Err(e) => {
            skip(&format!(
                "{test}: /bin/busybox is not readable ({e}; apt-get install busybox-static)"
            ));
            None
        }
    }
}

/// The two-layer busybox test image: see the comments for what each layer holds.
pub fn busybox_layers(busybox: &[u8]) -> Vec<Layer> {
    let mut l1 = Tar::new();
    l1.dir("bin/", 0o755)
        .file("bin/busybox", 0o755, busybox)
        .symlink("bin/sh", "busybox")
        .symlink("bin/ls", "busybox")
        .symlink("bin/cat", "/bin/busybox")
        .dir("etc/", 0o755)
        .file("etc/remove-me", 0o644, b"gone in layer 2\n")
        .file("etc/keep", 0o644, b"layer 1\n")
        .dir("opq/", 0o755)
        .file("opq/old-a", 0o644, b"a")
        .dir("opq/sub/", 0o700)
        .file("opq/sub/old-b", 0o644, b"b")
        .dir("usr/", 0o755)
        .dir("usr/bin/", 0o755)
        .file("usr/bin/hello", 0o755, b"#!/bin/sh\necho hello\n")
        .hardlink("usr/bin/hello2", "usr/bin/hello")
        .file("usr/bin/su", 0o4755, b"setuid")
        .dir("dev/", 0o755)
        .chardev("dev/null")
        .dir_owned("home/", 0o755, 0, 0)
        .dir_owned("home/custom_container/", 0o500, 1003, 1003)
        .entry(
            b"home/custom_container/main.sh",
            b'0',
            0o500,
            1003,
            1003,
            b"#!/bin/sh\necho main\n",
            b"",
        );
    let mut l2 = Tar::new();
    l2.dir("etc/", 0o755)
        .file("etc/.wh.remove-me", 0o644, b"")
        .file("etc/keep", 0o600, b"layer 2\n")
        .dir("opq/", 0o751)
        .file("opq/.wh..wh..opq", 0o644, b"")
        .file("opq/new", 0o644, b"new")
        .dir("usr/bin/", 0o755)
        .hardlink("usr/bin/hello3", "usr/bin/hello");
    vec![Layer::plain(l1.finish()), Layer::gz(l2.finish())]
}

/// The container config of the busybox test image.
pub fn busybox_config() -> Value {
    json!({
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["echo hi from $USER_NAME"],
        "Env": ["PATH=/bin:/usr/bin", "USER_NAME=custom_container"],
        "WorkingDir": "/home/custom_container",
        "User": "1003:1003",
        "ExposedPorts": {"8000/tcp": {}},
    })
}
