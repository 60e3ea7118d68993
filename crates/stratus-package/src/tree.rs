//! An in-memory model of the tree an archive unpacks to.
//!
//! Every entry is added before anything is written, which lets us refuse
//! clashing entries, entries beneath symlinks, and symlinks that resolve
//! outside the root once all symlinks of the archive are known. Because the
//! destination starts empty and nothing is ever written through a symlink,
//! the model matches what ends up on disk.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::names::has_drive_prefix;
use crate::{shown, PackageError};

/// Mode of files without permission information.
pub(crate) const DEFAULT_FILE_MODE: u32 = 0o644;
/// Mode of directories without permission information.
pub(crate) const DEFAULT_DIR_MODE: u32 = 0o755;
/// Longest symlink target accepted, in bytes.
pub(crate) const MAX_TARGET_BYTES: usize = 4095;
/// Symlinks followed while resolving one path, as Linux does.
const MAX_HOPS: usize = 40;
/// Path components processed while resolving all symlinks of one archive;
/// bounds the work a hostile archive can cause.
const RESOLVE_BUDGET: usize = 4_000_000;

/// One node of the tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A directory, named by an entry (`explicit`) or implied by one.
    Dir {
        mode: u32,
        explicit: bool,
        children: BTreeMap<String, Node>,
    },
    /// A regular file.
    File { mode: u32 },
    /// A symlink with its target.
    Symlink { target: String },
}

/// What kind of entry is being added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink(String),
}

/// The tree an archive unpacks to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    root: BTreeMap<String, Node>,
}

/// Why a path could not be resolved.
enum Unresolved {
    /// A `..` climbed above the root.
    Escapes,
    /// Too many symlinks were followed.
    Loop,
}

impl Tree {
    /// Adds an entry named `name` (used in messages) whose normalised path is
    /// `comps`. `mode` is the permission bits for files and directories.
    pub(crate) fn insert(
        &mut self,
        name: &str,
        comps: &[&str],
        kind: Kind,
        mode: u32,
    ) -> Result<(), PackageError> {
        if let Kind::Symlink(target) = &kind {
            check_target(name, target)?;
        }
        let Some((last, parents)) = comps.split_last() else {
            return match kind {
                Kind::Dir => Ok(()),
                _ => Err(PackageError::Corrupt(format!(
                    "entry {:?} does not name a file",
                    shown(name)
                ))),
            };
        };
        let mut dir = &mut self.root;
        for (depth, comp) in parents.iter().enumerate() {
            let node = dir.entry((*comp).to_string()).or_insert_with(|| Node::Dir {
                mode: DEFAULT_DIR_MODE,
                explicit: false,
                children: BTreeMap::new(),
            });
            dir = match node {
                Node::Dir { children, .. } => children,
                Node::Symlink { .. } => {
                    return Err(PackageError::SymlinkEscapes(format!(
                        "entry {:?} lies beneath symlink {:?}, which is not allowed",
                        shown(name),
                        shown(&parents[..=depth].join("/"))
                    )))
                }
                Node::File { .. } => return Err(PackageError::DuplicateEntry(shown(name))),
            };
        }
        match dir.entry((*last).to_string()) {
            Entry::Vacant(slot) => {
                slot.insert(match kind {
                    Kind::Dir => Node::Dir {
                        mode,
                        explicit: true,
                        children: BTreeMap::new(),
                    },
                    Kind::File => Node::File { mode },
                    Kind::Symlink(target) => Node::Symlink { target },
                });
                Ok(())
            }
            Entry::Occupied(mut slot) => match (slot.get_mut(), kind) {
                (
                    Node::Dir {
                        mode: old_mode,
                        explicit: explicit @ false,
                        ..
                    },
                    Kind::Dir,
                ) => {
                    *old_mode = mode;
                    *explicit = true;
                    Ok(())
                }
                _ => Err(PackageError::DuplicateEntry(shown(name))),
            },
        }
    }

    /// The node at `comps`, without following symlinks.
    pub(crate) fn lookup(&self, comps: &[&str]) -> Option<&Node> {
        let (last, parents) = comps.split_last()?;
        let mut dir = &self.root;
        for comp in parents {
            match dir.get(*comp)? {
                Node::Dir { children, .. } => dir = children,
                _ => return None,
            }
        }
        dir.get(*last)
    }

