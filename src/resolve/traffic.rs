//! What a BackendTrafficPolicy does, as resolve hands it to the IR: plain data, no `api` type.
//! Cluster-shaping settings ([`ClusterPolicy`]) go into the cluster key; route settings
//! ([`RouteTraffic`]) onto the routes the policy covers.

use crate::api::btp::{self, BackendTrafficPolicySpec, ConsistentHashType, LoadBalancerType};
use crate::api::httproute::duration_ms;
use std::sync::Arc;

pub use super::traffic_ratelimit::{Bucket, LocalRateLimit, RateRule, RateSelector};

/// How Envoy picks an endpoint of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LbPolicy {
    RoundRobin { slow_start_ms: Option<u64> },
    LeastRequest { slow_start_ms: Option<u64> },
    Random,
    /// Consistent hashing (the route's hash policy gives the key).
    Maglev { table_size: Option<u64> },
}

/// Envoy's circuit-breaker thresholds (default priority).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CircuitBreaker {
    pub max_connections: u32,
    pub max_pending_requests: u32,
    pub max_requests: u32,
    pub max_retries: u32,
    pub max_requests_per_connection: Option<u32>,
    /// Connections to any one endpoint.
    pub per_endpoint_max_connections: Option<u32>,
    /// Retries as numerator/denominator of the active and pending requests, and their
    /// minimum concurrency.
    pub retry_budget: Option<(u32, u32, Option<u32>)>,
}

/// Settings that shape a cluster: routes whose clusters differ in these get different
/// clusters; equal settings share one, whichever policy they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterPolicy {
    pub lb: Option<LbPolicy>,
    pub connect_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub max_connection_duration_ms: Option<u64>,
    pub max_stream_duration_ms: Option<u64>,
    pub circuit_breaker: Option<CircuitBreaker>,
    pub health_check: Option<ActiveCheck>,
    pub outlier_detection: Option<OutlierDetection>,
    /// Percent of healthy hosts under which Envoy ignores health (Envoy's panic threshold).
    pub panic_threshold: Option<u32>,
    /// PROXY protocol version (1 or 2) sent to backends before the stream.
    pub proxy_protocol: Option<u8>,
    pub tcp_keepalive: Option<TcpKeepalive>,
    /// Soft limit of each connection's buffers, in bytes.
    pub buffer_limit: Option<u32>,
    /// Speak to backends in the protocol the client used (HTTP/1.1 or HTTP/2).
    pub use_client_protocol: Option<bool>,
    pub dns: Option<DnsSettings>,
    /// Preconnect ratios in percent: per endpoint, predictive.
    pub preconnect: Option<(Option<u32>, Option<u32>)>,
    /// HTTP/2 options, for clusters that speak HTTP/2 to their endpoints.
    pub http2: Option<super::traffic_http::Http2Options>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpKeepalive {
    pub probes: Option<u32>,
    pub idle_time_s: Option<u32>,
    pub interval_s: Option<u32>,
}

/// How a STRICT_DNS cluster resolves its names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsSettings {
    pub refresh_rate_ms: Option<u64>,
    pub respect_dns_ttl: Option<bool>,
    /// Envoy's DnsLookupFamily name.
    pub lookup_family: Option<&'static str>,
}

/// Bytes a health check sends or expects: hex-encoded text, or base64 binary (as Envoy's
/// Payload takes them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Payload {
    Hex(String),
    Base64(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Checker {
    Http { path: String, method: Option<String>, host: Option<String>, expected_statuses: Vec<u16>, retriable_statuses: Vec<u16>, send: Option<Payload>, receive: Option<Payload> },
    Tcp { send: Option<Payload>, receive: Option<Payload> },
    Grpc { service: Option<String> },
}

/// Active health checking of every endpoint of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActiveCheck {
    pub timeout_ms: u64,
    pub interval_ms: u64,
    pub initial_jitter_ms: Option<u64>,
    pub unhealthy_threshold: u32,
    pub healthy_threshold: u32,
    pub checker: Checker,
}

