//! Resolved HTTP rules to IR routes, and Gateway API precedence among them.

use super::*;
use crate::resolve::http::{self as rh, HttpRoute, RuleAction};
use crate::resolve::precedence::Effect;

/// A route before ordering, with its precedence key.
pub struct Candidate {
    key: (u8, std::cmp::Reverse<usize>, bool, std::cmp::Reverse<usize>, std::cmp::Reverse<usize>, usize, usize, usize),
    route: Arc<RouteIr>,
}

/// A path modifier applied to the path a route matched.
fn path_rewrite(pm: &rh::PathModifier, matched: &PathMatch) -> Option<PathRewrite> {
    match pm {
        rh::PathModifier::Full(p) => Some(PathRewrite::Full(p.clone())),
        rh::PathModifier::Regex { pattern, substitution } => Some(PathRewrite::Regex { pattern: pattern.clone(), substitution: substitution.clone() }),
        rh::PathModifier::Prefix(r) => {
            let PathMatch::Prefix(prefix) = matched else { return None };
            Some(PathRewrite::Prefix { matched: prefix.clone(), replacement: r.clone() })
        }
    }
}

/// The cluster of one backend, registered once per key; `http2`: the route needs HTTP/2
/// to it whatever its appProtocol (GRPCRoute); `originate_tls`: the backend's
/// BackendTLSPolicy applies (not to TLS passed through, which is already TLS).
pub(super) fn cluster_of(
    t: &crate::resolve::BackendTarget,
    http2: bool,
    originate_tls: bool,
    policy: Option<Arc<crate::resolve::traffic::ClusterPolicy>>,
    http1: Option<crate::resolve::ctp::UpstreamHttp1>,
    clusters: &mut BTreeMap<ClusterKey, ClusterIr>,
) -> String {
    let tls = match &t.tls {
        Some(crate::resolve::backendtls::BackendTls::Verify(u)) if originate_tls => Some(u.clone()),
        _ => None,
    };
    let key = ClusterKey {
        namespace: t.namespace.clone(),
        service: t.service.clone(),
        kind: t.kind,
        port: t.port,
        protocol: if http2 || t.app_protocol.as_deref() == Some("kubernetes.io/h2c") {
            UpstreamProtocol::H2c
        } else {
            UpstreamProtocol::Http1
        },
        route: None,
        rule: None,
        tls: tls.clone(),
        policy: policy.clone(),
        // HTTP/1 options do not apply to HTTP/2 connections.
        http1: http1.filter(|_| !http2 && t.app_protocol.as_deref() != Some("kubernetes.io/h2c")),
    };
    clusters
        .entry(key.clone())
        .or_insert_with(|| ClusterIr {
            name: crate::names::cluster(&key),
            endpoints: t.endpoints.clone(),
            protocol: key.protocol,
            shares: Vec::new(),
            tls,
            policy,
            http1: key.http1,
        })
        .name
        .clone()
}

/// The cluster of a rule with fallback Backends: every backend a locality, the fallback ones at
/// priority 1, which Envoy uses only when the others are not healthy enough. resolve checked
/// that the backends share TLS and protocol and have no backendRef filters.
fn rule_cluster(
    rule: &rh::HttpRule,
    f: &rh::Forward,
    policy: Option<Arc<crate::resolve::traffic::ClusterPolicy>>,
    http1: Option<crate::resolve::ctp::UpstreamHttp1>,
    clusters: &mut BTreeMap<ClusterKey, ClusterIr>,
) -> String {
    let first = &f.backends[0].target;
    let h2 = f.http2 || first.app_protocol.as_deref() == Some("kubernetes.io/h2c");
    let tls = match &first.tls {
        Some(crate::resolve::backendtls::BackendTls::Verify(u)) => Some(u.clone()),
        _ => None,
    };
    let key = ClusterKey {
        namespace: rule.id.route.namespace.clone(),
        service: String::new(),
        kind: Default::default(),
        port: 0,
        protocol: if h2 { UpstreamProtocol::H2c } else { UpstreamProtocol::Http1 },
        route: Some(rule.id.route.clone()),
        rule: Some(rule.id.index),
        tls: tls.clone(),
        policy: policy.clone(),
        http1: http1.filter(|_| !h2),
    };
    let shares = f.backends.iter().map(|b| (b.target.endpoints.clone(), b.weight, u32::from(b.target.fallback))).collect();
    clusters
        .entry(key.clone())
        .or_insert_with(|| ClusterIr { name: crate::names::cluster(&key), endpoints: ClusterEndpoints::Static(Vec::new()), protocol: key.protocol, shares, tls, policy, http1: key.http1 })
        .name
        .clone()
}

