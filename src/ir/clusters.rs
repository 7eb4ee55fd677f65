//! The clusters a Gateway reaches on its own, outside its routes: telemetry collectors and the
//! services its SecurityPolicies and EnvoyExtensionPolicies call.

use super::*;

/// The collectors the Gateway's access logs (OpenTelemetry, gRPC so HTTP/2) and spans go to
/// (gRPC for OpenTelemetry, HTTP/1 JSON for Zipkin and Datadog).
pub(super) fn telemetry_clusters(g: &resolve::ResolvedGateway) -> Vec<ClusterIr> {
    let logs: &[_] = match &g.infra.proxy.access_log {
        resolve::AccessLogIr::Sinks(sinks) => sinks,
        _ => &[],
    };
    let otel = logs.iter().filter_map(|(s, _)| match s {
        resolve::LogSinkIr::Otel(o) => Some((o, UpstreamProtocol::H2c)),
        resolve::LogSinkIr::File(_) => None,
    });
    let tracing = g.infra.proxy.tracing.as_ref().map(|t| {
        let protocol = if matches!(t.tracer, resolve::TracerIr::Otel { .. }) { UpstreamProtocol::H2c } else { UpstreamProtocol::Http1 };
        (&t.collector, protocol)
    });
    otel.chain(tracing).map(|(o, protocol)| collector_cluster(o, protocol)).collect()
}

fn collector_cluster(o: &resolve::OtelSinkIr, protocol: UpstreamProtocol) -> ClusterIr {
    let (endpoints, shares) = match (o.backends.as_slice(), &o.host) {
        ([], Some((h, p))) if h.parse::<std::net::IpAddr>().is_ok() => (ClusterEndpoints::Static(vec![(h.clone(), *p)]), Vec::new()),
        ([], Some((h, p))) => (ClusterEndpoints::Dns(vec![(h.clone(), *p)]), Vec::new()),
        ([(t, _)], _) => (t.endpoints.clone(), Vec::new()),
        (many, _) => (ClusterEndpoints::Static(Vec::new()), many.iter().map(|(t, w)| (t.endpoints.clone(), *w, 0)).collect()),
    };
    let tls = o.backends.iter().find_map(|(t, _)| match &t.tls {
        Some(resolve::backendtls::BackendTls::Verify(v)) => Some(v.clone()),
        _ => None,
    });
    ClusterIr { name: o.cluster.clone(), endpoints, protocol, shares, tls, policy: None, http1: None }
}

/// The clusters SecurityPolicies reach on their own: external authorization services, remote
/// JWKS hosts and OIDC token endpoints, by name.
pub(super) fn auth_clusters(g: &resolve::ResolvedGateway, ports: &[PortIr]) -> Vec<ClusterIr> {
    use resolve::security::Jwks;
    let mut out: BTreeMap<String, ClusterIr> = BTreeMap::new();
    let policies = || ports.iter().flat_map(|p| p.virtual_hosts()).flat_map(|v| &v.routes).filter_map(|r| r.security.as_deref());
    for e in policies().filter_map(|s| s.ext_auth.as_ref()) {
        let protocol = if e.grpc { UpstreamProtocol::H2c } else { UpstreamProtocol::Http1 };
        out.entry(e.cluster.clone()).or_insert_with(|| service_cluster(&e.cluster, &e.backends, protocol));
    }
    let extensions = ports.iter().flat_map(|p| p.virtual_hosts()).flat_map(|v| &v.routes).filter_map(|r| r.extension.as_deref());
    for p in extensions.flat_map(|x| &x.ext_procs) {
        out.entry(p.cluster.clone()).or_insert_with(|| service_cluster(&p.cluster, &p.backends, UpstreamProtocol::H2c));
    }
    let remotes = policies().flat_map(|s| s.jwt.iter().flat_map(|j| &j.providers)).filter_map(|p| match &p.jwks {
        Jwks::Remote(r) => Some(&r.endpoint),
        Jwks::Local(_) => None,
    });
    for r in remotes.chain(policies().filter_map(|s| s.oidc.as_ref().map(|o| &o.token_endpoint))) {
        out.entry(r.cluster.clone()).or_insert_with(|| {
            let at = vec![(r.host.clone(), r.port)];
            let (endpoints, shares) = match r.backends.as_slice() {
                [] if r.host.parse::<std::net::IpAddr>().is_ok() => (ClusterEndpoints::Static(at), Vec::new()),
                [] => (ClusterEndpoints::Dns(at), Vec::new()),
                [(t, _)] => (t.endpoints.clone(), Vec::new()),
                many => (ClusterEndpoints::Static(Vec::new()), many.iter().map(|(t, w)| (t.endpoints.clone(), *w, 0)).collect()),
            };
            // The backends' TLS (a BackendTLSPolicy, a Backend's own); else for https the
            // URI host's certificate, verified against the system trust store.
            let backend_tls = r.backends.iter().find_map(|(t, _)| match &t.tls {
                Some(resolve::backendtls::BackendTls::Verify(v)) => Some(v.clone()),
                _ => None,
            });
            let tls = backend_tls.or_else(|| {
                r.tls.then(|| Arc::new(resolve::backendtls::UpstreamTls { policy: g.key.clone(), sni: r.host.clone(), ca: resolve::backendtls::TrustedCa::System, sans: vec![resolve::backendtls::SanMatch::Dns(r.host.clone())], settings: None }))
            });
            ClusterIr { name: r.cluster.clone(), endpoints, protocol: UpstreamProtocol::Http1, shares, tls, policy: None, http1: None }
        });
    }
    out.into_values().collect()
}

/// The cluster of a policy's service (an external authorization service, an external
/// processor) over its backends, with their TLS.
fn service_cluster(name: &str, backends: &[(Arc<resolve::backend::BackendTarget>, u32)], protocol: UpstreamProtocol) -> ClusterIr {
    let tls = backends.iter().find_map(|(t, _)| match &t.tls {
        Some(resolve::backendtls::BackendTls::Verify(v)) => Some(v.clone()),
        _ => None,
    });
    let (endpoints, shares) = match backends {
        [(t, _)] => (t.endpoints.clone(), Vec::new()),
        many => (ClusterEndpoints::Static(Vec::new()), many.iter().map(|(t, w)| (t.endpoints.clone(), *w, 0)).collect()),
    };
    ClusterIr { name: name.to_string(), endpoints, protocol, shares, tls, policy: None, http1: None }
}