/// Passive health checking: endpoints that fail are ejected for a while.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutlierDetection {
    pub interval_ms: u64,
    pub base_ejection_time_ms: u64,
    pub max_ejection_percent: u32,
    pub consecutive_5xx: u32,
    pub consecutive_gateway_failure: Option<u32>,
    pub consecutive_local_origin_failure: u32,
    pub split_external_local_origin_errors: bool,
    pub failure_percentage_threshold: Option<u32>,
    pub always_eject_one_host: bool,
}

impl ClusterPolicy {
    pub fn is_empty(&self) -> bool {
        *self == ClusterPolicy::default()
    }
    /// Fill what is unset here from `less_specific` (Envoy Gateway's rule for TCP and UDP routes:
    /// each setting from the most specific policy that has it).
    pub fn fill_from(&mut self, less_specific: &ClusterPolicy) {
        macro_rules! fill {
            ($($f:ident),+) => {$( if self.$f.is_none() { self.$f = less_specific.$f.clone(); } )+};
        }
        fill!(lb, connect_timeout_ms, idle_timeout_ms, max_connection_duration_ms, max_stream_duration_ms, circuit_breaker, health_check, outlier_detection, panic_threshold, proxy_protocol, tcp_keepalive, buffer_limit, use_client_protocol, dns, preconnect, http2);
    }
}

/// What the hash of consistent hashing is computed from.
#[derive(Debug, Clone, PartialEq)]
pub enum HashPolicy {
    SourceIp,
    Header(String),
    /// Envoy generates the cookie when the request has none and a TTL is given.
    Cookie { name: String, ttl_ms: Option<u64>, attributes: Vec<(String, String)> },
    QueryParameter(String),
}

/// Retries from a policy (a Gateway API retry on the rule takes precedence).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRetry {
    pub num_retries: u32,
    /// Envoy's retry_on conditions; empty: Envoy Gateway's default set.
    pub retry_on: Vec<String>,
    pub status_codes: Vec<u16>,
    pub per_try_timeout_ms: Option<u64>,
    pub backoff_base_ms: Option<u64>,
    pub backoff_max_ms: Option<u64>,
    /// Attempts sent to one priority before the next (Envoy's previous_priorities).
    pub attempts_per_priority: Option<u32>,
}

/// Settings carried by each route the policy covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteTraffic {
    pub hash: Vec<HashPolicy>,
    pub retry: Option<PolicyRetry>,
    /// The whole request (a Gateway API timeout on the rule takes precedence).
    pub request_timeout_ms: Option<u64>,
    pub stream_idle_timeout_ms: Option<u64>,
    pub fault: Option<Fault>,
    pub rate_limit: Option<LocalRateLimit>,
    /// Rules counted at the rate-limit service.
    pub global_rate_limit: Option<Arc<Vec<RateRule>>>,
    /// Response compression: each codec once, with its minimum length in bytes.
    pub compression: Vec<(Codec, Option<u32>)>,
    /// Requests are buffered whole, up to this many bytes (larger: 413).
    pub request_buffer: Option<u32>,
    /// The protocol upgrades the route allows, lower-cased; None: the listener's default
    /// (WebSocket), unless the request buffer rules upgrades out.
    pub upgrades: Option<Vec<String>>,
    /// Replies replaced by the policy's own (or by redirects).
    pub response_override: Option<Arc<super::traffic_http::ResponseOverrides>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Codec {
    Gzip,
    Brotli,
    Zstd,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Brotli => "brotli",
            Codec::Zstd => "zstd",
        }
    }
}

/// Faults injected into requests, each for a share of them (in millionths).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub delay: Option<(u64, u32)>,
    pub abort: Option<(FaultAbort, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultAbort {
    Http(u32),
    Grpc(u32),
}

/// One policy's effect (after any merge with its parent's).
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub cluster: Option<Arc<ClusterPolicy>>,
    pub route: RouteTraffic,
}

/// What a policy does where it applies: its settings, or (a value Envoy Gateway cannot
/// translate) a 500 for every route it covers, as Envoy Gateway answers.
pub type Effect = super::precedence::Effect<Traffic>;

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d))
}

