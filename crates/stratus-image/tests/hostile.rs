//! Layers and layouts that must be refused, and references that are wrong.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::json;
use stratus_image::{ImageError, ImageStore, PullOptions};

fn cfg() -> serde_json::Value {
    json!({"Cmd": ["/bin/true"]})
}

/// Writes a one-image layout of `layers` under `dir/layout` and prepares it.
fn prepare_layers(
    dir: &Path,
    layers: Vec<Layer>,
) -> Result<stratus_image::PreparedImage, ImageError> {
    let layout = dir.join("layout");
    write_image(&layout, "latest", &image_config(cfg(), &layers), &layers);
    let store = ImageStore::open(&dir.join("store")).expect("open");
    store.prepare(
        &format!("oci:{}:latest", layout.display()),
        &PullOptions::default(),
    )
}

fn assert_corrupt(r: Result<stratus_image::PreparedImage, ImageError>, needle: &str) {
    match r {
        Err(ImageError::Corrupt(msg)) => {
            assert!(
                msg.contains(needle),
                "message {msg:?} should mention {needle:?}"
            );
            assert!(
                msg.starts_with(|c: char| c.is_ascii_lowercase()),
                "lowercase: {msg}"
            );
            assert!(!msg.ends_with('.'), "no trailing period: {msg}");
        }
        other => panic!("expected a corrupt error mentioning {needle:?}, got {other:?}"),
    }
}

/// Nothing is left in the store's temp dir after a refusal.
fn assert_clean(dir: &Path) {
    let tmp = dir.join("store/tmp");
    assert_eq!(
        fs::read_dir(&tmp).expect("tmp").count(),
        0,
        "leftovers in {}",
        tmp.display()
    );
    assert_eq!(
        fs::read_dir(dir.join("store/images"))
            .expect("images")
            .count(),
        0
    );
}

#[test]
fn dot_dot_entry_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut t = Tar::new();
    t.file("ok.txt", 0o644, b"fine")
        .file("../evil", 0o644, b"evil");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "\"..\"",
    );
    assert!(!tmp.path().join("store/evil").exists());
    assert!(!tmp.path().join("store/tmp/evil").exists());
    assert_clean(tmp.path());

    let mut t = Tar::new();
    t.file("a/../../evil2", 0o644, b"evil");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::gz(t.finish())]),
        "\"..\"",
    );
    assert_clean(tmp.path());
}

#[test]
fn absolute_entry_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let target = tmp.path().join("abs-evil");
    let mut t = Tar::new();
    t.file(target.to_str().expect("utf8"), 0o644, b"evil");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "absolute",
    );
    assert!(!target.exists());
    assert_clean(tmp.path());
}

#[test]
fn file_under_absolute_symlink_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).expect("outside");
    let mut t = Tar::new();
    t.symlink("etc", outside.to_str().expect("utf8"))
        .file("etc/evil", 0o644, b"evil");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "symlink",
    );
    assert_eq!(
        fs::read_dir(&outside).expect("outside").count(),
        0,
        "wrote through the symlink"
    );
    assert_clean(tmp.path());

    // Relative symlink climbing out, then a file under it.
    let mut t = Tar::new();
    t.symlink("up", "../../../../../../..")
        .file("up/evil", 0o644, b"evil");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "symlink",
    );
    assert_clean(tmp.path());
}

#[test]
fn symlink_of_a_lower_layer_is_replaced_not_followed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).expect("outside");
    let mut l1 = Tar::new();
    l1.symlink("data", outside.to_str().expect("utf8"))
        .symlink("data2", outside.to_str().expect("utf8"));
    // Layer 2: an entry under `data` with no directory entry, one under `data2` with one,
    // and a whiteout through the symlink.
    let mut l2 = Tar::new();
    l2.file("data/evil", 0o644, b"evil")
        .dir("data2/", 0o755)
        .file("data2/evil", 0o644, b"evil");
    let mut l3 = Tar::new();
    fs::write(outside.join("victim"), b"keep me").expect("victim");
    l3.symlink("v", outside.to_str().expect("utf8"));
    let mut l4 = Tar::new();
    l4.file("v/.wh.victim", 0o644, b"");
    let img = prepare_layers(
        tmp.path(),
        vec![Layer::plain(l1.finish()), Layer::gz(l2.finish())],
    )
    .expect("prepare");
    assert!(img.rootfs.join("data").is_dir() && !img.rootfs.join("data").is_symlink());
    assert_eq!(
        fs::read(img.rootfs.join("data/evil")).expect("evil"),
        b"evil"
    );
    assert!(img.rootfs.join("data2/evil").is_file());
    assert!(
        !outside.join("evil").exists(),
        "wrote through a lower layer's symlink"
    );

    let tmp2 = tempfile::tempdir().expect("tmp");
    let r = prepare_layers(
        tmp2.path(),
        vec![Layer::plain(l3.finish()), Layer::plain(l4.finish())],
    );
    // `v/.wh.victim` lies under the layer's own implicit directory `v`, which replaces
    // the symlink; the file outside stays.
    r.expect("prepare whiteout through symlink");
    assert_eq!(
        fs::read(outside.join("victim")).expect("victim"),
        b"keep me"
    );
}

