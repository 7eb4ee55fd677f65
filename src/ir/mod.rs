//! Stage 5: what each Gateway must do, free of Kubernetes and Envoy types.
//!
//! Input: [`Resolved`] gateways. Output: one [`GatewayIr`] per Gateway: ports (listeners merged
//! by port), virtual hosts by hostname, routes in Gateway API precedence order, and the
//! clusters they use (one per distinct backend, shared). Every route keeps its origin.

mod route;

use crate::names;
use crate::resolve;
use crate::source::{Locator, Span};
use std::collections::BTreeMap;

pub use route::build_routes;

#[derive(Debug, Clone, PartialEq)]
pub struct GatewayIr {
    pub namespace: String,
    pub name: String,
    pub ports: Vec<PortIr>,
    pub clusters: Vec<ClusterIr>,
    /// What the infrastructure running this Gateway needs (for `render`).
    pub infra: InfraIr,
    /// Some route sends a share of traffic to invalid backendRefs (answered 500).
    pub invalid_backend: bool,
}

/// The Gateway's wishes for its infrastructure: addresses, labels and annotations to put on
/// every generated object, and the hostnames its listeners serve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InfraIr {
    /// Requested IP addresses (`spec.addresses` of type IPAddress).
    pub addresses: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Non-wildcard hostnames of the programmed listeners, sorted.
    pub hostnames: Vec<String>,
    /// Settings from the EnvoyProxy in effect.
    pub proxy: ProxyIr,
}

/// The proxy's Deployment and Service settings (from an EnvoyProxy), all optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxyIr {
    pub replicas: Option<u32>,
    pub image: Option<String>,
    /// Container resources (requests/limits), as given.
    pub resources: Option<serde_json::Value>,
    pub service_type: Option<String>,
    pub service_annotations: BTreeMap<String, String>,
    pub service_labels: BTreeMap<String, String>,
    pub load_balancer_class: Option<String>,
    pub load_balancer_source_ranges: Vec<String>,
    pub external_traffic_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortIr {
    /// The port clients use (Host matching, redirects).
    pub port: u32,
    /// The port Envoy binds.
    pub bind_port: u32,
    pub name: String,
    /// HTTP: the route table of the port.
    pub virtual_hosts: Vec<VirtualHostIr>,
    /// HTTPS: one TLS filter chain per listener, chosen by SNI, each with its own routes.
    pub tls_chains: Vec<TlsChainIr>,
}

