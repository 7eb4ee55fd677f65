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
                retry_budget: c.retry_budget.map(|(n, d, min)| super::stream::RetryBudget { budget_percent: Percent { value: f64::from(n) * 100.0 / f64::from(d.max(1)) }, min_retry_concurrency: min }),
            }],
            per_host_thresholds: c.per_endpoint_max_connections.map(|m| super::stream::HostThresholds { max_connections: m }).into_iter().collect(),
        }),
        None => udp_sessions.map(|m| CircuitBreakers {
            thresholds: vec![Thresholds { max_connections: m, max_pending_requests: None, max_requests: None, max_retries: None, retry_budget: None }],
            per_host_thresholds: Vec::new(),
        }),
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

/// The cluster's HTTP protocol options: HTTP/2 for h2c backends, a policy's connection
/// limits, and the HTTP/1 settings of the listener's ClientTrafficPolicy. None when none
/// applies.
pub fn protocol_options(h2: bool, p: Option<&ClusterPolicy>, http1: Option<crate::resolve::ctp::UpstreamHttp1>) -> Option<ProtocolOptions> {
    let common = p.map(|p| UpstreamCommonHttp {
        idle_timeout: p.idle_timeout_ms.map(duration),
        max_connection_duration: p.max_connection_duration_ms.map(duration),
        max_stream_duration: p.max_stream_duration_ms.map(duration),
        max_requests_per_connection: p.circuit_breaker.as_ref().and_then(|c| c.max_requests_per_connection),
    });
    let common = common.filter(|c| c.idle_timeout.is_some() || c.max_connection_duration.is_some() || c.max_stream_duration.is_some() || c.max_requests_per_connection.is_some());
    let downstream = p.and_then(|p| p.use_client_protocol).unwrap_or(false);
    if !h2 && !downstream && common.is_none() && http1.is_none() {
        return None;
    }
    let h1_options = || Http1ProtocolOptions {
        enable_trailers: http1.is_some_and(|h| h.trailers),
        accept_http_10: false,
        default_host_for_http_10: None,
        header_key_format: http1.filter(|h| h.preserve_case).map(|_| HeaderKeyFormat::preserve_case()),
        ignore_http_11_upgrade: Vec::new(),
    };
    let h2_options = || upstream_http2(p.and_then(|p| p.http2.as_ref()));
    let explicit = if h2 {
        ExplicitHttpConfig { http_protocol_options: None, http2_protocol_options: Some(h2_options()) }
    } else {
        ExplicitHttpConfig { http_protocol_options: Some(h1_options()), http2_protocol_options: None }
    };
    Some(ProtocolOptions {
        http: HttpProtocolOptions {
            type_: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            common_http_protocol_options: common,
            use_downstream_protocol_config: downstream.then(|| ExplicitHttpConfig { http_protocol_options: Some(h1_options()), http2_protocol_options: Some(h2_options()) }),
            explicit_http_config: (!downstream).then_some(explicit),
        },
    })
}

/// HTTP/2 towards a cluster's endpoints: Envoy Gateway's windows (64 KiB per stream, 1 MiB
/// per connection) unless a policy sets them, and the policy's other settings.
#[derive(Serialize)]
pub struct UpstreamHttp2 {
    pub initial_stream_window_size: u32,
    pub initial_connection_window_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_stream_error_on_invalid_http_message: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_keepalive: Option<KeepaliveSettings>,
}

#[derive(Serialize)]
pub struct KeepaliveSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_jitter: Option<Percent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_idle_interval: Option<String>,
}

pub(super) fn upstream_http2(h: Option<&crate::resolve::traffic_http::Http2Options>) -> UpstreamHttp2 {
    UpstreamHttp2 {
        initial_stream_window_size: h.and_then(|h| h.initial_stream_window).unwrap_or(65_536),
        initial_connection_window_size: h.and_then(|h| h.initial_connection_window).unwrap_or(1_048_576),
        max_concurrent_streams: h.and_then(|h| h.max_concurrent_streams),
        override_stream_error_on_invalid_http_message: h.and_then(|h| h.reset_stream_on_error),
        connection_keepalive: h.and_then(|h| h.keepalive.as_ref()).map(|k| KeepaliveSettings {
            interval: k.interval_ms.map(duration),
            timeout: k.timeout_ms.map(duration),
            interval_jitter: k.jitter_percent.map(|j| Percent { value: f64::from(j) }),
            connection_idle_interval: k.idle_interval_ms.map(duration),
        }),
    }
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
        retry_priority: r.attempts_per_priority.map(|n| RetryPriority {
            name: "envoy.retry_priorities.previous_priorities",
            typed_config: PreviousPriorities { type_: "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig", update_frequency: n },
        }),
    }
}

#[derive(Serialize)]
pub struct RetryPriority {
    pub name: &'static str,
    pub typed_config: PreviousPriorities,
}

#[derive(Serialize)]
pub struct PreviousPriorities {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub update_frequency: u32,
}

#[derive(Serialize)]
pub struct PreconnectPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_upstream_preconnect_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predictive_preconnect_ratio: Option<f64>,
}

/// A policy's preconnect percentages as Envoy's ratios.
pub fn preconnect(p: Option<&ClusterPolicy>) -> Option<PreconnectPolicy> {
    let (per, predictive) = p?.preconnect?;
    let ratio = |v: Option<u32>| v.map(|v| f64::from(v) / 100.0);
    Some(PreconnectPolicy { per_upstream_preconnect_ratio: ratio(per), predictive_preconnect_ratio: ratio(predictive) })
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