/// What a policy's translation may use besides its spec.
pub struct Env<'e, 'c> {
    /// The ConfigMaps of the policy's namespace (custom response bodies).
    pub config_map: &'e dyn Fn(&str) -> Option<&'c crate::api::ConfigMap>,
    /// A rate-limit service is configured (`--rate-limit-service`): global rate limits apply.
    pub rate_limit_service: bool,
}

/// Envoy Gateway's translation of a policy's spec, or its error message (the condition's).
pub fn build(spec: &BackendTrafficPolicySpec, env: &Env) -> Result<Traffic, String> {
    let config_map = env.config_map;
    let mut cluster = ClusterPolicy::default();
    let mut route = RouteTraffic::default();
    let dur = |d: &Option<String>| d.as_deref().and_then(duration_ms);
    if let Some(lb) = &spec.load_balancer {
        cluster.lb = load_balancer(lb, &mut route)?;
    }
    if let Some(t) = &spec.timeout {
        cluster.connect_timeout_ms = t.tcp.as_ref().and_then(|t| dur(&t.connect_timeout));
        if let Some(h) = &t.http {
            cluster.idle_timeout_ms = dur(&h.connection_idle_timeout);
            cluster.max_connection_duration_ms = dur(&h.max_connection_duration);
            cluster.max_stream_duration_ms = dur(&h.max_stream_duration);
            route.request_timeout_ms = dur(&h.request_timeout);
            route.stream_idle_timeout_ms = dur(&h.stream_idle_timeout);
        }
    }
    if let Some(c) = &spec.circuit_breaker {
        // The CRD's defaults, as the API server writes them.
        cluster.circuit_breaker = Some(CircuitBreaker {
            max_connections: c.max_connections.unwrap_or(1024),
            max_pending_requests: c.max_pending_requests.unwrap_or(1024),
            max_requests: c.max_parallel_requests.unwrap_or(1024),
            max_retries: c.max_parallel_retries.unwrap_or(1024),
            max_requests_per_connection: c.max_requests_per_connection,
            per_endpoint_max_connections: c.per_endpoint.as_ref().map(|p| p.max_connections.unwrap_or(1024)),
            retry_budget: c.retry_budget.as_ref().map(|b| (b.percent.numerator, b.percent.denominator.unwrap_or(100), b.min_retry_concurrency)),
        });
    }
    if let Some(r) = &spec.retry {
        route.retry = Some(retry(r));
    }
    if let Some(f) = &spec.fault_injection {
        let share = |p: Option<f64>| (p.unwrap_or(100.0) * 10_000.0).round().clamp(0.0, 1_000_000.0) as u32;
        route.fault = Some(Fault {
            delay: f.delay.as_ref().map(|d| (duration_ms(&d.fixed_delay).unwrap_or(0), share(d.percentage))),
            abort: f.abort.as_ref().and_then(|a| {
                let kind = match (a.http_status, a.grpc_status) {
                    (Some(h), _) => FaultAbort::Http(h),
                    (None, Some(g)) => FaultAbort::Grpc(g),
                    (None, None) => return None,
                };
                Some((kind, share(a.percentage)))
            }),
        });
    }
    if let Some(rl) = &spec.rate_limit {
        super::traffic_ratelimit::build(rl, env.rate_limit_service, &mut route)?;
    }
    route.compression = compression(spec);
    connection_settings(spec, &mut cluster)?;
    if let Some(h) = &spec.http2 {
        cluster.http2 = Some(super::traffic_http::http2(h)?);
    }
    if let Some(b) = &spec.request_buffer {
        route.request_buffer = Some(super::traffic_http::request_buffer(b)?);
    }
    route.upgrades = spec.http_upgrade.as_deref().map(super::traffic_http::upgrades);
    if let Some(list) = spec.response_override.as_deref().filter(|l| !l.is_empty()) {
        let ro = super::traffic_http::response_overrides(list, config_map)?;
        route.response_override = (!ro.rules.is_empty()).then(|| Arc::new(ro));
    }
    if let Some(h) = &spec.health_check {
        cluster.health_check = h.active.as_ref().map(active_check);
        cluster.outlier_detection = h.passive.as_ref().map(outlier);
        cluster.panic_threshold = h.panic_threshold;
    }
    let cluster = (!cluster.is_empty()).then(|| Arc::new(cluster));
    Ok(Traffic { cluster, route })
}

