//! IR to a static Envoy v3 bootstrap: one listener per port, an inline route table,
//! one cluster per backend. Secure defaults as Envoy Gateway ships them.

mod client;
mod access_log;
mod admin;
mod credential;
mod custom_response;
mod ext_auth;
mod extension;
pub mod global_rate_limit;
mod health;
mod header_mutation;
mod http_filters;
mod jwt;
mod listener;
mod oauth2;
pub mod patch;
mod policy;
mod rbac;
mod route;
mod security;
mod stream;
mod tracing;
mod types;
mod types_client;
mod types_route;

use crate::ir::{self, ClusterEndpoints, GatewayIr};
use crate::resolve::ctp::ClientSettings;
use client::client_settings;
use route::virtual_host;
use types::*;

#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    pub bind_address: String,
    pub admin_address: String,
    pub admin_port: u32,
    /// Where TLS certificates and keys go: inline in the bootstrap (None) or as files under
    /// this directory, referenced by path.
    pub secrets_dir: Option<std::path::PathBuf>,
    /// A listener on `bind_address` at this port that answers `GET /ready` from the admin
    /// interface, for a kubelet readiness probe (the admin port stays on loopback).
    pub readiness_port: Option<u32>,
    /// A listener on `bind_address` at this port that serves `GET /stats/prometheus` from the
    /// admin interface, as Envoy Gateway exposes metrics (unless the EnvoyProxy disables it).
    pub metrics_port: Option<u32>,
    /// The gRPC rate-limit service global rate limits ask (host, port).
    pub rate_limit_service: Option<(String, u16)>,
}

impl Default for EnvoyOptions {
    fn default() -> Self {
        EnvoyOptions {
            bind_address: "0.0.0.0".into(),
            admin_address: "127.0.0.1".into(),
            admin_port: 19000,
            secrets_dir: None,
            readiness_port: None,
            metrics_port: None,
            rate_limit_service: None,
        }
    }
}

const HCM: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER: &str = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const STATEFUL_SESSION: &str = "type.googleapis.com/envoy.extensions.filters.http.stateful_session.v3.StatefulSession";
const STATEFUL_SESSION_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.stateful_session.v3.StatefulSessionPerRoute";
const COOKIE_SESSION: &str = "type.googleapis.com/envoy.extensions.http.stateful_session.cookie.v3.CookieBasedSessionState";
const HEADER_SESSION: &str = "type.googleapis.com/envoy.extensions.http.stateful_session.header.v3.HeaderBasedSessionState";
const CORS: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors";
const GRPC_WEB: &str = "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb";
const CORS_POLICY: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
const STDOUT_LOG: &str = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";

/// The rate-limit service's configuration files of `g` (envoyproxy/ratelimit's YAML, one per
/// domain), relative to the Gateway's directory: (path, text).
pub fn rate_limit_files(g: &GatewayIr) -> Result<Vec<(std::path::PathBuf, String)>, String> {
    global_rate_limit::service_configs(g)
        .into_iter()
        .map(|c| Ok((crate::names::rate_limit_config_file(&c.domain), serde_saphyr::to_string(&c).map_err(|e| e.to_string())?)))
        .collect()
}

/// Whether `g`'s bootstrap itself holds credentials (API keys, which Envoy reads from no
/// file): `render` then keeps it in a Secret, not a ConfigMap.
pub fn holds_credentials(g: &GatewayIr) -> bool {
    g.ports.iter().flat_map(|p| p.virtual_hosts()).flat_map(|v| &v.routes).any(|r| r.security.as_ref().is_some_and(|s| s.api_keys.is_some()))
}