    /// The mode of the regular file at `comps`, following symlinks.
    pub(crate) fn file_mode(&self, comps: &[&str]) -> Option<u32> {
        let mut budget = RESOLVE_BUDGET;
        match self.resolve(comps.to_vec(), &mut budget) {
            Ok(Some(Node::File { mode })) => Some(*mode),
            _ => None,
        }
    }

    /// Checks that every symlink resolves inside the root, taking all other
    /// symlinks into account.
    pub(crate) fn check_symlinks(&self) -> Result<(), PackageError> {
        let mut links = Vec::new();
        collect_symlinks(&self.root, &mut Vec::new(), &mut links);
        let mut budget = RESOLVE_BUDGET;
        for (parent, name, target) in links {
            let mut path = parent.clone();
            path.extend(target.split('/'));
            let display = || {
                let mut full = parent.clone();
                full.push(name);
                shown(&full.join("/"))
            };
            match self.resolve(path, &mut budget) {
                Ok(_) => {}
                Err(Unresolved::Escapes) => {
                    return Err(PackageError::SymlinkEscapes(format!(
                        "symlink {:?} points outside the archive root (target {:?})",
                        display(),
                        shown(target)
                    )))
                }
                Err(Unresolved::Loop) if budget == 0 => {
                    return Err(PackageError::Corrupt(
                        "the archive's symlinks are too complex to check".into(),
                    ))
                }
                Err(Unresolved::Loop) => {
                    return Err(PackageError::Corrupt(format!(
                        "symlink {:?} is part of a symlink loop",
                        display()
                    )))
                }
            }
        }
        Ok(())
    }

    /// Paths of every file and symlink (not directories), `/`-separated, in name order.
    pub(crate) fn leaves(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_leaves(&self.root, &mut Vec::new(), &mut out);
        out
    }

    /// All directories with their modes, parents before children.
    pub(crate) fn dirs(&self) -> Vec<(Vec<&str>, u32)> {
        let mut out = Vec::new();
        collect_dirs(&self.root, &mut Vec::new(), &mut out);
        out
    }

    /// Resolves `comps` from the root like the kernel would on the unpacked
    /// tree, following symlinks (also in the last component). Returns the
    /// node found, `None` for the root or a missing path.
    fn resolve<'a>(
        &'a self,
        comps: Vec<&'a str>,
        budget: &mut usize,
    ) -> Result<Option<&'a Node>, Unresolved> {
        let mut pending: Vec<&'a str> = comps;
        pending.reverse();
        // One slot per directory level below the root; `None` marks a level
        // that does not exist (or is a file) in the archive.
        let mut stack: Vec<Option<&'a Node>> = Vec::new();
        let mut hops = 0;
        while let Some(comp) = pending.pop() {
            if *budget == 0 {
                return Err(Unresolved::Loop);
            }
            *budget -= 1;
            match comp {
                "" | "." => {}
                ".." => {
                    if stack.pop().is_none() {
                        return Err(Unresolved::Escapes);
                    }
                }
                name => {
                    let children = match stack.last() {
                        None => Some(&self.root),
                        Some(Some(Node::Dir { children, .. })) => Some(children),
                        Some(_) => None,
                    };
                    let node = children.and_then(|c| c.get(name));
                    if let Some(Node::Symlink { target }) = node {
                        hops += 1;
                        if hops > MAX_HOPS {
                            return Err(Unresolved::Loop);
                        }
                        // Targets are relative (checked on insert), so they
                        // continue from the directory holding the link.
                        pending.extend(target.split('/').rev());
                    } else {
                        stack.push(node);
                    }
                }
            }
        }
        Ok(stack.last().copied().flatten())
    }
}

/// Checks a symlink target on its own: it must be relative, non-empty text
/// without NUL bytes or backslashes.
fn check_target(name: &str, target: &str) -> Result<(), PackageError> {
    let problem = if target.is_empty() {
        "has an empty target"
    } else if target.len() > MAX_TARGET_BYTES {
        "has a target longer than 4095 bytes"
    } else if target.contains('\0') {
        "has a nul byte in its target"
    } else if target.contains('\\') {
        "has a backslash in its target"
    } else {
        ""
    };
    if !problem.is_empty() {
        return Err(PackageError::Corrupt(format!(
            "symlink {:?} {problem}",
            shown(name)
        )));
    }
    if target.starts_with('/') || has_drive_prefix(target) {
        return Err(PackageError::SymlinkEscapes(format!(
            "symlink {:?} points to absolute path {:?}",
            shown(name),
            shown(target)
        )));
    }
    Ok(())
}

