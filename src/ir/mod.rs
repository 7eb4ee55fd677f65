//! Stage 5: what each Gateway must do, free of Kubernetes and Envoy types.
//!
//! Input: [`Resolved`] gateways. Output: one [`GatewayIr`] per Gateway: ports (listeners merged
//! by port), virtual hosts by hostname, routes in Gateway API precedence order, and the
//! clusters they use (one per distinct backend, shared). Every route keeps its origin.

mod route;

use crate::names;
use crate::resolve::{self, Resolved};
use crate::source::Span;
use std::collections::BTreeMap;

pub use route::build_routes;

#[derive(Debug, Clone, PartialEq)]
pub struct GatewayIr {
    pub namespace: String,
    pub name: String,
    pub ports: Vec<PortIr>,
    pub clusters: Vec<ClusterIr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortIr {
    /// The port clients use (Host matching, redirects).
    pub port: u32,
    /// The port Envoy binds.
    pub bind_port: u32,
    pub name: String,
    pub virtual_hosts: Vec<VirtualHostIr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualHostIr {
    pub name: String,
    pub hostname: String,
    pub routes: Vec<RouteIr>,
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
    pub port: Option<u32>,
    pub path: Option<PathRewrite>,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Forward { clusters: Vec<WeightedCluster>, host_rewrite: Option<String>, path_rewrite: Option<PathRewrite> },
    Redirect(Redirect),
    DirectResponse { status: u16 },
}

/// Where a route came from, for explanations and diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub object: String,
    pub rule: usize,
    pub match_index: usize,
    pub span: Option<Span>,
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
}

/// Build the IR of every resolved Gateway, in (namespace, name) order.
pub fn build(resolved: &Resolved) -> Vec<GatewayIr> {
    let mut out: Vec<GatewayIr> = resolved.gateways.iter().map(|g| build_gateway(g, &resolved.route_rules)).collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn build_gateway(g: &resolve::ResolvedGateway, route_rules: &[Vec<resolve::ResolvedRule>]) -> GatewayIr {
    // port -> hostname -> routes
    let mut ports: BTreeMap<u32, BTreeMap<String, Vec<route::Candidate>>> = BTreeMap::new();
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
            let vhosts = ports.entry(l.port).or_default();
            for h in hosts {
                let list = vhosts.entry(h.clone()).or_default();
                route::candidates(attached.route, rules, l.port, list, &mut clusters);
            }
        }
    }
    let ports = ports
        .into_iter()
        .map(|(port, vhosts)| PortIr {
            port,
            bind_port: names::bound_port(port),
            name: names::listener(port),
            virtual_hosts: vhosts
                .into_iter()
                .map(|(hostname, cands)| VirtualHostIr { name: names::virtual_host(port, &hostname), routes: build_routes(cands), hostname })
                .collect(),
        })
        .collect();
    GatewayIr {
        namespace: g.namespace().to_string(),
        name: g.name().to_string(),
        ports,
        clusters: clusters.into_values().collect(),
    }
}