/// The files a bootstrap refers to when secrets go to files: (path, content): certificates
/// and keys (PEM), htpasswd lists.
pub fn secret_files(g: &GatewayIr, dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = std::collections::BTreeMap::new();
    // Backends' own client certificates too.
    let backend_certs = g.clusters.iter().filter_map(|c| c.tls.as_ref()).filter_map(|t| t.settings.as_ref()).filter_map(|s| s.client_certificate.as_ref());
    for c in g.ports.iter().flat_map(|p| p.tls_chains()).flat_map(|c| &c.certificates).chain(&g.backend_client_certificate).chain(backend_certs) {
        let (crt, key) = crate::names::certificate_files(dir, &c.secret);
        out.insert(crt, c.chain_pem.clone());
        out.insert(key, c.key_pem.clone());
    }
    for (name, value) in credential::values(g) {
        out.insert(crate::names::oauth2_secret_file(dir, name), value.to_string());
    }
    // SecurityPolicies' htpasswd Secrets.
    for sec in g.ports.iter().flat_map(|p| p.virtual_hosts()).flat_map(|v| &v.routes).filter_map(|r| r.security.as_deref()) {
        if let Some(b) = &sec.basic_auth {
            out.insert(crate::names::htpasswd_file(dir, &b.secret), b.htpasswd.clone());
        }
    }
    out.into_iter().collect()
}

/// The bootstrap of one Gateway.
pub fn bootstrap(g: &GatewayIr, opts: &EnvoyOptions) -> Bootstrap {
    Bootstrap {
        node: Node { id: format!("gatewayc/{}/{}", g.namespace, g.name), cluster: format!("{}/{}", g.namespace, g.name) },
        admin: Admin { address: Address::new(&opts.admin_address, opts.admin_port) },
        bootstrap_extensions: if g.invalid_backend {
            vec![BootstrapExtension { name: "envoy.bootstrap.internal_listener", typed_config: TypedEmpty { type_: INTERNAL_LISTENER } }]
        } else {
            Vec::new()
        },
        static_resources: StaticResources {
            listeners: g
                .ports
                .iter()
                .map(|p| listener::listener(p, g, opts))
                .chain(admin::readiness_listener(opts))
                .chain(admin::metrics_listener(g, opts))
                .chain(g.invalid_backend.then(invalid_backend_listener))
                .collect(),
            clusters: g
                .clusters
                .iter()
                .map(|c| {
                    let mut cl = cluster(c, g.backend_client_certificate.as_deref(), opts);
                    let p = &g.infra.proxy;
                    cl.track_cluster_stats = (p.size_stats || p.endpoint_stats).then_some(TrackClusterStats { request_response_sizes: p.size_stats, per_endpoint_stats: p.endpoint_stats });
                    cl
                })
                .chain(admin::admin_cluster(g, opts))
                .chain(rate_limit_cluster(g, opts))
                .chain(g.invalid_backend.then(invalid_backend_cluster))
                .collect(),
            secrets: credential::secrets(g, opts.secrets_dir.as_deref()),
        },
        layered_runtime: LayeredRuntime {
            layers: vec![RuntimeLayer {
                name: "global_config",
                // As Envoy Gateway: regexes are limited by RE2 itself, not by Envoy's default
                // program-size limit of 100 (which a long alternation exceeds).
                static_layer: std::collections::BTreeMap::from([("re2.max_program_size.error_level", u64::from(u32::MAX)), ("re2.max_program_size.warn_level", 1000)]),
            }],
        },
        overload_manager: OverloadManager {
            refresh_interval: "0.25s",
            resource_monitors: vec![ResourceMonitor {
                name: "envoy.resource_monitors.global_downstream_max_connections",
                typed_config: DownstreamConnectionsConfig { type_: DOWNSTREAM_CONNECTIONS, max_active_downstream_connections: MAX_DOWNSTREAM_CONNECTIONS },
            }],
        },
        stats_config: (!g.infra.proxy.stats_matches.is_empty()).then(|| StatsConfig {
            stats_matcher: StatsMatcher { inclusion_list: MatcherList { patterns: g.infra.proxy.stats_matches.iter().map(|m| StringMatcher::of_value(m, false)).collect() } },
        }),
    }
}

const DOWNSTREAM_CONNECTIONS: &str = "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig";
/// Envoy Gateway's defaults (docs/features.md lists them beside Envoy's own).
const MAX_DOWNSTREAM_CONNECTIONS: u64 = 50_000;
const BUFFER_LIMIT_BYTES: u32 = 32_768;

