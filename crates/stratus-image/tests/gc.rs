//! Removing unwanted images and the layers only they use.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::*;
use serde_json::json;
use stratus_image::{ImageStore, PullOptions};

fn hex(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

fn layer_dir(store: &Path, digest: &str) -> std::path::PathBuf {
    store.join("layers").join(hex(digest))
}

#[test]
fn unwanted_images_and_their_own_layers_go_shared_ones_stay() {
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let mut base = Tar::new();
    base.dir("bin", 0o755).file("bin/base", 0o755, b"base");
    // A read-only directory: removal must cope with it.
    let mut a = Tar::new();
    a.dir("ro", 0o555).file("ro/a", 0o444, b"a");
    let mut b = Tar::new();
    b.file("b", 0o644, b"b");
    let la = vec![Layer::plain(base.finish()), Layer::gz(a.finish())];
    let lb = vec![Layer::plain(base.finish()), Layer::plain(b.finish())];
    let wa = write_image(&layout, "a", &image_config(json!({}), &la), &la);
    let wb = write_image(&layout, "b", &image_config(json!({}), &lb), &lb);
    assert_eq!(
        wa.layer_digests[0], wb.layer_digests[0],
        "shared base layer"
    );

    let root = tmp.path().join("store");
    let store = ImageStore::open(&root).expect("open");
    let opts = PullOptions::default();
    let ia = store
        .prepare(&format!("oci:{}:a", layout.display()), &opts)
        .expect("a");
    let ib = store
        .prepare(&format!("oci:{}:b", layout.display()), &opts)
        .expect("b");
    let mut both = vec![ia.digest.clone(), ib.digest.clone()];
    both.sort();
    assert_eq!(store.image_digests().expect("list"), both);

    // Keeping both removes nothing.
    let keep: HashSet<String> = both.iter().cloned().collect();
    let r = store.remove_unused(&keep).expect("gc");
    assert!(r.images.is_empty() && r.layers == 0, "{r:?}");

    // Keeping b removes a and the layer only a used, not the shared base.
    let keep: HashSet<String> = [ib.digest.clone()].into_iter().collect();
    let r = store.remove_unused(&keep).expect("gc");
    assert_eq!(r.images, vec![ia.digest.clone()]);
    assert_eq!(r.layers, 1);
    assert!(!ia.rootfs.exists());
    assert!(!layer_dir(&root, &wa.layer_digests[1]).exists());
    assert!(layer_dir(&root, &wa.layer_digests[0]).exists());
    assert_eq!(
        std::fs::read(ib.rootfs.join("bin/base")).expect("b still whole"),
        b"base"
    );
    assert_eq!(
        store.image_digests().expect("list"),
        vec![ib.digest.clone()]
    );

    // a again: unpacked anew, same digest.
    let again = store
        .prepare(&format!("oci:{}:a", layout.display()), &opts)
        .expect("a again");
    assert_eq!(again.digest, ia.digest);
    assert_eq!(std::fs::read(again.rootfs.join("ro/a")).expect("a"), b"a");

    // Keeping nothing empties the store, temp dir included.
    let r = store.remove_unused(&HashSet::new()).expect("gc");
    assert_eq!(r.images.len(), 2);
    assert_eq!(r.layers, 3);
    for sub in ["images", "layers", "tmp"] {
        assert_eq!(
            std::fs::read_dir(root.join(sub)).expect(sub).count(),
            0,
            "{sub} is not empty"
        );
    }
}
