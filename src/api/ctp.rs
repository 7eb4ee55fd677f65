//! ClientTrafficPolicy (gateway.envoyproxy.io/v1alpha1): how Envoy treats the clients of the
//! Gateways or listeners it targets. The fields gatewayc implements are typed here with the
//! v1.9.0 CRD's constraints; every other field of the CRD is kept as data and refused by name
//! (`unsupported::field`), never dropped.

use super::meta::DURATION;
use super::policy::{LocalPolicyTargetReference, PolicyTargets, TargetSelector};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

type Other = Option<serde_json::Value>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientTrafficPolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<LocalPolicyTargetReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<LocalPolicyTargetReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_selectors: Vec<TargetSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<HeaderSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheckSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<ClientTimeout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ClientConnection>,
    #[serde(rename = "clientIPDetection", default, skip_serializing_if = "Option::is_none")]
    pub client_ip_detection: Option<ClientIpDetection>,
    // Not implemented yet: refused by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_proxy_protocol: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http1: Option<Http1Settings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2: Option<super::btp::Http2Settings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http3: Other,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_protocol: Option<ProxyProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Preserve", "MatchBackend"]))]
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive: Option<TcpKeepalive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
}

impl ClientTrafficPolicySpec {
    pub fn targets(&self) -> PolicyTargets<'_> {
        PolicyTargets { target_ref: self.target_ref.as_ref(), target_refs: &self.target_refs, target_selectors: &self.target_selectors }
    }
    /// The fields of the CRD gatewayc does not implement yet, with their JSON names, set or not.
    pub fn unimplemented(&self) -> [(&'static str, bool); 1] {
        [("http3", self.http3.is_some())]
    }
}

/// gRPC on the listener.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GrpcSettings {
    /// Translate gRPC-Web (browsers) to gRPC for HTTPRoutes too (GRPCRoutes always are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_web: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HeaderSettings {
    /// Allow, RejectRequest (the default) or DropHeader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Allow", "RejectRequest", "DropHeader"]))]
    pub with_underscores_action: Option<String>,
    /// Leave out the `X-RateLimit-*` response headers of rate limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_rate_limit_headers: Option<bool>,
    /// Changes to requests before Envoy routes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_request_headers: Option<HeaderMutations>,
    /// Let the router add its `x-envoy-*` headers (Envoy Gateway suppresses them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_envoy_headers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostSettings>,
    /// Changes to every response, after everything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_response_headers: Option<HeaderMutations>,
    /// Deprecated: true is requestID PreserveOrGenerate.
    #[serde(rename = "preserveXRequestID", default, skip_serializing_if = "Option::is_none")]
    pub preserve_x_request_id: Option<bool>,
    #[serde(rename = "requestID", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["PreserveOrGenerate", "Preserve", "Generate", "Disable"]))]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_client_cert: Option<XForwardedClientCert>,
}

/// What Envoy does with the `x-forwarded-client-cert` header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct XForwardedClientCert {
    /// The CRD's default: Sanitize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Sanitize", "ForwardOnly", "AppendForward", "SanitizeSet", "AlwaysForwardOnly"]))]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), extend("items" = {"type": "string", "enum": ["Subject", "Cert", "Chain", "DNS", "URI"]}))]
    pub cert_details_to_add: Vec<String>,
}

/// Header changes (Envoy Gateway's HTTPHeaderFilter): names are case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HeaderMutations {
    /// Appended to any values the header has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 64))]
    pub add: Vec<Header>,
    /// Added only when the header is absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 64))]
    pub add_if_absent: Vec<Header>,
    /// Replacing any values the header has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 64))]
    pub set: Vec<Header>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 64))]
    pub remove: Vec<String>,
    /// Every header whose name matches is removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 64))]
    pub remove_on_match: Vec<super::btp::HeaderValueMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Header {
    #[schemars(pattern(super::meta::HEADER_NAME), length(min = 1, max = 256))]
    pub name: String,
    #[schemars(length(min = 1, max = 4096))]
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostSettings {
    /// `example.com.` is taken as `example.com` (for routing and upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_trailing_host_dot: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PathSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_merge_slashes: Option<bool>,
    /// KeepUnchanged, RejectRequest, UnescapeAndForward, UnescapeAndRedirect (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["KeepUnchanged", "RejectRequest", "UnescapeAndForward", "UnescapeAndRedirect"]))]
    pub escaped_slashes_action: Option<String>,
}

/// A path on the listener that Envoy answers itself (200 while it is healthy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthCheckSettings {
    #[schemars(length(min = 1, max = 1024))]
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientTimeout {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpClientTimeout>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpClientTimeout>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpClientTimeout {
    /// Time to inspect a new connection (TLS ClientHello, PROXY header); default 15s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub connection_inspection_timeout: Option<String>,
    /// A TCP proxy's connection with no bytes either way this long is closed; default 1h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub idle_timeout: Option<String>,
    /// The TLS handshake must complete within this after the connection is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub tls_handshake_timeout: Option<String>,
}

/// TCP keepalive on the listener's connections (SO_KEEPALIVE).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpKeepalive {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub idle_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub interval: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpClientTimeout {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub idle_timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub request_received_timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub request_headers_received_timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub stream_idle_timeout: Option<String>,
}

/// Limits of the listener's connections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientConnection {
    /// A quantity of bytes: the soft limit of each connection's buffers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_limit: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_limit: Option<ConnectionLimit>,
    /// The CRD's default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_accept_per_socket_event: Option<u32>,
    /// Not implemented yet: refused by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_buffer_limit: Other,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionLimit {
    /// Connections the listener holds at once; more are closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub value: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub close_delay: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub max_connection_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub max_stream_duration: Option<String>,
}