const INTERNAL_LISTENER: &str = "type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener";

/// The share of traffic an invalid backendRef would have had answers 500 (as the spec asks):
/// a weighted cluster to an internal listener whose only route is a 500.
fn invalid_backend_listener() -> Listener {
    let name = crate::names::invalid_backend();
    let mut h = bare_hcm(name);
    h.route_config.virtual_hosts[0].domains = vec!["*".into()];
    h.route_config.virtual_hosts[0].routes.push(Route {
        direct_response: Some(DirectResponse { status: 500, body: None }),
        ..Route::new(
            name,
            RouteMatch {
                prefix: Some("/".into()),
                ..Default::default()
            },
        )
    });
    let filter = hcm_filter(h);
    Listener {
        name: name.into(),
        address: None,
        internal_listener: Some(Empty {}),
        listener_filters: Vec::new(),
        filter_chains: vec![FilterChain { name: None, filter_chain_match: None, filters: vec![filter], transport_socket: None, transport_socket_connect_timeout: None }],
        per_connection_buffer_limit_bytes: None,
        max_connections_to_accept_per_socket_event: None,
        socket_options: Vec::new(),
        listener_filters_timeout: None,
    }
}

fn invalid_backend_cluster() -> Cluster {
    let name = crate::names::invalid_backend();
    Cluster {
        name: name.into(),
        type_: "STATIC",
        connect_timeout: "10s".into(),
        lb: policy::cluster_lb(None),
        dns_lookup_family: None,
        typed_extension_protocol_options: None,
        per_connection_buffer_limit_bytes: BUFFER_LIMIT_BYTES,
        common_lb_config: None,
        health_checks: Vec::new(),
        outlier_detection: None,
        circuit_breakers: None,
        preconnect_policy: None,
        transport_socket: None,
        upstream_connection_options: None,
        dns_refresh_rate: None,
        respect_dns_ttl: None,
        load_assignment: ClusterLoadAssignment {
            cluster_name: name.into(),
            endpoints: vec![LocalityLbEndpoints {
                locality: None,
                lb_endpoints: vec![LbEndpoint {
                    endpoint: Endpoint {
                        address: Address::internal(name),
                    },
                }],
                load_balancing_weight: None,
                priority: 0,
            }],
        },
        track_cluster_stats: None,
    }
}

/// The rate-limit service (gRPC, so HTTP/2), when some route has global rate limits; by
/// address when it is one, else by DNS.
fn rate_limit_cluster(g: &GatewayIr, opts: &EnvoyOptions) -> Option<Cluster> {
    let (host, port) = opts.rate_limit_service.as_ref()?;
    if !global_rate_limit::used(g) {
        return None;
    }
    let at = vec![(host.clone(), u32::from(*port))];
    let endpoints = if host.parse::<std::net::IpAddr>().is_ok() { ClusterEndpoints::Static(at) } else { ClusterEndpoints::Dns(at) };
    Some(cluster(&ir::ClusterIr { name: crate::names::rate_limit_cluster().into(), endpoints, protocol: ir::UpstreamProtocol::H2c, shares: Vec::new(), tls: None, policy: None, http1: None }, None, opts))
}

/// The HTTP connection manager of one route table (a port, or one HTTPS listener's chain).
/// A route table's HCM; `domain` names it to the rate-limit service.
/// A route table's filters: the policy's connection limit, if any, then the HCM.
fn hcm_with(name: &str, vhosts: &[ir::VirtualHostIr], extra: Option<VirtualHost>, domain: &str, client: Option<&ClientSettings>, secrets: Option<&std::path::Path>) -> Vec<NetworkFilter> {
    let mut h = hcm_config(name, vhosts, extra, domain, secrets);
    let out: Vec<NetworkFilter> = client::connection_limit(name, client).into_iter().collect();
    if let Some(c) = client {
        client_settings(&mut h, c);
    }
    let mut out = out;
    out.push(hcm_filter(h));
    out
}

