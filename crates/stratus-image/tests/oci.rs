//! Images from OCI layout directories and archives.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::*;
use stratus_image::{ImageStore, PreparedImage, PullOptions};

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).expect("lstat").permissions().mode() & 0o7777
}

fn ino(p: &Path) -> u64 {
    fs::symlink_metadata(p).expect("lstat").ino()
}

/// Checks everything the busybox test image should have after merging.
fn check_busybox_rootfs(img: &PreparedImage) {
    let r = &img.rootfs;
    assert!(r.join("bin/busybox").is_file());
    assert_eq!(mode(&r.join("bin/busybox")), 0o755);
    assert_eq!(
        fs::read_link(r.join("bin/sh")).expect("sh"),
        Path::new("busybox")
    );
    assert_eq!(
        fs::read_link(r.join("bin/cat")).expect("cat"),
        Path::new("/bin/busybox")
    );
    // Whiteout of a layer-1 file, and a file replaced by layer 2.
    assert!(
        fs::symlink_metadata(r.join("etc/remove-me")).is_err(),
        "whiteout kept etc/remove-me"
    );
    assert_eq!(fs::read(r.join("etc/keep")).expect("keep"), b"layer 2\n");
    assert_eq!(mode(&r.join("etc/keep")), 0o600);
    // Opaque directory: lower contents gone, the layer's own entry there, its mode.
    assert!(!r.join("opq/old-a").exists());
    assert!(!r.join("opq/sub").exists());
    assert_eq!(fs::read(r.join("opq/new")).expect("new"), b"new");
    assert_eq!(mode(&r.join("opq")), 0o751);
    // Hard links inside a layer and across layers.
    assert_eq!(
        ino(&r.join("usr/bin/hello")),
        ino(&r.join("usr/bin/hello2"))
    );
    assert_eq!(
        ino(&r.join("usr/bin/hello")),
        ino(&r.join("usr/bin/hello3"))
    );
    // Modes with special bits, owners, and a directory mode applied after its entries.
    assert_eq!(mode(&r.join("usr/bin/su")), 0o4755);
    assert_eq!(mode(&r.join("home/custom_container")), 0o500);
    let home = fs::metadata(r.join("home/custom_container")).expect("home");
    let running_as_root = fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    if running_as_root {
        assert_eq!((home.uid(), home.gid()), (1003, 1003));
        let main = fs::metadata(r.join("home/custom_container/main.sh")).expect("main");
        assert_eq!((main.uid(), main.gid()), (1003, 1003));
    }
    // Device nodes are left out, with a note.
    assert!(fs::symlink_metadata(r.join("dev/null")).is_err());
    assert!(
        img.notes.iter().any(|n| n.contains("dev/null")),
        "notes: {:?}",
        img.notes
    );
    // Mount points for a read-only root.
    for d in ["proc", "sys", "tmp"] {
        assert!(r.join(d).is_dir(), "{d} missing");
    }
    assert!(r.join("etc/resolv.conf").is_file());
    // Config.
    let c = &img.config;
    assert_eq!(c.entrypoint, vec!["/bin/sh", "-c"]);
    assert_eq!(c.cmd, vec!["echo hi from $USER_NAME"]);
    assert_eq!(c.working_dir, "/home/custom_container");
    assert_eq!(c.user, "1003:1003");
    assert_eq!(
        c.env,
        vec!["PATH=/bin:/usr/bin", "USER_NAME=custom_container"]
    );
    assert_eq!(c.exposed_ports, vec!["8000/tcp"]);
    // The unpacked busybox runs.
    let out = Command::new(r.join("bin/sh"))
        .args(["-c", "echo ok"])
        .output()
        .expect("run busybox sh");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
}

