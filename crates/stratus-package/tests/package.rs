//! End-to-end tests with real archives and real directories.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::{Cursor, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use stratus_package::{inspect, unpack, zip_dir, zip_files, zip_single, Limits, PackageError};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// One entry of a hand-built archive.
enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

fn build(entries: &[E<'_>]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for e in entries {
        match e {
            E::File(name, content, mode) => {
                let opts = SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Deflated)
                    .unix_permissions(*mode);
                zip.start_file(*name, opts).unwrap();
                zip.write_all(content).unwrap();
            }
            E::Dir(name) => zip
                .add_directory(*name, SimpleFileOptions::default())
                .unwrap(),
            E::Link(name, target) => zip
                .add_symlink(*name, *target, SimpleFileOptions::default())
                .unwrap(),
        }
    }
    zip.finish().unwrap().into_inner()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn is_empty_dir(path: &Path) -> bool {
    fs::read_dir(path).unwrap().next().is_none()
}

/// Positions of every occurrence of `needle` in `haystack`.
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

const LOCAL: &[u8] = b"PK\x03\x04";
const CENTRAL: &[u8] = b"PK\x01\x02";

/// Rewrites the uncompressed size of every entry, in local and central
/// headers.
fn lie_about_size(bytes: &mut [u8], size: u32) {
    for pos in find_all(bytes, LOCAL) {
        bytes[pos + 22..pos + 26].copy_from_slice(&size.to_le_bytes());
    }
    for pos in find_all(bytes, CENTRAL) {
        bytes[pos + 24..pos + 28].copy_from_slice(&size.to_le_bytes());
    }
}

/// Checks that unpacking fails, leaves `dest` absent, and writes nothing next
/// to it.
fn unpack_fails(bytes: &[u8], limits: &Limits) -> PackageError {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let err = unpack(bytes, &dest, limits).unwrap_err();
    assert!(!dest.exists(), "failed unpack left {dest:?} behind");
    let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "failed unpack wrote outside: {left:?}");
    err
}