/// A connection manager of one empty virtual host for every host, without access log: the
/// start of the listeners gatewayc adds for itself (readiness, metrics, invalid backends).
fn bare_hcm(name: &str) -> HttpConnectionManager {
    let vhost = ir::VirtualHostIr { name: name.into(), hostname: "*".into(), routes: Vec::new() };
    let mut h = hcm_config(name, std::slice::from_ref(&vhost), None, "", None);
    h.access_log.clear();
    h
}

fn hcm_filter(h: HttpConnectionManager) -> NetworkFilter {
    NetworkFilter {
        name: "envoy.filters.network.http_connection_manager",
        typed_config: NetworkConfig::Hcm(Box::new(h)),
    }
}

fn hcm_config(
    name: &str,
    vhosts: &[ir::VirtualHostIr],
    extra: Option<VirtualHost>,
    domain: &str,
    secrets: Option<&std::path::Path>,
) -> HttpConnectionManager {
    HttpConnectionManager {
        type_: HCM,
        stat_prefix: name.to_string(),
        normalize_path: true,
        merge_slashes: true,
        path_with_escaped_slashes_action: "UNESCAPE_AND_REDIRECT",
        use_remote_address: true,
        original_ip_detection_extensions: Vec::new(),
        early_header_mutation_extensions: Vec::new(),
        strip_trailing_host_dot: false,
        http1_safe_max_connection_duration: false,
        scheme_header_transformation: None,
        forward_client_cert_details: None,
        set_current_client_cert_details: None,
        // As Envoy Gateway: the Server header of backends passes through, headers with
        // underscores are refused, HTTP/2 limits streams and windows.
        server_header_transformation: "PASS_THROUGH",
        common_http_protocol_options: CommonHttpProtocolOptions {
            headers_with_underscores_action: "REJECT_REQUEST",
            idle_timeout: None,
            max_connection_duration: None,
            max_requests_per_connection: None,
            max_stream_duration: None,
        },
        http_protocol_options: None,
        http2_protocol_options: Http2ProtocolOptions {
            max_concurrent_streams: 100,
            initial_stream_window_size: 65_536,
            initial_connection_window_size: 1_048_576,
            override_stream_error_on_invalid_http_message: None,
            connection_keepalive: None,
        },
        stream_idle_timeout: None,
        request_headers_timeout: None,
        request_timeout: None,
        preserve_external_request_id: None,
        generate_request_id: None,
        // WebSocket upgrades pass through to backends (appProtocol kubernetes.io/ws or not),
        // as Envoy Gateway allows them.
        upgrade_configs: vec![UpgradeConfig {
            upgrade_type: "websocket",
        }],
        access_log: vec![access_log::stdout_access_log()],
        tracing: None,
        http_filters: http_filters(vhosts, domain, secrets),
        route_config: RouteConfiguration {
            name: name.to_string(),
            // Virtual hosts match with and without the port; the Host header reaches the
            // backend as the client sent it.
            ignore_port_in_host_matching: true,
            virtual_hosts: vhosts.iter().map(|v| virtual_host(v, secrets)).chain(extra).collect(),
        },
    }
}

