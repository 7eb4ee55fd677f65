//! Listeners that reach the admin interface for one path each: the kubelet's readiness probe
//! and Prometheus's scrape; the admin interface itself stays on loopback.

use super::types::*;
use super::*;

/// `GET /ready` on the readiness port, proxied to the admin interface's `/ready`.
pub(super) fn readiness_listener(opts: &EnvoyOptions) -> Option<Listener> {
    admin_path_listener(crate::names::readiness(), opts.readiness_port?, "/ready", opts)
}

/// The Prometheus endpoint: `GET /stats/prometheus` on the metrics port, proxied to the admin
/// interface, as Envoy Gateway serves it (GET only; other paths 404).
pub(super) fn metrics_listener(g: &GatewayIr, opts: &EnvoyOptions) -> Option<Listener> {
    let port = opts.metrics_port.filter(|_| !g.infra.proxy.prometheus_disabled)?;
    admin_path_listener(crate::names::metrics(), port, "/stats/prometheus", opts)
}

/// A listener on `port` that forwards `GET path` to the admin interface and nothing else.
fn admin_path_listener(name: &str, port: u32, path: &str, opts: &EnvoyOptions) -> Option<Listener> {
    let mut h = bare_hcm(name);
    let get = HeaderMatcher { name: ":method".into(), string_match: StringMatcher::exact("GET") };
    h.route_config.virtual_hosts[0].routes.push(Route {
        route: Some(RouteAction {
            cluster: Some(crate::names::admin_cluster().into()),
            ..Default::default()
        }),
        ..Route::new(
            name,
            RouteMatch {
                path: Some(path.into()),
                headers: vec![get],
                ..Default::default()
            },
        )
    });
    let filter = hcm_filter(h);
    Some(Listener {
        name: name.into(),
        address: Some(Address::new(&opts.bind_address, port)),
        internal_listener: None,
        listener_filters: Vec::new(),
        filter_chains: vec![FilterChain { name: None, filter_chain_match: None, filters: vec![filter], transport_socket: None, transport_socket_connect_timeout: None }],
        per_connection_buffer_limit_bytes: None,
        max_connections_to_accept_per_socket_event: None,
        socket_options: Vec::new(),
        listener_filters_timeout: None,
    })
}

/// The admin interface as a cluster, for the readiness and metrics listeners.
pub(super) fn admin_cluster(g: &GatewayIr, opts: &EnvoyOptions) -> Option<Cluster> {
    let metrics = opts.metrics_port.is_some() && !g.infra.proxy.prometheus_disabled;
    if opts.readiness_port.is_none() && !metrics {
        return None;
    }
    Some(cluster(&ir::ClusterIr {
        name: crate::names::admin_cluster().into(),
        endpoints: ClusterEndpoints::Static(vec![(opts.admin_address.clone(), opts.admin_port)]),
        protocol: ir::UpstreamProtocol::Http1,
        shares: Vec::new(),
        tls: None,
        policy: None,
        http1: None,
    }, None, opts))
}

