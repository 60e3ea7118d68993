//! API paths with parameters (`/users/{id}`, greedy `/files/{rest+}`) and the routing
//! table of the gateway: which published API answers a group, stage, method and path.

use super::Api;
use std::collections::HashMap;
use std::sync::Arc;

/// Longest API path.
const PATH_MAX: usize = 1024;
/// Longest parameter name.
const PARAM_MAX: usize = 32;

/// One segment of an API path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Matches itself.
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Param(String),
    /// `{name+}` (last only): one or more segments, joined with `/`.
    Greedy(String),
}

/// A parsed API path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    /// The segments after the leading `/`.
    pub segments: Vec<Segment>,
}

fn literal_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.~+".contains(c)
}

fn param_name_ok(n: &str) -> bool {
    (1..=PARAM_MAX).contains(&n.len())
        && n.starts_with(|c: char| c.is_ascii_alphabetic())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl PathPattern {
    /// Parses an API path; the error says what to change.
    pub fn parse(path: &str) -> Result<PathPattern, String> {
        if path.len() > PATH_MAX {
            return Err(format!("is longer than {PATH_MAX} characters"));
        }
        let Some(rest) = path.strip_prefix('/') else {
            return Err(format!("{path:?} must start with '/'"));
        };
        if rest.is_empty() {
            return Ok(PathPattern { segments: vec![] });
        }
        if rest.ends_with('/') {
            return Err(format!("{path:?} must not end with '/'"));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        let mut names: Vec<&str> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() {
                return Err(format!("{path:?} has an empty segment ('//')"));
            }
            if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let (name, greedy) = match inner.strip_suffix('+') {
                    Some(n) => (n, true),
                    None => (inner, false),
                };
                if !param_name_ok(name) {
                    return Err(format!(
                        "parameter {part:?}: a name is 1 to {PARAM_MAX} letters, digits, '-' or '_', starting with a letter"
                    ));
                }
                if names.contains(&name) {
                    return Err(format!("parameter {{{name}}} appears twice"));
                }
                names.push(name);
                if greedy {
                    if i + 1 != parts.len() {
                        return Err(format!(
                            "{part:?}: a greedy parameter ({{name+}}) must be the last segment"
                        ));
                    }
                    segments.push(Segment::Greedy(name.to_string()));
                } else {
                    segments.push(Segment::Param(name.to_string()));
                }
                continue;
            }
            if part.contains(['{', '}']) {
                return Err(format!(
                    "segment {part:?}: a parameter must be a whole segment, like /items/{{id}}"
                ));
            }
            if *part == "." || *part == ".." || !part.chars().all(literal_ok) {
                return Err(format!(
                    "segment {part:?}: use letters, digits, '-', '_', '.', '~', '+' or a {{parameter}}"
                ));
            }
            segments.push(Segment::Literal(part.to_string()));
        }
        Ok(PathPattern { segments })
    }

    /// The path with parameter names erased: two APIs of a group with the same method
    /// and shape answer the same requests, so they conflict.
    pub fn shape(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            match s {
                Segment::Literal(l) => out.push_str(l),
                Segment::Param(_) => out.push_str("{}"),
                Segment::Greedy(_) => out.push_str("{+}"),
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// Matches the decoded segments of a request path; returns the path parameters.
    /// With `prefix` (match mode SWA) the request may go on below the API's path.
    pub fn matches(&self, segs: &[String], prefix: bool) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if segs.get(i) != Some(l) {
                        return None;
                    }
                }
                Segment::Param(n) => match segs.get(i) {
                    Some(v) if !v.is_empty() => params.push((n.clone(), v.clone())),
                    _ => return None,
                },
                Segment::Greedy(n) => {
                    let rest = segs.get(i..).unwrap_or_default();
                    if rest.is_empty() || rest.iter().all(String::is_empty) {
                        return None;
                    }
                    params.push((n.clone(), rest.join("/")));
                    return Some(params);
                }
            }
        }
        (segs.len() == self.segments.len() || prefix).then_some(params)
    }

    fn literals(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    fn greedy(&self) -> bool {
        matches!(self.segments.last(), Some(Segment::Greedy(_)))
    }
}

/// The decoded segments of a raw request path (`/a/b%20c/` → `["a", "b c"]`; one
/// trailing `/` is ignored).
pub fn request_segments(raw: &str) -> Vec<String> {
    let rest = raw.strip_prefix('/').unwrap_or(raw);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Vec::new();
    }
    rest.split('/').map(percent_decode).collect()
}

/// Percent-decoding (invalid escapes stay as they are; bytes that are not UTF-8 are
/// replaced).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request the table answered.
#[derive(Debug, Clone)]
pub struct RouteMatch {
    /// The API.
    pub api: Arc<Api>,
    /// Path parameters by name.
    pub params: Vec<(String, String)>,
}

/// Published APIs by group id.
#[derive(Default)]
pub(crate) struct Table {
    groups: HashMap<String, Vec<Arc<Api>>>,
}