/// TLS versions the listener should accept, as the CRD spells them.
pub const TLS_VERSIONS: [&str; 5] = ["Auto", "1.0", "1.1", "1.2", "1.3"];

/// How the listener terminates TLS with its clients.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientTls {
    /// The CRD's default: 1.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = TLS_VERSIONS))]
    pub min_version: Option<String>,
    /// The CRD's default: 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = TLS_VERSIONS))]
    pub max_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecdh_curves: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithms: Option<Vec<String>>,
    /// Offered in this order; empty turns ALPN off. Absent: h2 and http/1.1.
    #[serde(rename = "alpnProtocols", default, skip_serializing_if = "Option::is_none")]
    pub alpn_protocols: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<TlsSession>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_validation: Option<ClientValidationContext>,
    // Not implemented yet: refused by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Other,
}

/// How the listener verifies the certificates of its clients.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientValidationContext {
    /// ConfigMaps or Secrets (the default kind) holding `ca.crt`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub ca_certificate_refs: Vec<super::meta::SecretObjectReference>,
    /// Deprecated: true accepts clients without a certificate (mode VerifyIfGiven).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// The CRD's default: RequireAndVerify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Request", "RequireAny", "VerifyIfGiven", "RequireAndVerify"]))]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_expired_certificate: Option<bool>,
    /// Base64 SHA-256 of the certificate's SubjectPublicKeyInfo, one of which must match.
    #[serde(rename = "spkiHashes", default, skip_serializing_if = "Option::is_none")]
    pub spki_hashes: Option<Vec<String>>,
    /// Hex SHA-256 of the DER certificate, one of which must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_hashes: Option<Vec<String>>,
    /// One of the names must match the client certificate's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_alt_names: Option<SubjectAltNames>,
    /// Revoked certificates are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl: Option<Crl>,
}

/// Certificate revocation lists (PEM, under `ca.crl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Crl {
    /// ConfigMaps or Secrets (the default kind).
    #[schemars(length(min = 1, max = 8))]
    pub refs: Vec<super::meta::SecretObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_verify_leaf_certificate: Option<bool>,
}

/// Subject alternative names a client certificate may carry, by type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubjectAltNames {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<super::btp::HeaderValueMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<super::btp::HeaderValueMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<super::btp::HeaderValueMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<super::btp::HeaderValueMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_names: Vec<OtherName>,
}

/// A SAN of type otherName, by its OID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OtherName {
    pub oid: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Exact", "Prefix", "Suffix", "RegularExpression"]))]
    pub type_: Option<String>,
    #[schemars(length(min = 1, max = 1024))]
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsSession {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumption: Option<TlsResumption>,
}

/// Session resumption Envoy offers; Envoy Gateway turns both off unless asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsResumption {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateful: Option<Empty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateless: Option<Empty>,
}

/// An object with no fields (its presence is the setting).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Where the client's address comes from behind load balancers and proxies; exactly one of
/// the three.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientIpDetection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_for: Option<XForwardedFor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_header: Option<CustomHeader>,
    /// The connection's own peer (Envoy's default).
    #[serde(rename = "directSourceIP", default, skip_serializing_if = "Option::is_none")]
    pub direct_source_ip: Option<Empty>,
}

/// The client is the entry of X-Forwarded-For that the trusted hops (a count, or the
/// addresses of trusted proxies) point at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct XForwardedFor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_trusted_hops: Option<u32>,
    #[serde(rename = "trustedCIDRs", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub trusted_cidrs: Option<Vec<String>>,
    #[serde(rename = "disableXForwardedForAppend", default, skip_serializing_if = "Option::is_none")]
    pub disable_append: Option<bool>,
}

/// The client's address is the value of a header the load balancer sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomHeader {
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[A-Za-z0-9-]+$"))]
    pub name: String,
    /// Refuse (403) a request whose header is missing or not an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_closed: Option<bool>,
}

/// The PROXY protocol (v1 or v2) header a load balancer sends first: its client address is
/// the client's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxyProtocol {
    /// Also serve connections without the header (only for trusted networks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// HTTP/1.1 (and 1.0) with the clients.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Http1Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_trailers: Option<bool>,
    /// Serve HTTP/1.0 requests (Envoy refuses them otherwise).
    #[serde(rename = "http10", default, skip_serializing_if = "Option::is_none")]
    pub http10: Option<Http10Settings>,
    /// Header names keep the letter case the client (and the backend) sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_header_case: Option<bool>,
    /// Close a connection as soon as its maxConnectionDuration passes, rather than after the
    /// next request (with `Connection: close`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_safe_max_connection_duration: Option<bool>,
    /// Upgrade requests of these types are served as plain requests, the upgrade dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_upgrade_types: Option<Vec<super::btp::HeaderValueMatch>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Http10Settings {
    /// A request without Host gets the listener's hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_default_host: Option<bool>,
}
