//! Envoy structs and builders for what a BackendTrafficPolicy sets: a cluster's load
//! balancer, circuit breakers and HTTP connection limits; a route's hash policy and retries.

use super::stream::{CircuitBreakers, Thresholds};
use super::types::*;
use crate::resolve::traffic::{self as t, ClusterPolicy, LbPolicy};
use serde::Serialize;

/// Milliseconds as a proto3 JSON duration (`1.500s`).
pub fn duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{}.{:03}s", ms / 1000, ms % 1000) }
}

#[derive(Serialize)]
pub struct ClusterLb {
    pub lb_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maglev_lb_config: Option<MaglevLbConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub least_request_lb_config: Option<SlowStartHolder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_robin_lb_config: Option<SlowStartHolder>,
}

#[derive(Serialize)]
pub struct MaglevLbConfig {
    pub table_size: u64,
}

#[derive(Serialize)]
pub struct SlowStartHolder {
    pub slow_start_config: SlowStartConfig,
}

#[derive(Serialize)]
pub struct SlowStartConfig {
    pub slow_start_window: String,
}

/// Round robin unless a policy says otherwise.
pub fn cluster_lb(p: Option<&ClusterPolicy>) -> ClusterLb {
    let slow = |ms: &Option<u64>| ms.map(|ms| SlowStartHolder { slow_start_config: SlowStartConfig { slow_start_window: duration(ms) } });
    let mut out = ClusterLb { lb_policy: "ROUND_ROBIN", maglev_lb_config: None, least_request_lb_config: None, round_robin_lb_config: None };
    match p.and_then(|p| p.lb.as_ref()) {
        None => {}
        Some(LbPolicy::RoundRobin { slow_start_ms }) => out.round_robin_lb_config = slow(slow_start_ms),
        Some(LbPolicy::LeastRequest { slow_start_ms }) => {
            out.lb_policy = "LEAST_REQUEST";
            out.least_request_lb_config = slow(slow_start_ms);
        }
        Some(LbPolicy::Random) => out.lb_policy = "RANDOM",
        Some(LbPolicy::Maglev { table_size }) => {
            out.lb_policy = "MAGLEV";
            out.maglev_lb_config = table_size.map(|table_size| MaglevLbConfig { table_size });
        }
    }
    out
}

/// A policy's thresholds; UDP clusters keep their session limit unless the policy sets one.
pub fn circuit_breakers(p: Option<&ClusterPolicy>, udp_sessions: Option<u32>) -> Option<CircuitBreakers> {
    match p.and_then(|p| p.circuit_breaker.as_ref()) {
        Some(c) => Some(CircuitBreakers {
            thresholds: vec![Thresholds {
                max_connections: c.max_connections,
                max_pending_requests: Some(c.max_pending_requests),
                max_requests: Some(c.max_requests),
                max_retries: Some(c.max_retries),
            }],
        }),
        None => udp_sessions.map(|m| CircuitBreakers { thresholds: vec![Thresholds { max_connections: m, max_pending_requests: None, max_requests: None, max_retries: None }] }),
    }
}

#[derive(Serialize)]
pub struct UpstreamCommonHttp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connection_duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stream_duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<u32>,
}

/// The cluster's HTTP protocol options: HTTP/2 for h2c backends, and a policy's connection
/// limits. None when neither applies.
pub fn protocol_options(h2: bool, p: Option<&ClusterPolicy>) -> Option<ProtocolOptions> {
    let common = p.map(|p| UpstreamCommonHttp {
        idle_timeout: p.idle_timeout_ms.map(duration),
        max_connection_duration: p.max_connection_duration_ms.map(duration),
        max_stream_duration: p.max_stream_duration_ms.map(duration),
        max_requests_per_connection: p.circuit_breaker.as_ref().and_then(|c| c.max_requests_per_connection),
    });
    let common = common.filter(|c| c.idle_timeout.is_some() || c.max_connection_duration.is_some() || c.max_stream_duration.is_some() || c.max_requests_per_connection.is_some());
    let downstream = p.and_then(|p| p.use_client_protocol).unwrap_or(false);
    if !h2 && !downstream && common.is_none() {
        return None;
    }
    let explicit = if h2 {
        ExplicitHttpConfig { http_protocol_options: None, http2_protocol_options: Some(Empty {}) }
    } else {
        ExplicitHttpConfig { http_protocol_options: Some(Empty {}), http2_protocol_options: None }
    };
    Some(ProtocolOptions {
        http: HttpProtocolOptions {
            type_: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            common_http_protocol_options: common,
            use_downstream_protocol_config: downstream.then_some(ExplicitHttpConfig { http_protocol_options: Some(Empty {}), http2_protocol_options: Some(Empty {}) }),
            explicit_http_config: (!downstream).then_some(explicit),
        },
    })
}