#[test]
fn hard_link_out_of_the_root_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut t = Tar::new();
    t.hardlink("passwd", "../../../../etc/passwd");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "outside the root",
    );
    assert_clean(tmp.path());

    let mut t = Tar::new();
    t.hardlink("passwd", "/etc/passwd");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "outside the root",
    );

    // A hard link through a symlink of the same layer.
    let mut t = Tar::new();
    t.symlink("etc", "/etc").hardlink("passwd", "etc/passwd");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "no layer provides",
    );

    // A hard link to a file no layer has.
    let mut t = Tar::new();
    t.hardlink("x", "missing");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![Layer::plain(t.finish())]),
        "no layer provides",
    );
}

#[test]
fn blob_not_matching_its_digest_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let mut t = Tar::new();
    t.file("hello", 0o644, b"hello world");
    let layers = vec![Layer::gz(t.finish())];
    let w = write_image(&layout, "latest", &image_config(cfg(), &layers), &layers);
    // Same size, different bytes: a tampered blob.
    let p = blob_path(&layout, &w.layer_digests[0]);
    let mut bytes = fs::read(&p).expect("blob");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&p, &bytes).expect("tamper");
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let r = store.prepare(
        &format!("oci:{}:latest", layout.display()),
        &PullOptions::default(),
    );
    assert_corrupt(r, "does not match its digest");
    assert_clean(tmp.path());

    // A tampered config.
    let layout2 = tmp.path().join("layout2");
    let w = write_image(&layout2, "latest", &image_config(cfg(), &layers), &layers);
    let p = blob_path(&layout2, &w.config_digest);
    let mut bytes = fs::read(&p).expect("config");
    let last = bytes.len() - 2;
    bytes[last] = b' ';
    fs::write(&p, &bytes).expect("tamper");
    let r = store.prepare(
        &format!("oci:{}:latest", layout2.display()),
        &PullOptions::default(),
    );
    assert_corrupt(r, "does not match its digest");

    // A blob longer than its descriptor.
    let layout3 = tmp.path().join("layout3");
    let w = write_image(&layout3, "latest", &image_config(cfg(), &layers), &layers);
    let p = blob_path(&layout3, &w.layer_digests[0]);
    let mut bytes = fs::read(&p).expect("blob");
    bytes.extend_from_slice(b"trailing");
    fs::write(&p, &bytes).expect("extend");
    let r = store.prepare(
        &format!("oci:{}:latest", layout3.display()),
        &PullOptions::default(),
    );
    assert_corrupt(r, "larger than its descriptor");
}

#[test]
fn diff_id_mismatch_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut t = Tar::new();
    t.file("a", 0o644, b"a");
    let layers = vec![Layer::gz(t.finish())];
    let mut config = image_config(cfg(), &layers);
    config["rootfs"]["diff_ids"] = json!([sha(b"something else")]);
    let layout = tmp.path().join("layout");
    write_image(&layout, "latest", &config, &layers);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let r = store.prepare(
        &format!("oci:{}:latest", layout.display()),
        &PullOptions::default(),
    );
    assert_corrupt(r, "the image config says");
}

#[test]
fn zstd_and_unknown_layers_are_refused_clearly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut t = Tar::new();
    t.file("a", 0o644, b"a");
    let layer = Layer {
        tar: t.finish(),
        media_type: "application/vnd.oci.image.layer.v1.tar+zstd",
    };
    assert_corrupt(prepare_layers(tmp.path(), vec![layer]), "zstd");
    let layer = Layer {
        tar: t.finish(),
        media_type: "application/x-weird",
    };
    let tmp = tempfile::tempdir().expect("tmp");
    assert_corrupt(
        prepare_layers(tmp.path(), vec![layer]),
        "unsupported layer media type",
    );
}

