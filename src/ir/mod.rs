//! Stage 5: what each Gateway must do, free of Kubernetes and Envoy types.
//!
//! Input: [`Resolved`] gateways. Output: one [`GatewayIr`] per Gateway: ports (listeners merged
//! by port and transport), virtual hosts by hostname, routes in Gateway API precedence order,
//! TLS chains and TCP/UDP proxies for the stream routes (`stream.rs`), and the clusters they
//! use (one per distinct key, shared). Every route keeps its origin.

mod clusters;
pub mod patch;
mod route;
mod stream;

use crate::names;
use crate::resolve;
use crate::source::{Locator, Span};
use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// Presented to backends reached over TLS (`spec.tls.backend.clientCertificateRef`).
    pub backend_client_certificate: Option<Arc<resolve::tls::Certificate>>,
    /// EnvoyPatchPolicies' patches, in the order they apply, and the Envoy Gateway names of
    /// the resources they may address.
    pub patches: Vec<Arc<resolve::epp::PatchPolicy>>,
    pub aliases: Vec<patch::Alias>,
}

/// The Gateway's wishes for its infrastructure: addresses, labels and annotations to put on
/// every generated object, the EnvoyProxy's settings, and the hostnames its listeners serve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InfraIr {
    pub addresses: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Non-wildcard hostnames of the programmed listeners, sorted.
    pub hostnames: Vec<String>,
    pub proxy: ProxyIr,
}

pub use crate::resolve::ProxySettings as ProxyIr;
pub use crate::resolve::http::{CorsIr, HeaderOps, HttpMatch, KeyMatch, PathMatch, RetryIr, SessionIr, StringMatch};

/// One Envoy listener: a port, and what arrives on it, by transport.
#[derive(Debug, Clone, PartialEq)]
pub struct PortIr {
    /// The port clients use (Host matching, redirects).
    pub port: u32,
    /// The port Envoy binds.
    pub bind_port: u32,
    pub name: String,
    pub transport: Transport,
}

/// What a port carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// Plain HTTP: one route table for the port.
    Http { virtual_hosts: Vec<VirtualHostIr>, client: Option<Arc<crate::resolve::ctp::ClientSettings>> },
    /// TLS, a chain per SNI name set: HTTPS listeners (terminated, HTTP route tables) and TLS
    /// listeners (passed through, or terminated, to a TCP proxy) share the port.
    Tls { chains: Vec<TlsChainIr> },
    /// Plain TCP: the port's connections to one proxy.
    Tcp { proxy: StreamProxy },
    /// UDP: the port's datagrams, a session per client address and port, to one proxy.
    Udp { proxy: StreamProxy },
}

impl PortIr {
    /// Every virtual host of the port, whatever the transport.
    pub fn virtual_hosts(&self) -> Box<dyn Iterator<Item = &VirtualHostIr> + '_> {
        match &self.transport {
            Transport::Http { virtual_hosts, .. } => Box::new(virtual_hosts.iter()),
            Transport::Tls { chains } => Box::new(chains.iter().flat_map(|c| match &c.serves {
                ChainServes::Http { virtual_hosts, .. } => virtual_hosts.as_slice(),
                ChainServes::Proxy(_) => &[],
            })),
            Transport::Tcp { .. } | Transport::Udp { .. } => Box::new(std::iter::empty()),
        }
    }
    /// The TCP and UDP proxies of the port (TLSRoutes, TCPRoutes, UDPRoutes).
    pub fn proxies(&self) -> Vec<&StreamProxy> {
        match &self.transport {
            Transport::Http { .. } => Vec::new(),
            Transport::Tls { chains } => chains
                .iter()
                .filter_map(|c| match &c.serves {
                    ChainServes::Proxy(p) => Some(p),
                    ChainServes::Http { .. } => None,
                })
                .collect(),
            Transport::Tcp { proxy } | Transport::Udp { proxy } => vec![proxy],
        }
    }
    /// The ClientTrafficPolicy settings of the port's route tables and TCP proxies, in chain
    /// order (those without a policy left out).
    pub fn client_settings(&self) -> Vec<&crate::resolve::ctp::ClientSettings> {
        match &self.transport {
            Transport::Http { client, .. } => client.as_deref().into_iter().collect(),
            Transport::Tls { chains } => chains
                .iter()
                .filter_map(|c| match &c.serves {
                    ChainServes::Http { client, .. } => client.as_deref(),
                    ChainServes::Proxy(p) => p.client.as_deref(),
                })
                .collect(),
            Transport::Tcp { proxy } => proxy.client.as_deref().into_iter().collect(),
            Transport::Udp { .. } => Vec::new(),
        }
    }
    /// Carried over UDP (a UDP socket; its Service and container ports are UDP).
    pub fn is_udp(&self) -> bool {
        matches!(self.transport, Transport::Udp { .. })
    }
    pub fn tls_chains(&self) -> &[TlsChainIr] {
        match &self.transport {
            Transport::Tls { chains } => chains,
            _ => &[],
        }
    }
}

