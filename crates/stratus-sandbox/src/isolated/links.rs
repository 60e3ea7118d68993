//! The symbolic links an instance gets (the guide's runtime paths), made once on the
//! host as a directory tree that every instance bind-mounts read-only.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The deepest directory (at least two levels below `/`) holding every link, or None.
fn common_dir(links: &[(String, String)]) -> Option<String> {
    let mut prefix: Option<Vec<&str>> = None;
    for (inside, _) in links {
        let parts: Vec<&str> = inside.split('/').filter(|p| !p.is_empty()).collect();
        let dir = &parts[..parts.len().saturating_sub(1)];
        prefix = Some(match prefix {
            None => dir.to_vec(),
            Some(p) => p
                .iter()
                .zip(dir)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    let prefix = prefix?;
    (prefix.len() >= 2).then(|| format!("/{}", prefix.join("/")))
}

fn safe(inside: &str) -> bool {
    inside.starts_with('/')
        && inside
            .split('/')
            .skip(1)
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// Makes (once per distinct set) the tree for `links` under `base` and returns (host
/// directory, path inside) to bind; None when the links share no directory deep enough
/// to be covered by one mount.
pub fn tree(base: &Path, links: &[(String, String)]) -> std::io::Result<Option<(PathBuf, String)>> {
    if !links.iter().all(|(inside, _)| safe(inside)) {
        return Ok(None);
    }
    let Some(inside) = common_dir(links) else {
        return Ok(None);
    };
    // Only names a cache entry: a different hash in another build makes another tree.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    links.hash(&mut h);
    let name = format!("{:016x}", h.finish());
    let done = base.join(&name);
    let host = done.join(inside.trim_start_matches('/'));
    if host.is_dir() {
        return Ok(Some((host, inside)));
    }
    // One scratch tree per call: concurrent first starts of this set each build their
    // own, and the first rename wins (a shared scratch name let one start delete the
    // links another was about to publish).
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = base.join(format!(".tmp-{name}-{}-{seq}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (at, target) in links {
        let p = tmp.join(at.trim_start_matches('/'));
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::os::unix::fs::symlink(target, &p)?;
    }
    std::fs::create_dir_all(tmp.join(inside.trim_start_matches('/')))?;
    if std::fs::rename(&tmp, &done).is_err() {
        // Another start made the same tree first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(host.is_dir().then_some((host, inside)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn common_directory_of_the_links() {
        let links = [
            l(
                "/opt/function/runtime/python3.9/rtsp/python/bin/python3",
                "/usr/bin/python3",
            ),
            l(
                "/opt/function/runtime/nodejs18.15/rtsp/nodejs/bin/node",
                "/usr/bin/node",
            ),
        ];
        assert_eq!(common_dir(&links).as_deref(), Some("/opt/function/runtime"));
        assert_eq!(common_dir(&[l("/a/b", "x"), l("/c/d", "y")]), None);
        assert_eq!(common_dir(&[l("/opt/x", "y")]), None);
    }

    #[test]
    fn the_tree_holds_every_link_and_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let links = [
            l(
                "/opt/function/runtime/python3.9/rtsp/python/bin/python3",
                "/usr/bin/python3",
            ),
            l(
                "/opt/function/runtime/java8/rtsp/jre/bin/java",
                "/usr/bin/java",
            ),
        ];
        let (host, inside) = tree(dir.path(), &links).unwrap().unwrap();
        assert_eq!(inside, "/opt/function/runtime");
        assert_eq!(
            std::fs::read_link(host.join("python3.9/rtsp/python/bin/python3")).unwrap(),
            Path::new("/usr/bin/python3")
        );
        assert_eq!(
            std::fs::read_link(host.join("java8/rtsp/jre/bin/java")).unwrap(),
            Path::new("/usr/bin/java")
        );
        let again = tree(dir.path(), &links).unwrap().unwrap();
        assert_eq!(again.0, host);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // Paths that could leave the tree are not made on the host.
        assert!(tree(dir.path(), &[l("/opt/function/../../x", "y")])
            .unwrap()
            .is_none());
    }

    #[test]
    fn concurrent_first_starts_all_get_the_whole_tree() {
        let dir = tempfile::tempdir().unwrap();
        let links: Vec<(String, String)> = (0..40)
            .map(|i| {
                l(
                    &format!("/opt/function/runtime/r{i}/bin/x"),
                    "/usr/bin/true",
                )
            })
            .collect();
        let got: Vec<PathBuf> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| tree(dir.path(), &links).unwrap().unwrap().0))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for host in &got {
            for i in 0..40 {
                assert!(
                    std::fs::symlink_metadata(host.join(format!("r{i}/bin/x"))).is_ok(),
                    "link r{i} missing"
                );
            }
        }
        // Only the published tree is left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
