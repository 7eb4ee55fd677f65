//! Route attachment, once for every route kind: parentRefs (kind, namespace, sectionName,
//! port), the listeners' allowedRoutes (namespaces and kinds), hostname intersection, and the
//! route's status per parent. HTTPRoute, TLSRoute, TCPRoute and UDPRoute use it; GRPCRoute
//! will call it the same way.

use super::backend::Index;
use super::hostname;
use super::listener::AllowedNamespaces;
use super::status::{ParentRefStatus, Problem, Recorder, RouteParentStatus, RouteStatus, Site, Target};
use super::{Options, ResolvedGateway};
use crate::api::httproute::ParentReference;
use crate::api::{GATEWAY_GROUP, Kind};
use crate::diag::Code;
use crate::id::ObjectKey;
use crate::source::Locator;
use std::collections::{HashMap, HashSet};

/// What attachment needs of a route, whatever its kind.
pub struct RouteView<'r> {
    pub key: &'r ObjectKey,
    pub loc: &'r Locator,
    pub parent_refs: &'r [ParentReference],
    /// Empty for kinds without hostnames (TCPRoute, UDPRoute): they match any listener.
    pub hostnames: &'r [String],
    pub generation: Option<i64>,
}

/// Our Gateways by (namespace, name), and every Gateway of the input (a parentRef to another
/// controller's Gateway is not ours to judge); the ListenerSets attached to ours (the Gateway
/// index), and every ListenerSet of the input.
pub struct Parents {
    ours: HashMap<(String, String), usize>,
    all: HashSet<(String, String)>,
    sets: HashMap<(String, String), usize>,
    all_sets: HashSet<(String, String)>,
}

impl Parents {
    pub fn new(res: &crate::api::Resources, gateways: &[ResolvedGateway]) -> Self {
        let accepted = || gateways.iter().enumerate().filter(|(_, g)| g.accepted);
        Parents {
            ours: accepted().map(|(i, g)| ((g.key.namespace.clone(), g.key.name.clone()), i)).collect(),
            all: res.gateways.iter().map(|g| (g.obj.metadata.ns().to_string(), g.obj.metadata.name.clone())).collect(),
            sets: accepted().flat_map(|(i, g)| g.listener_sets.iter().map(move |k| ((k.namespace.clone(), k.name.clone()), i))).collect(),
            all_sets: res.listener_sets.iter().map(|s| (s.obj.metadata.ns().to_string(), s.obj.metadata.name.clone())).collect(),
        }
    }

    fn gateway_ref(pr: &ParentReference) -> bool {
        pr.group == GATEWAY_GROUP && pr.kind == "Gateway"
    }

    fn set_ref(pr: &ParentReference) -> bool {
        pr.group == GATEWAY_GROUP && pr.kind == "ListenerSet"
    }

    /// The Gateway (index) a parentRef reaches: a Gateway of ours, or a ListenerSet attached
    /// to one; with the object whose listeners it may use.
    fn parent(&self, pr: &ParentReference, route_ns: &str) -> Option<(usize, ObjectKey)> {
        let key = (pr.namespace.clone().unwrap_or_else(|| route_ns.to_string()), pr.name.clone());
        let (map, kind) = if Self::gateway_ref(pr) {
            (&self.ours, Kind::Gateway)
        } else if Self::set_ref(pr) {
            (&self.sets, Kind::ListenerSet)
        } else {
            return None;
        };
        map.get(&key).map(|&gi| (gi, ObjectKey::new(kind, &key.0, &key.1)))
    }

    /// Does any parentRef of the route name one of our Gateways (or a ListenerSet attached to
    /// one)? Routes that name none are not ours: no status, no diagnostics about their rules.
    pub fn any_ours(&self, route: &RouteView) -> bool {
        route.parent_refs.iter().any(|pr| self.parent(pr, &route.key.namespace).is_some())
    }

    /// Why a parentRef to a Gateway or ListenerSet reaches none of ours, when it is worth
    /// advice: the object is not in the input (maybe a file is missing), or a ListenerSet its
    /// Gateway does not take.
    fn missing(&self, pr: &ParentReference, route_ns: &str) -> Option<String> {
        let key = (pr.namespace.clone().unwrap_or_else(|| route_ns.to_string()), pr.name.clone());
        if Self::gateway_ref(pr) && !self.all.contains(&key) {
            return Some(format!("parentRef names Gateway {}/{} which is not in the input", key.0, key.1));
        }
        if Self::set_ref(pr) && !self.sets.contains_key(&key) {
            return Some(if self.all_sets.contains(&key) {
                format!("parentRef names ListenerSet {}/{}, which no Gateway of ours accepts", key.0, key.1)
            } else {
                format!("parentRef names ListenerSet {}/{} which is not in the input", key.0, key.1)
            });
        }
        None
    }
}

