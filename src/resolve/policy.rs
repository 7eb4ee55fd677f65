//! Attachment shared by Envoy Gateway's policy kinds: which objects a policy targets
//! (`targetRef`, `targetRefs`, `targetSelectors`, in the policy's namespace), what each target
//! is among our Gateways and the routes attached to them, and the ancestors a policy's status
//! is written for.

use super::ResolvedGateway;
use super::status::{AncestorRef, Condition, Problem, Recorder, Site, Target};
use crate::api::policy::PolicyTargets;
use crate::api::{Kind, Resources};
use crate::id::ObjectKey;
use std::collections::{BTreeMap, HashMap};

/// One target of a policy, with the JSON pointer of the reference that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    pub kind: Kind,
    pub name: String,
    pub section: Option<String>,
    pub pointer: String,
}

/// The route kinds a policy may target.
pub const ROUTE_KINDS: &[Kind] = &[Kind::HTTPRoute, Kind::GRPCRoute, Kind::TCPRoute, Kind::UDPRoute, Kind::TLSRoute];

fn kind_named(name: &str) -> Option<Kind> {
    [Kind::Gateway, Kind::ListenerSet].into_iter().chain(ROUTE_KINDS.iter().copied()).find(|k| k.name() == name)
}

/// A target on listeners: a Gateway, or a ListenerSet.
pub fn on_listeners(kind: Kind) -> bool {
    matches!(kind, Kind::Gateway | Kind::ListenerSet)
}

/// The objects of a targetable kind in a namespace: (name, labels, creationTimestamp).
fn candidates<'a>(res: &'a Resources, kind: Kind, ns: &'a str) -> Vec<(&'a str, &'a BTreeMap<String, String>, &'a str)> {
    macro_rules! of {
        ($list:ident) => {
            res.$list.iter().map(|i| &i.obj.metadata).filter(|m| m.ns() == ns).map(|m| (m.name.as_str(), &m.labels, m.creation_timestamp.as_deref().unwrap_or(""))).collect()
        };
    }
    match kind {
        Kind::Gateway => of!(gateways),
        Kind::ListenerSet => of!(listener_sets),
        Kind::HTTPRoute => of!(http_routes),
        Kind::GRPCRoute => of!(grpc_routes),
        Kind::TCPRoute => of!(tcp_routes),
        Kind::UDPRoute => of!(udp_routes),
        Kind::TLSRoute => of!(tls_routes),
        _ => Vec::new(),
    }
}

