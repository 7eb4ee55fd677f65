//! The subset of Envoy's v3 API that we emit, as plain serde structs (proto field names).
//! Envoy itself is the judge: every bootstrap the tests produce passes `envoy --mode validate`.

use serde::Serialize;

#[derive(Serialize)]
pub struct Bootstrap {
    pub node: Node,
    pub admin: Admin,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bootstrap_extensions: Vec<BootstrapExtension>,
    pub static_resources: StaticResources,
    pub layered_runtime: LayeredRuntime,
    pub overload_manager: OverloadManager,
}

#[derive(Serialize)]
pub struct LayeredRuntime {
    pub layers: Vec<RuntimeLayer>,
}

#[derive(Serialize)]
pub struct RuntimeLayer {
    pub name: &'static str,
    pub static_layer: std::collections::BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
pub struct OverloadManager {
    pub refresh_interval: &'static str,
    pub resource_monitors: Vec<ResourceMonitor>,
}

#[derive(Serialize)]
pub struct ResourceMonitor {
    pub name: &'static str,
    pub typed_config: DownstreamConnectionsConfig,
}

#[derive(Serialize)]
pub struct DownstreamConnectionsConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub max_active_downstream_connections: u64,
}

#[derive(Serialize)]
pub struct BootstrapExtension {
    pub name: &'static str,
    pub typed_config: TypedEmpty,
}

#[derive(Serialize)]
pub struct Node {
    pub id: String,
    pub cluster: String,
}

#[derive(Serialize)]
pub struct Admin {
    pub address: Address,
}

#[derive(Serialize)]
pub struct StaticResources {
    pub listeners: Vec<Listener>,
    pub clusters: Vec<Cluster>,
}

#[derive(Serialize)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_address: Option<SocketAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envoy_internal_address: Option<InternalAddress>,
}

#[derive(Serialize)]
pub struct InternalAddress {
    pub server_listener_name: String,
}

#[derive(Serialize)]
pub struct SocketAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
    pub address: String,
    pub port_value: u32,
}

impl Address {
    pub fn new(address: &str, port: u32) -> Self {
        Address {
            socket_address: Some(SocketAddress {
                protocol: None,
                address: address.to_string(),
                port_value: port,
            }),
            envoy_internal_address: None,
        }
    }
    /// A UDP socket.
    pub fn udp(address: &str, port: u32) -> Self {
        Address {
            socket_address: Some(SocketAddress {
                protocol: Some("UDP"),
                address: address.to_string(),
                port_value: port,
            }),
            envoy_internal_address: None,
        }
    }
    /// An Envoy internal listener (no socket).
    pub fn internal(listener: &str) -> Self {
        Address { socket_address: None, envoy_internal_address: Some(InternalAddress { server_listener_name: listener.to_string() }) }
    }
}

#[derive(Serialize)]
pub struct Listener {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_listener: Option<Empty>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listener_filters: Vec<ListenerFilter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter_chains: Vec<FilterChain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_connection_buffer_limit_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections_to_accept_per_socket_event: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub socket_options: Vec<SocketOption>,
    /// How long listener filters (TLS inspector, PROXY protocol) may take (Envoy: 15s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_filters_timeout: Option<String>,
}

/// A socket option set on the listening socket before it is bound (accepted sockets
/// inherit it).
#[derive(Serialize)]
pub struct SocketOption {
    pub level: i64,
    pub name: i64,
    pub int_value: u64,
}