/// The HTTP filters of a route table, in Envoy Gateway's order; those only some routes use
/// are present when a route of the table uses them (each route configures its own).
fn http_filters(vhosts: &[ir::VirtualHostIr], domain: &str, secrets: Option<&std::path::Path>) -> Vec<HttpFilter> {
    use crate::resolve::traffic::Codec;
    let uses = |f: &dyn Fn(&crate::resolve::traffic::RouteTraffic) -> bool| {
        vhosts.iter().flat_map(|v| &v.routes).any(|r| matches!(&r.action, ir::Action::Forward { traffic: Some(t), .. } if f(t)))
    };
    let empty = |name: &'static str, type_| HttpFilter { name: name.into(), typed_config: TypedEmpty { type_ }.into(), disabled: false };
    let mut out: Vec<HttpFilter> = grpc_web(vhosts).into_iter().collect();
    if uses(&|t| t.fault.is_some()) {
        out.push(empty("envoy.filters.http.fault", http_filters::FAULT));
    }
    // CORS acts only on routes that carry a CORS policy; session persistence likewise.
    out.push(empty("envoy.filters.http.cors", CORS));
    // A SecurityPolicy's checks of who the client is; RBAC comes after the filters that
    // identify the client, before the rate limits (Envoy Gateway's order).
    out.extend(security::filters(vhosts, secrets));
    for c in credential::credential_filters(vhosts) {
        out.push(HttpFilter { name: c.filter.clone().into(), typed_config: FilterConfig::CredentialInjector(Box::new(credential::credential_injector(c))), disabled: true });
    }
    out.push(empty("envoy.filters.http.stateful_session", STATEFUL_SESSION));
    // The buffer filter, off, with the limit of the first route that buffers, as Envoy Gateway
    // writes it; each such route turns it on with its own limit.
    let first_buffer = vhosts.iter().flat_map(|v| &v.routes).find_map(|r| match &r.action {
        ir::Action::Forward { traffic: Some(t), .. } => t.request_buffer,
        _ => None,
    });
    if let Some(limit) = first_buffer {
        out.push(HttpFilter { name: "envoy.filters.http.buffer".into(), typed_config: FilterConfig::Buffer(http_filters::buffer(limit)), disabled: true });
    }
    // An EnvoyExtensionPolicy's Lua scripts and external processors, before RBAC.
    out.extend(extension::filters(vhosts));
    if security::uses(vhosts).rbac {
        out.push(empty(rbac::RBAC_FILTER, rbac::RBAC));
    }
    if uses(&|t| t.rate_limit.is_some()) {
        out.push(HttpFilter { name: "envoy.filters.http.local_ratelimit".into(), typed_config: FilterConfig::LocalRateLimit(http_filters::local_rate_limit_filter()), disabled: false });
    }
    if uses(&|t| t.global_rate_limit.is_some()) {
        out.push(HttpFilter { name: "envoy.filters.http.ratelimit".into(), typed_config: FilterConfig::RateLimit(global_rate_limit::filter(domain)), disabled: false });
    }
    // A custom_response filter per distinct set of overrides, off unless the route turns it on.
    let mut overrides: Vec<String> = Vec::new();
    for r in vhosts.iter().flat_map(|v| &v.routes) {
        if let ir::Action::Forward { traffic: Some(t), .. } = &r.action
            && let Some(ro) = &t.response_override
        {
            let name = crate::names::custom_response(ro);
            if !overrides.contains(&name) {
                out.push(HttpFilter { name: name.clone().into(), typed_config: FilterConfig::CustomResponse(custom_response::filter(ro)), disabled: true });
                overrides.push(name);
            }
        }
    }
    // A compressor per codec some route uses, off unless the route turns it on; its minimum
    // length is that of the first route that sets the codec, as Envoy Gateway takes it.
    for codec in [Codec::Gzip, Codec::Brotli, Codec::Zstd] {
        let first = vhosts.iter().flat_map(|v| &v.routes).find_map(|r| match &r.action {
            ir::Action::Forward { traffic: Some(t), .. } => t.compression.iter().find(|(c, _)| *c == codec).copied(),
            _ => None,
        });
        if let Some((_, min)) = first {
            out.push(HttpFilter { name: http_filters::compressor_name(codec).into(), typed_config: FilterConfig::Compressor(http_filters::compressor(codec, min)), disabled: true });
        }
    }
    out.push(HttpFilter { name: "envoy.filters.http.router".into(), typed_config: FilterConfig::Router(Router { type_: ROUTER, suppress_envoy_headers: true }), disabled: false });
    out
}

/// A route table that serves a GRPCRoute also answers gRPC-Web (browsers' gRPC), translated
/// to gRPC for the backend, as Envoy Gateway enables it.
fn grpc_web(vhosts: &[ir::VirtualHostIr]) -> Option<HttpFilter> {
    let grpc = vhosts.iter().flat_map(|v| &v.routes).any(|r| r.origin.rule.route.kind == crate::api::Kind::GRPCRoute);
    grpc.then(grpc_web_filter)
}

fn grpc_web_filter() -> HttpFilter {
    HttpFilter { name: "envoy.filters.http.grpc_web".into(), typed_config: TypedEmpty { type_: GRPC_WEB }.into(), disabled: false }
}

