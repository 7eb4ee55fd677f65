//! Global rate limits (BackendTrafficPolicy `rateLimit.global`): Envoy's ratelimit filter
//! asks the rate-limit service (`--rate-limit-service`) about each request's descriptors,
//! one list per rule; the service's own configuration (envoyproxy/ratelimit's format, one
//! domain per route table) says how many each descriptor may have. Both are built here from
//! the same rules, so the descriptors Envoy sends are the ones the service counts.

use super::http_filters::{selector_actions, DescriptorEntry, RateLimitAction, RateLimits};
use crate::ir::{self, GatewayIr};
use crate::resolve::traffic::{Bucket, RateRule};
use serde::Serialize;
use std::collections::BTreeMap;

const RATE_LIMIT: &str = "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit";
const PER_ROUTE: &str = "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute";

#[derive(Serialize)]
pub struct RateLimitFilter {
    #[serde(rename = "@type")]
    type_: &'static str,
    domain: String,
    rate_limit_service: RateLimitService,
    pub enable_x_ratelimit_headers: &'static str,
}

#[derive(Serialize)]
struct RateLimitService {
    grpc_service: GrpcService,
    transport_api_version: &'static str,
}

#[derive(Serialize)]
struct GrpcService {
    envoy_grpc: EnvoyGrpc,
}

#[derive(Serialize)]
struct EnvoyGrpc {
    cluster_name: &'static str,
}

/// The HCM's ratelimit filter for route table `domain`; failing open when the service does
/// not answer, as Envoy Gateway's default.
pub fn filter(domain: &str) -> RateLimitFilter {
    RateLimitFilter {
        type_: RATE_LIMIT,
        domain: domain.to_string(),
        rate_limit_service: RateLimitService { grpc_service: GrpcService { envoy_grpc: EnvoyGrpc { cluster_name: crate::names::rate_limit_cluster() } }, transport_api_version: "V3" },
        enable_x_ratelimit_headers: "DRAFT_VERSION_03",
    }
}

#[derive(Serialize)]
pub struct PerRoute {
    #[serde(rename = "@type")]
    type_: &'static str,
    rate_limits: Vec<RateLimits>,
}

#[derive(Serialize)]
pub struct GenericKey {
    pub descriptor_key: String,
    pub descriptor_value: String,
}

/// One descriptor list per rule selector: the route's own entry first (so that routes count
/// apart), then the selector's; a rule that selects nothing counts every request.
fn descriptor_lists(route: &str, rules: &[RateRule]) -> Vec<(Vec<RateLimitAction>, Vec<DescriptorEntry>, Bucket, bool)> {
    let key = |k: &str| (RateLimitAction { generic_key: Some(GenericKey { descriptor_key: k.into(), descriptor_value: k.into() }), ..Default::default() }, DescriptorEntry { key: k.into(), value: Some(k.into()) });
    let mut out = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        let selectors = if rule.selectors.is_empty() { vec![Default::default()] } else { rule.selectors.clone() };
        for sel in &selectors {
            let (route_action, route_entry) = key(route);
            let (mut actions, mut entries) = selector_actions(ri, sel);
            if actions.is_empty() {
                let (a, e) = key(&format!("rule-{ri}-match--1"));
                actions.push(a);
                entries.push(e);
            }
            actions.insert(0, route_action);
            entries.insert(0, route_entry);
            out.push((actions, entries, rule.bucket, rule.shadow));
        }
    }
    out
}

pub fn per_route(route: &str, rules: &[RateRule]) -> PerRoute {
    PerRoute { type_: PER_ROUTE, rate_limits: descriptor_lists(route, rules).into_iter().map(|(actions, ..)| RateLimits { actions }).collect() }
}

/// envoyproxy/ratelimit's configuration of one domain.
#[derive(Serialize)]
pub struct ServiceConfig {
    pub domain: String,
    pub descriptors: Vec<ServiceDescriptor>,
}

#[derive(Serialize, Default)]
pub struct ServiceDescriptor {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<ServiceLimit>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadow_mode: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<ServiceDescriptor>,
}

#[derive(Serialize)]
pub struct ServiceLimit {
    pub unit: &'static str,
    pub requests_per_unit: u32,
}

fn unit(per_s: u64) -> &'static str {
    match per_s {
        60 => "minute",
        3_600 => "hour",
        86_400 => "day",
        604_800 => "week",
        2_592_000 => "month",
        31_536_000 => "year",
        _ => "second",
    }
}

/// Add one descriptor chain to the tree, its limit at the leaf.
fn insert(tree: &mut Vec<ServiceDescriptor>, entries: &[DescriptorEntry], bucket: Bucket, shadow: bool) {
    let Some((first, rest)) = entries.split_first() else { return };
    let at = match tree.iter().position(|d| d.key == first.key && d.value == first.value) {
        Some(i) => i,
        None => {
            tree.push(ServiceDescriptor { key: first.key.clone(), value: first.value.clone(), ..Default::default() });
            tree.len() - 1
        }
    };
    let node = &mut tree[at];
    if rest.is_empty() {
        node.rate_limit = Some(ServiceLimit { unit: unit(bucket.per_s), requests_per_unit: bucket.requests });
        node.shadow_mode = shadow;
    } else {
        insert(&mut node.descriptors, rest, bucket, shadow);
    }
}

/// The service's configuration of each route table of `g` whose routes have global limits.
pub fn service_configs(g: &GatewayIr) -> Vec<ServiceConfig> {
    let mut tables: BTreeMap<String, Vec<ServiceDescriptor>> = BTreeMap::new();
    let mut add = |table: &str, vhosts: &[ir::VirtualHostIr]| {
        for r in vhosts.iter().flat_map(|v| &v.routes) {
            let ir::Action::Forward { traffic: Some(t), .. } = &r.action else { continue };
            let Some(rules) = &t.global_rate_limit else { continue };
            let tree = tables.entry(crate::names::rate_limit_domain(&g.namespace, &g.name, table)).or_default();
            for (_, entries, bucket, shadow) in descriptor_lists(&r.name, rules) {
                insert(tree, &entries, bucket, shadow);
            }
        }
    };
    for p in &g.ports {
        match &p.transport {
            ir::Transport::Http { virtual_hosts, .. } => add(&p.name, virtual_hosts),
            ir::Transport::Tls { chains } => {
                for c in chains {
                    if let ir::ChainServes::Http { virtual_hosts, .. } = &c.serves {
                        add(&c.name, virtual_hosts);
                    }
                }
            }
            ir::Transport::Tcp { .. } | ir::Transport::Udp { .. } => {}
        }
    }
    tables.into_iter().map(|(domain, descriptors)| ServiceConfig { domain, descriptors }).collect()
}

/// Whether any route of `g` has global rate limits (the bootstrap then needs the service).
pub fn used(g: &GatewayIr) -> bool {
    g.ports.iter().flat_map(|p| p.virtual_hosts()).flat_map(|v| &v.routes).any(|r| matches!(&r.action, ir::Action::Forward { traffic: Some(t), .. } if t.global_rate_limit.is_some()))
}
