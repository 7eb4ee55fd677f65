//! TCP and UDP proxies: the Envoy side of TLSRoute, TCPRoute and UDPRoute.

use super::types::*;
use crate::ir::{self, StreamProxy};
use serde::Serialize;

const TCP_PROXY: &str =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const UDP_PROXY: &str =
    "type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig";
const UDP_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.Route";

/// UDP sessions a cluster may hold at once. Envoy counts UDP proxy sessions against the
/// cluster's connection limit, 1024 by default, which a busy DNS service exceeds; each
/// session holds one upstream socket (docs/features.md).
pub const UDP_MAX_SESSIONS: u32 = 65_536;

#[derive(Serialize)]
pub struct TcpProxy {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stat_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_clusters: Option<WeightedClusters>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hash_policy: Vec<SourceIpHash>,
    /// A connection with no bytes either way this long is closed (Envoy: 1h).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    pub access_log: Vec<AccessLog>,
}

/// A TCP proxy's hash key: the client's address.
#[derive(Serialize)]
pub struct SourceIpHash {
    pub source_ip: Empty,
}

/// A UDP proxy's hash key: the client's address.
#[derive(Serialize)]
pub struct UdpSourceIpHash {
    pub source_ip: bool,
}

#[derive(Serialize)]
pub struct WeightedClusters {
    pub clusters: Vec<ClusterWeight>,
}

#[derive(Serialize)]
pub struct ClusterWeight {
    pub name: String,
    pub weight: u32,
}

#[derive(Serialize)]
pub struct UdpProxyConfig {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stat_prefix: String,
    pub matcher: Matcher,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hash_policies: Vec<UdpSourceIpHash>,
    /// One entry per session, when it ends.
    pub access_log: Vec<AccessLog>,
}

#[derive(Serialize)]
pub struct Matcher {
    pub on_no_match: OnMatch,
}

#[derive(Serialize)]
pub struct OnMatch {
    pub action: MatchAction,
}

#[derive(Serialize)]
pub struct MatchAction {
    pub name: &'static str,
    pub typed_config: UdpRoute,
}

#[derive(Serialize)]
pub struct UdpRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub cluster: String,
}

#[derive(Serialize)]
pub struct CommonLbConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality_weighted_lb_config: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy_panic_threshold: Option<super::policy::Percent>,
}

#[derive(Serialize)]
pub struct CircuitBreakers {
    pub thresholds: Vec<Thresholds>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_host_thresholds: Vec<HostThresholds>,
}

#[derive(Serialize)]
pub struct HostThresholds {
    pub max_connections: u32,
}

#[derive(Serialize)]
pub struct RetryBudget {
    pub budget_percent: super::policy::Percent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_retry_concurrency: Option<u32>,
}

#[derive(Serialize)]
pub struct Thresholds {
    pub max_connections: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_budget: Option<RetryBudget>,
}

#[derive(Serialize)]
pub struct Locality {
    pub region: String,
}

/// A TCP proxy chain's filters: its policy's connection limit, if any, who may connect (a
/// SecurityPolicy's authorization), then the proxy.
pub fn tcp_filters(p: &StreamProxy) -> Vec<NetworkFilter> {
    let rbac = p.authorization.as_deref().map(|a| NetworkFilter { name: "envoy.filters.network.rbac", typed_config: NetworkConfig::Rbac(super::rbac::network_rbac(&p.name, a)) });
    super::client::connection_limit(&p.name, p.client.as_deref()).into_iter().chain(rbac).chain([tcp_proxy(p)]).collect()
}

/// The TCP proxy filter of a route: one cluster, or weighted clusters.
fn tcp_proxy(p: &StreamProxy) -> NetworkFilter {
    let (cluster, weighted_clusters) = match p.clusters.as_slice() {
        [(c, _)] => (Some(c.clone()), None),
        many => (
            None,
            Some(WeightedClusters {
                clusters: many
                    .iter()
                    .map(|(c, w)| ClusterWeight {
                        name: c.clone(),
                        weight: *w,
                    })
                    .collect(),
            }),
        ),
    };
    NetworkFilter {
        name: "envoy.filters.network.tcp_proxy",
        typed_config: NetworkConfig::TcpProxy(TcpProxy {
            type_: TCP_PROXY,
            stat_prefix: p.name.clone(),
            cluster,
            weighted_clusters,
            hash_policy: if p.source_ip_hash { vec![SourceIpHash { source_ip: Empty {} }] } else { Vec::new() },
            idle_timeout: p.client.as_ref().and_then(|c| c.tcp_idle_timeout_ms).map(super::policy::duration),
            access_log: vec![super::access_log::stdout_access_log()],
        }),
    }
}

/// The UDP proxy listener filter of a route (its one cluster).
pub fn udp_proxy(p: &StreamProxy) -> ListenerFilter {
    let cluster = p
        .clusters
        .first()
        .map(|(c, _)| c.clone())
        .unwrap_or_default();
    ListenerFilter {
        name: "envoy.filters.udp_listener.udp_proxy",
        typed_config: ListenerFilterConfig::UdpProxy(UdpProxyConfig {
            type_: UDP_PROXY,
            stat_prefix: p.name.clone(),
            matcher: Matcher {
                on_no_match: OnMatch {
                    action: MatchAction {
                        name: "route",
                        typed_config: UdpRoute {
                            type_: UDP_ROUTE,
                            cluster,
                        },
                    },
                },
            },
            hash_policies: if p.source_ip_hash { vec![UdpSourceIpHash { source_ip: true }] } else { Vec::new() },
            access_log: vec![super::access_log::stdout_access_log()],
        }),
    }
}

/// The localities of a route's own cluster: one per backend, with its weight.
pub fn localities(c: &ir::ClusterIr) -> Vec<LocalityLbEndpoints> {
    c.shares
        .iter()
        .enumerate()
        .filter_map(|(i, (eps, w, priority))| {
            let eps = match eps {
                ir::ClusterEndpoints::Static(e) | ir::ClusterEndpoints::Dns(e) => e,
            };
            (!eps.is_empty()).then(|| LocalityLbEndpoints {
                locality: Some(Locality {
                    region: format!("{}/backend/{i}", c.name),
                }),
                lb_endpoints: lb_endpoints(eps),
                load_balancing_weight: Some(*w),
                priority: *priority,
            })
        })
        .collect()
}

/// Endpoints at (address, port), or Unix sockets.
pub fn lb_endpoints(eps: &[(String, u32)]) -> Vec<LbEndpoint> {
    let address = |e: &(String, u32)| match crate::resolve::backend::unix_path(e) {
        Some(path) => Address::pipe(path),
        None => Address::new(&e.0, e.1),
    };
    eps.iter().map(|e| LbEndpoint { endpoint: Endpoint { address: address(e) } }).collect()
}