#[derive(Serialize, Default)]
pub struct HashPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<HashHeader>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie: Option<HashCookie>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_properties: Option<HashConnection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_parameter: Option<HashQuery>,
}

#[derive(Serialize)]
pub struct HashHeader {
    pub header_name: String,
}

#[derive(Serialize)]
pub struct HashCookie {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<CookieAttribute>,
}

#[derive(Serialize)]
pub struct CookieAttribute {
    pub name: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct HashConnection {
    pub source_ip: bool,
}

#[derive(Serialize)]
pub struct HashQuery {
    pub name: String,
}

pub fn hash_policies(h: &[t::HashPolicy]) -> Vec<HashPolicy> {
    h.iter()
        .map(|h| match h {
            t::HashPolicy::SourceIp => HashPolicy { connection_properties: Some(HashConnection { source_ip: true }), ..Default::default() },
            t::HashPolicy::Header(name) => HashPolicy { header: Some(HashHeader { header_name: name.clone() }), ..Default::default() },
            t::HashPolicy::QueryParameter(name) => HashPolicy { query_parameter: Some(HashQuery { name: name.clone() }), ..Default::default() },
            t::HashPolicy::Cookie { name, ttl_ms, attributes } => HashPolicy {
                cookie: Some(HashCookie {
                    name: name.clone(),
                    ttl: ttl_ms.map(duration),
                    attributes: attributes.iter().map(|(n, v)| CookieAttribute { name: n.clone(), value: v.clone() }).collect(),
                }),
                ..Default::default()
            },
        })
        .collect()
}

#[derive(Serialize)]
pub struct RetryHostPredicate {
    pub name: &'static str,
    pub typed_config: TypedEmpty,
}

/// Envoy Gateway's retry conditions when a policy names none.
const DEFAULT_RETRY_ON: &str = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

/// A policy's retries as Envoy Gateway writes them: another host on each retry when there is one.
pub fn retry_policy(r: &t::PolicyRetry) -> RetryPolicy {
    RetryPolicy {
        retry_on: Some(if r.retry_on.is_empty() { DEFAULT_RETRY_ON.to_string() } else { r.retry_on.join(",") }),
        num_retries: r.num_retries,
        per_try_timeout: r.per_try_timeout_ms.map(duration),
        retriable_status_codes: r.status_codes.clone(),
        retry_back_off: r.backoff_base_ms.map(|b| RetryBackOff { base_interval: duration(b), max_interval: r.backoff_max_ms.map(duration) }),
        retry_host_predicate: vec![RetryHostPredicate {
            name: "envoy.retry_host_predicates.previous_hosts",
            typed_config: TypedEmpty { type_: "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" },
        }],
        host_selection_retry_max_attempts: Some(5),
    }
}

#[derive(Serialize)]
pub struct Percent {
    pub value: f64,
}

/// Localities weighted (a route's own UDP cluster) and a policy's panic threshold.
pub fn common_lb_config(weighted_localities: bool, p: Option<&ClusterPolicy>) -> Option<super::stream::CommonLbConfig> {
    let panic = p.and_then(|p| p.panic_threshold).map(|v| Percent { value: f64::from(v) });
    (weighted_localities || panic.is_some()).then(|| super::stream::CommonLbConfig { locality_weighted_lb_config: weighted_localities.then_some(Empty {}), healthy_panic_threshold: panic })
}

#[derive(Serialize)]
pub struct HealthCheck {
    pub timeout: String,
    pub interval: String,
    /// The interval also before the cluster has had traffic (Envoy's default there is 60 s).
    pub no_traffic_interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_jitter: Option<String>,
    pub unhealthy_threshold: u32,
    pub healthy_threshold: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_health_check: Option<HttpHealthCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_health_check: Option<TcpHealthCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_health_check: Option<GrpcHealthCheck>,
}

#[derive(Serialize)]
pub struct HttpHealthCheck {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected_statuses: Vec<StatusRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retriable_statuses: Vec<StatusRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receive: Vec<Payload>,
}

/// `[start, end)`.
#[derive(Serialize)]
pub struct StatusRange {
    pub start: u16,
    pub end: u16,
}

#[derive(Serialize)]
pub struct TcpHealthCheck {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<Payload>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receive: Vec<Payload>,
}

#[derive(Serialize)]
pub struct GrpcHealthCheck {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
}

#[derive(Serialize)]
pub struct Payload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
}

