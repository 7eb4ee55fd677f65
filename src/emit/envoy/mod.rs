//! IR to a static Envoy v3 bootstrap: one listener per port, an inline route table,
//! one cluster per backend. Secure defaults as Envoy Gateway ships them.

mod types;

use crate::ir::{self, Action, ClusterEndpoints, GatewayIr, HeaderOps, PathMatch, PathRewrite, StringMatch};
use std::collections::BTreeMap;
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
}

impl Default for EnvoyOptions {
    fn default() -> Self {
        EnvoyOptions {
            bind_address: "0.0.0.0".into(),
            admin_address: "127.0.0.1".into(),
            admin_port: 19000,
            secrets_dir: None,
            readiness_port: None,
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
const CORS_POLICY: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
const STDOUT_LOG: &str = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";

fn access_log_format() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("start_time", "%START_TIME%"),
        ("method", "%REQ(:METHOD)%"),
        ("x-envoy-origin-path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
        ("protocol", "%PROTOCOL%"),
        ("response_code", "%RESPONSE_CODE%"),
        ("response_flags", "%RESPONSE_FLAGS%"),
        ("bytes_received", "%BYTES_RECEIVED%"),
        ("bytes_sent", "%BYTES_SENT%"),
        ("duration", "%DURATION%"),
        ("x-forwarded-for", "%REQ(X-FORWARDED-FOR)%"),
        ("user-agent", "%REQ(USER-AGENT)%"),
        ("x-request-id", "%REQ(X-REQUEST-ID)%"),
        (":authority", "%REQ(:AUTHORITY)%"),
        ("upstream_host", "%UPSTREAM_HOST%"),
        ("upstream_cluster", "%UPSTREAM_CLUSTER%"),
        ("route_name", "%ROUTE_NAME%"),
    ])
}

/// The certificate files a bootstrap refers to when secrets go to files: (path, PEM).
pub fn secret_files(g: &GatewayIr, dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = std::collections::BTreeMap::new();
    for c in g.ports.iter().flat_map(|p| p.tls_chains()).flat_map(|c| &c.certificates) {
        let (crt, key) = crate::names::certificate_files(dir, &c.secret);
        out.insert(crt, c.chain_pem.clone());
        out.insert(key, c.key_pem.clone());
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
                .map(|p| listener(p, opts))
                .chain(readiness_listener(opts))
                .chain(g.invalid_backend.then(invalid_backend_listener))
                .collect(),
            clusters: g
                .clusters
                .iter()
                .map(cluster)
                .chain(readiness_cluster(opts))
                .chain(g.invalid_backend.then(invalid_backend_cluster))
                .collect(),
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
    let vhost = ir::VirtualHostIr { name: name.into(), hostname: "*".into(), routes: Vec::new() };
    let mut filter = hcm(name, std::slice::from_ref(&vhost));
    filter.typed_config.access_log.clear();
    filter.typed_config.route_config.virtual_hosts[0].domains = vec!["*".into()];
    filter.typed_config.route_config.virtual_hosts[0].routes.push(Route { direct_response: Some(DirectResponse { status: 500 }), ..Route::new(name, RouteMatch { prefix: Some("/".into()), ..Default::default() }) });
    Listener {
        name: name.into(),
        address: None,
        internal_listener: Some(Empty {}),
        listener_filters: Vec::new(),
        filter_chains: vec![FilterChain { name: None, filter_chain_match: None, filters: vec![filter], transport_socket: None }],
        per_connection_buffer_limit_bytes: None,
        max_connections_to_accept_per_socket_event: None,
    }
}

fn invalid_backend_cluster() -> Cluster {
    let name = crate::names::invalid_backend();
    Cluster {
        name: name.into(),
        type_: "STATIC",
        connect_timeout: "10s",
        lb_policy: "ROUND_ROBIN",
        dns_lookup_family: None,
        typed_extension_protocol_options: None,
        per_connection_buffer_limit_bytes: BUFFER_LIMIT_BYTES,
        load_assignment: ClusterLoadAssignment {
            cluster_name: name.into(),
            endpoints: vec![LocalityLbEndpoints { lb_endpoints: vec![LbEndpoint { endpoint: Endpoint { address: Address::internal(name) } }] }],
        },
    }
}

/// `GET /ready` on the readiness port, proxied to the admin interface's `/ready`.
fn readiness_listener(opts: &EnvoyOptions) -> Option<Listener> {
    let port = opts.readiness_port?;
    let vhost = ir::VirtualHostIr { name: crate::names::readiness().into(), hostname: "*".into(), routes: Vec::new() };
    let mut filter = hcm(crate::names::readiness(), std::slice::from_ref(&vhost));
    filter.typed_config.access_log.clear();
    filter.typed_config.route_config.virtual_hosts[0].routes.push(Route { route: Some(RouteAction { cluster: Some(crate::names::admin_cluster().into()), ..Default::default() }), ..Route::new(crate::names::readiness(), RouteMatch { path: Some("/ready".into()), ..Default::default() }) });
    Some(Listener {
        name: crate::names::readiness().into(),
        address: Some(Address::new(&opts.bind_address, port)),
        internal_listener: None,
        listener_filters: Vec::new(),
        filter_chains: vec![FilterChain { name: None, filter_chain_match: None, filters: vec![filter], transport_socket: None }],
        per_connection_buffer_limit_bytes: None,
        max_connections_to_accept_per_socket_event: None,
    })
}

fn readiness_cluster(opts: &EnvoyOptions) -> Option<Cluster> {
    opts.readiness_port?;
    Some(cluster(&ir::ClusterIr {
        name: crate::names::admin_cluster().into(),
        endpoints: ClusterEndpoints::Static(vec![(opts.admin_address.clone(), opts.admin_port)]),
        protocol: ir::UpstreamProtocol::Http1,
    }))
}

const TLS_INSPECTOR: &str = "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
const DOWNSTREAM_TLS: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

fn listener(p: &ir::PortIr, opts: &EnvoyOptions) -> Listener {
    let https = matches!(p.transport, ir::Transport::Https { .. });
    let source = |cert: &crate::resolve::tls::Certificate, key: bool| match &opts.secrets_dir {
        None => DataSource { inline_string: Some(if key { cert.key_pem.clone() } else { cert.chain_pem.clone() }), filename: None },
        Some(dir) => {
            let (crt, k) = crate::names::certificate_files(dir, &cert.secret);
            DataSource { inline_string: None, filename: Some((if key { k } else { crt }).display().to_string()) }
        }
    };
    let filter_chains = if let ir::Transport::Https { chains } = &p.transport {
        chains
            .iter()
            .map(|c| FilterChain {
                name: Some(c.name.clone()),
                filter_chain_match: if c.server_names.is_empty() {
                    None
                } else {
                    Some(FilterChainMatch { server_names: c.server_names.clone() })
                },
                filters: vec![hcm_with(&c.name, &c.virtual_hosts, misdirected_host(c))],
                transport_socket: Some(TransportSocket {
                    name: "envoy.transport_sockets.tls",
                    typed_config: DownstreamTlsContext {
                        type_: DOWNSTREAM_TLS,
                        common_tls_context: CommonTlsContext {
                            tls_certificates: c
                                .certificates
                                .iter()
                                .map(|cert| TlsCertificate {
                                    certificate_chain: source(cert, false),
                                    private_key: source(cert, true),
                                })
                                .collect(),
                            alpn_protocols: if c.http2 { vec!["h2", "http/1.1"] } else { vec!["http/1.1"] },
                        },
                    },
                }),
            })
            .collect()
    } else {
        vec![FilterChain { name: None, filter_chain_match: None, filters: vec![hcm(&p.name, &p.virtual_hosts().cloned().collect::<Vec<_>>())], transport_socket: None }]
    };
    Listener {
        name: p.name.clone(),
        address: Some(Address::new(&opts.bind_address, p.bind_port)),
        internal_listener: None,
        listener_filters: if https {
            vec![ListenerFilter { name: "envoy.filters.listener.tls_inspector", typed_config: TypedEmpty { type_: TLS_INSPECTOR } }]
        } else {
            Vec::new()
        },
        filter_chains,
        per_connection_buffer_limit_bytes: Some(BUFFER_LIMIT_BYTES),
        max_connections_to_accept_per_socket_event: Some(1),
    }
}

/// The virtual host answering 421 for hosts another HTTPS listener of the port owns.
fn misdirected_host(c: &ir::TlsChainIr) -> Option<VirtualHost> {
    if c.misdirected.is_empty() {
        return None;
    }
    Some(VirtualHost {
        name: format!("{}/misdirected", c.name),
        domains: c.misdirected.clone(),
        routes: vec![Route { direct_response: Some(DirectResponse { status: 421 }), ..Route::new(format!("{}/misdirected", c.name), RouteMatch { prefix: Some("/".into()), ..Default::default() }) }],
    })
}

/// The HTTP connection manager of one route table (a port, or one HTTPS listener's chain).
fn hcm(name: &str, vhosts: &[ir::VirtualHostIr]) -> NetworkFilter {
    hcm_with(name, vhosts, None)
}

fn hcm_with(name: &str, vhosts: &[ir::VirtualHostIr], extra: Option<VirtualHost>) -> NetworkFilter {
    NetworkFilter {
        name: "envoy.filters.network.http_connection_manager",
        typed_config: HttpConnectionManager {
            type_: HCM,
            stat_prefix: name.to_string(),
            normalize_path: true,
            merge_slashes: true,
            path_with_escaped_slashes_action: "UNESCAPE_AND_REDIRECT",
            use_remote_address: true,
            // As Envoy Gateway: the Server header of backends passes through, headers with
            // underscores are refused, HTTP/2 limits streams and windows.
            server_header_transformation: "PASS_THROUGH",
            common_http_protocol_options: CommonHttpProtocolOptions { headers_with_underscores_action: "REJECT_REQUEST" },
            http2_protocol_options: Http2ProtocolOptions { max_concurrent_streams: 100, initial_stream_window_size: 65_536, initial_connection_window_size: 1_048_576 },
            // WebSocket upgrades pass through to backends (appProtocol kubernetes.io/ws or not),
            // as Envoy Gateway allows them.
            upgrade_configs: vec![UpgradeConfig { upgrade_type: "websocket" }],
            access_log: vec![AccessLog {
                name: "envoy.access_loggers.stdout",
                typed_config: StdoutAccessLog { type_: STDOUT_LOG, log_format: LogFormat { json_format: access_log_format() } },
            }],
            // CORS acts only on routes that carry a CORS policy.
            http_filters: vec![
                HttpFilter { name: "envoy.filters.http.cors", typed_config: TypedEmpty { type_: CORS } },
                // Session persistence acts only on routes that carry a session policy.
                HttpFilter { name: "envoy.filters.http.stateful_session", typed_config: TypedEmpty { type_: STATEFUL_SESSION } },
                HttpFilter { name: "envoy.filters.http.router", typed_config: TypedEmpty { type_: ROUTER } },
            ],
            route_config: RouteConfiguration {
                name: name.to_string(),
                // Virtual hosts match with and without the port; the Host header reaches the
                // backend as the client sent it.
                ignore_port_in_host_matching: true,
                virtual_hosts: vhosts.iter().map(virtual_host).chain(extra).collect(),
            },
        },
    }
}

fn virtual_host(v: &ir::VirtualHostIr) -> VirtualHost {
    VirtualHost { name: v.name.clone(), domains: vec![v.hostname.clone()], routes: v.routes.iter().flat_map(|r| routes(r, &v.hostname)).collect() }
}

/// The Envoy routes of one IR route. A redirect to a scheme's well-known port must drop the
/// port the client put in Host, which Envoy keeps unless it rewrites the host or the port: on an
/// exact hostname the redirect names that host; on a wildcard one, a first route for Hosts that
/// carry a port sets the well-known port explicitly (`host:443`), a second serves the rest.
fn routes(r: &ir::RouteIr, vhost: &str) -> Vec<Route> {
    let Action::Redirect(rd) = &r.action else { return vec![route(r)] };
    if !rd.default_port || rd.hostname.is_some() {
        return vec![route(r)];
    }
    if !vhost.starts_with('*') {
        let mut out = route(r);
        if let Some(a) = out.redirect.as_mut() {
            a.host_redirect = Some(vhost.to_string());
        }
        return vec![out];
    }
    let mut with_port = route(r);
    with_port.name = format!("{}/host-with-port", r.name);
    with_port.match_.headers.push(HeaderMatcher { name: ":authority".into(), string_match: string_matcher(&StringMatch::Regex(r"^.*:[0-9]+$".into())) });
    if let Some(a) = with_port.redirect.as_mut() {
        a.port_redirect = Some(rd.port);
    }
    vec![with_port, route(r)]
}

fn string_matcher(m: &StringMatch) -> StringMatcher {
    match m {
        StringMatch::Exact(v) => StringMatcher { exact: Some(v.clone()), safe_regex: None },
        StringMatch::Regex(v) => StringMatcher { exact: None, safe_regex: Some(RegexMatcher { regex: v.clone() }) },
    }
}

fn header_options(ops: &HeaderOps) -> Vec<HeaderValueOption> {
    let set = ops.set.iter().map(|(k, v)| HeaderValueOption {
        header: HeaderValue { key: k.clone(), value: v.clone() },
        append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
    });
    let add = ops.add.iter().map(|(k, v)| HeaderValueOption {
        header: HeaderValue { key: k.clone(), value: v.clone() },
        append_action: "APPEND_IF_EXISTS_OR_ADD",
    });
    set.chain(add).collect()
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// (prefix_rewrite, regex_rewrite) for a path rewrite, with Gateway API's slash rules.
fn rewrite(p: &PathRewrite) -> (Option<String>, Option<RegexRewrite>, Option<String>) {
    match p {
        PathRewrite::Full(full) => (None, None, Some(full.clone())),
        PathRewrite::Prefix { matched, replacement } => {
            if matched == "/" {
                // Everything matched `/`: put the replacement in front of the whole path.
                let sub = if replacement == "/" { "/".to_string() } else { format!("{replacement}/") };
                (None, Some(RegexRewrite { pattern: RegexMatcher { regex: "^/".into() }, substitution: sub }), None)
            } else if replacement == "/" {
                // `/foo/bar` → `/bar`, `/foo` and `/foo/` → `/`.
                (None, Some(RegexRewrite { pattern: RegexMatcher { regex: format!("^{}/*", regex_escape(matched)) }, substitution: "/".into() }), None)
            } else {
                (Some(replacement.clone()), None, None)
            }
        }
    }
}

/// Milliseconds as a proto3 JSON duration (`1.500s`).
fn envoy_duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{}.{:03}s", ms / 1000, ms % 1000) }
}

fn redirect_code(status: u16) -> &'static str {
    match status {
        301 => "MOVED_PERMANENTLY",
        303 => "SEE_OTHER",
        307 => "TEMPORARY_REDIRECT",
        308 => "PERMANENT_REDIRECT",
        _ => "FOUND",
    }
}

fn route(r: &ir::RouteIr) -> Route {
    let mut m = RouteMatch::default();
    match &r.matches.path {
        PathMatch::Exact(v) => m.path = Some(v.clone()),
        PathMatch::Prefix(v) if v == "/" => m.prefix = Some("/".into()),
        PathMatch::Prefix(v) => m.path_separated_prefix = Some(v.clone()),
        PathMatch::Regex(v) => m.safe_regex = Some(RegexMatcher { regex: v.clone() }),
    }
    if let Some(method) = &r.matches.method {
        m.headers.push(HeaderMatcher { name: ":method".into(), string_match: string_matcher(&StringMatch::Exact(method.clone())) });
    }
    m.headers.extend(r.matches.headers.iter().map(|h| HeaderMatcher { name: h.name.clone(), string_match: string_matcher(&h.value) }));
    m.query_parameters = r.matches.query.iter().map(|q| QueryParameterMatcher { name: q.name.clone(), string_match: string_matcher(&q.value) }).collect();
    let mut out = Route {
        name: r.name.clone(),
        match_: m,
        route: None,
        redirect: None,
        direct_response: None,
        request_headers_to_add: header_options(&r.request_headers),
        request_headers_to_remove: r.request_headers.remove.clone(),
        response_headers_to_add: header_options(&r.response_headers),
        response_headers_to_remove: r.response_headers.remove.clone(),
        typed_per_filter_config: r.cors.as_ref().map(|c| {
            let join = |v: &[String]| if v.is_empty() { None } else { Some(v.join(", ")) };
            PerFilterConfig {
                stateful_session: None,
                cors: Some(CorsPolicy {
                    type_: CORS_POLICY,
                    allow_origin_string_match: c.origins.iter().map(string_matcher).collect(),
                    allow_methods: join(&c.methods),
                    allow_headers: join(&c.headers),
                    expose_headers: join(&c.expose_headers),
                    max_age: c.max_age.to_string(),
                    allow_credentials: c.credentials,
                    // A preflight from an origin not allowed is answered here, never forwarded.
                    forward_not_matching_preflights: false,
                }),
            }
        }),
    };
    match &r.action {
        Action::DirectResponse { status } => out.direct_response = Some(DirectResponse { status: *status }),
        Action::Redirect(rd) => {
            let (prefix, regex, full) = rd.path.as_ref().map(rewrite).unwrap_or((None, None, None));
            out.redirect = Some(RedirectAction {
                scheme_redirect: rd.scheme.clone(),
                host_redirect: rd.hostname.clone(),
                port_redirect: (!rd.default_port).then_some(rd.port),
                path_redirect: full,
                prefix_rewrite: prefix,
                regex_rewrite: regex,
                response_code: redirect_code(rd.status),
            });
        }
        Action::Forward { clusters, host_rewrite, path_rewrite, timeout_ms, backend_timeout_ms, mirrors, retry, session } => {
            let mut ra = RouteAction { host_rewrite_literal: host_rewrite.clone(), ..Default::default() };
            // Gateway API `request` is the route timeout (0 disables it); `backendRequest` bounds
            // each try (there are no retries without a retry filter).
            ra.timeout = timeout_ms.map(envoy_duration);
            let per_try_timeout = backend_timeout_ms.filter(|ms| *ms > 0).map(envoy_duration);
            ra.retry_policy = match retry {
                Some(r) => Some(RetryPolicy {
                    retry_on: Some(if r.codes.is_empty() {
                        "connect-failure,refused-stream,reset".to_string()
                    } else {
                        "connect-failure,refused-stream,reset,retriable-status-codes".to_string()
                    }),
                    num_retries: r.attempts,
                    per_try_timeout,
                    retriable_status_codes: r.codes.clone(),
                    retry_back_off: r.backoff_ms.filter(|ms| *ms > 0).map(|ms| RetryBackOff { base_interval: envoy_duration(ms) }),
                }),
                None => per_try_timeout.map(|t| RetryPolicy { num_retries: 0, per_try_timeout: Some(t), ..Default::default() }),
            };
            if let Some(s) = session {
                let cfg = out.typed_per_filter_config.get_or_insert(PerFilterConfig { cors: None, stateful_session: None });
                cfg.stateful_session = Some(StatefulSessionPerRoute {
                    type_: STATEFUL_SESSION_ROUTE,
                    stateful_session: StatefulSession {
                        session_state: match s {
                            ir::SessionIr::Cookie { name, ttl_ms } => SessionState {
                                name: "envoy.http.stateful_session.cookie",
                                typed_config: SessionStateConfig::Cookie {
                                    type_: COOKIE_SESSION,
                                    cookie: SessionCookie { name: name.clone(), path: "/", ttl: ttl_ms.map(envoy_duration) },
                                },
                            },
                            ir::SessionIr::Header { name } => SessionState {
                                name: "envoy.http.stateful_session.header",
                                typed_config: SessionStateConfig::Header { type_: HEADER_SESSION, name: name.clone() },
                            },
                        },
                    },
                });
            }
            ra.request_mirror_policies = mirrors
                .iter()
                .map(|(cluster, per_million)| RequestMirrorPolicy {
                    cluster: cluster.clone(),
                    // Everything mirrored needs no fraction at all.
                    runtime_fraction: (*per_million < 1_000_000).then_some(RuntimeFractionalPercent {
                        default_value: FractionalPercent { numerator: *per_million, denominator: "MILLION" },
                    }),
                })
                .collect();
            if let Some(p) = path_rewrite {
                let (prefix, regex, full) = rewrite(p);
                ra.prefix_rewrite = prefix;
                ra.regex_rewrite = regex.or(full.map(|f| RegexRewrite { pattern: RegexMatcher { regex: "^/.*$".into() }, substitution: f }));
            }
            let simple = clusters.len() == 1 && clusters[0].request_headers.is_empty() && clusters[0].response_headers.is_empty();
            if simple {
                ra.cluster = Some(clusters[0].cluster.clone());
            } else {
                ra.weighted_clusters = Some(WeightedClusters {
                    clusters: clusters
                        .iter()
                        .map(|c| ClusterWeight {
                            name: c.cluster.clone(),
                            weight: c.weight,
                            request_headers_to_add: header_options(&c.request_headers),
                            request_headers_to_remove: c.request_headers.remove.clone(),
                            response_headers_to_add: header_options(&c.response_headers),
                            response_headers_to_remove: c.response_headers.remove.clone(),
                        })
                        .collect(),
                });
            }
            out.route = Some(ra);
        }
    }
    out
}

fn cluster(c: &ir::ClusterIr) -> Cluster {
    let (type_, eps, dns) = match &c.endpoints {
        ClusterEndpoints::Static(e) => ("STATIC", e, None),
        ClusterEndpoints::Dns(e) => ("STRICT_DNS", e, Some("V4_PREFERRED")),
    };
    Cluster {
        name: c.name.clone(),
        type_,
        connect_timeout: "10s",
        lb_policy: "ROUND_ROBIN",
        dns_lookup_family: dns,
        typed_extension_protocol_options: (c.protocol == ir::UpstreamProtocol::H2c).then_some(ProtocolOptions {
            http: HttpProtocolOptions {
                type_: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                explicit_http_config: ExplicitHttpConfig { http2_protocol_options: Empty {} },
            },
        }),
        per_connection_buffer_limit_bytes: BUFFER_LIMIT_BYTES,
        load_assignment: ClusterLoadAssignment {
            cluster_name: c.name.clone(),
            endpoints: if eps.is_empty() {
                Vec::new()
            } else {
                vec![LocalityLbEndpoints {
                    lb_endpoints: eps.iter().map(|(a, p)| LbEndpoint { endpoint: Endpoint { address: Address::new(a, *p) } }).collect(),
                }]
            },
        },
    }
}

/// Serialize a bootstrap as YAML or JSON; same input, same bytes.
pub fn render(b: &Bootstrap, json: bool) -> Result<String, String> {
    let mut out = Vec::new();
    write(b, json, &mut out)?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Serialize a bootstrap straight into a writer (a staged file), without a whole-text copy.
pub fn write(b: &Bootstrap, json: bool, w: &mut dyn std::io::Write) -> Result<(), String> {
    if json {
        serde_json::to_writer_pretty(&mut *w, b).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(|e| e.to_string())
    } else {
        crate::emit::yaml::to_writer(b, w)
    }
}