#[derive(Serialize)]
pub struct ListenerFilter {
    pub name: &'static str,
    pub typed_config: ListenerFilterConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum ListenerFilterConfig {
    Empty(TypedEmpty),
    ProxyProtocol(ProxyProtocolConfig),
    UdpProxy(super::stream::UdpProxyConfig),
}

#[derive(Serialize)]
pub struct FilterChain {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_chain_match: Option<FilterChainMatch>,
    pub filters: Vec<NetworkFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_socket: Option<TransportSocket>,
    /// The TLS handshake must be done within this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_socket_connect_timeout: Option<String>,
}

#[derive(Serialize)]
pub struct FilterChainMatch {
    pub server_names: Vec<String>,
}

#[derive(Serialize)]
pub struct TransportSocket {
    pub name: &'static str,
    pub typed_config: DownstreamTlsContext,
}

#[derive(Serialize)]
pub struct DownstreamTlsContext {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub common_tls_context: CommonTlsContext,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_client_certificate: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_stateful_session_resumption: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_stateless_session_resumption: bool,
}

#[derive(Serialize)]
pub struct CommonTlsContext {
    pub tls_params: TlsParameters,
    pub tls_certificates: Vec<TlsCertificate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_context: Option<CertificateValidationContext>,
    pub alpn_protocols: Vec<String>,
}

/// The TLS versions, cipher suites, curves and signature algorithms a listener accepts.
#[derive(Serialize)]
pub struct TlsParameters {
    pub tls_minimum_protocol_version: &'static str,
    pub tls_maximum_protocol_version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ecdh_curves: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signature_algorithms: Vec<String>,
}

/// The CA bundle peers' certificates must chain to, and names they must carry.
#[derive(Serialize)]
pub struct CertificateValidationContext {
    pub trusted_ca: DataSource,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_typed_subject_alt_names: Vec<SanMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verify_certificate_spki: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verify_certificate_hash: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_expired_certificate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_chain_verification: Option<&'static str>,
    /// Revocation lists (PEM); revoked certificates are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crl: Option<DataSource>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub only_verify_leaf_cert_crl: bool,
}

#[derive(Serialize)]
pub struct TlsCertificate {
    pub certificate_chain: DataSource,
    pub private_key: DataSource,
}

#[derive(Serialize)]
pub struct DataSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[derive(Serialize)]
pub struct NetworkFilter {
    pub name: &'static str,
    pub typed_config: NetworkConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum NetworkConfig {
    Hcm(Box<HttpConnectionManager>),
    TcpProxy(super::stream::TcpProxy),
    ConnectionLimit(ConnectionLimit),
}

/// At most `max_connections` connections at once on the filter chain; one more is closed
/// (after `delay`).
#[derive(Serialize)]
pub struct ConnectionLimit {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stat_prefix: String,
    pub max_connections: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
}

#[derive(Serialize)]
pub struct HttpConnectionManager {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stat_prefix: String,
    pub normalize_path: bool,
    pub merge_slashes: bool,
    pub path_with_escaped_slashes_action: &'static str,
    pub use_remote_address: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_client_cert_details: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_current_client_cert_details: Option<ClientCertDetails>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub early_header_mutation_extensions: Vec<super::header_mutation::EarlyMutation>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strip_trailing_host_dot: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub http1_safe_max_connection_duration: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme_header_transformation: Option<SchemeTransformation>,
    /// How Envoy finds the client's address when it is not the connection's peer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub original_ip_detection_extensions: Vec<IpDetection>,
    pub server_header_transformation: &'static str,
    pub common_http_protocol_options: CommonHttpProtocolOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_protocol_options: Option<Http1ProtocolOptions>,
    pub http2_protocol_options: Http2ProtocolOptions,
    /// The whole request must arrive within this (a ClientTrafficPolicy's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_idle_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preserve_external_request_id: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_request_id: Option<bool>,
    pub upgrade_configs: Vec<UpgradeConfig>,
    pub access_log: Vec<AccessLog>,
    pub http_filters: Vec<HttpFilter>,
    pub route_config: RouteConfiguration,
}

#[derive(Serialize)]
pub struct CommonHttpProtocolOptions {
    pub headers_with_underscores_action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connection_duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stream_duration: Option<String>,
}

#[derive(Serialize)]
pub struct Http2ProtocolOptions {
    pub max_concurrent_streams: u32,
    pub initial_stream_window_size: u32,
    pub initial_connection_window_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_stream_error_on_invalid_http_message: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_keepalive: Option<super::policy::KeepaliveSettings>,
}

#[derive(Serialize)]
pub struct UpgradeConfig {
    pub upgrade_type: &'static str,
}

#[derive(Serialize)]
pub struct AccessLog {
    pub name: &'static str,
    pub typed_config: StdoutAccessLog,
}

#[derive(Serialize)]
pub struct StdoutAccessLog {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub log_format: LogFormat,
}

#[derive(Serialize)]
pub struct LogFormat {
    pub json_format: std::collections::BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
pub struct HttpFilter {
    pub name: std::borrow::Cow<'static, str>,
    pub typed_config: FilterConfig,
    /// Off unless a route's configuration turns it on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// An HTTP filter's configuration: empty (its routes configure it), or its own.
#[derive(Serialize)]
#[serde(untagged)]
pub enum FilterConfig {
    Empty(TypedEmpty),
    LocalRateLimit(super::http_filters::LocalRateLimitFilter),
    Compressor(super::http_filters::CompressorFilter),
    Buffer(super::http_filters::BufferFilter),
    CustomResponse(super::custom_response::CustomResponseFilter),
    RateLimit(super::global_rate_limit::RateLimitFilter),
    HealthCheck(super::http_filters::HealthCheckFilter),
    HeaderMutation(super::header_mutation::LateFilter),
    Router(Router),
}

/// `:scheme` towards backends: their transport's (`match_upstream`).
#[derive(Serialize)]
pub struct SchemeTransformation {
    pub match_upstream: bool,
}

/// The router; Envoy Gateway suppresses its `x-envoy-*` headers unless a policy asks.
#[derive(Serialize)]
pub struct Router {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub suppress_envoy_headers: bool,
}

impl From<TypedEmpty> for FilterConfig {
    fn from(t: TypedEmpty) -> Self {
        FilterConfig::Empty(t)
    }
}

#[derive(Serialize)]
pub struct TypedEmpty {
    #[serde(rename = "@type")]
    pub type_: &'static str,
}

#[derive(Serialize)]
pub struct RouteConfiguration {
    pub name: String,
    pub ignore_port_in_host_matching: bool,
    pub virtual_hosts: Vec<VirtualHost>,
}

#[derive(Serialize)]
pub struct VirtualHost {
    pub name: String,
    pub domains: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Serialize)]
pub struct Route {
    pub name: String,
    #[serde(rename = "match")]
    pub match_: RouteMatch,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<DirectResponse>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typed_per_filter_config: Option<PerFilterConfig>,
}

#[derive(Serialize, Default)]
pub struct PerFilterConfig {
    #[serde(rename = "envoy.filters.http.cors", skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsPolicy>,
    #[serde(rename = "envoy.filters.http.stateful_session", skip_serializing_if = "Option::is_none")]
    pub stateful_session: Option<StatefulSessionPerRoute>,
    #[serde(rename = "envoy.filters.http.fault", skip_serializing_if = "Option::is_none")]
    pub fault: Option<super::http_filters::HttpFault>,
    #[serde(rename = "envoy.filters.http.local_ratelimit", skip_serializing_if = "Option::is_none")]
    pub local_ratelimit: Option<super::http_filters::LocalRateLimitFilter>,
    #[serde(rename = "envoy.filters.http.compressor.gzip", skip_serializing_if = "Option::is_none")]
    pub gzip: Option<super::http_filters::CompressorPerRoute>,
    #[serde(rename = "envoy.filters.http.compressor.brotli", skip_serializing_if = "Option::is_none")]
    pub brotli: Option<super::http_filters::CompressorPerRoute>,
    #[serde(rename = "envoy.filters.http.compressor.zstd", skip_serializing_if = "Option::is_none")]
    pub zstd: Option<super::http_filters::CompressorPerRoute>,
    #[serde(rename = "envoy.filters.http.buffer", skip_serializing_if = "Option::is_none")]
    pub buffer: Option<super::http_filters::BufferPerRoute>,
    #[serde(rename = "envoy.filters.http.ratelimit", skip_serializing_if = "Option::is_none")]
    pub ratelimit: Option<super::global_rate_limit::PerRoute>,
    /// The custom_response filters the route turns on, by name.
    #[serde(flatten)]
    pub custom_response: std::collections::BTreeMap<String, super::custom_response::CustomResponseFilter>,
}

#[derive(Serialize)]
pub struct StatefulSessionPerRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stateful_session: StatefulSession,
}

#[derive(Serialize)]
pub struct StatefulSession {
    pub session_state: SessionState,
}

#[derive(Serialize)]
pub struct SessionState {
    pub name: &'static str,
    pub typed_config: SessionStateConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum SessionStateConfig {
    Cookie {
        #[serde(rename = "@type")]
        type_: &'static str,
        cookie: SessionCookie,
    },
    Header {
        #[serde(rename = "@type")]
        type_: &'static str,
        name: String,
    },
}

#[derive(Serialize)]
pub struct SessionCookie {
    pub name: String,
    pub path: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

#[derive(Serialize)]
pub struct CorsPolicy {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub allow_origin_string_match: Vec<StringMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<String>,
    pub max_age: String,
    pub allow_credentials: bool,
    pub forward_not_matching_preflights: bool,
}

impl Route {
    /// A route with no action and no header changes yet.
    pub fn new(name: impl Into<String>, match_: RouteMatch) -> Self {
        Route {
            name: name.into(),
            match_,
            route: None,
            redirect: None,
            direct_response: None,
            request_headers_to_add: Vec::new(),
            request_headers_to_remove: Vec::new(),
            response_headers_to_add: Vec::new(),
            response_headers_to_remove: Vec::new(),
            typed_per_filter_config: None,
        }
    }
}

#[derive(Serialize, Default)]
pub struct RouteMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_separated_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_regex: Option<RegexMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_parameters: Vec<QueryParameterMatcher>,
}

#[derive(Serialize)]
pub struct RegexMatcher {
    pub regex: String,
}

/// Envoy's StringMatcher: exactly one of the patterns.
#[derive(Serialize, Default)]
pub struct StringMatcher {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_regex: Option<RegexMatcher>,
    /// Not for regular expressions.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
}

impl StringMatcher {
    pub fn exact(v: &str) -> Self {
        StringMatcher { exact: Some(v.to_string()), ..Default::default() }
    }
    /// A route's or a rate limit's match.
    pub fn of(m: &crate::resolve::http::StringMatch) -> Self {
        use crate::resolve::http::StringMatch;
        match m {
            StringMatch::Exact(v) => Self::exact(v),
            StringMatch::Regex(v) => StringMatcher { safe_regex: Some(RegexMatcher { regex: v.clone() }), ..Default::default() },
            StringMatch::Suffix(v) => StringMatcher { suffix: Some(v.clone()), ..Default::default() },
        }
    }
    /// Envoy Gateway's StringMatch; `ignore_case` where the pattern is not a regular expression.
    pub fn of_value(m: &crate::resolve::traffic_http::ValueMatch, ignore_case: bool) -> Self {
        use crate::resolve::traffic_http::ValueMatch;
        match m {
            ValueMatch::Exact(v) => StringMatcher { exact: Some(v.clone()), ignore_case, ..Default::default() },
            ValueMatch::Prefix(v) => StringMatcher { prefix: Some(v.clone()), ignore_case, ..Default::default() },
            ValueMatch::Suffix(v) => StringMatcher { suffix: Some(v.clone()), ignore_case, ..Default::default() },
            ValueMatch::Regex(v) => StringMatcher { safe_regex: Some(RegexMatcher { regex: v.clone() }), ..Default::default() },
        }
    }
}

#[derive(Serialize)]
pub struct HeaderMatcher {
    pub name: String,
    pub string_match: StringMatcher,
}

#[derive(Serialize)]
pub struct QueryParameterMatcher {
    pub name: String,
    pub string_match: StringMatcher,
}

#[derive(Serialize, Default)]
pub struct RouteAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_clusters: Option<WeightedClusters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_rewrite_literal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_rewrite: Option<RegexRewrite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// How long a stream may sit without activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hash_policy: Vec<super::policy::HashPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_mirror_policies: Vec<RequestMirrorPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upgrade_configs: Vec<super::http_filters::RouteUpgrade>,
}

#[derive(Serialize)]
pub struct RequestMirrorPolicy {
    pub cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_fraction: Option<RuntimeFractionalPercent>,
}

#[derive(Serialize)]
pub struct RuntimeFractionalPercent {
    pub default_value: FractionalPercent,
}

#[derive(Serialize)]
pub struct FractionalPercent {
    pub numerator: u32,
    pub denominator: &'static str,
}

#[derive(Serialize, Default)]
pub struct RetryPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String>,
    pub num_retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retriable_status_codes: Vec<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_back_off: Option<RetryBackOff>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retry_host_predicate: Vec<super::policy::RetryHostPredicate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_selection_retry_max_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_priority: Option<super::policy::RetryPriority>,
}

#[derive(Serialize)]
pub struct RetryBackOff {
    pub base_interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_interval: Option<String>,
}

#[derive(Serialize)]
pub struct WeightedClusters {
    pub clusters: Vec<ClusterWeight>,
}

#[derive(Serialize)]
pub struct ClusterWeight {
    pub name: String,
    pub weight: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_remove: Vec<String>,
}

#[derive(Serialize)]
pub struct RegexRewrite {
    pub pattern: RegexMatcher,
    pub substitution: String,
}

#[derive(Serialize, Default)]
pub struct RedirectAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_redirect: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_rewrite: Option<RegexRewrite>,
    pub response_code: &'static str,
}