fn payload(p: &t::Payload) -> Payload {
    match p {
        t::Payload::Hex(h) => Payload { text: Some(h.clone()), binary: None },
        t::Payload::Base64(b) => Payload { text: None, binary: Some(b.clone()) },
    }
}

/// Each status as a range of one, as Envoy Gateway writes them.
fn ranges(codes: &[u16]) -> Vec<StatusRange> {
    codes.iter().map(|c| StatusRange { start: *c, end: c + 1 }).collect()
}

pub fn health_checks(p: Option<&ClusterPolicy>) -> Vec<HealthCheck> {
    let Some(a) = p.and_then(|p| p.health_check.as_ref()) else { return Vec::new() };
    let mut hc = HealthCheck {
        timeout: duration(a.timeout_ms),
        interval: duration(a.interval_ms),
        no_traffic_interval: duration(a.interval_ms),
        initial_jitter: a.initial_jitter_ms.map(duration),
        unhealthy_threshold: a.unhealthy_threshold,
        healthy_threshold: a.healthy_threshold,
        http_health_check: None,
        tcp_health_check: None,
        grpc_health_check: None,
    };
    match &a.checker {
        t::Checker::Http { path, method, host, expected_statuses, retriable_statuses, receive } => {
            hc.http_health_check = Some(HttpHealthCheck {
                host: host.clone(),
                path: path.clone(),
                method: method.clone(),
                expected_statuses: ranges(expected_statuses),
                retriable_statuses: ranges(retriable_statuses),
                receive: receive.iter().map(payload).collect(),
            })
        }
        t::Checker::Tcp { send, receive } => hc.tcp_health_check = Some(TcpHealthCheck { send: send.as_ref().map(payload), receive: receive.iter().map(payload).collect() }),
        t::Checker::Grpc { service } => hc.grpc_health_check = Some(GrpcHealthCheck { service_name: service.clone() }),
    }
    vec![hc]
}

#[derive(Serialize)]
pub struct OutlierDetection {
    pub interval: String,
    pub base_ejection_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<u32>,
    #[serde(rename = "consecutive_5xx")]
    pub consecutive_5xx: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_failure: Option<u32>,
    pub consecutive_local_origin_failure: u32,
    pub split_external_local_origin_errors: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_percentage_threshold: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub always_eject_one_host: bool,
}

pub fn outlier_detection(p: Option<&ClusterPolicy>) -> Option<OutlierDetection> {
    let o = p.and_then(|p| p.outlier_detection.as_ref())?;
    Some(OutlierDetection {
        interval: duration(o.interval_ms),
        base_ejection_time: duration(o.base_ejection_time_ms),
        // Envoy Gateway leaves 0 to Envoy's default.
        max_ejection_percent: (o.max_ejection_percent > 0).then_some(o.max_ejection_percent),
        consecutive_5xx: o.consecutive_5xx,
        consecutive_gateway_failure: o.consecutive_gateway_failure,
        consecutive_local_origin_failure: o.consecutive_local_origin_failure,
        split_external_local_origin_errors: o.split_external_local_origin_errors,
        failure_percentage_threshold: o.failure_percentage_threshold,
        always_eject_one_host: o.always_eject_one_host,
    })
}