/// The spec's redirect port rules: without a port, a redirect with a scheme uses its
/// well-known port, one without uses the listener's; well-known ports stay out of Location.
fn redirect(r: &rh::RedirectSpec, matched: &PathMatch, listener_port: u32, https: bool) -> Redirect {
    let port = r.port.unwrap_or(match r.scheme {
        Some("http") => 80,
        Some("https") => 443,
        _ => listener_port,
    });
    let effective = r.scheme.unwrap_or(if https { "https" } else { "http" });
    let well_known = (effective == "http" && port == 80) || (effective == "https" && port == 443);
    Redirect {
        scheme: r.scheme.map(str::to_string),
        hostname: r.hostname.clone(),
        port,
        default_port: well_known,
        path: r.path.as_ref().and_then(|p| path_rewrite(p, matched)),
        status: r.status,
    }
}

/// Where a route is built: the listener (index, port, scheme) and the Gateway's
/// BackendTrafficPolicies.
pub struct At<'a> {
    pub listener: usize,
    pub port: u32,
    pub https: bool,
    pub traffic: &'a crate::resolve::btp::TrafficTable,
    pub security: &'a crate::resolve::sp::SecurityTable,
    pub extensions: &'a crate::resolve::eep::ExtensionTable,
    /// HTTP/1 settings of the listener's ClientTrafficPolicy that its clusters carry.
    pub upstream_http1: Option<crate::resolve::ctp::UpstreamHttp1>,
    /// An EnvoyProxy's `preserveRouteOrder`: routes in the order written (oldest route
    /// first, then rule and match order), not by Gateway API precedence.
    pub preserve_order: bool,
}

fn action(rule: &rh::HttpRule, matched: &PathMatch, at: &At, clusters: &mut BTreeMap<ClusterKey, ClusterIr>) -> Action {
    let traffic = match at.traffic.for_rule(at.listener, &rule.id.route, rule.id.name.as_deref()) {
        // A policy Envoy Gateway cannot translate: every route it covers answers 500.
        Some(Effect::Invalid) => return Action::DirectResponse { status: 500, body: None },
        Some(Effect::Apply(t)) => Some(t),
        None => None,
    };
    let (listener_port, https) = (at.port, at.https);
    let policy = traffic.and_then(|t| t.cluster.clone());
    match &rule.action {
        RuleAction::Respond(status, body) => Action::DirectResponse { status: *status, body: body.clone() },
        RuleAction::Redirect(r) => Action::Redirect(redirect(r, matched, listener_port, https)),
        RuleAction::Forward(f) => {
            let fallback = f.backends.iter().any(|b| b.target.fallback) && f.backends.iter().any(|b| !b.target.fallback);
            let mut wc: Vec<WeightedCluster> = if fallback {
                vec![WeightedCluster {
                    cluster: rule_cluster(rule, f, policy.clone(), at.upstream_http1, clusters),
                    weight: f.backends.iter().filter(|b| !b.target.fallback).map(|b| b.weight).sum(),
                    request_headers: HeaderOps::default(),
                    response_headers: HeaderOps::default(),
                    credential: None,
                }]
            } else {
                f.backends
                    .iter()
                    .map(|b| WeightedCluster {
                        cluster: cluster_of(&b.target, f.http2, true, policy.clone(), at.upstream_http1, clusters),
                        weight: b.weight,
                        request_headers: b.request_headers.clone(),
                        response_headers: b.response_headers.clone(),
                        credential: b.credential.clone(),
                    })
                    .collect()
            };
            if f.invalid_weight > 0 {
                // The invalid backendRefs' share answers 500 (see emit's internal listener).
                wc.push(WeightedCluster {
                    cluster: crate::names::invalid_backend().into(),
                    weight: f.invalid_weight,
                    request_headers: HeaderOps::default(),
                    response_headers: HeaderOps::default(),
                    credential: None,
                });
            }
            Action::Forward {
                clusters: wc,
                host_rewrite: f.host_rewrite.clone(),
                append_x_forwarded_host: f.append_x_forwarded_host,
                path_rewrite: f.path_rewrite.as_ref().and_then(|p| path_rewrite(p, matched)),
                timeout_ms: f.timeout_ms,
                backend_timeout_ms: f.backend_timeout_ms,
                mirrors: f.mirrors.iter().map(|(t, share)| (cluster_of(t, f.http2, true, policy.clone(), at.upstream_http1, clusters), *share)).collect(),
                retry: f.retry.clone(),
                session: f.session.clone(),
                traffic: traffic.map(|t| t.route.clone()).filter(|r| *r != Default::default()),
            }
        }
    }
}

