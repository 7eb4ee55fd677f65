//! HTTPRoute rules to IR routes, and Gateway API precedence among them.

use super::*;
use crate::api::httproute::{self as h, HTTPRouteFilterType, PathMatchType};
use crate::api::{HTTPRoute, Item};
use crate::resolve::{Endpoints, ResolvedRule};

/// A route before ordering, with its precedence key.
pub struct Candidate {
    key: (u8, std::cmp::Reverse<usize>, bool, std::cmp::Reverse<usize>, std::cmp::Reverse<usize>, usize, usize, usize),
    route: std::sync::Arc<RouteIr>,
}

fn header_ops(m: &h::HeaderModifier) -> HeaderOps {
    HeaderOps {
        set: m.set.iter().map(|x| (x.name.to_ascii_lowercase(), x.value.clone())).collect(),
        add: m.add.iter().map(|x| (x.name.to_ascii_lowercase(), x.value.clone())).collect(),
        remove: m.remove.iter().map(|x| x.to_ascii_lowercase()).collect(),
    }
}

/// `/foo/` and `/foo` are the same prefix to Gateway API; Envoy wants no trailing slash.
fn normalize_prefix(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() { "/".into() } else { t.into() }
}

fn path_rewrite(pm: &h::PathModifier, matched: &PathMatch) -> Option<PathRewrite> {
    match pm.type_ {
        h::PathModifierType::ReplaceFullPath => pm.replace_full_path.clone().map(PathRewrite::Full),
        h::PathModifierType::ReplacePrefixMatch => {
            let PathMatch::Prefix(prefix) = matched else { return None };
            let r = pm.replace_prefix_match.as_deref().unwrap_or("/");
            let r = r.trim_end_matches('/');
            Some(PathRewrite::Prefix { matched: prefix.clone(), replacement: if r.is_empty() { "/".into() } else { r.into() } })
        }
    }
}