/// The cluster's load balancer (and the route's hash policy for consistent hashing).
fn load_balancer(lb: &btp::LoadBalancer, route: &mut RouteTraffic) -> Result<Option<LbPolicy>, String> {
    let slow_start_ms = lb.slow_start.as_ref().and_then(|s| duration_ms(&s.window));
    Ok(match lb.type_ {
        LoadBalancerType::RoundRobin => Some(LbPolicy::RoundRobin { slow_start_ms }),
        LoadBalancerType::LeastRequest => Some(LbPolicy::LeastRequest { slow_start_ms }),
        LoadBalancerType::Random => Some(LbPolicy::Random),
        LoadBalancerType::ConsistentHash => {
            let ch = lb.consistent_hash.as_ref().ok_or("LoadBalancer: consistentHash is not set")?;
            if let Some(t) = ch.table_size
                && (t > 5_000_011 || !is_prime(t))
            {
                return Err(format!("LoadBalancer: ConsistentHash: invalid TableSize value {t}"));
            }
            route.hash = hash_policies(ch);
            Some(LbPolicy::Maglev { table_size: ch.table_size })
        }
        // Refused by validation (unsupported): never reaches here with a value.
        LoadBalancerType::BackendUtilization | LoadBalancerType::DynamicModule => None,
    })
}

/// Response compression: each codec once, with its minimum length.
fn compression(spec: &BackendTrafficPolicySpec) -> Vec<(Codec, Option<u32>)> {
    let mut out: Vec<(Codec, Option<u32>)> = Vec::new();
    // `compressor` entries count only with their codec's object (`gzip: {}`), as Envoy Gateway
    // reads them; the deprecated `compression` needs none.
    let with_object = |c: &&btp::Compression| match c.type_.as_str() {
        "Brotli" => c.brotli.is_some(),
        "Zstd" => c.zstd.is_some(),
        _ => c.gzip.is_some(),
    };
    for c in spec.compression.iter().flatten().chain(spec.compressor.iter().flatten().filter(with_object)) {
        let codec = match c.type_.as_str() {
            "Brotli" => Codec::Brotli,
            "Zstd" => Codec::Zstd,
            _ => Codec::Gzip,
        };
        if !out.iter().any(|(x, _)| *x == codec) {
            let min = c.min_content_length.as_ref().and_then(quantity_bytes).map(|b| u32::try_from(b).unwrap_or(u32::MAX));
            out.push((codec, min));
        }
    }
    out
}

/// PROXY protocol, keepalive, buffer limit, client protocol, preconnect and DNS.
fn connection_settings(spec: &BackendTrafficPolicySpec, cluster: &mut ClusterPolicy) -> Result<(), String> {
    let dur = |d: &Option<String>| d.as_deref().and_then(duration_ms);
    if let Some(p) = &spec.proxy_protocol {
        cluster.proxy_protocol = Some(if p.version == "V1" { 1 } else { 2 });
    }
    if let Some(k) = &spec.tcp_keepalive {
        let secs = |d: &Option<String>| d.as_deref().and_then(duration_ms).map(|ms| u32::try_from(ms / 1000).unwrap_or(u32::MAX));
        cluster.tcp_keepalive = Some(TcpKeepalive { probes: k.probes, idle_time_s: secs(&k.idle_time), interval_s: secs(&k.interval) });
    }
    if let Some(q) = spec.connection.as_ref().and_then(|c| c.buffer_limit.as_ref()) {
        let bytes = quantity_bytes(q).ok_or("BackendConnection: invalid BufferLimit value")?;
        cluster.buffer_limit = Some(u32::try_from(bytes).map_err(|_| format!("BackendConnection: BufferLimit value {bytes} is out of range"))?);
    }
    cluster.use_client_protocol = spec.use_client_protocol.filter(|u| *u);
    cluster.preconnect = spec.connection.as_ref().and_then(|c| c.preconnect.as_ref()).map(|p| (p.per_endpoint_percent, p.predictive_percent));
    if let Some(d) = &spec.dns {
        cluster.dns = Some(DnsSettings {
            refresh_rate_ms: dur(&d.dns_refresh_rate),
            respect_dns_ttl: d.respect_dns_ttl,
            lookup_family: d.lookup_family.as_deref().map(|f| match f {
                "IPv4" => "V4_ONLY",
                "IPv6" => "V6_ONLY",
                "IPv6Preferred" => "AUTO",
                "IPv4AndIPv6" => "ALL",
                _ => "V4_PREFERRED",
            }),
        });
    }
    Ok(())
}