fn cluster(c: &ir::ClusterIr, client_cert: Option<&crate::resolve::tls::Certificate>, opts: &EnvoyOptions) -> Cluster {
    let policy = c.policy.as_deref();
    // A route's own cluster (its backends as weighted localities) resolves by DNS if any
    // backend does; IP addresses resolve to themselves.
    let dns = |e: &ClusterEndpoints| matches!(e, ClusterEndpoints::Dns(_));
    let by_dns = if c.shares.is_empty() {
        dns(&c.endpoints)
    } else {
        c.shares.iter().any(|(e, _, _)| dns(e))
    };
    let (type_, dns_lookup_family) = if by_dns {
        ("STRICT_DNS", Some(policy.and_then(|p| p.dns.as_ref()).and_then(|d| d.lookup_family).unwrap_or("V4_PREFERRED")))
    } else {
        ("STATIC", None)
    };
    let endpoints = if !c.shares.is_empty() {
        stream::localities(c)
    } else {
        let (ClusterEndpoints::Static(eps) | ClusterEndpoints::Dns(eps)) = &c.endpoints;
        if eps.is_empty() {
            Vec::new()
        } else {
            vec![LocalityLbEndpoints {
                locality: None,
                lb_endpoints: stream::lb_endpoints(eps),
                load_balancing_weight: None,
                priority: 0,
            }]
        }
    };
    Cluster {
        name: c.name.clone(),
        type_,
        connect_timeout: policy.and_then(|p| p.connect_timeout_ms).map(policy::duration).unwrap_or_else(|| "10s".into()),
        lb: policy::cluster_lb(policy),
        dns_lookup_family,
        typed_extension_protocol_options: policy::protocol_options(c.protocol == ir::UpstreamProtocol::H2c, policy.filter(|_| c.protocol != ir::UpstreamProtocol::Udp), c.http1),
        per_connection_buffer_limit_bytes: policy.and_then(|p| p.buffer_limit).unwrap_or(BUFFER_LIMIT_BYTES),
        dns_refresh_rate: policy.and_then(|p| p.dns.as_ref()).and_then(|d| d.refresh_rate_ms).filter(|_| by_dns).map(policy::duration),
        respect_dns_ttl: policy.and_then(|p| p.dns.as_ref()).and_then(|d| d.respect_dns_ttl).filter(|_| by_dns),
        common_lb_config: policy::common_lb_config(!c.shares.is_empty(), policy),
        health_checks: health::health_checks(policy),
        outlier_detection: health::outlier_detection(policy),
        circuit_breakers: policy::circuit_breakers(policy, (c.protocol == ir::UpstreamProtocol::Udp).then_some(stream::UDP_MAX_SESSIONS)),
        preconnect_policy: policy::preconnect(policy),
        transport_socket: policy::with_proxy_protocol(c.tls.as_ref().map(|t| upstream_tls(t, c.protocol == ir::UpstreamProtocol::H2c, client_cert, opts)), policy),
        upstream_connection_options: policy::connection_options(policy),
        load_assignment: ClusterLoadAssignment { cluster_name: c.name.clone(), endpoints },
        track_cluster_stats: None,
    }
}

