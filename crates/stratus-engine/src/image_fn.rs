//! Container-image functions (guide 2.4 and 4.4): the `custom_image` settings, their
//! checks when a function is created or updated, and what a cold start needs: the
//! image pulled and unpacked (once per digest, by `stratus-image`), the command line,
//! user, working directory and environment. The instance itself is an HTTP server on
//! port 8000, driven by the bridge (`POST /init` once, `POST /invoke` per event).

use crate::image_gc::{ImageLease, Key, Leases, ResolvedLog};
use crate::instance::StartFailure;
use crate::invoke::Cause;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use stratus_image::{ImageStore, Location, PreparedImage, PullOptions, RegistryAuth};
use stratus_types::{FunctionSpec, Invalid, RuntimeKind};
use tokio::sync::Notify;

/// Longest `command`, `args` and `working_dir` (guide 4.4: up to 5120 characters).
const FIELD_MAX: usize = 5120;
/// The guide's default user and group of a container.
pub(crate) const DEFAULT_ID: u32 = 1003;
/// Ids a function may not run as: root, and the platform's reserved 1000 (guide 5.5).
const RESERVED_IDS: &[u32] = &[0, 1000];
/// `PATH` when the image sets none (what container engines use).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Resolved references kept per process before the cache is emptied.
const RESOLVED_MAX: usize = 1024;

/// The `custom_image` object of a container-image function, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub image: String,
    /// Overrides the image's Entrypoint (and drops its Cmd) when not empty.
    pub command: Vec<String>,
    /// Overrides the image's Cmd when not empty.
    pub args: Vec<String>,
    pub working_dir: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

fn field(name: &str, msg: impl Into<String>) -> Invalid {
    Invalid::field(format!("custom_image.{name}"), msg)
}