fn hash_policies(ch: &btp::ConsistentHash) -> Vec<HashPolicy> {
    match ch.type_ {
        ConsistentHashType::SourceIp => vec![HashPolicy::SourceIp],
        ConsistentHashType::Header => ch.header.iter().map(|h| HashPolicy::Header(h.name.to_ascii_lowercase())).collect(),
        ConsistentHashType::Headers => ch.headers.iter().flatten().map(|h| HashPolicy::Header(h.name.to_ascii_lowercase())).collect(),
        ConsistentHashType::Cookie => ch
            .cookie
            .iter()
            .map(|c| HashPolicy::Cookie {
                name: c.name.clone(),
                ttl_ms: c.ttl.as_deref().and_then(duration_ms),
                attributes: c.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            })
            .collect(),
        ConsistentHashType::QueryParams => ch.query_params.iter().flatten().map(|q| HashPolicy::QueryParameter(q.name.clone())).collect(),
    }
}

fn retry(r: &btp::Retry) -> PolicyRetry {
    let on = r.retry_on.as_ref();
    let mut triggers: Vec<String> = on.map(|o| o.triggers.clone()).unwrap_or_default();
    triggers.sort();
    triggers.dedup();
    let mut codes: Vec<u16> = on.map(|o| o.http_status_codes.clone()).unwrap_or_default();
    codes.sort_unstable();
    codes.dedup();
    let per = r.per_retry.as_ref();
    let back_off = per.and_then(|p| p.back_off.as_ref());
    PolicyRetry {
        num_retries: r.num_retries.unwrap_or(2),
        retry_on: triggers,
        // Without retryOn, Envoy Gateway retries 503s.
        status_codes: if on.is_none() { vec![503] } else { codes },
        per_try_timeout_ms: per.and_then(|p| p.timeout.as_deref()).and_then(duration_ms),
        backoff_base_ms: back_off.and_then(|b| b.base_interval.as_deref()).and_then(duration_ms),
        backoff_max_ms: back_off.and_then(|b| b.max_interval.as_deref()).and_then(duration_ms),
        attempts_per_priority: r.num_attempts_per_priority.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0),
    }
}