/// Every target of a policy in `ns`: its plain references in order, then what its selectors
/// match (oldest first, then by name), each once.
pub fn targets(t: PolicyTargets, ns: &str, res: &Resources) -> Vec<TargetRef> {
    let mut out: Vec<TargetRef> = Vec::new();
    let plain = t.target_ref.map(|r| ("/spec/targetRef".to_string(), r)).into_iter().chain(t.target_refs.iter().enumerate().map(|(i, r)| (format!("/spec/targetRefs/{i}"), r)));
    for (pointer, r) in plain {
        if let Some(kind) = kind_named(&r.kind) {
            out.push(TargetRef { kind, name: r.name.clone(), section: r.section_name.clone(), pointer });
        }
    }
    for (i, s) in t.target_selectors.iter().enumerate() {
        let Some(kind) = kind_named(&s.kind) else { continue };
        let selector = s.selector();
        let mut found: Vec<_> = candidates(res, kind, ns).into_iter().filter(|(_, labels, _)| selector.matches(labels)).collect();
        found.sort_by(|a, b| (a.2, a.0).cmp(&(b.2, b.0)));
        for (name, _, _) in found {
            out.push(TargetRef { kind, name: name.to_string(), section: None, pointer: format!("/spec/targetSelectors/{i}") });
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert((t.kind, t.name.clone(), t.section.clone())));
    out
}

/// Where one route is served: each Gateway of ours (index) and the listeners (indices).
#[derive(Debug, Default)]
pub struct RouteSite {
    pub gateways: Vec<(usize, Vec<usize>)>,
}

/// What policies need to know of the routes: where each is served, its parents (ancestors of
/// the policies that target it) and its rule names.
#[derive(Debug, Default)]
pub struct RouteIndex {
    pub sites: HashMap<ObjectKey, RouteSite>,
    /// Gateway parentRefs of our Gateways, as ancestors (with the parentRef's sectionName).
    pub parents: HashMap<ObjectKey, Vec<AncestorRef>>,
    pub rule_names: HashMap<ObjectKey, Vec<String>>,
}

impl RouteIndex {
    pub fn new(res: &Resources, gateways: &[ResolvedGateway]) -> Self {
        let mut idx = RouteIndex::default();
        // Parents a route may have among ours: Gateways and the ListenerSets attached to them.
        let ours: std::collections::HashSet<&ObjectKey> = gateways.iter().flat_map(|g| std::iter::once(&g.key).chain(&g.listener_sets)).collect();
        for (gi, g) in gateways.iter().enumerate() {
            let served = g.routes.iter().map(|r| (&r.route.key, &r.listeners)).chain(g.streams.iter().map(|s| (&s.route.key, &s.listeners)));
            for (key, listeners) in served {
                let site = idx.sites.entry(key.clone()).or_default();
                let ls: Vec<usize> = listeners.iter().map(|(li, _)| *li).collect();
                match site.gateways.iter_mut().find(|(i, _)| *i == gi) {
                    Some((_, have)) => have.extend(ls),
                    None => site.gateways.push((gi, ls)),
                }
            }
        }
        macro_rules! routes {
            ($($list:ident: $kind:ident),+) => {$(
                for r in &res.$list {
                    let key = ObjectKey::of(Kind::$kind, &r.obj.metadata);
                    let ns = r.obj.metadata.ns();
                    let parents: Vec<AncestorRef> = r.obj.spec.parent_refs.iter()
                        .filter(|p| p.group == crate::api::GATEWAY_GROUP)
                        .filter_map(|p| {
                            let kind = match p.kind.as_str() { "Gateway" => Kind::Gateway, "ListenerSet" => Kind::ListenerSet, _ => return None };
                            Some(AncestorRef { gateway: ObjectKey::new(kind, p.namespace.as_deref().unwrap_or(ns), &p.name), section: p.section_name.clone() })
                        })
                        .filter(|a| ours.contains(&a.gateway))
                        .collect();
                    if parents.is_empty() {
                        continue;
                    }
                    idx.rule_names.insert(key.clone(), r.obj.spec.rules.iter().filter_map(|x| x.name.clone()).collect());
                    idx.parents.insert(key, parents);
                }
            )+};
        }
        routes!(http_routes: HTTPRoute, grpc_routes: GRPCRoute, tcp_routes: TCPRoute, udp_routes: UDPRoute, tls_routes: TLSRoute);
        idx
    }
}

/// `ns/name` of routes, sorted, as Envoy Gateway lists them in an Overridden message.
pub fn route_list(keys: impl Iterator<Item = ObjectKey>) -> String {
    let mut v: Vec<String> = keys.map(|k| format!("{}/{}", k.namespace, k.name)).collect();
    v.sort();
    v.dedup();
    format!("[{}]", v.join(" "))
}

/// Report a policy's problem once, and set the condition it implies on each of `ancestors`
/// (a policy's status is per ancestor).
pub fn report_for_ancestors(rec: &mut Recorder, site: Site, ancestors: &[AncestorRef], pr: Problem) {
    let mut pr = pr;
    let cond = pr.condition.take();
    let message = pr.message.clone();
    let key = site.object.clone();
    rec.report(site, pr);
    if let Some((_, type_, status, reason)) = cond {
        for a in ancestors {
            rec.condition(Target::PolicyAncestor(key.clone(), a.clone()), Condition::new(type_, status, reason, message.clone()));
        }
    }
}