#[test]
fn garbage_layer_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let layer = Layer {
        tar: b"this is not gzip at all".to_vec(),
        media_type: TAR_GZ,
    };
    // The blob matches its digest, so the complaint is about the content.
    let layout = tmp.path().join("layout");
    let blob = layer.tar.clone();
    write_image(&layout, "latest", &image_config(cfg(), &[]), &[]);
    let cfg_bytes =
        serde_json::to_vec(&image_config(cfg(), &[Layer::plain(blob.clone())])).expect("cfg");
    let cdesc = put_blob(
        &layout,
        "application/vnd.oci.image.config.v1+json",
        &cfg_bytes,
    );
    let ldesc = put_blob(&layout, TAR_GZ, &blob);
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cdesc, "layers": [ldesc]})).expect("m");
    let mdesc = put_blob(
        &layout,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    add_to_index(&layout, mdesc, "garbage");
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let r = store.prepare(
        &format!("oci:{}:garbage", layout.display()),
        &PullOptions::default(),
    );
    assert_corrupt(r, "not a valid gzip tar stream");
    drop(layer);
}

#[test]
fn too_large_image_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut t = Tar::new();
    t.file("big", 0o644, &vec![7u8; 100_000]);
    let layers = vec![Layer::plain(t.finish())];
    let layout = tmp.path().join("layout");
    write_image(&layout, "latest", &image_config(cfg(), &layers), &layers);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let opts = PullOptions {
        max_bytes: 10_000,
        ..PullOptions::default()
    };
    let r = store.prepare(&format!("oci:{}:latest", layout.display()), &opts);
    assert!(matches!(r, Err(ImageError::TooLarge(_))), "{r:?}");

    // A gzip bomb: small blob, large tar.
    let mut t = Tar::new();
    t.file("zeros", 0o644, &vec![0u8; 1 << 20]);
    let layers = vec![Layer::gz(t.finish())];
    let layout = tmp.path().join("layout-bomb");
    write_image(&layout, "latest", &image_config(cfg(), &layers), &layers);
    let opts = PullOptions {
        max_bytes: 20_000,
        ..PullOptions::default()
    };
    let r = store.prepare(&format!("oci:{}:latest", layout.display()), &opts);
    assert!(
        matches!(&r, Err(ImageError::TooLarge(m)) if m.contains("unpacks to more")),
        "{r:?}"
    );
    assert_eq!(
        fs::read_dir(tmp.path().join("store/tmp"))
            .expect("tmp")
            .count(),
        0
    );
}

#[test]
fn missing_things_are_not_found() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut t = Tar::new();
    t.file("a", 0o644, b"a");
    let layers = vec![Layer::plain(t.finish())];
    let layout = tmp.path().join("layout");
    write_image(&layout, "latest", &image_config(cfg(), &layers), &layers);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let opts = PullOptions::default();
    let r = store.prepare(&format!("oci:{}:v9", layout.display()), &opts);
    assert!(
        matches!(&r, Err(ImageError::NotFound(m)) if m.contains("tag \"v9\" not found") && m.contains("latest")),
        "{r:?}"
    );
    let r = store.prepare(&format!("oci:{}/nope:latest", tmp.path().display()), &opts);
    assert!(
        matches!(&r, Err(ImageError::NotFound(m)) if m.contains("does not exist")),
        "{r:?}"
    );
    let r = store.prepare(
        &format!("oci-archive:{}/nope.tar", tmp.path().display()),
        &opts,
    );
    assert!(matches!(&r, Err(ImageError::NotFound(_))), "{r:?}");
    // A platform that is not this host's.
    let mut config = image_config(cfg(), &layers);
    config["architecture"] = json!("s390x-nope");
    write_image(&layout, "other-arch", &config, &layers);
    let r = store.prepare(&format!("oci:{}:other-arch", layout.display()), &opts);
    assert!(
        matches!(&r, Err(ImageError::NotFound(m)) if m.contains("s390x-nope")),
        "{r:?}"
    );
    // A layout whose blob is gone.
    let w = write_image(&layout, "broken", &image_config(cfg(), &layers), &layers);
    fs::remove_file(blob_path(&layout, &w.config_digest)).expect("rm");
    let r = store.prepare(&format!("oci:{}:broken", layout.display()), &opts);
    assert!(
        matches!(&r, Err(ImageError::Corrupt(m)) if m.contains("missing")),
        "{r:?}"
    );
}

#[test]
fn malformed_references_are_bad_references() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    for r in [
        "",
        "oci:",
        "Registry.Example.com/UPPER:tag",
        "example.com/repo:bad:tag",
        "example.com/repo@sha256:short",
        "example.com/repo@md5:d41d8cd98f00b204e9800998ecf8427e",
        "example.com:70000/repo",
        "ftp://example.com/repo",
        "example.com/repo with space",
        "example.com/repo/",
    ] {
        match store.prepare(r, &PullOptions::default()) {
            Err(ImageError::BadReference(msg)) => {
                assert!(msg.starts_with("invalid image reference"), "{msg}");
            }
            other => panic!("{r:?}: expected a bad reference, got {other:?}"),
        }
    }
}
