//! TLSRoutes, TCPRoutes and UDPRoutes to proxies and TLS chains.

use super::*;
use crate::api::Kind;
use crate::resolve::l4route::{AttachedStream, StreamRoute};
use crate::resolve::{Protocol, ResolvedGateway};

/// The proxy of one route: a cluster per backend, or for UDP one cluster of weighted
/// localities. None when no backend is usable: the route's connections are refused.
pub(super) fn proxy(
    route: &StreamRoute,
    udp: bool,
    originate_tls: bool,
    policy: Option<Arc<crate::resolve::traffic::ClusterPolicy>>,
    clusters: &mut BTreeMap<ClusterKey, ClusterIr>,
) -> Option<StreamProxy> {
    if route.backends.is_empty() {
        return None;
    }
    let name = crate::names::stream_proxy(&route.key);
    let source_ip_hash = matches!(policy.as_deref().and_then(|p| p.lb.as_ref()), Some(crate::resolve::traffic::LbPolicy::Maglev { .. }));
    // A TCP route with fallback Backends needs one cluster of prioritized localities too.
    let fallback = route.backends.iter().any(|(t, _)| fallback_priority(t, &route.backends) > 0);
    if !udp && !fallback {
        let clusters = route
            .backends
            .iter()
            .map(|(t, w)| (route::cluster_of(t, false, originate_tls, policy.clone(), None, clusters), *w))
            .collect();
        return Some(StreamProxy { name, clusters, source_ip_hash, client: None, authorization: None });
    }
    // resolve checked that a rule with fallback Backends has one TLS for all of them.
    let tls = match route.backends.first().and_then(|(t, _)| t.tls.as_ref()) {
        Some(crate::resolve::backendtls::BackendTls::Verify(u)) if originate_tls && !udp => Some(u.clone()),
        _ => None,
    };
    let key = ClusterKey {
        namespace: route.key.namespace.clone(),
        service: String::new(),
        kind: Default::default(),
        port: 0,
        protocol: if udp { UpstreamProtocol::Udp } else { UpstreamProtocol::Http1 },
        route: Some(route.key.clone()),
        rule: None,
        tls: tls.clone(),
        policy: policy.clone(),
        http1: None,
    };
    let shares: Vec<(ClusterEndpoints, u32, u32)> = route
        .backends
        .iter()
        .map(|(t, w)| (t.endpoints.clone(), *w, fallback_priority(t, &route.backends)))
        .collect();
    let cluster = clusters
        .entry(key.clone())
        .or_insert_with(|| ClusterIr {
            name: crate::names::cluster(&key),
            endpoints: ClusterEndpoints::Static(Vec::new()),
            protocol: key.protocol,
            shares,
            tls,
            policy,
            http1: None,
        })
        .name
        .clone();
    Some(StreamProxy {
        name,
        clusters: vec![(cluster, 1)],
        source_ip_hash,
        client: None,
        authorization: None,
    })
}

/// A backend's priority in a route's own cluster: 1 for a fallback Backend when some backend
/// is not one (all fallback: they are all there is).
pub(super) fn fallback_priority(t: &crate::resolve::BackendTarget, all: &[(Arc<crate::resolve::BackendTarget>, u32)]) -> u32 {
    u32::from(t.fallback && all.iter().any(|(o, _)| !o.fallback))
}

/// The route that carries a TCP or UDP listener: the oldest one left holding it.
fn holder(g: &ResolvedGateway, li: usize) -> Option<&AttachedStream> {
    g.streams
        .iter()
        .filter(|s| {
            s.listeners
                .iter()
                .any(|(l, hosts)| *l == li && !hosts.is_empty())
        })
        .min_by_key(|s| s.order)
}

/// A TCP or UDP port: the proxy of the route that holds its listener. None without one.
pub(super) fn port_proxy(g: &ResolvedGateway, li: usize, udp: bool, clusters: &mut BTreeMap<ClusterKey, ClusterIr>) -> Option<StreamProxy> {
    if g.listeners[li].client_failed {
        return None;
    }
    let client = g.listeners[li].client.clone().filter(|_| !udp);
    let s = holder(g, li)?;
    let authorization = authorization(g, li, &s.route.key);
    // Authorization over UDP is refused in resolve (`sp::check_streams`); allowed anyway
    // (`--allow-unsupported`), the listener serves nobody rather than everybody.
    if udp && authorization.is_some() {
        return None;
    }
    proxy(&s.route, udp, !udp, g.traffic.for_stream(li, &s.route.key, None), clusters).map(|p| StreamProxy { client, authorization: authorization.filter(|_| !udp), ..p })
}

/// The chains of one TLS listener: one per route with the SNI names it holds there (a name
/// owned by a more specific listener of the port excepted), terminating with the listener's
/// certificates in Terminate mode.
pub(super) fn tls_chains(
    g: &ResolvedGateway,
    li: usize,
    owns: &dyn Fn(&str) -> bool,
    clusters: &mut BTreeMap<ClusterKey, ClusterIr>,
) -> Vec<TlsChainIr> {
    let l = &g.listeners[li];
    if l.client_failed {
        return Vec::new();
    }
    let mut streams: Vec<&AttachedStream> = g
        .streams
        .iter()
        .filter(|s| s.listeners.iter().any(|(x, _)| *x == li))
        .collect();
    streams.sort_by_key(|s| (s.kind != Kind::TLSRoute, s.order));
    let mut out = Vec::new();
    for s in streams {
        let hosts: Vec<String> = s
            .listeners
            .iter()
            .filter(|(x, _)| *x == li)
            .flat_map(|(_, h)| h.clone())
            .filter(|h| owns(h))
            .collect();
        if hosts.is_empty() {
            continue;
        }
        let Some(proxy) = proxy(&s.route, false, l.protocol == Protocol::TlsTerminate, g.traffic.for_stream(li, &s.route.key, None), clusters) else {
            continue;
        };
        let proxy = StreamProxy { client: l.client.clone(), authorization: authorization(g, li, &s.route.key), ..proxy };
        let server_names = if hosts.iter().any(|h| h == "*") {
            Vec::new()
        } else {
            hosts
        };
        out.push(TlsChainIr {
            name: crate::names::stream_chain(l.port, &crate::names::listener_label(&l.id), &s.route.key),
            server_names,
            certificates: if l.protocol == Protocol::TlsTerminate {
                l.certificates.clone()
            } else {
                Vec::new()
            },
            client_validation: if l.protocol == Protocol::TlsTerminate { crate::resolve::ctp::listener_validation(l) } else { None },
            tls: crate::resolve::ctp::listener_tls(l),
            serves: ChainServes::Proxy(proxy),
        });
    }
    out
}


/// The authorization of the SecurityPolicy over a stream route on listener `li` (a Gateway's
/// or listener's: TCPRoute targets are refused). A policy that could not be translated lets
/// nobody connect.
fn authorization(g: &ResolvedGateway, li: usize, route: &crate::id::ObjectKey) -> Option<Arc<crate::resolve::security::Authorization>> {
    use crate::resolve::precedence::Effect;
    match g.security.for_rule(li, route, None)? {
        Effect::Apply(s) => s.authorization.clone().map(Arc::new),
        Effect::Invalid => Some(Arc::new(crate::resolve::security::Authorization { default_allow: false, rules: Vec::new() })),
    }
}