/// Merge a route-level policy's spec over its parent's, as `mergeType` asks: `JSONMerge` is
/// RFC 7386 (null removes), `StrategicMerge` merges objects key by key and replaces lists
/// (no list of these kinds declares a merge key).
pub fn merge(parent: &serde_json::Value, child: &serde_json::Value, json_merge: bool) -> serde_json::Value {
    use serde_json::Value;
    match (parent, child) {
        (Value::Object(p), Value::Object(c)) => {
            let mut out = p.clone();
            for (k, v) in c {
                if v.is_null() && json_merge {
                    out.remove(k);
                    continue;
                }
                let merged = match out.get(k) {
                    Some(pv) => merge(pv, v, json_merge),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        _ => child.clone(),
    }
}

fn payload(p: &btp::Payload) -> Option<Payload> {
    match p.type_.as_str() {
        "Text" => p.text.as_ref().map(|t| Payload::Hex(t.bytes().map(|b| format!("{b:02x}")).collect())),
        _ => p.binary.clone().map(Payload::Base64),
    }
}

/// The CRD's defaults: timeout 1s, interval 3s, unhealthy after 3, healthy after 1.
fn active_check(a: &btp::ActiveHealthCheck) -> ActiveCheck {
    use btp::ActiveHealthCheckType as T;
    let checker = match a.type_ {
        T::HTTP => {
            let h = a.http.as_ref();
            Checker::Http {
                path: h.map(|h| h.path.clone()).unwrap_or_else(|| "/".into()),
                method: h.and_then(|h| h.method.as_ref()).map(|m| m.to_ascii_uppercase()),
                host: h.and_then(|h| h.hostname.clone()),
                expected_statuses: h.map(|h| h.expected_statuses.clone()).unwrap_or_default(),
                retriable_statuses: h.map(|h| h.retriable_statuses.clone()).unwrap_or_default(),
                send: h.and_then(|h| h.request_body.as_ref()).and_then(payload),
                receive: h.and_then(|h| h.expected_response.as_ref()).and_then(payload),
            }
        }
        T::TCP => {
            let t = a.tcp.as_ref();
            Checker::Tcp { send: t.and_then(|t| t.send.as_ref()).and_then(payload), receive: t.and_then(|t| t.receive.as_ref()).and_then(payload) }
        }
        T::GRPC => Checker::Grpc { service: a.grpc.as_ref().and_then(|g| g.service.clone()) },
    };
    let dur = |d: &Option<String>, default: u64| d.as_deref().and_then(duration_ms).unwrap_or(default);
    ActiveCheck {
        timeout_ms: dur(&a.timeout, 1000),
        interval_ms: dur(&a.interval, 3000),
        initial_jitter_ms: a.initial_jitter.as_deref().and_then(duration_ms),
        unhealthy_threshold: a.unhealthy_threshold.unwrap_or(3),
        healthy_threshold: a.healthy_threshold.unwrap_or(1),
        checker,
    }
}

/// The CRD's defaults: interval 3s, ejection 30s, at most 10% ejected, 5 consecutive 5xx or
/// local-origin failures.
fn outlier(p: &btp::PassiveHealthCheck) -> OutlierDetection {
    let dur = |d: &Option<String>, default: u64| d.as_deref().and_then(duration_ms).unwrap_or(default);
    OutlierDetection {
        interval_ms: dur(&p.interval, 3000),
        base_ejection_time_ms: dur(&p.base_ejection_time, 30_000),
        max_ejection_percent: p.max_ejection_percent.unwrap_or(10),
        consecutive_5xx: p.consecutive_5xx_errors.unwrap_or(5),
        consecutive_gateway_failure: p.consecutive_gateway_errors,
        consecutive_local_origin_failure: p.consecutive_local_origin_failures.unwrap_or(5),
        split_external_local_origin_errors: p.split_external_local_origin_errors.unwrap_or(false),
        failure_percentage_threshold: p.failure_percentage_threshold,
        always_eject_one_host: p.always_eject_one_endpoint.unwrap_or(false),
    }
}

/// A Kubernetes quantity of bytes: an integer, or digits with a binary or decimal suffix.
pub fn quantity_bytes(v: &serde_json::Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let s = v.as_str()?;
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, suffix) = s.split_at(digits);
    if num.is_empty() || num.starts_with('0') {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match suffix {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        "P" => 1_000_000_000_000_000,
        "E" => 1_000_000_000_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// `a.b.c.d/len` or an IPv6 network: (the network as written, the prefix length, IPv6).
pub fn parse_cidr(s: &str) -> Option<(String, u32, bool)> {
    let (ip, len) = s.split_once('/')?;
    let addr: std::net::IpAddr = ip.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    let v6 = addr.is_ipv6();
    if len > if v6 { 128 } else { 32 } {
        return None;
    }
    // The network address, as Envoy Gateway writes it (host bits cleared).
    let net = match addr {
        std::net::IpAddr::V4(a) => {
            let bits = u32::from(a) & if len == 0 { 0 } else { u32::MAX << (32 - len) };
            std::net::Ipv4Addr::from(bits).to_string()
        }
        std::net::IpAddr::V6(a) => {
            let bits = u128::from(a) & if len == 0 { 0 } else { u128::MAX << (128 - len) };
            std::net::Ipv6Addr::from(bits).to_string()
        }
    };
    Some((format!("{net}/{len}"), len, v6))
}