pub const FAULT: &str = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";
const LOCAL_RATE_LIMIT: &str = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

#[derive(Serialize)]
pub struct Fraction {
    pub numerator: u32,
    pub denominator: &'static str,
}

fn millionths(n: u32) -> Fraction {
    Fraction { numerator: n, denominator: "MILLION" }
}

#[derive(Serialize)]
pub struct HttpFault {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<FaultDelay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<FaultAbort>,
}

#[derive(Serialize)]
pub struct FaultDelay {
    pub fixed_delay: String,
    pub percentage: Fraction,
}

#[derive(Serialize)]
pub struct FaultAbort {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u32>,
    pub percentage: Fraction,
}

pub fn fault(f: &t::Fault) -> HttpFault {
    HttpFault {
        type_: FAULT,
        delay: f.delay.map(|(ms, share)| FaultDelay { fixed_delay: duration(ms), percentage: millionths(share) }),
        abort: f.abort.as_ref().map(|(kind, share)| {
            let (http_status, grpc_status) = match kind {
                t::FaultAbort::Http(h) => (Some(*h), None),
                t::FaultAbort::Grpc(g) => (None, Some(*g)),
            };
            FaultAbort { http_status, grpc_status, percentage: millionths(*share) }
        }),
    }
}

#[derive(Serialize)]
pub struct TokenBucket {
    pub max_tokens: u32,
    pub tokens_per_fill: u32,
    pub fill_interval: String,
}

fn bucket(b: &t::Bucket) -> TokenBucket {
    TokenBucket { max_tokens: b.requests, tokens_per_fill: b.requests, fill_interval: format!("{}s", b.per_s) }
}

#[derive(Serialize)]
pub struct Enabled {
    pub default_value: Fraction,
}

#[derive(Serialize)]
pub struct DescriptorEntry {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Serialize)]
pub struct Descriptor {
    pub entries: Vec<DescriptorEntry>,
    pub token_bucket: TokenBucket,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadow_mode: bool,
}

#[derive(Serialize, Default)]
pub struct RateLimitAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_value_match: Option<HeaderValueMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<RequestHeadersAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_remote_address: Option<MaskedRemoteAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_address: Option<Empty>,
}

#[derive(Serialize)]
pub struct HeaderValueMatch {
    pub descriptor_key: String,
    pub descriptor_value: String,
    pub expect_match: bool,
    pub headers: Vec<HeaderMatcher>,
}

#[derive(Serialize)]
pub struct RequestHeadersAction {
    pub header_name: String,
    pub descriptor_key: String,
}

#[derive(Serialize)]
pub struct MaskedRemoteAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v4_prefix_mask_len: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v6_prefix_mask_len: Option<u32>,
}

#[derive(Serialize)]
pub struct RateLimits {
    pub actions: Vec<RateLimitAction>,
}

/// The filter in the HCM (empty; each route brings its buckets) or a route's configuration.
#[derive(Serialize)]
pub struct LocalRateLimitFilter {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stat_prefix: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_bucket: Option<TokenBucket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_enabled: Option<Enabled>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_enforced: Option<Enabled>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_x_ratelimit_headers: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<Descriptor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_consume_default_token_bucket: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<RateLimits>,
}

pub fn local_rate_limit_filter() -> LocalRateLimitFilter {
    LocalRateLimitFilter {
        type_: LOCAL_RATE_LIMIT,
        stat_prefix: "http_local_rate_limiter",
        token_bucket: None,
        filter_enabled: None,
        filter_enforced: None,
        enable_x_ratelimit_headers: None,
        descriptors: Vec::new(),
        always_consume_default_token_bucket: None,
        rate_limits: Vec::new(),
    }
}