/// One TLS filter chain: the SNI names it answers (none: the default chain), the
/// certificates it terminates with (none: passthrough), and what it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsChainIr {
    pub name: String,
    pub server_names: Vec<String>,
    pub certificates: Vec<std::sync::Arc<resolve::tls::Certificate>>,
    /// Client certificates asked for and verified against a CA bundle (terminated TLS only).
    pub client_validation: Option<std::sync::Arc<resolve::tls::ClientValidation>>,
    /// Versions, ciphers, ALPN and resumption (a ClientTrafficPolicy's, else the defaults).
    pub tls: std::sync::Arc<resolve::ctp::DownstreamTls>,
    pub serves: ChainServes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChainServes {
    /// An HTTPS listener: its own route table.
    Http {
        virtual_hosts: Vec<VirtualHostIr>,
        /// Hostnames other HTTPS listeners of the port own: a request for them on this
        /// connection was misdirected (HTTP 421), as Envoy Gateway answers.
        misdirected: Vec<String>,
        /// Offer HTTP/2 in ALPN; not when the listener's TLS config overlaps another's.
        http2: bool,
        /// How Envoy treats the listener's clients (a ClientTrafficPolicy).
        client: Option<Arc<crate::resolve::ctp::ClientSettings>>,
    },
    /// A TLSRoute or TCPRoute: the stream (decrypted if the chain has certificates) to its
    /// backends.
    Proxy(StreamProxy),
}