/// The TLS side of one HTTPS listener: the SNI names it answers (none: the default chain),
/// its certificates and the virtual hosts it owns.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsChainIr {
    pub name: String,
    pub server_names: Vec<String>,
    pub certificates: Vec<std::sync::Arc<resolve::tls::Certificate>>,
    pub virtual_hosts: Vec<VirtualHostIr>,
    /// Hostnames other HTTPS listeners of the port own: a request for them on this
    /// connection was misdirected (HTTP 421), as Envoy Gateway answers.
    pub misdirected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualHostIr {
    pub name: String,
    pub hostname: String,
    /// Shared: a wildcard route serves every exact virtual host it covers.
    pub routes: Vec<std::sync::Arc<RouteIr>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathMatch {
    Exact(String),
    /// Segment-aware prefix, without a trailing slash; `/` matches everything.
    Prefix(String),
    Regex(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StringMatch {
    Exact(String),
    Regex(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyMatch {
    pub name: String,
    pub value: StringMatch,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderOps {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl HeaderOps {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathRewrite {
    Full(String),
    /// Replace the matched prefix by this (never ending in `/` unless it is `/`).
    Prefix { matched: String, replacement: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct WeightedCluster {
    pub cluster: String,
    pub weight: u32,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub scheme: Option<String>,
    pub hostname: Option<String>,
    /// None: keep the request's (the spec's port rules are applied already).
    pub port: Option<u32>,
    pub path: Option<PathRewrite>,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Forward {
        clusters: Vec<WeightedCluster>,
        host_rewrite: Option<String>,
        path_rewrite: Option<PathRewrite>,
        /// Whole request, in milliseconds (0: none); None: Envoy's default.
        timeout_ms: Option<u64>,
        /// Each request to a backend, in milliseconds.
        backend_timeout_ms: Option<u64>,
        /// Copies of requests: (cluster, share in millionths).
        mirrors: Vec<(String, u32)>,
        retry: Option<RetryIr>,
        session: Option<SessionIr>,
    },
    Redirect(Redirect),
    DirectResponse { status: u16 },
}

/// Where a route came from, for explanations and diagnostics. The file position is found on
/// demand ([`Origin::span`]): most runs never ask, and finding it costs a re-parse.
#[derive(Debug, Clone)]
pub struct Origin {
    pub object: String,
    pub rule: usize,
    pub match_index: usize,
    pub loc: Locator,
}

impl Origin {
    pub fn span(&self) -> Option<Span> {
        self.loc.span_of(&format!("/spec/rules/{}/matches/{}", self.rule, self.match_index), false)
    }
}

impl PartialEq for Origin {
    fn eq(&self, o: &Self) -> bool {
        (&self.object, self.rule, self.match_index) == (&o.object, o.rule, o.match_index)
    }
}

/// Retries of a route (Gateway API experimental `retry`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryIr {
    pub attempts: u32,
    pub codes: Vec<u16>,
    pub backoff_ms: Option<u64>,
}

/// Session persistence: requests carrying the session go to the same endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionIr {
    Cookie { name: String, ttl_ms: Option<u64> },
    Header { name: String },
}

/// Cross-origin resource sharing for a route.
#[derive(Debug, Clone, PartialEq)]
pub struct CorsIr {
    /// Allowed origins; `*` in a host matches any labels to its left.
    pub origins: Vec<StringMatch>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: u32,
    pub credentials: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteIr {
    pub name: String,
    pub path: PathMatch,
    pub method: Option<String>,
    pub headers: Vec<KeyMatch>,
    pub query: Vec<KeyMatch>,
    pub action: Action,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    pub cors: Option<CorsIr>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClusterEndpoints {
    Static(Vec<(String, u32)>),
    Dns(Vec<(String, u32)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterIr {
    pub name: String,
    pub endpoints: ClusterEndpoints,
    /// Speak HTTP/2 without TLS to the backend (appProtocol `kubernetes.io/h2c`).
    pub h2c: bool,
}

fn proxy_ir(e: Option<&crate::api::EnvoyProxy>) -> ProxyIr {
    let Some(k) = e.and_then(|e| e.spec.provider.as_ref()).and_then(|p| p.kubernetes.as_ref()) else {
        return ProxyIr::default();
    };
    let d = k.envoy_deployment.as_ref();
    let c = d.and_then(|d| d.container.as_ref());
    let s = k.envoy_service.clone().unwrap_or_default();
    ProxyIr {
        replicas: d.and_then(|d| d.replicas),
        image: c.and_then(|c| c.image.clone()),
        resources: c.and_then(|c| c.resources.clone()),
        service_type: s.type_,
        service_annotations: s.annotations,
        service_labels: s.labels,
        load_balancer_class: s.load_balancer_class,
        load_balancer_source_ranges: s.load_balancer_source_ranges,
        external_traffic_policy: s.external_traffic_policy,
    }
}

/// Hostnames that cover `host`, most specific first: itself, each wildcard suffix, `*`.
fn covering_hosts(host: &str) -> Vec<String> {
    let mut out = vec![host.to_string()];
    let mut rest = host.strip_prefix("*.").unwrap_or(host);
    if host.starts_with("*.") {
        // `*.b.c` is covered by `*.c` but not by itself again.
        if let Some((_, r)) = rest.split_once('.') {
            rest = r;
            out.push(format!("*.{rest}"));
        }
    }
    while let Some((_, r)) = rest.split_once('.') {
        rest = r;
        out.push(format!("*.{rest}"));
    }
    if host != "*" {
        out.push("*".to_string());
    }
    out.dedup();
    out
}

/// Gateway API host precedence: more non-wildcard characters first, then more characters.
fn host_rank(h: &str) -> (std::cmp::Reverse<usize>, std::cmp::Reverse<usize>) {
    let non_wild = if h.starts_with('*') { 0 } else { h.len() };
    (std::cmp::Reverse(non_wild), std::cmp::Reverse(if h == "*" { 0 } else { h.len() }))
}

/// The IR of one Gateway.
pub fn build_gateway(g: &resolve::ResolvedGateway, route_rules: &[Vec<resolve::ResolvedRule>]) -> GatewayIr {
    // port -> (listener, hostname) -> candidate routes attached through that listener
    let mut ports: BTreeMap<u32, BTreeMap<(usize, String), Vec<std::sync::Arc<route::Candidate>>>> = BTreeMap::new();
    let mut clusters: BTreeMap<String, ClusterIr> = BTreeMap::new();
    for l in g.listeners.iter().filter(|l| l.programmed) {
        ports.entry(l.port).or_default();
    }
    for attached in &g.routes {
        let rules = &route_rules[attached.rules];
        for (li, hosts) in &attached.listeners {
            let l = &g.listeners[*li];
            if !l.programmed {
                continue;
            }
            // The routes do not depend on the hostname: build them once, share them.
            let mut built = Vec::new();
            route::candidates(attached.route, attached.order, rules, l.port, l.is_https(), &mut built, &mut clusters);
            let built: Vec<_> = built.into_iter().map(std::sync::Arc::new).collect();
            let groups = ports.entry(l.port).or_default();
            for h in hosts {
                groups.entry((*li, h.clone())).or_default().extend(built.iter().cloned());
            }
        }
    }
    let ports: Vec<PortIr> = ports
        .into_iter()
        .map(|(port, groups)| {
            // Every listener's own hostname gets a virtual host, even without routes, so that a
            // host a more specific listener owns is never served by a less specific one's routes.
            let listener_hosts: Vec<String> = g
                .listeners
                .iter()
                .filter(|l| l.programmed && l.port == port)
                .map(|l| l.hostname.clone().unwrap_or_else(|| "*".to_string()))
                .collect();
            let hosts: std::collections::BTreeSet<&String> = groups.keys().map(|(_, h)| h).chain(listener_hosts.iter()).collect();
            let virtual_hosts = hosts
                .into_iter()
                .map(|host| {
                    // The listener that owns this host: the most specific one on the port that
                    // covers it. Routes of other listeners never serve it (listener isolation).
                    let owner = g
                        .listeners
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| l.programmed && l.port == port)
                        .filter(|(_, l)| l.hostname.as_deref().is_none_or(|lh| host == lh || resolve::hostname::covered_by(host, lh)))
                        .min_by_key(|(_, l)| host_rank(l.hostname.as_deref().unwrap_or("*")))
                        .map(|(i, _)| i);
                    let mut cands = Vec::new();
                    if let Some(owner) = owner {
                        for c in covering_hosts(host) {
                            if let Some(list) = groups.get(&(owner, c.clone())) {
                                cands.extend(list.iter().map(|x| (host_rank(&c), &**x)));
                            }
                        }
                    }
                    (owner, VirtualHostIr { name: names::virtual_host(port, host), routes: build_routes(cands), hostname: host.clone() })
                })
                .collect::<Vec<_>>();
            let https = g.listeners.iter().any(|l| l.programmed && l.port == port && l.is_https());
            if !https {
                let virtual_hosts = virtual_hosts.into_iter().map(|(_, v)| v).collect();
                return PortIr { port, bind_port: names::bound_port(port), name: names::listener(port, false), virtual_hosts, tls_chains: Vec::new() };
            }
            let mut owned: BTreeMap<usize, Vec<VirtualHostIr>> = BTreeMap::new();
            for (owner, v) in virtual_hosts {
                if let Some(o) = owner {
                    owned.entry(o).or_default().push(v);
                }
            }
            let tls_chains = g
                .listeners
                .iter()
                .enumerate()
                .filter(|(_, l)| l.programmed && l.port == port)
                .map(|(i, l)| {
                    let virtual_hosts = owned.remove(&i).unwrap_or_default();
                    let mut misdirected: Vec<String> = g
                        .listeners
                        .iter()
                        .enumerate()
                        .filter(|(j, o)| *j != i && o.programmed && o.port == port)
                        .map(|(_, o)| o.hostname.clone().unwrap_or_else(|| "*".to_string()))
                        .filter(|h| !virtual_hosts.iter().any(|v| &v.hostname == h))
                        .collect();
                    misdirected.sort();
                    misdirected.dedup();
                    TlsChainIr {
                        name: names::tls_chain(port, &l.name),
                        server_names: l.hostname.iter().cloned().collect(),
                        certificates: l.tls.clone(),
                        virtual_hosts,
                        misdirected,
                    }
                })
                .collect();
            PortIr { port, bind_port: names::bound_port(port), name: names::listener(port, true), virtual_hosts: Vec::new(), tls_chains }
        })
        .collect();
    let spec = &g.gateway.obj.spec;
    let mut hostnames: Vec<String> = g
        .listeners
        .iter()
        .filter(|l| l.programmed)
        .filter_map(|l| l.hostname.clone())
        .filter(|h| !h.starts_with('*'))
        .collect();
    hostnames.sort();
    hostnames.dedup();
    let infra = InfraIr {
        addresses: spec.addresses.iter().filter(|a| a.type_ == "IPAddress").filter_map(|a| a.value.clone()).collect(),
        labels: spec.infrastructure.as_ref().map(|i| i.labels.clone()).unwrap_or_default(),
        annotations: spec.infrastructure.as_ref().map(|i| i.annotations.clone()).unwrap_or_default(),
        hostnames,
        proxy: proxy_ir(g.proxy),
    };
    let invalid_backend = ports.iter().any(|p: &PortIr| {
        p.virtual_hosts.iter().chain(p.tls_chains.iter().flat_map(|c| &c.virtual_hosts)).flat_map(|v| &v.routes).any(|r| match &r.action {
            Action::Forward { clusters, .. } => clusters.iter().any(|c| c.cluster == names::invalid_backend()),
            _ => false,
        })
    });
    GatewayIr {
        namespace: g.namespace().to_string(),
        name: g.name().to_string(),
        ports,
        clusters: clusters.into_values().collect(),
        infra,
        invalid_backend,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn covering() {
        assert_eq!(super::covering_hosts("a.b.c"), vec!["a.b.c", "*.b.c", "*.c", "*"]);
        assert_eq!(super::covering_hosts("*.b.c"), vec!["*.b.c", "*.c", "*"]);
        assert_eq!(super::covering_hosts("*"), vec!["*"]);
    }
}