fn string_matcher(m: &crate::resolve::http::StringMatch) -> StringMatcher {
    use crate::resolve::http::StringMatch;
    match m {
        StringMatch::Exact(v) => StringMatcher { exact: Some(v.clone()), safe_regex: None, suffix: None },
        StringMatch::Regex(v) => StringMatcher { exact: None, safe_regex: Some(RegexMatcher { regex: v.clone() }), suffix: None },
        StringMatch::Suffix(v) => StringMatcher { exact: None, safe_regex: None, suffix: Some(v.clone()) },
    }
}

/// A route's buckets, as Envoy Gateway builds them: per rule (and per method it names) an
/// action list and a descriptor whose entries those actions produce; requests no rule
/// selects take from the default bucket.
pub fn local_rate_limit(l: &t::LocalRateLimit) -> LocalRateLimitFilter {
    let full = || Enabled { default_value: Fraction { numerator: 100, denominator: "HUNDRED" } };
    let (mut rate_limits, mut descriptors) = (Vec::new(), Vec::new());
    for (ri, rule) in l.rules.iter().enumerate() {
        // One action list per method the rule names; they produce the same entries, so the
        // rule has one descriptor (one bucket) for all of them.
        for (si, sel) in rule.selectors.iter().enumerate() {
            let (mut actions, mut entries) = (Vec::new(), Vec::new());
            let matcher = |key: String, name: &str, m: &crate::resolve::http::StringMatch, invert: bool, actions: &mut Vec<RateLimitAction>, entries: &mut Vec<DescriptorEntry>| {
                actions.push(RateLimitAction {
                    header_value_match: Some(HeaderValueMatch { descriptor_key: key.clone(), descriptor_value: key.clone(), expect_match: !invert, headers: vec![HeaderMatcher { name: name.to_string(), string_match: string_matcher(m) }] }),
                    ..Default::default()
                });
                entries.push(DescriptorEntry { key: key.clone(), value: Some(key) });
            };
            for (mi, (name, m, invert)) in sel.headers.iter().enumerate() {
                let key = format!("rule-{ri}-match-{mi}");
                match m {
                    Some(m) => matcher(key, name, m, *invert, &mut actions, &mut entries),
                    None => {
                        actions.push(RateLimitAction { request_headers: Some(RequestHeadersAction { header_name: name.clone(), descriptor_key: key.clone() }), ..Default::default() });
                        entries.push(DescriptorEntry { key, value: None });
                    }
                }
            }
            if let Some((method, invert)) = &sel.method {
                matcher(format!("rule-{ri}-method"), ":method", &crate::resolve::http::StringMatch::Exact(method.clone()), *invert, &mut actions, &mut entries);
            }
            if let Some((m, invert)) = &sel.path {
                matcher(format!("rule-{ri}-path"), ":path", m, *invert, &mut actions, &mut entries);
            }
            if let Some((net, len, v6, distinct)) = &sel.cidr {
                let mask = MaskedRemoteAddress { v4_prefix_mask_len: (!v6).then_some(*len), v6_prefix_mask_len: v6.then_some(*len) };
                actions.push(RateLimitAction { masked_remote_address: Some(mask), ..Default::default() });
                entries.push(DescriptorEntry { key: "masked_remote_address".into(), value: Some(net.clone()) });
                if *distinct {
                    actions.push(RateLimitAction { remote_address: Some(Empty {}), ..Default::default() });
                    entries.push(DescriptorEntry { key: "remote_address".into(), value: None });
                }
            }
            rate_limits.push(RateLimits { actions });
            if si == 0 {
                descriptors.push(Descriptor { entries, token_bucket: bucket(&rule.bucket), shadow_mode: rule.shadow });
            }
        }
    }
    LocalRateLimitFilter {
        token_bucket: Some(bucket(&l.default)),
        filter_enabled: Some(full()),
        filter_enforced: Some(full()),
        enable_x_ratelimit_headers: Some("DRAFT_VERSION_03"),
        descriptors,
        always_consume_default_token_bucket: Some(false),
        rate_limits,
        ..local_rate_limit_filter()
    }
}

