//! Disk mounts (`mount_config`): the self-hosted analogue of FunctionGraph's SFS/ECS
//! shared directories is a host directory under an operator-allowed root, bound into the
//! instance at a two-level path under `/mnt`.

use std::path::{Path, PathBuf};
use stratus_types::Invalid;

/// One checked mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncMount {
    /// Host directory.
    pub host: PathBuf,
    /// `/mnt/<name>` inside the instance.
    pub target: String,
}

/// The checked `mount_config`: mounts plus the user/group the instance runs as.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountConfig {
    /// Mounts.
    pub mounts: Vec<FuncMount>,
    /// User id (1003 unless set).
    pub uid: Option<u32>,
    /// Group id (1003 unless set).
    pub gid: Option<u32>,
}

fn bad(field: &str, msg: impl Into<String>) -> Invalid {
    Invalid::field(field, msg)
}

fn id(field: &str, v: Option<&serde_json::Value>) -> Result<Option<u32>, Invalid> {
    let Some(v) = v else { return Ok(None) };
    let n = v.as_i64().ok_or_else(|| bad(field, "must be an integer"))?;
    match n {
        -1 => Ok(Some(1003)),
        0 => Err(bad(field, "0 (root) is not allowed")),
        1000 => Err(bad(field, "1000 is reserved")),
        1..=65534 => Ok(Some(n as u32)),
        _ => Err(bad(field, format!("{n} is outside -1..65534"))),
    }
}

/// Parses and checks a `mount_config` value against the allowed host roots.
pub fn parse(value: &serde_json::Value, roots: &[PathBuf]) -> Result<MountConfig, Invalid> {
    if value.is_null() {
        return Ok(MountConfig::default());
    }
    let obj = value
        .as_object()
        .ok_or_else(|| bad("mount_config", "must be an object"))?;
    let user = obj.get("mount_user").and_then(|u| u.as_object());
    let uid = id(
        "mount_config.mount_user.user_id",
        user.and_then(|u| u.get("user_id")),
    )?;
    let gid = id(
        "mount_config.mount_user.user_group_id",
        user.and_then(|u| u.get("user_group_id")),
    )?;
    let list = match obj.get("func_mounts") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(_) => return Err(bad("mount_config.func_mounts", "must be an array")),
    };
    if list.len() > 16 {
        return Err(bad("mount_config.func_mounts", "at most 16 mounts"));
    }
    let mut mounts: Vec<FuncMount> = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let field = |k: &str| format!("mount_config.func_mounts[{i}].{k}");
        let text = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let kind = text("mount_type");
        if !["sfs", "sfsTurbo", "ecs"].contains(&kind.as_str()) {
            return Err(bad(
                &field("mount_type"),
                format!("{kind:?} is not one of sfs, sfsTurbo, ecs"),
            ));
        }
        let target = text("local_mount_path");
        let name = target.strip_prefix("/mnt/").unwrap_or("");
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return Err(bad(
                &field("local_mount_path"),
                format!("{target:?} must be a new two-level directory under /mnt, e.g. /mnt/data"),
            ));
        }
        if mounts.iter().any(|x| x.target == target) {
            return Err(bad(
                &field("local_mount_path"),
                format!("{target:?} is used twice"),
            ));
        }
        let share = text("mount_share_path");
        let share = share
            .split_once(":/")
            .map_or(share.clone(), |(_, p)| format!("/{p}"));
        let share = if share.is_empty() {
            text("mount_resource")
        } else {
            share
        };
        if !share.starts_with('/') {
            return Err(bad(
                &field("mount_share_path"),
                "must name a host directory (an absolute path, optionally host:/path)",
            ));
        }
        if roots.is_empty() {
            return Err(bad(
                &field("mount_share_path"),
                "this server allows no disk mounts; start it with --mount-root DIR",
            ));
        }
        let host = Path::new(&share).canonicalize().map_err(|_| {
            bad(
                &field("mount_share_path"),
                format!("{share:?} does not exist on the server"),
            )
        })?;
        if !host.is_dir() {
            return Err(bad(
                &field("mount_share_path"),
                format!("{share:?} is not a directory"),
            ));
        }
        if !roots.iter().any(|r| host.starts_with(r)) {
            return Err(bad(
                &field("mount_share_path"),
                format!("{share:?} is outside the server's allowed mount roots"),
            ));
        }
        mounts.push(FuncMount { host, target });
    }
    Ok(MountConfig { mounts, uid, gid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_paths_roots_and_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canon");
        std::fs::create_dir(root.join("share")).expect("mkdir");
        let share = root.join("share").display().to_string();
        let ok = json!({"mount_user": {"user_id": -1, "user_group_id": 2000},
            "func_mounts": [{"mount_type": "ecs", "mount_resource": "r", "mount_share_path": format!("127.0.0.1:{share}"), "local_mount_path": "/mnt/data"}]});
        let cfg = parse(&ok, std::slice::from_ref(&root)).expect("valid");
        assert_eq!(cfg.mounts[0].target, "/mnt/data");
        assert_eq!((cfg.uid, cfg.gid), (Some(1003), Some(2000)));
        let with = |path: &str, target: &str, kind: &str| json!({"func_mounts": [{"mount_type": kind, "mount_resource": "r", "mount_share_path": path, "local_mount_path": target}]});
        for (v, needle) in [
            (with(&share, "/data", "ecs"), "local_mount_path"),
            (with(&share, "/mnt/a/b", "ecs"), "local_mount_path"),
            (with(&share, "/mnt/..", "ecs"), "local_mount_path"),
            (with(&share, "/mnt/x", "nfs"), "mount_type"),
            (with("/etc", "/mnt/x", "ecs"), "allowed mount roots"),
            (with("/nope/nope", "/mnt/x", "ecs"), "does not exist"),
            (json!({"mount_user": {"user_id": 0}}), "user_id"),
            (json!({"func_mounts": {}}), "array"),
        ] {
            let e = parse(&v, std::slice::from_ref(&root)).expect_err("invalid");
            assert!(
                e.to_string().contains(needle),
                "{e} should mention {needle}"
            );
        }
        assert!(parse(&with(&share, "/mnt/x", "ecs"), &[])
            .expect_err("no roots")
            .to_string()
            .contains("--mount-root"));
    }
}
