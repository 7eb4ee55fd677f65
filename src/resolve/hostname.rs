//! Hostname matching as Gateway API defines it: a wildcard `*.example.com` matches one or
//! more labels in front of `example.com`; route hostnames narrow to the listener's.

/// Does `host` (exact or wildcard) fall within the wildcard or exact `pattern`?
pub fn covered_by(host: &str, pattern: &str) -> bool {
    match pattern.strip_prefix('*') {
        // `*.example.com` covers `a.example.com`, `a.b.example.com` and `*.b.example.com`,
        // not `example.com` itself.
        Some(suffix) => {
            let h = host.strip_prefix('*').unwrap_or(host);
            if host.starts_with('*') {
                h.len() >= suffix.len() && h.ends_with(suffix)
            } else {
                host.len() > suffix.len() && host.ends_with(suffix)
            }
        }
        None => host == pattern,
    }
}

/// The hostnames a route serves on a listener: the intersection of both, the more specific
/// name winning. `None` means they do not intersect. An empty list from either side means any.
pub fn intersect(listener: Option<&str>, route: &[String]) -> Option<Vec<String>> {
    let listener = listener.filter(|h| !h.is_empty());
    match (listener, route.is_empty()) {
        (None, true) => Some(vec!["*".to_string()]),
        (None, false) => Some(route.to_vec()),
        (Some(l), true) => Some(vec![l.to_string()]),
        (Some(l), false) => {
            let mut out: Vec<String> = Vec::new();
            for r in route {
                let h = if covered_by(r, l) {
                    Some(r.clone())
                } else if covered_by(l, r) {
                    Some(l.to_string())
                } else {
                    None
                };
                if let Some(h) = h
                    && !out.contains(&h)
                {
                    out.push(h);
                }
            }
            if out.is_empty() { None } else { Some(out) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::intersect;
    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }
    #[test]
    fn intersections() {
        assert_eq!(intersect(None, &[]), Some(v(&["*"])));
        assert_eq!(intersect(Some("a.com"), &[]), Some(v(&["a.com"])));
        assert_eq!(intersect(None, &v(&["a.com"])), Some(v(&["a.com"])));
        assert_eq!(intersect(Some("*.ex.com"), &v(&["a.ex.com", "b.c.ex.com", "ex.com", "other.com"])), Some(v(&["a.ex.com", "b.c.ex.com"])));
        assert_eq!(intersect(Some("a.ex.com"), &v(&["*.ex.com"])), Some(v(&["a.ex.com"])));
        assert_eq!(intersect(Some("*.ex.com"), &v(&["*.a.ex.com"])), Some(v(&["*.a.ex.com"])));
        assert_eq!(intersect(Some("*.a.ex.com"), &v(&["*.ex.com"])), Some(v(&["*.a.ex.com"])));
        assert_eq!(intersect(Some("a.com"), &v(&["b.com"])), None);
        assert_eq!(intersect(Some("*.ex.com"), &v(&["ex.com"])), None);
    }
}