fn collect_symlinks<'a>(
    dir: &'a BTreeMap<String, Node>,
    path: &mut Vec<&'a str>,
    out: &mut Vec<(Vec<&'a str>, &'a str, &'a str)>,
) {
    for (name, node) in dir {
        match node {
            Node::Symlink { target } => out.push((path.clone(), name.as_str(), target.as_str())),
            Node::Dir { children, .. } => {
                path.push(name);
                collect_symlinks(children, path, out);
                path.pop();
            }
            Node::File { .. } => {}
        }
    }
}

fn collect_leaves<'a>(
    dir: &'a BTreeMap<String, Node>,
    path: &mut Vec<&'a str>,
    out: &mut Vec<String>,
) {
    for (name, node) in dir {
        path.push(name);
        match node {
            Node::Dir { children, .. } => collect_leaves(children, path, out),
            Node::File { .. } | Node::Symlink { .. } => out.push(path.join("/")),
        }
        path.pop();
    }
}

fn collect_dirs<'a>(
    dir: &'a BTreeMap<String, Node>,
    path: &mut Vec<&'a str>,
    out: &mut Vec<(Vec<&'a str>, u32)>,
) {
    for (name, node) in dir {
        if let Node::Dir { mode, children, .. } = node {
            path.push(name);
            out.push((path.clone(), *mode));
            collect_dirs(children, path, out);
            path.pop();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn link(t: &mut Tree, name: &str, target: &str) -> Result<(), PackageError> {
        let comps: Vec<&str> = name.split('/').collect();
        t.insert(name, &comps, Kind::Symlink(target.into()), 0o777)
    }

    fn file(t: &mut Tree, name: &str, mode: u32) -> Result<(), PackageError> {
        let comps: Vec<&str> = name.split('/').collect();
        t.insert(name, &comps, Kind::File, mode)
    }

    #[test]
    fn symlinks_inside_are_fine() {
        let mut t = Tree::default();
        file(&mut t, "bin/tool", 0o755).unwrap();
        link(&mut t, "bootstrap", "bin/tool").unwrap();
        link(&mut t, "a/b/up", "../../bin").unwrap();
        link(&mut t, "self", ".").unwrap();
        t.check_symlinks().unwrap();
        assert_eq!(t.file_mode(&["bootstrap"]), Some(0o755));
        assert_eq!(t.file_mode(&["a", "b", "up", "tool"]), Some(0o755));
    }

    #[test]
    fn chained_escape_is_caught() {
        // Lexically "a/l1/.." is "a", but l1 points at the root, so the
        // second link really points above it.
        let mut t = Tree::default();
        link(&mut t, "l2", "a/l1/..").unwrap();
        link(&mut t, "a/l1", "..").unwrap();
        assert!(matches!(
            t.check_symlinks(),
            Err(PackageError::SymlinkEscapes(_))
        ));
    }

    #[test]
    fn loops_are_refused() {
        let mut t = Tree::default();
        link(&mut t, "a", "b").unwrap();
        link(&mut t, "b", "a").unwrap();
        assert!(matches!(t.check_symlinks(), Err(PackageError::Corrupt(_))));
    }

    #[test]
    fn clashes() {
        let mut t = Tree::default();
        file(&mut t, "a/b", 0o644).unwrap();
        assert!(matches!(
            file(&mut t, "a", 0o644),
            Err(PackageError::DuplicateEntry(_))
        ));
        assert!(matches!(
            file(&mut t, "a/b/c", 0o644),
            Err(PackageError::DuplicateEntry(_))
        ));
        t.insert("a/", &["a"], Kind::Dir, 0o700).unwrap();
        assert!(matches!(
            t.insert("a/", &["a"], Kind::Dir, 0o700),
            Err(PackageError::DuplicateEntry(_))
        ));
        link(&mut t, "l", "a").unwrap();
        assert!(matches!(
            file(&mut t, "l/x", 0o644),
            Err(PackageError::SymlinkEscapes(_))
        ));
    }
}