/// An allowed origin as a matcher: `*` alone matches all; `*` in a host matches any labels
/// to its left (greedy), as the CORS filter's documentation describes.
fn origin_match(o: &str) -> StringMatch {
    if o == "*" {
        return StringMatch::Regex(".*".into());
    }
    if !o.contains('*') {
        return StringMatch::Exact(o.to_string());
    }
    let mut re = String::from("^");
    for c in o.chars() {
        match c {
            '*' => re.push_str(".*"),
            c if "\\.+?()|[]{}^$".contains(c) => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
    }
    re.push('$');
    StringMatch::Regex(re)
}

fn cors_ir(c: &h::Cors) -> CorsIr {
    CorsIr {
        origins: c.allow_origins.iter().map(|o| origin_match(o)).collect(),
        methods: c.allow_methods.clone(),
        headers: c.allow_headers.clone(),
        expose_headers: c.expose_headers.clone(),
        max_age: c.max_age,
        credentials: c.allow_credentials.unwrap_or(false),
    }
}

/// The cluster of one resolved backend.
fn cluster_of(t: &crate::resolve::BackendTarget) -> ClusterIr {
    ClusterIr {
        name: crate::names::cluster(&t.namespace, &t.service, t.port),
        endpoints: endpoints(&t.endpoints),
        h2c: t.app_protocol.as_deref() == Some("kubernetes.io/h2c"),
    }
}

fn endpoints(e: &Endpoints) -> ClusterEndpoints {
    match e {
        Endpoints::Static(v) => ClusterEndpoints::Static(v.clone()),
        Endpoints::Dns(v) => ClusterEndpoints::Dns(v.clone()),
    }
}

/// Add one candidate per (rule, match) of `item` to `out`; register the clusters it uses.
pub fn candidates(item: &Item<HTTPRoute>, order: usize, rules: &[ResolvedRule], listener_port: u32, https: bool, out: &mut Vec<Candidate>, clusters: &mut BTreeMap<String, ClusterIr>) {
    let route = &item.obj;
    let ns = route.metadata.ns();
    let object = format!("HTTPRoute {ns}/{}", route.metadata.name);
    for (ri, (rule, resolved)) in route.spec.rules.iter().zip(rules).enumerate() {
        let mut request_headers = HeaderOps::default();
        let mut response_headers = HeaderOps::default();
        let mut redirect = None;
        let mut rewrite = None;
        let mut cors = None;
        for f in &rule.filters {
            match f.type_ {
                HTTPRouteFilterType::RequestHeaderModifier => {
                    if let Some(m) = &f.request_header_modifier {
                        request_headers = header_ops(m);
                    }
                }
                HTTPRouteFilterType::ResponseHeaderModifier => {
                    if let Some(m) = &f.response_header_modifier {
                        response_headers = header_ops(m);
                    }
                }
                HTTPRouteFilterType::RequestRedirect => redirect = f.request_redirect.as_ref(),
                HTTPRouteFilterType::URLRewrite => rewrite = f.url_rewrite.as_ref(),
                HTTPRouteFilterType::CORS => cors = f.cors.as_ref().map(cors_ir),
                _ => {}
            }
        }
        for (mi, m) in rule.matches.iter().enumerate() {
            let path = match m.path.type_ {
                PathMatchType::Exact => PathMatch::Exact(m.path.value.clone()),
                PathMatchType::PathPrefix => PathMatch::Prefix(normalize_prefix(&m.path.value)),
                PathMatchType::RegularExpression => PathMatch::Regex(m.path.value.clone()),
            };
            let action = if resolved.unresolvable_filter {
                Action::DirectResponse { status: 500 }
            } else if let Some(r) = redirect {
                let scheme = r.scheme.map(|s| match s {
                    h::Scheme::Http => "http",
                    h::Scheme::Https => "https",
                });
                // Spec: without a port, a redirect with a scheme uses its well-known port, one
                // without uses the listener's. Well-known ports stay out of Location.
                let port = r.port.unwrap_or(match scheme {
                    Some("http") => 80,
                    Some("https") => 443,
                    _ => listener_port,
                });
                let effective = scheme.unwrap_or(if https { "https" } else { "http" });
                let well_known = (effective == "http" && port == 80) || (effective == "https" && port == 443);
                Action::Redirect(Redirect {
                    scheme: scheme.map(str::to_string),
                    hostname: r.hostname.clone(),
                    port: if well_known { None } else { Some(port) },
                    path: r.path.as_ref().and_then(|p| path_rewrite(p, &path)),
                    status: r.status_code,
                })
            } else {
                let mut wc = Vec::new();
                for b in &resolved.backends {
                    if b.weight == 0 {
                        continue;
                    }
                    let name = crate::names::cluster(&b.target.namespace, &b.target.service, b.target.port);
                    clusters.entry(name.clone()).or_insert_with(|| cluster_of(&b.target));
                    let bref = &rule.backend_refs[b.index];
                    let mut rq = HeaderOps::default();
                    let mut rs = HeaderOps::default();
                    for f in &bref.filters {
                        if let Some(m) = &f.request_header_modifier {
                            rq = header_ops(m);
                        }
                        if let Some(m) = &f.response_header_modifier {
                            rs = header_ops(m);
                        }
                    }
                    wc.push(WeightedCluster { cluster: name, weight: b.weight, request_headers: rq, response_headers: rs });
                }
                if !wc.is_empty() && resolved.invalid_weight > 0 {
                    // The invalid backendRefs' share answers 500 (see emit's internal listener).
                    wc.push(WeightedCluster {
                        cluster: crate::names::invalid_backend().into(),
                        weight: resolved.invalid_weight,
                        request_headers: HeaderOps::default(),
                        response_headers: HeaderOps::default(),
                    });
                }
                if wc.is_empty() {
                    // No backend (none given, all invalid, or all weight 0): the spec asks for a 500.
                    Action::DirectResponse { status: 500 }
                } else {
                    let timeouts = rule.timeouts.as_ref();
                    let mirrors = resolved
                        .mirrors
                        .iter()
                        .map(|(t, num, den)| {
                            let name = crate::names::cluster(&t.namespace, &t.service, t.port);
                            clusters.entry(name.clone()).or_insert_with(|| cluster_of(t));
                            let per_million = (u64::from(*num) * 1_000_000 / u64::from((*den).max(1))) as u32;
                            (name, per_million)
                        })
                        .collect();
                    Action::Forward {
                        clusters: wc,
                        host_rewrite: rewrite.and_then(|r| r.hostname.clone()),
                        path_rewrite: rewrite.and_then(|r| r.path.as_ref()).and_then(|p| path_rewrite(p, &path)),
                        timeout_ms: timeouts.and_then(|t| t.request.as_deref()).and_then(h::duration_ms),
                        backend_timeout_ms: timeouts.and_then(|t| t.backend_request.as_deref()).and_then(h::duration_ms),
                        mirrors,
                        retry: rule.retry.as_ref().map(|r| RetryIr {
                            // Gateway API leaves the default to implementations; Envoy Gateway's is 2.
                            attempts: r.attempts.unwrap_or(2),
                            codes: r.codes.clone(),
                            backoff_ms: r.backoff.as_deref().and_then(h::duration_ms),
                        }),
                        session: rule.session_persistence.as_ref().map(|sp| match sp.type_ {
                            h::SessionPersistenceType::Cookie => SessionIr::Cookie {
                                name: sp.session_name.clone().unwrap_or_else(|| crate::names::session_cookie(ns, &route.metadata.name, ri)),
                                ttl_ms: match sp.cookie_config.as_ref().map(|c| c.lifetime_type) {
                                    Some(h::CookieLifetimeType::Permanent) => sp.absolute_timeout.as_deref().and_then(h::duration_ms),
                                    _ => None,
                                },
                            },
                            h::SessionPersistenceType::Header => SessionIr::Header {
                                name: sp.session_name.clone().unwrap_or_else(|| crate::names::session_header(ns, &route.metadata.name, ri)),
                            },
                        }),
                    }
                }
            };
            let (rank, len) = match &path {
                PathMatch::Exact(v) => (0, v.len()),
                PathMatch::Regex(v) => (1, v.len()),
                PathMatch::Prefix(v) => (2, v.len()),
            };
            let key = (
                rank,
                std::cmp::Reverse(len),
                m.method.is_none(),
                std::cmp::Reverse(m.headers.len()),
                std::cmp::Reverse(m.query_params.len()),
                order,
                ri,
                mi,
            );
            let to_match = |name: &str, t: h::StringMatchType, v: &str| KeyMatch {
                name: name.to_string(),
                value: match t {
                    h::StringMatchType::Exact => StringMatch::Exact(v.to_string()),
                    h::StringMatchType::RegularExpression => StringMatch::Regex(v.to_string()),
                },
            };
            out.push(Candidate {
                key,
                route: std::sync::Arc::new(RouteIr {
                    name: crate::names::route(ns, &route.metadata.name, ri, mi),
                    path,
                    method: m.method.map(|x| x.as_str().to_string()),
                    headers: m.headers.iter().map(|x| to_match(&x.name.to_ascii_lowercase(), x.type_, &x.value)).collect(),
                    query: m.query_params.iter().map(|x| to_match(&x.name, x.type_, &x.value)).collect(),
                    action,
                    request_headers: request_headers.clone(),
                    response_headers: response_headers.clone(),
                    cors: cors.clone(),
                    origin: Origin {
                        object: object.clone(),
                        rule: ri,
                        match_index: mi,
                        loc: item.loc.clone(),
                    },
                }),
            });
        }
    }
}

/// Order routes by Gateway API precedence: exact path, then regex, then longest prefix;
/// method; most header matches; most query matches; oldest route; namespace/name; rule order.
/// Rules of routes with a more specific matching hostname come first (the spec's rule for
/// intersecting hostnames); `host_rank` carries that.
pub fn build_routes<K: Ord>(mut cands: Vec<(K, &Candidate)>) -> Vec<std::sync::Arc<RouteIr>> {
    cands.sort_by(|a, b| (&a.0, &a.1.key).cmp(&(&b.0, &b.1.key)));
    // A route reached through two hostnames of one virtual host adds the same entries twice.
    let mut seen = std::collections::HashSet::new();
    cands.into_iter().filter(|c| seen.insert(c.1.route.name.as_str())).map(|c| std::sync::Arc::clone(&c.1.route)).collect()
}