impl Table {
    /// The API `api` would collide with, if any: the same group, method and path
    /// shape, or a group owned by another project.
    pub(crate) fn conflict(&self, api: &Api) -> Option<String> {
        let list = self.groups.get(&api.group_id)?;
        if list.iter().any(|a| a.project_id != api.project_id) {
            return Some(format!(
                "API group {:?} belongs to another project; choose another group_id",
                api.group_id
            ));
        }
        let shape = api.pattern.shape();
        list.iter()
            .find(|a| a.method == api.method && a.pattern.shape() == shape)
            .map(|a| {
                format!(
                    "API {:?} of group {:?} already serves {} {}; two APIs of a group cannot share a method and path",
                    a.name, api.group_id, api.method, a.path
                )
            })
    }

    pub(crate) fn insert(&mut self, api: Arc<Api>) {
        self.groups
            .entry(api.group_id.clone())
            .or_default()
            .push(api);
    }

    /// Removes the APIs for which `gone` is true.
    pub(crate) fn remove(&mut self, gone: impl Fn(&Api) -> bool) {
        for list in self.groups.values_mut() {
            list.retain(|a| !gone(a));
        }
        self.groups.retain(|_, l| !l.is_empty());
    }

    /// The best API of `group` for a request: a specific method before `ANY`, an exact
    /// match before a greedy or prefix one, more literal segments before fewer.
    pub(crate) fn find(
        &self,
        group: &str,
        stage: &str,
        method: &str,
        path: &str,
    ) -> Option<RouteMatch> {
        let list = self.groups.get(group)?;
        let segs = request_segments(path);
        let mut best: Option<((bool, bool, usize, usize), RouteMatch)> = None;
        for api in list {
            if !api.active || !api.env.eq_ignore_ascii_case(stage) {
                continue;
            }
            let specific = api.method == method;
            if !specific && api.method != "ANY" {
                continue;
            }
            let Some(params) = api.pattern.matches(&segs, api.prefix) else {
                continue;
            };
            let below = api.prefix && segs.len() > api.pattern.segments.len();
            let exact = !(api.pattern.greedy() || below);
            let rank = (
                specific,
                exact,
                api.pattern.literals(),
                api.pattern.segments.len(),
            );
            if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                best = Some((
                    rank,
                    RouteMatch {
                        api: api.clone(),
                        params,
                    },
                ));
            }
        }
        best.map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathPattern {
        PathPattern::parse(s).unwrap()
    }

    fn segs(s: &str) -> Vec<String> {
        request_segments(s)
    }

    #[test]
    fn paths_parse_with_parameters() {
        assert_eq!(p("/").segments, vec![]);
        assert_eq!(
            p("/users/{id}/orders").segments,
            vec![
                Segment::Literal("users".into()),
                Segment::Param("id".into()),
                Segment::Literal("orders".into())
            ]
        );
        assert_eq!(
            p("/files/{rest+}").segments.last(),
            Some(&Segment::Greedy("rest".into()))
        );
        assert_eq!(p("/users/{id}").shape(), p("/users/{name}").shape());
        assert_ne!(p("/users/{id}").shape(), p("/users/id").shape());
    }

    #[test]
    fn bad_paths_say_why() {
        for (path, needle) in [
            ("users", "start with '/'"),
            ("/users/", "end with '/'"),
            ("/a//b", "empty segment"),
            ("/a/{id", "whole segment"),
            ("/a/x{id}", "whole segment"),
            ("/a/{}", "parameter"),
            ("/a/{1x}", "parameter"),
            ("/a/{id}/{id}", "twice"),
            ("/a/{rest+}/b", "last segment"),
            ("/a/b c", "letters, digits"),
            ("/a/..", "letters, digits"),
        ] {
            let e = PathPattern::parse(path).unwrap_err();
            assert!(e.contains(needle), "{path}: {e}");
        }
        assert!(PathPattern::parse(&format!("/{}", "a".repeat(1100)))
            .unwrap_err()
            .contains("longer"));
    }

    #[test]
    fn matching_binds_parameters() {
        let pat = p("/users/{id}/orders/{order}");
        assert_eq!(
            pat.matches(&segs("/users/42/orders/a%20b"), false),
            Some(vec![
                ("id".into(), "42".into()),
                ("order".into(), "a b".into())
            ])
        );
        assert_eq!(pat.matches(&segs("/users/42/orders"), false), None);
        assert_eq!(pat.matches(&segs("/users/42/orders/1/x"), false), None);
        assert_eq!(pat.matches(&segs("/users//orders/1"), false), None);
        // A trailing slash is the same path.
        assert!(p("/hello").matches(&segs("/hello/"), false).is_some());
        assert!(p("/").matches(&segs("/"), false).is_some());
        assert!(p("/").matches(&segs("/x"), false).is_none());
        // Greedy and prefix (SWA) matches.
        assert_eq!(
            p("/files/{rest+}").matches(&segs("/files/a/b/c.txt"), false),
            Some(vec![("rest".into(), "a/b/c.txt".into())])
        );
        assert_eq!(p("/files/{rest+}").matches(&segs("/files"), false), None);
        assert_eq!(
            p("/static").matches(&segs("/static/css/x.css"), true),
            Some(vec![])
        );
        assert_eq!(
            p("/static").matches(&segs("/static/css/x.css"), false),
            None
        );
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("%E4%BD%A0"), "你");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