#[derive(Serialize)]
pub struct DirectResponse {
    pub status: u16,
}

#[derive(Serialize)]
pub struct HeaderValueOption {
    pub header: HeaderValue,
    pub append_action: &'static str,
}

#[derive(Serialize)]
pub struct HeaderValue {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct Cluster {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub connect_timeout: String,
    #[serde(flatten)]
    pub lb: super::policy::ClusterLb,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_lookup_family: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typed_extension_protocol_options: Option<ProtocolOptions>,
    pub per_connection_buffer_limit_bytes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_lb_config: Option<super::stream::CommonLbConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub health_checks: Vec<super::health::HealthCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<super::health::OutlierDetection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_breakers: Option<super::stream::CircuitBreakers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preconnect_policy: Option<super::policy::PreconnectPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_socket: Option<UpstreamTransportSocket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_connection_options: Option<super::policy::UpstreamConnectionOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_refresh_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub respect_dns_ttl: Option<bool>,
    pub load_assignment: ClusterLoadAssignment,
}

/// TLS from Envoy to a backend.
#[derive(Serialize)]
pub struct UpstreamTransportSocket {
    pub name: &'static str,
    pub typed_config: UpstreamSocketConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum UpstreamSocketConfig {
    Tls(UpstreamTlsContext),
    /// The PROXY protocol header, then the inner socket (plain or TLS).
    ProxyProtocol(Box<super::policy::ProxyProtocolSocket>),
    Raw(TypedEmpty),
}

#[derive(Serialize)]
pub struct UpstreamTlsContext {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub sni: String,
    pub common_tls_context: UpstreamCommonTlsContext,
}

#[derive(Serialize)]
pub struct UpstreamCommonTlsContext {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls_certificates: Vec<TlsCertificate>,
    pub validation_context: CertificateValidationContext,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alpn_protocols: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct SanMatcher {
    pub san_type: &'static str,
    pub matcher: StringMatcher,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
}

#[derive(Serialize)]
pub struct ProtocolOptions {
    #[serde(rename = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions")]
    pub http: HttpProtocolOptions,
}

#[derive(Serialize)]
pub struct HttpProtocolOptions {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_http_protocol_options: Option<super::policy::UpstreamCommonHttp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_http_config: Option<ExplicitHttpConfig>,
    /// The client's protocol (BackendTrafficPolicy useClientProtocol).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_downstream_protocol_config: Option<ExplicitHttpConfig>,
}

#[derive(Serialize)]
pub struct ExplicitHttpConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_protocol_options: Option<Http1ProtocolOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_protocol_options: Option<super::policy::UpstreamHttp2>,
}

#[derive(Serialize)]
pub struct Empty {}

#[derive(Serialize)]
pub struct ClusterLoadAssignment {
    pub cluster_name: String,
    pub endpoints: Vec<LocalityLbEndpoints>,
}

#[derive(Serialize)]
pub struct LocalityLbEndpoints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<super::stream::Locality>,
    pub lb_endpoints: Vec<LbEndpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancing_weight: Option<u32>,
}

#[derive(Serialize)]
pub struct LbEndpoint {
    pub endpoint: Endpoint,
}

#[derive(Serialize)]
pub struct Endpoint {
    pub address: Address,
}

#[derive(Serialize)]
pub struct IpDetection {
    pub name: &'static str,
    pub typed_config: IpDetectionConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum IpDetectionConfig {
    Xff(XffConfig),
    Header(CustomHeaderConfig),
}

/// The client is an entry of X-Forwarded-For: counted from the right past the trusted hops,
/// or the first (from the right) not from a trusted network.
#[derive(Serialize)]
pub struct XffConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xff_num_trusted_hops: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xff_trusted_cidrs: Option<XffTrustedCidrs>,
    pub skip_xff_append: bool,
}

#[derive(Serialize)]
pub struct XffTrustedCidrs {
    pub cidrs: Vec<CidrRange>,
}

#[derive(Serialize)]
pub struct CidrRange {
    pub address_prefix: String,
    pub prefix_len: u32,
}

#[derive(Serialize)]
pub struct CustomHeaderConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub header_name: String,
    pub allow_extension_to_set_address_as_trusted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_with_status: Option<HttpStatus>,
}