/// Where a route is accepted on one Gateway: (listener index, hostnames on that listener).
pub type Accepted = Vec<(usize, Vec<String>)>;

/// Advice for parentRefs to Gateways that are not in the input at all (maybe a file is
/// missing), for routes that name none of ours.
pub fn report_missing_parents(route: &RouteView, parents: &Parents, rec: &mut Recorder) {
    for (pi, pr) in route.parent_refs.iter().enumerate() {
        if let Some(msg) = parents.missing(pr, &route.key.namespace) {
            rec.report(Site { object: route.key, loc: route.loc }, Problem::new(Code::ReferenceParentNotFound, msg, format!("/spec/parentRefs/{pi}")));
        }
    }
}

/// Where a route is accepted by one parent of ours.
pub struct AttachedTo {
    /// Index into the Gateways.
    pub gateway: usize,
    /// Index of the parent in the route's status.
    pub status_parent: usize,
    /// Index of the parentRef in `spec.parentRefs`.
    pub parent_ref: usize,
    pub listeners: Accepted,
}

/// Attach one route: its status per parent of ours, and where it is accepted.
pub fn attach(
    route: &RouteView,
    kind: Kind,
    parents: &Parents,
    gateways: &[ResolvedGateway],
    index: &Index,
    opts: &Options,
    rec: &mut Recorder,
) -> Vec<AttachedTo> {
    let rns = route.key.namespace.as_str();
    let site = Site { object: route.key, loc: route.loc };
    let mut out = Vec::new();
    let mut status = RouteStatus { parents: Vec::new(), generation: route.generation };
    let mut problems = Vec::new();
    for (pi, pr) in route.parent_refs.iter().enumerate() {
        let at = format!("/spec/parentRefs/{pi}");
        let gns = pr.namespace.as_deref().unwrap_or(rns);
        let Some((gi, owner)) = parents.parent(pr, rns) else {
            if let Some(msg) = parents.missing(pr, rns) {
                rec.report(site, Problem::new(Code::ReferenceParentNotFound, msg, at));
            }
            continue;
        };
        let gw = &gateways[gi];
        let mut matched = Vec::new();
        let mut any_candidate = false;
        let mut any_allowed = false;
        // A Gateway parentRef reaches the Gateway's own listeners, a ListenerSet one its own.
        for (li, l) in gw.listeners.iter().enumerate().filter(|(_, l)| l.id.parent == owner) {
            if pr.section_name.as_deref().is_some_and(|s| s != l.id.section) || pr.port.is_some_and(|p| p != l.port) {
                continue;
            }
            any_candidate = true;
            let ns_ok = match &l.namespaces {
                AllowedNamespaces::All => true,
                // `Same`: the namespace of the Gateway or ListenerSet that declares the listener.
                AllowedNamespaces::Same => rns == l.id.parent.namespace,
                AllowedNamespaces::Selector(sel) => sel.matches(&index.namespace_labels(rns)),
            };
            if !(l.kinds.contains(&kind) && ns_ok) {
                continue;
            }
            any_allowed = true;
            if let Some(hosts) = hostname::intersect(l.hostname.as_deref(), route.hostnames) {
                matched.push((li, hosts));
            }
        }
        let refused = if !any_candidate {
            Some(("NoMatchingParent", "No listener matches the parentRef's sectionName and port"))
        } else if !any_allowed {
            Some(("NotAllowedByListeners", "No listener of the parent allows this route (allowedRoutes namespaces and kinds)"))
        } else if matched.is_empty() {
            Some(("NoMatchingListenerHostname", "No hostname of the route matches a listener hostname"))
        } else {
            None
        };
        let parent_index = status.parents.len();
        status.parents.push(RouteParentStatus {
            parent_ref: ParentRefStatus {
                group: pr.group.clone(),
                kind: pr.kind.clone(),
                namespace: gns.to_string(),
                name: pr.name.clone(),
                section_name: pr.section_name.clone(),
                port: pr.port,
            },
            controller_name: opts.controller_name.clone(),
            conditions: Vec::new(),
        });
        match refused {
            Some((reason, msg)) => problems.push(
                Problem::new(Code::ReferenceRouteNotAccepted, msg, at)
                    .context(format!("not accepted by {} {gns}/{}", pr.kind, pr.name))
                    .sets(Target::RouteParent(route.key.clone(), parent_index), "Accepted", false, reason),
            ),
            None => out.push(AttachedTo { gateway: gi, status_parent: parent_index, parent_ref: pi, listeners: matched }),
        }
    }
    if !status.parents.is_empty() {
        rec.status.routes.insert(route.key.clone(), status);
    }
    for p in problems {
        rec.report(site, p);
    }
    out
}