/// Where Envoy finds the system trust store (`wellKnownCACertificates: System`): the path of
/// Debian's ca-certificates, in Envoy's images and on most Linux machines.
pub const SYSTEM_TRUST_STORE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Verified TLS to a backend: SNI, the CA, the names its certificate must carry (HTTP/2 by
/// ALPN for a cluster that speaks it).
fn upstream_tls(t: &crate::resolve::backendtls::UpstreamTls, h2: bool, client_cert: Option<&crate::resolve::tls::Certificate>, opts: &EnvoyOptions) -> UpstreamTransportSocket {
    use crate::resolve::backendtls::{SanMatch, TrustedCa};
    let trusted_ca = match &t.ca {
        TrustedCa::Bundle(pem) => Some(DataSource { inline_string: Some(pem.clone()), filename: None }),
        TrustedCa::System => Some(DataSource { inline_string: None, filename: Some(SYSTEM_TRUST_STORE.into()) }),
        TrustedCa::Skip => None,
    };
    let settings = t.settings.as_deref();
    let match_typed_subject_alt_names = t
        .sans
        .iter()
        .map(|s| match s {
            SanMatch::Dns(h) => SanMatcher { san_type: "DNS", matcher: StringMatcher::exact(h), oid: None },
            SanMatch::Uri(u) => SanMatcher { san_type: "URI", matcher: StringMatcher::exact(u), oid: None },
        })
        .collect();
    UpstreamTransportSocket {
        name: "envoy.transport_sockets.tls",
        typed_config: UpstreamSocketConfig::Tls(UpstreamTlsContext {
            type_: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            sni: t.sni.clone(),
            common_tls_context: UpstreamCommonTlsContext {
                // A Backend's own client certificate, else the Gateway's, for backends that ask.
                tls_certificates: settings.and_then(|s| s.client_certificate.as_deref()).or(client_cert).map(|c| listener::certificate_sources(c, opts)).into_iter().collect(),
                tls_params: settings.filter(|s| s.min_version.is_some() || s.max_version.is_some() || !s.ciphers.is_empty() || !s.ecdh_curves.is_empty() || !s.signature_algorithms.is_empty()).map(|s| UpstreamTlsParameters {
                    tls_minimum_protocol_version: s.min_version,
                    tls_maximum_protocol_version: s.max_version,
                    cipher_suites: s.ciphers.clone(),
                    ecdh_curves: s.ecdh_curves.clone(),
                    signature_algorithms: s.signature_algorithms.clone(),
                }),
                validation_context: trusted_ca.map(|trusted_ca| CertificateValidationContext {
                    trusted_ca,
                    match_typed_subject_alt_names,
                    verify_certificate_spki: Vec::new(),
                    verify_certificate_hash: Vec::new(),
                    allow_expired_certificate: false,
                    crl: None,
                    only_verify_leaf_cert_crl: false,
                    trust_chain_verification: None,
                }),
                alpn_protocols: match settings.and_then(|s| s.alpn.clone()) {
                    Some(a) => a,
                    None if h2 => vec!["h2".to_string()],
                    None => Vec::new(),
                },
            },
        }),
    }
}

/// Does the bootstrap change after it is built (an EnvoyProxy's `bootstrap`, patches)?
pub fn is_patched(g: &GatewayIr) -> bool {
    !g.patches.is_empty() || g.infra.proxy.bootstrap.is_some()
}

/// The bootstrap with the EnvoyProxy's `bootstrap` changes, then the Gateway's
/// EnvoyPatchPolicies, applied; and what became of each policy.
pub fn patched(b: &Bootstrap, g: &GatewayIr) -> Result<(serde_json::Value, Vec<crate::resolve::epp::Outcome>), String> {
    use crate::resolve::workload::BootstrapChange;
    let mut doc = serde_json::to_value(b).map_err(|e| e.to_string())?;
    match g.infra.proxy.bootstrap.as_deref() {
        Some(BootstrapChange::Merge(v)) => patch::merge(&mut doc, v),
        Some(BootstrapChange::Patch(ops)) => patch::apply_operations(&mut doc, ops).map_err(|e| format!("EnvoyProxy bootstrap: {e}"))?,
        None => {}
    }
    let outcomes = patch::apply(&mut doc, g);
    Ok((doc, outcomes))
}

/// Serialize a bootstrap as YAML or JSON; same input, same bytes.
pub fn render<T: serde::Serialize>(b: &T, json: bool) -> Result<String, String> {
    let mut out = Vec::new();
    write(b, json, &mut out)?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Serialize a bootstrap straight into a writer (a staged file), without a whole-text copy.
pub fn write<T: serde::Serialize>(b: &T, json: bool, w: &mut dyn std::io::Write) -> Result<(), String> {
    if json {
        serde_json::to_writer_pretty(&mut *w, b).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(|e| e.to_string())
    } else {
        crate::emit::yaml::to_writer(b, w)
    }
}