#[derive(Serialize)]
pub struct HttpStatus {
    pub code: u32,
}

/// The parts of the client certificate Envoy adds to `x-forwarded-client-cert`.
#[derive(Serialize)]
pub struct ClientCertDetails {
    pub subject: bool,
    pub cert: bool,
    pub chain: bool,
    pub dns: bool,
    pub uri: bool,
}

#[derive(Serialize)]
pub struct ProxyProtocolConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_requests_without_proxy_protocol: bool,
}

#[derive(Serialize)]
pub struct Http1ProtocolOptions {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub enable_trailers: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accept_http_10: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_host_for_http_10: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_key_format: Option<HeaderKeyFormat>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_http_11_upgrade: Vec<StringMatcher>,
}

/// Header names written as first seen (Envoy's preserve_case formatter).
#[derive(Serialize)]
pub struct HeaderKeyFormat {
    pub stateful_formatter: StatefulFormatter,
}

#[derive(Serialize)]
pub struct StatefulFormatter {
    pub name: &'static str,
    pub typed_config: TypedEmpty,
}

impl HeaderKeyFormat {
    pub fn preserve_case() -> Self {
        HeaderKeyFormat {
            stateful_formatter: StatefulFormatter {
                name: "preserve_case",
                typed_config: TypedEmpty { type_: "type.googleapis.com/envoy.extensions.http.header_formatters.preserve_case.v3.PreserveCaseFormatterConfig" },
            },
        }
    }
}
