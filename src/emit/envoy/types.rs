//! The subset of Envoy's v3 API that we emit, as plain serde structs (proto field names).
//! Envoy itself is the judge: every bootstrap the tests produce passes `envoy --mode validate`.

pub use super::types_client::*;
pub use super::types_route::*;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_config: Option<StatsConfig>,
}

/// Which stats Envoy keeps: an EnvoyProxy's `telemetry.metrics.matches`.
#[derive(Serialize)]
pub struct StatsConfig {
    pub stats_matcher: StatsMatcher,
}

#[derive(Serialize)]
pub struct StatsMatcher {
    pub inclusion_list: MatcherList,
}

#[derive(Serialize)]
pub struct MatcherList {
    pub patterns: Vec<super::types_route::StringMatcher>,
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
    /// Generic secrets filters read by name (a SecurityPolicy's OIDC client secret and HMAC key).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<super::credential::StaticSecret>,
}

#[derive(Serialize)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket_address: Option<SocketAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envoy_internal_address: Option<InternalAddress>,
    /// A Unix socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipe: Option<Pipe>,
}

#[derive(Serialize)]
pub struct Pipe {
    pub path: String,
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
            pipe: None,
        }
    }
    /// A Unix socket at `path` (`@name`: the abstract namespace).
    pub fn pipe(path: &str) -> Self {
        Address { socket_address: None, envoy_internal_address: None, pipe: Some(Pipe { path: path.to_string() }) }
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
            pipe: None,
        }
    }
    /// An Envoy internal listener (no socket).
    pub fn internal(listener: &str) -> Self {
        Address { socket_address: None, envoy_internal_address: Some(InternalAddress { server_listener_name: listener.to_string() }), pipe: None }
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
    Rbac(super::rbac::NetworkRbac),
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<Box<super::tracing::HcmTracing>>,
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

#[derive(Serialize, Clone)]
pub struct AccessLog {
    pub name: &'static str,
    pub typed_config: AccessLogConfig,
}

#[derive(Serialize, Clone)]
#[serde(untagged)]
pub enum AccessLogConfig {
    File(FileAccessLog),
    Otel(Box<OtelAccessLog>),
}

#[derive(Serialize, Clone)]
pub struct OtelAccessLog {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub common_config: OtelCommon,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<AnyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<KeyValueList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_attributes: Option<KeyValueList>,
}

#[derive(Serialize, Clone)]
pub struct OtelCommon {
    pub log_name: &'static str,
    pub transport_api_version: &'static str,
    pub grpc_service: GrpcService,
}

#[derive(Serialize, Clone)]
pub struct GrpcService {
    pub envoy_grpc: EnvoyGrpc,
}

#[derive(Serialize, Clone)]
pub struct EnvoyGrpc {
    pub cluster_name: String,
    pub authority: String,
}

#[derive(Serialize, Clone)]
pub struct KeyValueList {
    pub values: Vec<KeyValue>,
}

#[derive(Serialize, Clone)]
pub struct KeyValue {
    pub key: String,
    pub value: AnyValue,
}

#[derive(Serialize, Clone)]
pub struct AnyValue {
    pub string_value: String,
}

/// Envoy's stdout or file access logger (`path` is the file's).
#[derive(Serialize, Clone)]
pub struct FileAccessLog {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub log_format: LogFormat,
}

#[derive(Serialize, Clone)]
pub struct LogFormat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_format: Option<std::collections::BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_format_source: Option<TextSource>,
}

#[derive(Serialize, Clone)]
pub struct TextSource {
    pub inline_string: String,
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
    Csrf(super::security::CsrfPolicy),
    BasicAuth(super::security::BasicAuthFilter),
    ApiKeyAuth(super::security::ApiKeyAuth),
    Jwt(Box<super::jwt::JwtAuthentication>),
    ExtAuthz(Box<super::ext_auth::ExtAuthz>),
    OAuth2(Box<super::oauth2::OAuth2>),
    CredentialInjector(Box<super::credential::CredentialInjector>),
    Lua(Box<super::extension::Lua>),
    ExtProc(Box<super::extension::ExternalProcessor>),
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
    /// Stats an EnvoyProxy asks for besides the defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_cluster_stats: Option<TrackClusterStats>,
}

#[derive(Serialize, Clone, Copy)]
pub struct TrackClusterStats {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub request_response_sizes: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub per_endpoint_stats: bool,
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
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sni: String,
    pub common_tls_context: UpstreamCommonTlsContext,
}

#[derive(Serialize)]
pub struct UpstreamCommonTlsContext {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls_certificates: Vec<TlsCertificate>,
    /// None: the backend's certificate is not verified (a Backend's `insecureSkipVerify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_context: Option<CertificateValidationContext>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alpn_protocols: Vec<String>,
    /// A Backend's versions, ciphers, curves and signature algorithms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_params: Option<UpstreamTlsParameters>,
}

/// TLS parameters towards a backend; a version left out is Envoy's default.
#[derive(Serialize)]
pub struct UpstreamTlsParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_minimum_protocol_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_maximum_protocol_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ecdh_curves: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signature_algorithms: Vec<String>,
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
    /// 0 (omitted): the first; a fallback Backend's localities are 1.
    #[serde(skip_serializing_if = "is_zero")]
    pub priority: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

#[derive(Serialize)]
pub struct LbEndpoint {
    pub endpoint: Endpoint,
}

#[derive(Serialize)]
pub struct Endpoint {
    pub address: Address,
}