/// Add one candidate per (rule, match) of `route` to `out`; register the clusters it uses.
pub fn candidates(route: &HttpRoute, order: usize, at: &At, out: &mut Vec<Candidate>, clusters: &mut BTreeMap<ClusterKey, ClusterIr>) {
    for rule in &route.rules {
        for (mi, m) in rule.matches.iter().enumerate() {
            let (rank, len) = match &m.path {
                PathMatch::Exact(v) => (0, v.len()),
                PathMatch::Regex(v) => (1, v.len()),
                PathMatch::Prefix(v) => (2, v.len()),
            };
            let key = if at.preserve_order {
                (0, std::cmp::Reverse(0), false, std::cmp::Reverse(0), std::cmp::Reverse(0), order, rule.id.index, mi)
            } else {
                (rank, std::cmp::Reverse(len), m.method.is_none(), std::cmp::Reverse(m.headers.len()), std::cmp::Reverse(m.query.len()), order, rule.id.index, mi)
            };
            // A SecurityPolicy Envoy Gateway cannot translate closes its routes: 500.
            // So does an EnvoyExtensionPolicy.
            let sec = at.security.for_rule(at.listener, &rule.id.route, rule.id.name.as_deref());
            let ext = at.extensions.for_rule(at.listener, &rule.id.route, rule.id.name.as_deref());
            let (security, extension, action) = match (sec, ext) {
                (Some(Effect::Invalid), _) | (_, Some(Effect::Invalid)) => (None, None, Action::DirectResponse { status: 500, body: None }),
                (s, x) => {
                    let s = if let Some(Effect::Apply(s)) = s { Some(Arc::clone(s)) } else { None };
                    let x = if let Some(Effect::Apply(x)) = x { Some(Arc::clone(x)) } else { None };
                    (s, x, action(rule, &m.path, at, clusters))
                }
            };
            out.push(Candidate {
                key,
                route: Arc::new(RouteIr {
                    name: crate::names::route(&rule.id, mi),
                    matches: m.clone(),
                    action,
                    request_headers: rule.request_headers.clone(),
                    response_headers: rule.response_headers.clone(),
                    // The rule's own CORS filter (Gateway API) takes precedence over a policy's.
                    cors: rule.cors.clone().or_else(|| security.as_ref().and_then(|s| s.cors.clone())),
                    security,
                    credential: rule.credential.clone(),
                    extension,
                    origin: Origin { rule: rule.id.clone(), match_index: mi, loc: route.loc.clone() },
                }),
            });
        }
    }
}

/// Order routes by Gateway API precedence: exact path, then regex, then longest prefix;
/// method; most header matches; most query matches; oldest route; namespace/name; rule order.
/// Rules of routes with a more specific matching hostname come first (the spec's rule for
/// intersecting hostnames); `host_rank` carries that.
pub fn build_routes<K: Ord>(mut cands: Vec<(K, &Candidate)>) -> Vec<Arc<RouteIr>> {
    cands.sort_by(|a, b| (&a.0, &a.1.key).cmp(&(&b.0, &b.1.key)));
    // A route reached through two hostnames of one virtual host adds the same entries twice.
    let mut seen = std::collections::HashSet::new();
    cands.into_iter().filter(|c| seen.insert(c.1.route.name.as_str())).map(|c| Arc::clone(&c.1.route)).collect()
}