#[derive(Serialize)]
pub struct ProxyProtocolSocket {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub config: ProxyProtocolConfig,
    pub transport_socket: UpstreamTransportSocket,
}

#[derive(Serialize)]
pub struct ProxyProtocolConfig {
    pub version: &'static str,
}

/// A policy's PROXY protocol wraps the cluster's socket (TLS, or plain bytes).
pub fn with_proxy_protocol(inner: Option<UpstreamTransportSocket>, p: Option<&ClusterPolicy>) -> Option<UpstreamTransportSocket> {
    let Some(v) = p.and_then(|p| p.proxy_protocol) else { return inner };
    let inner = inner.unwrap_or(UpstreamTransportSocket {
        name: "envoy.transport_sockets.raw_buffer",
        typed_config: UpstreamSocketConfig::Raw(TypedEmpty { type_: "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer" }),
    });
    Some(UpstreamTransportSocket {
        name: "envoy.transport_sockets.upstream_proxy_protocol",
        typed_config: UpstreamSocketConfig::ProxyProtocol(Box::new(ProxyProtocolSocket {
            type_: "type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport",
            config: ProxyProtocolConfig { version: if v == 1 { "V1" } else { "V2" } },
            transport_socket: inner,
        })),
    })
}

#[derive(Serialize)]
pub struct UpstreamConnectionOptions {
    pub tcp_keepalive: TcpKeepaliveOptions,
}

#[derive(Serialize)]
pub struct TcpKeepaliveOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive_probes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive_time: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive_interval: Option<u32>,
}

pub fn connection_options(p: Option<&ClusterPolicy>) -> Option<UpstreamConnectionOptions> {
    let k = p.and_then(|p| p.tcp_keepalive.as_ref())?;
    Some(UpstreamConnectionOptions { tcp_keepalive: TcpKeepaliveOptions { keepalive_probes: k.probes, keepalive_time: k.idle_time_s, keepalive_interval: k.interval_s } })
}

#[derive(Serialize)]
pub struct CompressorFilter {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub compressor_library: CompressorLibrary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_direction_config: Option<ResponseDirection>,
}

#[derive(Serialize)]
pub struct CompressorLibrary {
    pub name: &'static str,
    pub typed_config: TypedEmpty,
}

#[derive(Serialize)]
pub struct ResponseDirection {
    pub common_config: CommonDirection,
}

#[derive(Serialize)]
pub struct CommonDirection {
    pub min_content_length: u32,
}

pub fn compressor_name(c: t::Codec) -> &'static str {
    match c {
        t::Codec::Gzip => "envoy.filters.http.compressor.gzip",
        t::Codec::Brotli => "envoy.filters.http.compressor.brotli",
        t::Codec::Zstd => "envoy.filters.http.compressor.zstd",
    }
}

/// The codec's compressor with its library's defaults.
pub fn compressor(c: t::Codec, min_content_length: Option<u32>) -> CompressorFilter {
    let (name, type_) = match c {
        t::Codec::Gzip => ("envoy.compression.gzip.compressor", "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip"),
        t::Codec::Brotli => ("envoy.compression.brotli.compressor", "type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli"),
        t::Codec::Zstd => ("envoy.compression.zstd.compressor", "type.googleapis.com/envoy.extensions.compression.zstd.compressor.v3.Zstd"),
    };
    CompressorFilter {
        type_: "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor",
        compressor_library: CompressorLibrary { name, typed_config: TypedEmpty { type_ } },
        response_direction_config: min_content_length.map(|m| ResponseDirection { common_config: CommonDirection { min_content_length: m } }),
    }
}

#[derive(Serialize)]
pub struct CompressorPerRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub overrides: CompressorOverrides,
}

#[derive(Serialize)]
pub struct CompressorOverrides {
    pub response_direction_config: Empty,
}

/// Turns the (disabled) compressor on for one route.
pub fn compressor_per_route() -> CompressorPerRoute {
    CompressorPerRoute { type_: "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.CompressorPerRoute", overrides: CompressorOverrides { response_direction_config: Empty {} } }
}