#[test]
fn round_trip_keeps_modes_and_symlinks() {
    let src = tempfile::tempdir().unwrap();
    let s = src.path();
    fs::write(s.join("bootstrap"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(s.join("bootstrap"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir_all(s.join("lib/data")).unwrap();
    fs::write(s.join("lib/util.py"), b"def f():\n    return 1\n").unwrap();
    fs::set_permissions(s.join("lib/util.py"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(s.join("readonly.txt"), b"ro").unwrap();
    fs::set_permissions(s.join("readonly.txt"), fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(s.join("lib/data"), fs::Permissions::from_mode(0o750)).unwrap();
    symlink("bootstrap", s.join("run")).unwrap();
    symlink("../bootstrap", s.join("lib/up")).unwrap();

    let bytes = zip_dir(s).unwrap();
    assert_eq!(bytes, zip_dir(s).unwrap(), "zip_dir is not deterministic");

    let manifest = inspect(&bytes, &Limits::default()).unwrap();
    assert_eq!(manifest.entries, 7);
    assert!(manifest.contains("bootstrap"));
    assert!(manifest.contains("./lib/data/"));
    assert!(manifest.contains("run"));
    assert!(!manifest.contains("missing"));
    assert_eq!(
        manifest.files(),
        ["bootstrap", "lib/up", "lib/util.py", "readonly.txt", "run"]
    );
    assert!(manifest.is_executable("bootstrap"));
    assert!(manifest.is_executable("run"), "symlink to an executable");
    assert!(manifest.is_executable("lib/up"));
    assert!(!manifest.is_executable("lib/util.py"));
    assert!(!manifest.is_executable("lib"));

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("a/b/code");
    let unpacked = unpack(&bytes, &dest, &Limits::default()).unwrap();
    assert_eq!(unpacked.unpacked_bytes, manifest.unpacked_bytes);
    assert_eq!(
        fs::read(dest.join("bootstrap")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    assert_eq!(mode(&dest.join("bootstrap")), 0o755);
    assert_eq!(mode(&dest.join("lib/util.py")), 0o644);
    assert_eq!(mode(&dest.join("readonly.txt")), 0o444);
    assert_eq!(mode(&dest.join("lib/data")), 0o750);
    assert_eq!(mode(&dest.join("lib")), 0o755);
    assert_eq!(
        fs::read_link(dest.join("run")).unwrap(),
        Path::new("bootstrap")
    );
    assert_eq!(
        fs::read_link(dest.join("lib/up")).unwrap(),
        Path::new("../bootstrap")
    );
    assert_eq!(
        fs::read(dest.join("lib/up")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
}

#[test]
fn zip_single_and_files() {
    let bytes = zip_single("bootstrap", b"#!/bin/sh\n", 0o755).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let m = unpack(&bytes, tmp.path(), &Limits::default()).unwrap();
    assert_eq!(m.entries, 1);
    assert!(m.is_executable("bootstrap"));
    assert_eq!(mode(&tmp.path().join("bootstrap")), 0o755);
    assert_eq!(
        bytes,
        zip_single("bootstrap", b"#!/bin/sh\n", 0o755).unwrap()
    );

    let bytes = zip_single("./src/index.py", b"x = 1\n", 0o644).unwrap();
    let m = inspect(&bytes, &Limits::default()).unwrap();
    assert!(m.contains("src/index.py"));
    assert!(!m.is_executable("src/index.py"));

    for bad in ["../x", "/x", "", "a/../../b"] {
        let err = zip_single(bad, b"", 0o644).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
    }

    let bytes = zip_files(&[
        ("f.zip".to_string(), vec![1u8, 2, 3], 0o644),
        ("function.json".to_string(), b"{}".to_vec(), 0o644),
    ])
    .unwrap();
    let m = inspect(&bytes, &Limits::default()).unwrap();
    assert_eq!((m.entries, m.unpacked_bytes), (2, 5));
    assert!(zip_files(&[("a", b"1", 0o644), ("./a", b"2", 0o644)]).is_err());
}

#[test]
fn zip_dir_refuses_escaping_symlinks() {
    let src = tempfile::tempdir().unwrap();
    symlink("/etc/passwd", src.path().join("passwd")).unwrap();
    assert_eq!(
        zip_dir(src.path()).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    let src = tempfile::tempdir().unwrap();
    symlink("../outside", src.path().join("up")).unwrap();
    assert_eq!(
        zip_dir(src.path()).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}

#[test]
fn missing_modes_get_defaults() {
    let mut bytes = build(&[E::Dir("d/"), E::File("d/run.sh", b"echo", 0o755)]);
    // Pretend the archive was made on MS-DOS: no unix modes.
    for pos in find_all(&bytes, CENTRAL) {
        bytes[pos + 5] = 0;
    }
    let tmp = tempfile::tempdir().unwrap();
    let m = unpack(&bytes, tmp.path(), &Limits::default()).unwrap();
    assert!(!m.is_executable("d/run.sh"));
    assert_eq!(mode(&tmp.path().join("d/run.sh")), 0o644);
    assert_eq!(mode(&tmp.path().join("d")), 0o755);
}

/// A predicate on the expected error.
type Check = fn(&PackageError) -> bool;

#[test]
fn refuses_path_traversal() {
    let cases: &[(&str, Check)] = &[
        (
            "../evil",
            |e| matches!(e, PackageError::PathEscapesRoot(n) if n == "../evil"),
        ),
        ("a/../../b", |e| {
            matches!(e, PackageError::PathEscapesRoot(_))
        }),
        ("..\\evil", |e| {
            matches!(e, PackageError::PathEscapesRoot(_))
        }),
        ("ok/../x", |e| matches!(e, PackageError::PathEscapesRoot(_))),
        (
            "/abs",
            |e| matches!(e, PackageError::AbsolutePath(n) if n == "/abs"),
        ),
        ("/tmp/evil", |e| matches!(e, PackageError::AbsolutePath(_))),
        ("C:\\evil", |e| matches!(e, PackageError::AbsolutePath(_))),
        ("\\evil", |e| matches!(e, PackageError::AbsolutePath(_))),
        ("a\0b", |e| matches!(e, PackageError::Corrupt(_))),
    ];
    for (name, check) in cases {
        let bytes = build(&[
            E::File("fine.txt", b"fine", 0o644),
            E::File(name, b"evil", 0o644),
        ]);
        let err = inspect(&bytes, &Limits::default()).unwrap_err();
        assert!(check(&err), "{name:?}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.chars().next().unwrap().is_lowercase() && !msg.ends_with('.'),
            "{msg}"
        );
        let err = unpack_fails(&bytes, &Limits::default());
        assert!(check(&err), "{name:?}: {err:?}");
    }
    let err = inspect(
        &build(&[E::File("../evil", b"x", 0o644)]),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "entry \"../evil\" has a '..' path component"
    );
}

#[test]
fn refuses_escaping_symlinks() {
    // Absolute target.
    let bytes = build(&[E::Link("passwd", "/etc/passwd")]);
    let err = inspect(&bytes, &Limits::default()).unwrap_err();
    assert!(matches!(err, PackageError::SymlinkEscapes(_)), "{err:?}");
    assert!(err.to_string().contains("passwd"), "{err}");
    unpack_fails(&bytes, &Limits::default());

    // Climbing above the root.
    for target in ["..", "../x", "a/../../x", "sub/../../etc"] {
        let bytes = build(&[E::Link("link", target)]);
        let err = unpack_fails(&bytes, &Limits::default());
        assert!(
            matches!(err, PackageError::SymlinkEscapes(_)),
            "{target}: {err:?}"
        );
    }

    // `link -> ..` then `link/x`: refused at the link.
    let bytes = build(&[E::Link("link", ".."), E::File("link/x", b"evil", 0o644)]);
    let err = unpack_fails(&bytes, &Limits::default());
    assert!(matches!(err, PackageError::SymlinkEscapes(_)), "{err:?}");

    // A harmless-looking link still may not be written through.
    for target in ["..", "."] {
        let bytes = build(&[
            E::Dir("d/"),
            E::Link("d/link", target),
            E::File("d/link/x", b"evil", 0o644),
        ]);
        let err = unpack_fails(&bytes, &Limits::default());
        assert!(
            matches!(&err, PackageError::SymlinkEscapes(m) if m.contains("d/link/x")),
            "{err:?}"
        );
    }

    // Escaping through a chain of links, in either order.
    let bytes = build(&[E::Link("l2", "a/l1/.."), E::Link("a/l1", "..")]);
    assert!(matches!(
        unpack_fails(&bytes, &Limits::default()),
        PackageError::SymlinkEscapes(_)
    ));

    // Links that stay inside are fine.
    let bytes = build(&[
        E::File("bin/app", b"app", 0o755),
        E::Link("bootstrap", "bin/app"),
        E::Link("bin/self", "../bin"),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let m = unpack(&bytes, tmp.path(), &Limits::default()).unwrap();
    assert!(m.is_executable("bootstrap"));
    assert!(fs::symlink_metadata(tmp.path().join("bootstrap"))
        .unwrap()
        .file_type()
        .is_symlink());
}

fn zeros_zip(len: usize) -> Vec<u8> {
    let zeros = vec![0u8; len];
    build(&[E::File("zeros.bin", &zeros, 0o644)])
}

#[test]
fn stops_zip_bombs() {
    let limits = Limits {
        max_unpacked_bytes: 1 << 20,
        max_ratio: u64::MAX,
        ..Limits::default()
    };
    let bytes = zeros_zip(10 << 20);
    assert!(bytes.len() < 20_000, "bomb is {} bytes", bytes.len());
    let err = inspect(&bytes, &limits).unwrap_err();
    assert!(
        matches!(err, PackageError::TooLarge { limit } if limit == 1 << 20),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "archive expands to more than 1048576 bytes"
    );
    unpack_fails(&bytes, &limits);

    // Many small entries that together pass the limit.
    let chunk = vec![0u8; 300_000];
    let bytes = build(&[
        E::File("a", &chunk, 0o644),
        E::File("b", &chunk, 0o644),
        E::File("c", &chunk, 0o644),
        E::File("d", &chunk, 0o644),
    ]);
    assert!(matches!(
        inspect(&bytes, &limits),
        Err(PackageError::TooLarge { .. })
    ));
    unpack_fails(&bytes, &limits);
}

#[test]
fn refuses_suspicious_ratio() {
    let bytes = zeros_zip(10 << 20);
    let err = inspect(&bytes, &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, PackageError::SuspiciousRatio(m) if m.contains("zeros.bin")),
        "{err:?}"
    );
    let lenient = Limits {
        max_ratio: u64::MAX,
        ..Limits::default()
    };
    assert_eq!(inspect(&bytes, &lenient).unwrap().unpacked_bytes, 10 << 20);
    // Ordinary text is nowhere near the cap.
    let text = "the quick brown fox jumps over the lazy dog\n".repeat(10_000);
    inspect(
        &build(&[E::File("t.txt", text.as_bytes(), 0o644)]),
        &Limits::default(),
    )
    .unwrap();
}

#[test]
fn does_not_trust_header_sizes() {
    let limits = Limits {
        max_unpacked_bytes: 1 << 20,
        max_ratio: u64::MAX,
        ..Limits::default()
    };
    // 10 MB of zeros whose headers claim 1000 bytes, and 900 kB.
    for claimed in [1000u32, 900_000] {
        let mut bytes = zeros_zip(10 << 20);
        lie_about_size(&mut bytes, claimed);
        let err = inspect(&bytes, &limits).unwrap_err();
        assert!(
            matches!(&err, PackageError::Corrupt(m) if m.contains("more data than")),
            "{err:?}"
        );
        let err = unpack_fails(&bytes, &limits);
        assert!(matches!(err, PackageError::Corrupt(_)), "{err:?}");
    }
    // Claiming more than there is is caught too.
    let mut bytes = build(&[E::File("small", b"hello", 0o644)]);
    lie_about_size(&mut bytes, 6);
    assert!(matches!(
        inspect(&bytes, &limits),
        Err(PackageError::Corrupt(_))
    ));
}

#[test]
fn refuses_too_many_entries() {
    let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"x", 0o644)).collect();
    let bytes = build(&entries);
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let err = inspect(&bytes, &limits).unwrap_err();
    assert!(
        matches!(err, PackageError::TooManyEntries { limit: 10 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "archive has more than 10 entries");
    unpack_fails(&bytes, &limits);
    assert_eq!(inspect(&bytes, &Limits::default()).unwrap().entries, 50);
}

#[test]
fn refuses_non_zips_and_truncated_zips() {
    let err = inspect(b"this is certainly not a zip archive", &Limits::default()).unwrap_err();
    assert!(matches!(err, PackageError::NotAZip(_)), "{err:?}");
    assert!(err.to_string().starts_with("not a zip archive: "), "{err}");
    assert!(matches!(
        inspect(b"", &Limits::default()),
        Err(PackageError::NotAZip(_))
    ));
    unpack_fails(b"nope", &Limits::default());

    let content = "some text that is long enough to matter\n".repeat(100);
    let bytes = build(&[
        E::File("a.txt", content.as_bytes(), 0o644),
        E::File("b.txt", b"b", 0o644),
    ]);
    for cut in [bytes.len() / 2, bytes.len() - 1, 30] {
        let err = inspect(&bytes[..cut], &Limits::default()).unwrap_err();
        assert!(
            matches!(err, PackageError::Corrupt(_)),
            "cut at {cut}: {err:?}"
        );
    }
    // Damaged compressed data with an intact directory.
    let mut damaged = bytes.clone();
    for b in &mut damaged[40..60] {
        *b ^= 0x55;
    }
    assert!(matches!(
        inspect(&damaged, &Limits::default()),
        Err(PackageError::Corrupt(_))
    ));
    unpack_fails(&damaged, &Limits::default());
}

#[test]
fn refuses_duplicates_and_clashes() {
    let mut bytes = build(&[
        E::File("a.txt", b"one", 0o644),
        E::File("b.txt", b"two", 0o644),
    ]);
    for pos in find_all(&bytes, b"b.txt") {
        bytes[pos] = b'a';
    }
    let err = inspect(&bytes, &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, PackageError::DuplicateEntry(n) if n == "a.txt"),
        "{err:?}"
    );
    unpack_fails(&bytes, &Limits::default());

    for entries in [
        vec![E::File("x/y", b"1", 0o644), E::File("x\\y", b"2", 0o644)],
        vec![E::File("x/y", b"1", 0o644), E::File("./x//y", b"2", 0o644)],
        vec![E::File("x", b"1", 0o644), E::File("x/y", b"2", 0o644)],
        vec![E::File("x/y", b"1", 0o644), E::File("x", b"2", 0o644)],
        vec![E::File("x/y", b"1", 0o644), E::Link("x", "y")],
    ] {
        let bytes = build(&entries);
        let err = unpack_fails(&bytes, &Limits::default());
        assert!(matches!(err, PackageError::DuplicateEntry(_)), "{err:?}");
    }
    // A directory entry after files inside it is fine.
    inspect(
        &build(&[E::File("x/y", b"1", 0o644), E::Dir("x/")]),
        &Limits::default(),
    )
    .unwrap();
}

#[test]
fn refuses_encrypted_entries() {
    let mut bytes = build(&[E::File("secret.txt", b"secret", 0o644)]);
    for pos in find_all(&bytes, LOCAL) {
        bytes[pos + 6] |= 1;
    }
    for pos in find_all(&bytes, CENTRAL) {
        bytes[pos + 8] |= 1;
    }
    let err = inspect(&bytes, &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, PackageError::Corrupt(m) if m.contains("encrypted")),
        "{err:?}"
    );
}

#[test]
fn empty_archive_is_allowed() {
    let bytes = build(&[]);
    let m = inspect(&bytes, &Limits::default()).unwrap();
    assert_eq!((m.entries, m.unpacked_bytes), (0, 0));
    let tmp = tempfile::tempdir().unwrap();
    unpack(&bytes, &tmp.path().join("new"), &Limits::default()).unwrap();
    assert!(is_empty_dir(&tmp.path().join("new")));
}

#[test]
fn destination_must_be_empty_and_is_cleaned_on_error() {
    let good = build(&[E::File("a", b"a", 0o644)]);
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("keep"), b"mine").unwrap();
    let err = unpack(&good, tmp.path(), &Limits::default()).unwrap_err();
    assert!(matches!(err, PackageError::Io(_)), "{err:?}");
    assert_eq!(fs::read(tmp.path().join("keep")).unwrap(), b"mine");

    // An existing empty destination stays, emptied, after a failure that
    // happens while writing (the checksum of the second file is wrong).
    let mut bad = build(&[
        E::Dir("d/"),
        E::File("d/a", b"aaaa", 0o644),
        E::File("d/b", b"bbbb", 0o644),
    ]);
    for pos in find_all(&bad, CENTRAL).into_iter().skip(2) {
        bad[pos + 16] ^= 0xff; // crc-32 in the central directory
    }
    let empty = tempfile::tempdir().unwrap();
    let err = unpack(&bad, empty.path(), &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, PackageError::Corrupt(m) if m.contains("d/b")),
        "{err:?}"
    );
    assert!(empty.path().exists() && is_empty_dir(empty.path()));
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn hostile_bytes_never_panic() {
    let text = "hello world\n".repeat(50);
    let seeds = [
        build(&[
            E::Dir("dir/"),
            E::File("dir/a.txt", text.as_bytes(), 0o644),
            E::File("bootstrap", b"#!/bin/sh\n", 0o755),
            E::Link("link", "dir/a.txt"),
        ]),
        zeros_zip(100_000),
        build(&[]),
    ];
    let limits = Limits {
        max_unpacked_bytes: 10 << 20,
        max_entries: 1000,
        ..Limits::default()
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let scratch = tempfile::tempdir().unwrap();
    for round in 0..6000 {
        let seed = &seeds[rng.below(seeds.len())];
        let mut bytes = seed.clone();
        match rng.below(5) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
            }
            1 => bytes.truncate(rng.below(bytes.len())),
            2 => {
                let i = rng.below(bytes.len());
                let junk: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                bytes.splice(i..i, junk);
            }
            3 => {
                // Damage a 4-byte field of a header (sizes, offsets, counts).
                let i = rng.below(bytes.len().saturating_sub(4));
                let v = match rng.below(4) {
                    0 => 0u32,
                    1 => u32::MAX,
                    2 => rng.next() as u32,
                    _ => u32::from(rng.next() as u16),
                };
                bytes[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            _ => bytes = (0..rng.below(512)).map(|_| rng.next() as u8).collect(),
        }
        let inspected = inspect(&bytes, &limits);
        if round % 20 == 0 {
            let dest = scratch.path().join(format!("r{round}"));
            let unpacked = unpack(&bytes, &dest, &limits);
            assert_eq!(
                inspected.is_ok(),
                unpacked.is_ok(),
                "round {round}: {inspected:?} vs {unpacked:?}"
            );
            if unpacked.is_err() {
                assert!(!dest.exists(), "round {round}: {dest:?} left behind");
            }
        }
    }
}