#[test]
fn oci_layout_with_whiteouts_opaque_dirs_and_links() {
    let Some(bb) = busybox("oci_layout_with_whiteouts_opaque_dirs_and_links") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let layers = busybox_layers(&bb);
    let written = write_image(
        &layout,
        "latest",
        &image_config(busybox_config(), &layers),
        &layers,
    );

    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let reference = format!("oci:{}:latest", layout.display());
    let img = store
        .prepare(&reference, &PullOptions::default())
        .expect("prepare");
    assert_eq!(img.digest, written.manifest_digest);
    check_busybox_rootfs(&img);

    // Idempotent: same answer, nothing rebuilt.
    let before = ino(&img.rootfs);
    let again = store
        .prepare(&reference, &PullOptions::default())
        .expect("prepare again");
    assert_eq!(again, img);
    assert_eq!(ino(&again.rootfs), before);
    // Without a tag the layout's only image is used.
    let untagged = store
        .prepare(
            &format!("oci:{}", layout.display()),
            &PullOptions::default(),
        )
        .expect("untagged");
    assert_eq!(untagged.digest, img.digest);

    // A second image sharing the base layer unpacks only its own layer.
    let mut extra = Tar::new();
    extra.file("extra.txt", 0o644, b"extra");
    let layers2 = vec![busybox_layers(&bb).remove(0), Layer::plain(extra.finish())];
    write_image(
        &layout,
        "two",
        &image_config(busybox_config(), &layers2),
        &layers2,
    );
    let img2 = store
        .prepare(
            &format!("oci:{}:two", layout.display()),
            &PullOptions::default(),
        )
        .expect("two");
    assert!(img2.rootfs.join("extra.txt").is_file());
    assert!(img2.rootfs.join("etc/remove-me").is_file());
    let unpacked_layers = fs::read_dir(tmp.path().join("store/layers"))
        .expect("layers")
        .count();
    assert_eq!(unpacked_layers, 3, "base layer should be unpacked once");
    assert_eq!(
        ino(&img.rootfs.join("bin/busybox")),
        ino(&img2.rootfs.join("bin/busybox"))
    );
    // Work dirs are gone.
    assert_eq!(
        fs::read_dir(tmp.path().join("store/tmp"))
            .expect("tmp")
            .count(),
        0
    );

    // With two images and no tag, `latest` is the one.
    let untagged = store
        .prepare(
            &format!("oci:{}", layout.display()),
            &PullOptions::default(),
        )
        .expect("latest");
    assert_eq!(untagged.digest, img.digest);
    // Without a `latest` among several, the reference is ambiguous.
    write_image(
        &layout,
        "latest-not",
        &image_config(busybox_config(), &layers2),
        &layers2,
    );
    let index = layout.join("index.json");
    let text = fs::read_to_string(&index)
        .expect("index")
        .replace("\"latest\"", "\"other\"");
    fs::write(&index, text).expect("index");
    let err = store
        .prepare(
            &format!("oci:{}", layout.display()),
            &PullOptions::default(),
        )
        .expect_err("ambiguous");
    assert!(
        matches!(err, stratus_image::ImageError::BadReference(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("name one with"), "{err}");
}

#[test]
fn chroot_runs_the_entrypoint() {
    let Some(bb) = busybox("chroot_runs_the_entrypoint") else {
        return;
    };
    if !fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
    {
        skip("chroot_runs_the_entrypoint: needs root for chroot");
        return;
    }
    if !Path::new("/usr/sbin/chroot").exists() {
        skip("chroot_runs_the_entrypoint: /usr/sbin/chroot missing");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let layers = busybox_layers(&bb);
    write_image(
        &layout,
        "latest",
        &image_config(busybox_config(), &layers),
        &layers,
    );
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let img = store
        .prepare(
            &format!("oci:{}:latest", layout.display()),
            &PullOptions::default(),
        )
        .expect("prepare");
    // Entrypoint + Cmd as a container runtime would run them, as uid 1003.
    let mut argv = img.config.entrypoint.clone();
    argv.extend(img.config.cmd.clone());
    let out = Command::new("/usr/sbin/chroot")
        .arg("--userspec=1003:1003")
        .arg(&img.rootfs)
        .arg("/bin/busybox")
        .args(["env", "-i", "USER_NAME=custom_container"])
        .args(&argv)
        .output()
        .expect("chroot");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hi from custom_container\n"
    );
}

#[test]
fn oci_archive_made_by_skopeo() {
    const T: &str = "oci_archive_made_by_skopeo";
    let Some(bb) = busybox(T) else { return };
    if !have("skopeo", T) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let layers = busybox_layers(&bb);
    write_image(
        &layout,
        "latest",
        &image_config(busybox_config(), &layers),
        &layers,
    );
    let archive = tmp.path().join("x.tar");
    let out = Command::new("skopeo")
        .arg("copy")
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("oci-archive:{}:latest", archive.display()))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let img = store
        .prepare(
            &format!("oci-archive:{}:latest", archive.display()),
            &PullOptions::default(),
        )
        .expect("prepare archive");
    check_busybox_rootfs(&img);
    let untagged = store
        .prepare(
            &format!("oci-archive:{}", archive.display()),
            &PullOptions::default(),
        )
        .expect("prepare untagged archive");
    assert_eq!(untagged.digest, img.digest);
    let err = store
        .prepare(
            &format!("oci-archive:{}:nope", archive.display()),
            &PullOptions::default(),
        )
        .expect_err("missing tag");
    assert!(
        matches!(err, stratus_image::ImageError::NotFound(_)),
        "{err:?}"
    );
}

#[test]
fn layout_made_by_umoci() {
    const T: &str = "layout_made_by_umoci";
    let Some(bb) = busybox(T) else { return };
    if !have("umoci", T) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let content = tmp.path().join("content");
    fs::create_dir_all(content.join("bin")).expect("content");
    fs::write(content.join("bin/busybox"), &bb).expect("busybox");
    fs::set_permissions(
        content.join("bin/busybox"),
        fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("busybox", content.join("bin/sh")).expect("symlink");
    let run = |args: &[&str]| {
        let out = Command::new("umoci").args(args).output().expect("umoci");
        assert!(
            out.status.success(),
            "umoci {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let l = layout.to_str().expect("utf8");
    let image = format!("{l}:latest");
    run(&["init", "--layout", l]);
    run(&["new", "--image", &image]);
    run(&[
        "insert",
        "--image",
        &image,
        content.join("bin").to_str().expect("utf8"),
        "/bin",
    ]);
    run(&[
        "config",
        "--image",
        &image,
        "--config.entrypoint",
        "/bin/sh",
        "--config.cmd",
        "-c",
        "--config.cmd",
        "echo hi",
        "--config.workingdir",
        "/srv",
        "--config.user",
        "1003:1003",
        "--config.exposedports",
        "8000/tcp",
    ]);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let img = store
        .prepare(&format!("oci:{l}:latest"), &PullOptions::default())
        .expect("prepare");
    assert!(img.rootfs.join("bin/busybox").is_file());
    assert_eq!(
        fs::read_link(img.rootfs.join("bin/sh")).expect("sh"),
        Path::new("busybox")
    );
    assert_eq!(img.config.entrypoint, vec!["/bin/sh"]);
    assert_eq!(img.config.cmd, vec!["-c", "echo hi"]);
    assert_eq!(img.config.working_dir, "/srv");
    assert_eq!(img.config.user, "1003:1003");
    assert_eq!(img.config.exposed_ports, vec!["8000/tcp"]);
}

#[test]
fn concurrent_prepares_of_one_image_agree() {
    let Some(bb) = busybox("concurrent_prepares_of_one_image_agree") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let layers = busybox_layers(&bb);
    write_image(
        &layout,
        "latest",
        &image_config(busybox_config(), &layers),
        &layers,
    );
    let reference = format!("oci:{}:latest", layout.display());
    let root = tmp.path().join("store");
    // Separate stores on one root behave like separate processes; one shared store
    // like threads of one.
    let shared = ImageStore::open(&root).expect("open");
    let results: Vec<PreparedImage> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for i in 0..6 {
            let (root, reference, shared) = (&root, &reference, &shared);
            handles.push(s.spawn(move || {
                if i % 2 == 0 {
                    shared.prepare(reference, &PullOptions::default())
                } else {
                    ImageStore::open(root)
                        .expect("open")
                        .prepare(reference, &PullOptions::default())
                }
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("prepare"))
            .collect()
    });
    for r in &results {
        assert_eq!(r, &results[0]);
    }
    check_busybox_rootfs(&results[0]);
    assert_eq!(fs::read_dir(root.join("tmp")).expect("tmp").count(), 0);
}

#[test]
fn open_removes_stale_work_dirs_only() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("store");
    ImageStore::open(&root).expect("open");
    let old = root.join("tmp/layer-crashed");
    let fresh = root.join("tmp/layer-running");
    fs::create_dir_all(old.join("tree/a")).expect("old");
    fs::create_dir_all(&fresh).expect("fresh");
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 24 * 3600);
    fs::File::open(&old)
        .expect("open dir")
        .set_modified(two_days_ago)
        .expect("set mtime");
    ImageStore::open(&root).expect("reopen");
    assert!(!old.exists());
    assert!(fresh.exists());
}

#[test]
fn store_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ImageStore>();
    assert_send_sync::<PreparedImage>();
    assert_send_sync::<stratus_image::ImageError>();
}