/// Splits the console's comma-separated list (`-args,value1`).
fn list(name: &str, v: &str) -> Result<Vec<String>, Invalid> {
    if v.chars().count() > FIELD_MAX {
        return Err(field(
            name,
            format!("is longer than {FIELD_MAX} characters"),
        ));
    }
    if v.contains('\0') {
        return Err(field(name, "must not contain NUL characters"));
    }
    Ok(v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

fn id(name: &str, v: &str) -> Result<Option<u32>, Invalid> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let n: u32 = v
        .parse()
        .ok()
        .filter(|n| *n <= 65534)
        .ok_or_else(|| field(name, format!("{v:?} is not a number from 1 to 65534")))?;
    if RESERVED_IDS.contains(&n) {
        return Err(field(
            name,
            format!("{n} is reserved (root and 1000 cannot run functions)"),
        ));
    }
    Ok(Some(n))
}

/// The checked `custom_image` of a function: `None` for functions of other runtimes.
/// `layout_roots` are the host directories `oci:`/`oci-archive:` references may use.
pub(crate) fn settings(
    spec: &FunctionSpec,
    layout_roots: &[PathBuf],
) -> Result<Option<Settings>, Invalid> {
    let is_image = spec
        .runtime()
        .map(|r| r.kind() == RuntimeKind::CustomImage)
        .unwrap_or(false);
    let obj = spec
        .extras
        .get("custom_image")
        .and_then(|v| v.as_object())
        .cloned()
        .unwrap_or_default();
    let text = |k: &str| obj.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let enabled = obj.get("enabled").and_then(|v| v.as_bool());
    if !is_image {
        if enabled == Some(true) {
            return Err(field(
                "enabled",
                format!(
                    "container images need the runtime \"Custom Image\" (this function's is {:?})",
                    spec.runtime
                ),
            ));
        }
        return Ok(None);
    }
    if enabled == Some(false) {
        return Err(field(
            "enabled",
            "must be true for a function with the runtime \"Custom Image\"",
        ));
    }
    let image = text("image").trim().to_string();
    if image.is_empty() {
        return Err(field(
            "image",
            "is required for a \"Custom Image\" function: the image reference (host[:port]/repo[:tag] or oci:<dir>[:tag])",
        ));
    }
    check_reference(&image, layout_roots)?;
    let working_dir = text("working_dir").trim();
    let working_dir = if working_dir.is_empty() {
        None
    } else {
        if working_dir.chars().count() > FIELD_MAX {
            return Err(field(
                "working_dir",
                format!("is longer than {FIELD_MAX} characters"),
            ));
        }
        let p = Path::new(working_dir);
        if !working_dir.starts_with('/')
            || working_dir.contains('\0')
            || p.components().any(|c| c == Component::ParentDir)
        {
            return Err(field(
                "working_dir",
                format!("{working_dir:?} must be an absolute directory (start with /, no ..)"),
            ));
        }
        Some(working_dir.to_string())
    };
    Ok(Some(Settings {
        image,
        command: list("command", text("command"))?,
        args: list("args", text("args"))?,
        working_dir,
        uid: id("uid", text("uid"))?,
        gid: id("gid", text("gid"))?,
    }))
}

/// Checks a reference's syntax, and that a local one lies under an allowed directory.
fn check_reference(image: &str, layout_roots: &[PathBuf]) -> Result<(), Invalid> {
    let path = match stratus_image::check_reference(image) {
        Ok(Location::Registry(_)) => return Ok(()),
        Ok(Location::Layout(p) | Location::Archive(p)) => p,
        Err(e) => return Err(field("image", e.to_string())),
    };
    if layout_roots.is_empty() {
        return Err(field(
            "image",
            "local image references (oci:, oci-archive:) are disabled on this server; the operator allows directories with --image-layout-root",
        ));
    }
    if !path.is_absolute() {
        return Err(field(
            "image",
            format!("{} must be an absolute path", path.display()),
        ));
    }
    let real = path.canonicalize().map_err(|e| {
        field(
            "image",
            format!("the image layout {} cannot be read: {e}", path.display()),
        )
    })?;
    if !layout_roots.iter().any(|r| real.starts_with(r)) {
        return Err(field(
            "image",
            format!(
                "{} is not under a directory this server allows images from (--image-layout-root)",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// What a cold start of an image function runs.
#[derive(Debug)]
pub(crate) struct ImageLaunch {
    /// The unpacked root file system (shared, mounted read-only).
    pub root: PathBuf,
    pub program: String,
    pub args: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    /// The image's `Env`, as (name, value).
    pub env: Vec<(String, String)>,
    /// Keeps the image from garbage collection while the instance lives.
    pub lease: Option<ImageLease>,
}

/// The image store of a server and its pull settings.
pub(crate) struct Images {
    root: PathBuf,
    store: OnceLock<Result<Arc<ImageStore>, String>>,
    opts: PullOptions,
    layout_roots: Vec<PathBuf>,
    /// The registry credentials file, read at each pull.
    auth_file: Option<PathBuf>,
    /// (reference, function revision) → image: a tag is resolved once per function
    /// configuration, so later cold starts need no registry (guide 4.4).
    resolved: Mutex<HashMap<Key, PreparedImage>>,
    /// The same, by digest and on disk, for garbage collection.
    log: Mutex<ResolvedLog>,
    leases: Arc<Leases>,
    /// Shared by a cold start from pull to lease, exclusive for collection: an image is
    /// never removed between being prepared and being leased or logged.
    gate: RwLock<()>,
}

impl Images {
    /// `signal` wakes the garbage collector (when an image's last instance ends).
    pub(crate) fn new(
        root: PathBuf,
        insecure_hosts: Vec<String>,
        layout_roots: Vec<PathBuf>,
        auth_file: Option<PathBuf>,
        signal: Arc<Notify>,
    ) -> Self {
        Images {
            log: Mutex::new(ResolvedLog::load(root.join("resolved.json"))),
            root,
            store: OnceLock::new(),
            opts: PullOptions {
                insecure_hosts,
                ..PullOptions::default()
            },
            layout_roots,
            auth_file,
            resolved: Mutex::new(HashMap::new()),
            leases: Leases::new(signal),
            gate: RwLock::new(()),
        }
    }

    /// The pull options with the current registry credentials (the file is read
    /// again, so an operator can change it without a restart). A missing file means
    /// none.
    fn pull_options(&self) -> Result<PullOptions, String> {
        let mut opts = self.opts.clone();
        if let Some(path) = &self.auth_file {
            if path.exists() {
                opts.auth = RegistryAuth::load(path)?;
            }
        }
        Ok(opts)
    }

    /// Removes the images that no key in `live` (and no instance) uses any more, and
    /// the layers only they used. Blocking.
    pub(crate) fn collect(&self, live: &HashSet<Key>) {
        // A server that never ran an image has no store to open.
        if !self.root.is_dir() {
            return;
        }
        let Ok(store) = self.store() else { return };
        let _gate = self.gate.write().unwrap_or_else(|p| p.into_inner());
        let mut keep = self
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(live);
        keep.extend(self.leases.in_use());
        self.lock()
            .retain(|k, img| live.contains(k) || keep.contains(&img.digest));
        match store.remove_unused(&keep) {
            Ok(r) if !r.images.is_empty() || r.layers > 0 => tracing::info!(
                "removed {} unused image(s) ({}) and {} layer(s) from {}",
                r.images.len(),
                r.images.join(", "),
                r.layers,
                self.root.display()
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("image garbage collection in {}: {e}", self.root.display()),
        }
    }

    fn store(&self) -> Result<Arc<ImageStore>, String> {
        self.store
            .get_or_init(|| {
                ImageStore::open(&self.root)
                    .map(Arc::new)
                    .map_err(|e| format!("open the image store {}: {e}", self.root.display()))
            })
            .clone()
    }

    /// Pulls (or finds in the store) the image of a function and leases it; blocking.
    fn prepare(
        &self,
        s: &Settings,
        revision: &str,
    ) -> Result<(PreparedImage, ImageLease), StartFailure> {
        let _gate = self.gate.read().unwrap_or_else(|p| p.into_inner());
        let key = (s.image.clone(), revision.to_string());
        let known = self.lock().get(&key).cloned();
        if let Some(img) = known {
            if img.rootfs.is_dir() {
                let lease = self.leases.take(&img.digest);
                return Ok((img, lease));
            }
        }
        // The operator may have withdrawn a layout directory since the function was made.
        check_reference(&s.image, &self.layout_roots)
            .map_err(|e| pull_failure(&s.image, &e.to_string()))?;
        let store = self.store().map_err(|e| StartFailure {
            cause: Cause::SystemError,
            code: 4024,
            error_type: "SystemError".into(),
            message: e,
            log: vec![],
        })?;
        let opts = self
            .pull_options()
            .map_err(|e| pull_failure(&s.image, &e))?;
        let img = store
            .prepare(&s.image, &opts)
            .map_err(|e| pull_failure(&s.image, &e.to_string()))?;
        let lease = self.leases.take(&img.digest);
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(&key, &img.digest);
        let mut map = self.lock();
        if map.len() >= RESOLVED_MAX {
            map.clear();
        }
        map.insert(key, img.clone());
        Ok((img, lease))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, PreparedImage>> {
        self.resolved.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn pull_failure(image: &str, why: &str) -> StartFailure {
    StartFailure {
        cause: Cause::InitializationFailed,
        code: 4201,
        error_type: "ImagePullFailed".into(),
        message: format!("cannot get the container image {image:?}: {why}"),
        log: vec![],
    }
}

fn start_failure(error_type: &str, message: String) -> StartFailure {
    StartFailure {
        cause: Cause::InitializationFailed,
        code: 4202,
        error_type: error_type.into(),
        message,
        log: vec![],
    }
}

/// Everything a cold start of a container-image function needs. `mount_ids` are the
/// disk-mount user and group, used when `custom_image` names none.
pub(crate) async fn launch(
    images: &Arc<Images>,
    spec: &FunctionSpec,
    sandbox: &str,
    mount_ids: (Option<u32>, Option<u32>),
) -> Result<ImageLaunch, StartFailure> {
    if sandbox != "isolated" {
        return Err(StartFailure {
            cause: Cause::SystemError,
            code: 4024,
            error_type: "RuntimeNotSupported".into(),
            message: format!(
                "container-image functions need the isolated sandbox (namespaces, an image root file system); this server runs the {sandbox} sandbox"
            ),
            log: vec![],
        });
    }
    let settings = settings(spec, &images.layout_roots)
        .map_err(|e| pull_failure("", &e.to_string()))?
        .ok_or_else(|| pull_failure("", "the function has no custom_image"))?;
    let revision = spec.last_modified.clone();
    let images = images.clone();
    let s = settings.clone();
    let (img, lease) = tokio::task::spawn_blocking(move || images.prepare(&s, &revision))
        .await
        .map_err(|e| pull_failure(&settings.image, &e.to_string()))??;
    tracing::debug!(
        "function {}: image {} is {}",
        spec.name,
        settings.image,
        img.digest
    );
    let mut launch = plan(&settings, &img, mount_ids)?;
    launch.lease = Some(lease);
    Ok(launch)
}

/// The command line, user, working directory and environment of an image, with the
/// function's overrides applied (Kubernetes' rules: `command` replaces Entrypoint and
/// Cmd, `args` replaces Cmd).
fn plan(
    s: &Settings,
    img: &PreparedImage,
    mount_ids: (Option<u32>, Option<u32>),
) -> Result<ImageLaunch, StartFailure> {
    let c = &img.config;
    let mut argv: Vec<String> = if !s.command.is_empty() {
        s.command.iter().chain(s.args.iter()).cloned().collect()
    } else if !s.args.is_empty() {
        c.entrypoint.iter().chain(s.args.iter()).cloned().collect()
    } else {
        c.entrypoint.iter().chain(c.cmd.iter()).cloned().collect()
    };
    if argv.is_empty() {
        return Err(start_failure(
            "ImageCommandNotFound",
            "the image has neither Entrypoint nor Cmd and custom_image.command is empty: nothing to run".into(),
        ));
    }
    let env: Vec<(String, String)> = c
        .env
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or(DEFAULT_PATH);
    let name = argv.remove(0);
    let program = if name.contains('/') {
        if !name.starts_with('/') {
            return Err(start_failure(
                "ImageCommandNotFound",
                format!("the command {name:?} must be absolute or a name looked up in PATH"),
            ));
        }
        if !is_executable(&img.rootfs, &name) {
            return Err(start_failure(
                "ImageCommandNotFound",
                format!("{name} is not an executable file in the image"),
            ));
        }
        name
    } else {
        path.split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| format!("{}/{name}", d.trim_end_matches('/')))
            .find(|p| is_executable(&img.rootfs, p))
            .ok_or_else(|| {
                start_failure(
                    "ImageCommandNotFound",
                    format!("{name:?} is not found in the image's PATH ({path})"),
                )
            })?
    };
    let cwd = s
        .working_dir
        .clone()
        .or_else(|| Some(c.working_dir.clone()).filter(|w| w.starts_with('/')))
        .unwrap_or_else(|| "/".into());
    match resolve(&img.rootfs, &cwd) {
        Some(p) if p.is_dir() => {}
        _ => {
            return Err(start_failure(
                "ImageWorkingDirNotFound",
                format!("the working directory {cwd} does not exist in the image"),
            ))
        }
    }
    Ok(ImageLaunch {
        root: img.rootfs.clone(),
        program,
        args: argv,
        cwd,
        uid: s.uid.or(mount_ids.0).unwrap_or(DEFAULT_ID),
        gid: s.gid.or(mount_ids.1).unwrap_or(DEFAULT_ID),
        env,
        lease: None,
    })
}

fn is_executable(root: &Path, inside: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    resolve(root, inside)
        .and_then(|p| std::fs::metadata(p).ok())
        .is_some_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The host path of `inside` in the image tree at `root`, following symlinks as the
/// instance would (absolute targets and `..` stay inside the root). `None` when a
/// component is missing or links loop.
fn resolve(root: &Path, inside: &str) -> Option<PathBuf> {
    let mut pending: Vec<String> = inside
        .split('/')
        .filter(|p| !p.is_empty())
        .rev()
        .map(String::from)
        .collect();
    let mut cur: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "." => continue,
            ".." => {
                cur.pop();
                continue;
            }
            _ => {}
        }
        let host = cur
            .iter()
            .fold(root.to_path_buf(), |p, c| p.join(c))
            .join(&part);
        let meta = std::fs::symlink_metadata(&host).ok()?;
        if meta.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return None;
            }
            let target = std::fs::read_link(&host).ok()?;
            let target = target.to_string_lossy().into_owned();
            if target.starts_with('/') {
                cur.clear();
            }
            pending.extend(
                target
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .rev()
                    .map(String::from),
            );
        } else {
            cur.push(part);
        }
    }
    Some(cur.iter().fold(root.to_path_buf(), |p, c| p.join(c)))
}

/// The environment of an image instance: the image's `Env`, then the platform's
/// variables. The platform's defaults of `PATH`, `HOME`, `TMPDIR`, `LANG` and `TZ` give
/// way to the image's; the function's own variables and `RUNTIME_*` always win.
pub(crate) fn merge_env(
    image: &[(String, String)],
    platform: Vec<(String, String)>,
) -> Vec<(String, String)> {
    const SOFT: &[&str] = &["PATH", "HOME", "TMPDIR", "LANG", "TZ"];
    let mut out: Vec<(String, String)> = image.to_vec();
    let mut seen_default: Vec<&str> = Vec::new();
    for (k, v) in platform {
        let soft = SOFT.iter().find(|s| **s == k && !seen_default.contains(s));
        if let Some(s) = soft {
            seen_default.push(s);
            if out.iter().any(|(ik, _)| *ik == k) {
                continue;
            }
        }
        match out.iter_mut().find(|(ik, _)| *ik == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(runtime: &str, ci: serde_json::Value) -> FunctionSpec {
        FunctionSpec {
            name: "img".into(),
            package: "default".into(),
            runtime: runtime.into(),
            handler: "-".into(),
            memory_size: 128,
            timeout: 3,
            description: String::new(),
            user_data: Default::default(),
            encrypted_user_data: Default::default(),
            initializer_handler: String::new(),
            initializer_timeout: 3,
            pre_stop_handler: String::new(),
            pre_stop_timeout: 3,
            ephemeral_storage: 512,
            enable_dynamic_memory: false,
            strategy: Default::default(),
            code: Default::default(),
            func_type: "v2".into(),
            extras: [("custom_image".to_string(), ci)].into_iter().collect(),
            last_modified: String::new(),
            version_description: String::new(),
            dependencies: Vec::new(),
        }
    }

    #[test]
    fn settings_are_checked() {
        let ok = settings(
            &spec(
                "Custom Image",
                serde_json::json!({"image": "127.0.0.1:5000/a/b:v1", "command": "/bin/sh, -c", "args": "-args,value1", "uid": "2000", "working_dir": "/app"}),
            ),
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(ok.command, vec!["/bin/sh", "-c"]);
        assert_eq!(ok.args, vec!["-args", "value1"]);
        assert_eq!(ok.uid, Some(2000));
        assert_eq!(ok.gid, None);
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"image": "bad image"}),
            serde_json::json!({"image": "a/b", "uid": "0"}),
            serde_json::json!({"image": "a/b", "gid": "1000"}),
            serde_json::json!({"image": "a/b", "uid": "-1"}),
            serde_json::json!({"image": "a/b", "uid": "x"}),
            serde_json::json!({"image": "a/b", "working_dir": "app"}),
            serde_json::json!({"image": "a/b", "working_dir": "/a/../b"}),
            serde_json::json!({"image": "a/b", "enabled": false}),
            serde_json::json!({"image": "oci:/tmp/x"}),
        ] {
            assert!(
                settings(&spec("Custom Image", bad.clone()), &[]).is_err(),
                "{bad}"
            );
        }
        assert!(settings(
            &spec(
                "Python3.9",
                serde_json::json!({"enabled": true, "image": "a/b"})
            ),
            &[]
        )
        .is_err());
        assert_eq!(
            settings(&spec("Python3.9", serde_json::json!({"image": "a/b"})), &[]).unwrap(),
            None
        );
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("usr/bin")).unwrap();
        std::fs::write(r.join("usr/bin/busybox"), b"x").unwrap();
        std::os::unix::fs::symlink("usr/bin", r.join("bin")).unwrap();
        std::os::unix::fs::symlink("/../../usr/bin/busybox", r.join("usr/bin/sh")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", r.join("escape")).unwrap();
        assert_eq!(resolve(r, "/bin/sh"), Some(r.join("usr/bin/busybox")));
        assert_eq!(resolve(r, "/escape"), None);
        std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();
        assert_eq!(resolve(r, "/loop"), None);
    }

    #[test]
    fn environment_merges() {
        let image = vec![
            ("PATH".to_string(), "/image/bin".to_string()),
            ("A".to_string(), "image".to_string()),
        ];
        let platform = vec![
            ("PATH".to_string(), "/usr/bin".to_string()),
            ("HOME".to_string(), "/tmp".to_string()),
            ("A".to_string(), "user".to_string()),
            ("RUNTIME_MEMORY".to_string(), "128".to_string()),
        ];
        let env = merge_env(&image, platform);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PATH"), Some("/image/bin"));
        assert_eq!(get("HOME"), Some("/tmp"));
        assert_eq!(get("A"), Some("user"));
        assert_eq!(get("RUNTIME_MEMORY"), Some("128"));
        let user_path = merge_env(
            &image,
            vec![
                ("PATH".into(), "/usr/bin".into()),
                ("PATH".into(), "/mine".into()),
            ],
        );
        assert_eq!(user_path[0].1, "/mine");
    }
}