/// Forwarding of connections (TCP) or sessions (UDP) to weighted clusters. Never empty: a
/// route without a usable backend gets no chain or listener, so its connections are refused.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamProxy {
    /// Stat prefix: the route it came from.
    pub name: String,
    /// (cluster, weight); UDP has one cluster holding every backend as a weighted locality.
    pub clusters: Vec<(String, u32)>,
    /// Consistent hashing (a BackendTrafficPolicy's ConsistentHash): a stream's key is its
    /// client's address.
    pub source_ip_hash: bool,
    /// How Envoy treats the listener's clients (a ClientTrafficPolicy): the idle timeout and
    /// connection limit of the proxy (TCP and TLS listeners).
    pub client: Option<Arc<crate::resolve::ctp::ClientSettings>>,
    /// Who may connect (a SecurityPolicy's authorization on the listener or Gateway), judged
    /// by the client address alone (TCP and TLS listeners).
    pub authorization: Option<Arc<crate::resolve::security::Authorization>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualHostIr {
    pub name: String,
    pub hostname: String,
    /// Shared: a wildcard route serves every exact virtual host it covers.
    pub routes: Vec<Arc<RouteIr>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathRewrite {
    Full(String),
    /// Replace the matched prefix by this (never ending in `/` unless it is `/`).
    Prefix { matched: String, replacement: String },
    Regex { pattern: String, substitution: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct WeightedCluster {
    pub cluster: String,
    pub weight: u32,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    /// A credential injected towards this cluster only.
    pub credential: Option<Arc<crate::resolve::http::Credential>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub scheme: Option<String>,
    pub hostname: Option<String>,
    /// The port of the Location (the spec's port rules applied already).
    pub port: u32,
    /// `port` is the scheme's well-known one: the Location carries no port.
    pub default_port: bool,
    pub path: Option<PathRewrite>,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Forward {
        clusters: Vec<WeightedCluster>,
        host_rewrite: Option<resolve::http::HostRewrite>,
        append_x_forwarded_host: bool,
        path_rewrite: Option<PathRewrite>,
        /// Whole request, in milliseconds (0: none); None: Envoy's default.
        timeout_ms: Option<u64>,
        /// Each request to a backend, in milliseconds.
        backend_timeout_ms: Option<u64>,
        /// Copies of requests: (cluster, share in millionths).
        mirrors: Vec<(String, u32)>,
        retry: Option<RetryIr>,
        session: Option<SessionIr>,
        /// Hashing, retries and timeouts of the BackendTrafficPolicy in effect; the rule's own
        /// Gateway API retry and timeouts take precedence.
        traffic: Option<resolve::traffic::RouteTraffic>,
    },
    Redirect(Redirect),
    DirectResponse { status: u16, body: Option<String> },
}

/// Where a route came from, for explanations and diagnostics. The file position is found on
/// demand ([`Origin::span`]): most runs never ask, and finding it costs a re-parse.
#[derive(Debug, Clone)]
pub struct Origin {
    pub rule: crate::id::RuleId,
    pub match_index: usize,
    pub loc: Locator,
}

impl Origin {
    pub fn span(&self) -> Option<Span> {
        self.loc.span_of(&format!("/spec/rules/{}/matches/{}", self.rule.index, self.match_index), false)
    }
}

impl PartialEq for Origin {
    fn eq(&self, o: &Self) -> bool {
        (&self.rule, self.match_index) == (&o.rule, o.match_index)
    }
}

impl RouteIr {
    /// The credentials the route injects: its own, and its backends' (HTTPRouteFilters on
    /// backendRefs).
    pub fn credentials(&self) -> impl Iterator<Item = &crate::resolve::http::Credential> {
        let clusters = match &self.action {
            Action::Forward { clusters, .. } => clusters.as_slice(),
            _ => &[],
        };
        self.credential.as_deref().into_iter().chain(clusters.iter().filter_map(|c| c.credential.as_deref()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteIr {
    pub name: String,
    pub matches: HttpMatch,
    pub action: Action,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    pub cors: Option<CorsIr>,
    /// What Envoy checks before the route's action (a SecurityPolicy's translation).
    pub security: Option<Arc<resolve::security::Security>>,
    /// A credential Envoy puts into the request (an HTTPRouteFilter's).
    pub credential: Option<Arc<resolve::http::Credential>>,
    /// Lua scripts and external processors (an EnvoyExtensionPolicy's translation).
    pub extension: Option<Arc<resolve::eep::Extension>>,
    pub origin: Origin,
}

pub use crate::resolve::Endpoints as ClusterEndpoints;

/// How Envoy speaks to a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum UpstreamProtocol {
    #[default]
    Http1,
    /// HTTP/2 without TLS (appProtocol `kubernetes.io/h2c`).
    H2c,
    /// UDP datagrams (a UDPRoute's backends).
    Udp,
}

/// What makes two clusters different: the backend, and every setting that shapes the cluster.
/// Routes whose keys are equal share a cluster; different keys never merge. Policies that set
/// load balancing, circuit breakers or backend TLS add their fields here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterKey {
    pub namespace: String,
    /// The Service's or the Backend's name.
    pub service: String,
    pub kind: resolve::backend::TargetKind,
    pub port: u32,
    pub protocol: UpstreamProtocol,
    /// Set for a route's own cluster that holds all its backends as weighted localities
    /// (UDP: Envoy's UDP proxy has no weighted clusters; a rule with fallback Backends, at
    /// priority 1): the route's key.
    pub route: Option<crate::id::ObjectKey>,
    /// The rule of an HTTP route's own cluster.
    pub rule: Option<usize>,
    /// Verified TLS to the backend (its BackendTLSPolicy).
    pub tls: Option<std::sync::Arc<resolve::backendtls::UpstreamTls>>,
    /// Load balancing, timeouts and limits (a BackendTrafficPolicy).
    pub policy: Option<std::sync::Arc<resolve::traffic::ClusterPolicy>>,
    /// HTTP/1 settings the listener's ClientTrafficPolicy carries to its backends.
    pub http1: Option<resolve::ctp::UpstreamHttp1>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterIr {
    pub name: String,
    pub endpoints: ClusterEndpoints,
    pub protocol: UpstreamProtocol,
    /// For a route's own cluster: each backend's endpoints with its weight and priority (a
    /// locality each; priority 1: a fallback Backend); `endpoints` is then unused.
    pub shares: Vec<(ClusterEndpoints, u32, u32)>,
    /// Verified TLS to the backend (its BackendTLSPolicy).
    pub tls: Option<std::sync::Arc<resolve::backendtls::UpstreamTls>>,
    /// Load balancing, timeouts and limits (a BackendTrafficPolicy).
    pub policy: Option<std::sync::Arc<resolve::traffic::ClusterPolicy>>,
    pub http1: Option<resolve::ctp::UpstreamHttp1>,
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

/// Candidate routes of one port, by (listener index, hostname).
type PortGroups = BTreeMap<(usize, String), Vec<Arc<route::Candidate>>>;

/// The IR of one Gateway.
pub fn build_gateway(g: &resolve::ResolvedGateway) -> GatewayIr {
    let mut ports: BTreeMap<u32, PortGroups> = BTreeMap::new();
    let mut clusters: BTreeMap<ClusterKey, ClusterIr> = BTreeMap::new();
    for l in g
        .listeners
        .iter()
        .filter(|l| l.programmed && !l.protocol.is_udp())
    {
        ports.entry(l.port).or_default();
    }
    for attached in &g.routes {
        for (li, hosts) in &attached.listeners {
            let l = &g.listeners[*li];
            if !l.programmed {
                continue;
            }
            // The routes do not depend on the hostname: build them once, share them.
            let mut built = Vec::new();
            let upstream_http1 = l.client.as_ref().and_then(|c| c.upstream_http1());
            let at = route::At { listener: *li, port: l.port, https: l.is_https(), traffic: &g.traffic, security: &g.security, extensions: &g.extensions, upstream_http1, preserve_order: g.infra.proxy.preserve_route_order };
            route::candidates(&attached.route, attached.order, &at, &mut built, &mut clusters);
            let built: Vec<_> = built.into_iter().map(Arc::new).collect();
            let groups = ports.entry(l.port).or_default();
            for h in hosts {
                groups.entry((*li, h.clone())).or_default().extend(built.iter().cloned());
            }
        }
    }
    let mut ports: Vec<PortIr> = ports
        .into_iter()
        .filter_map(|(port, groups)| port_ir(g, port, &groups, &mut clusters))
        .collect();
    for (li, l) in g
        .listeners
        .iter()
        .enumerate()
        .filter(|(_, l)| l.programmed && l.protocol.is_udp())
    {
        if let Some(proxy) = stream::port_proxy(g, li, true, &mut clusters) {
            ports.push(PortIr {
                port: l.port,
                bind_port: names::bound_port(l.port),
                name: names::stream_listener("udp", l.port),
                transport: Transport::Udp { proxy },
            });
        }
    }
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
        addresses: g.infra.addresses.clone(),
        labels: g.infra.labels.clone(),
        annotations: g.infra.annotations.clone(),
        hostnames,
        proxy: g.infra.proxy.clone(),
    };
    let invalid_backend = ports.iter().flat_map(|p| p.virtual_hosts()).flat_map(|v| &v.routes).any(|r| match &r.action {
        Action::Forward { clusters, .. } => clusters.iter().any(|c| c.cluster == names::invalid_backend()),
        _ => false,
    });
    let clusters = clusters.into_values().chain(clusters::auth_clusters(g, &ports)).chain(clusters::telemetry_clusters(g)).collect();
    GatewayIr {
        namespace: g.key.namespace.clone(),
        name: g.key.name.clone(),
        clusters,
        infra,
        invalid_backend,
        backend_client_certificate: g.backend_client_certificate.clone(),
        aliases: patch::aliases(g, &ports),
        patches: g.patches.clone(),
        ports,
    }
}

/// The programmed, TCP-carried listeners of one port, with their indices.
fn on_port(g: &resolve::ResolvedGateway, port: u32) -> impl Iterator<Item = (usize, &resolve::ResolvedListener)> + Clone {
    g.listeners.iter().enumerate().filter(move |(_, l)| l.programmed && l.port == port && !l.protocol.is_udp())
}

/// The listener of the port that owns a host: the most specific one that covers it. Routes
/// of other listeners never serve it (listener isolation).
fn owner(g: &resolve::ResolvedGateway, port: u32, host: &str) -> Option<usize> {
    on_port(g, port)
        .filter(|(_, l)| l.hostname.as_deref().is_none_or(|lh| host == lh || resolve::hostname::covered_by(host, lh)))
        .min_by_key(|(_, l)| host_rank(l.hostname.as_deref().unwrap_or("*")))
        .map(|(i, _)| i)
}

/// One TCP-carried port: HTTP (virtual hosts, each served only by the listener that owns its
/// hostname), TLS (a chain per HTTPS listener, a chain per route of each TLS listener), or
/// TCP (one proxy). None for a TCP port no route carries: its connections are refused.
fn port_ir(g: &resolve::ResolvedGateway, port: u32, groups: &PortGroups, clusters: &mut BTreeMap<ClusterKey, ClusterIr>) -> Option<PortIr> {
    let ir = |name, transport| Some(PortIr { port, bind_port: names::bound_port(port), name, transport });
    if let Some((li, _)) = on_port(g, port).find(|(_, l)| l.protocol == resolve::Protocol::Tcp) {
        let proxy = stream::port_proxy(g, li, false, clusters)?;
        return ir(names::stream_listener("tcp", port), Transport::Tcp { proxy });
    }
    // Every listener's own hostname gets a virtual host, even without routes, so that a host
    // a more specific listener owns is never served by a less specific one's routes.
    let listener_hosts: Vec<String> = on_port(g, port).map(|(_, l)| l.hostname.clone().unwrap_or_else(|| "*".to_string())).collect();
    let hosts: std::collections::BTreeSet<&String> = groups.keys().map(|(_, h)| h).chain(listener_hosts.iter()).collect();
    let virtual_hosts = hosts.into_iter().map(|host| {
        let owner = owner(g, port, host);
        let mut cands = Vec::new();
        if let Some(owner) = owner {
            for c in covering_hosts(host) {
                if let Some(list) = groups.get(&(owner, c.clone())) {
                    cands.extend(list.iter().map(|x| (host_rank(&c), &**x)));
                }
            }
        }
        let mut routes = build_routes(cands);
        if owner.is_some_and(|o| g.listeners[o].client_failed) {
            for r in &mut routes {
                std::sync::Arc::make_mut(r).action = Action::DirectResponse { status: 500, body: None };
            }
        }
        (owner, VirtualHostIr { name: names::virtual_host(port, host), routes, hostname: host.clone() })
    });
    let tls = on_port(g, port).any(|(_, l)| l.is_https() || matches!(l.protocol, resolve::Protocol::TlsPassthrough | resolve::Protocol::TlsTerminate));
    if !tls {
        // The port's listeners share one connection manager: a policy on one of them alone is
        // refused when others share it, so any listener's settings are the port's.
        let client = on_port(g, port).find_map(|(_, l)| l.client.clone());
        return ir(names::listener(port, false), Transport::Http { virtual_hosts: virtual_hosts.map(|(_, v)| v).collect(), client });
    }
    let mut owned: BTreeMap<usize, Vec<VirtualHostIr>> = BTreeMap::new();
    for (owner, v) in virtual_hosts {
        if let Some(o) = owner {
            owned.entry(o).or_default().push(v);
        }
    }
    let chains = tls_chains(g, port, owned, clusters);
    let https = on_port(g, port).any(|(_, l)| l.is_https());
    ir(if https { names::listener(port, true) } else { names::stream_listener("tls", port) }, Transport::Tls { chains })
}

/// The chains of a TLS port, in listener order: each HTTPS listener's route table (with the
/// virtual hosts it owns), each TLS listener's route chains.
fn tls_chains(g: &resolve::ResolvedGateway, port: u32, mut owned: BTreeMap<usize, Vec<VirtualHostIr>>, clusters: &mut BTreeMap<ClusterKey, ClusterIr>) -> Vec<TlsChainIr> {
    let mut chains = Vec::new();
    for (i, l) in on_port(g, port) {
        if !l.is_https() {
            chains.extend(stream::tls_chains(g, i, &|h: &str| owner(g, port, h) == Some(i), clusters));
            continue;
        }
        let virtual_hosts = owned.remove(&i).unwrap_or_default();
        let mut misdirected: Vec<String> = on_port(g, port)
            .filter(|(j, o)| *j != i && o.is_https())
            .map(|(_, o)| o.hostname.clone().unwrap_or_else(|| "*".to_string()))
            .filter(|h| !virtual_hosts.iter().any(|v| &v.hostname == h))
            .collect();
        misdirected.sort();
        misdirected.dedup();
        chains.push(TlsChainIr {
            name: names::tls_chain(port, &names::listener_label(&l.id)),
            server_names: l.hostname.iter().cloned().collect(),
            certificates: l.certificates.clone(),
            client_validation: resolve::ctp::listener_validation(l),
            tls: resolve::ctp::listener_tls(l),
            serves: ChainServes::Http { virtual_hosts, misdirected, http2: !l.tls_overlaps, client: l.client.clone() },
        });
    }
    chains
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
