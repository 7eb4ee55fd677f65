//! Envoy Gateway's precedence for the policy kinds that attach to routes and Gateways alike
//! (BackendTrafficPolicy, SecurityPolicy): route rule over route over listener over Gateway;
//! between two policies on one target the older wins and the other is `Conflicted`; a route
//! policy with `mergeType` merges with its listener's or Gateway's. Each kind brings its
//! translation (`T`); this module decides where each policy applies and writes its status.

use super::ResolvedGateway;
use super::policy::{self, RouteIndex, TargetRef};
use super::status::{AncestorRef, Condition, Problem, Recorder, Site, Target};
use crate::api::Kind;
use crate::api::policy::MergeType;
use crate::diag::Code;
use crate::id::ObjectKey;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Where a policy applies within one Gateway. A route or rule merged with its parent policy
/// has an effect per listener (the parent differs by listener).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Rule(ObjectKey, String, Option<usize>),
    Route(ObjectKey, Option<usize>),
    Listener(usize),
    Gateway,
}

/// What a policy does where it applies: its translation, or nothing but failure (Envoy
/// Gateway could not translate it: the routes it covers answer 500).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect<T> {
    Apply(Arc<T>),
    Invalid,
}

/// The policies of one kind in effect in one Gateway.
#[derive(Debug)]
pub struct Table<T> {
    pub scopes: HashMap<Scope, Effect<T>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table { scopes: HashMap::new() }
    }
}

impl<T> Table<T> {
    /// The policies over a rule on a listener, most specific first.
    pub fn chain(&self, listener: usize, route: &ObjectKey, rule: Option<&str>) -> impl Iterator<Item = &Effect<T>> + '_ {
        let mut scopes = Vec::with_capacity(6);
        if let Some(r) = rule {
            scopes.push(Scope::Rule(route.clone(), r.to_string(), Some(listener)));
            scopes.push(Scope::Rule(route.clone(), r.to_string(), None));
        }
        scopes.extend([Scope::Route(route.clone(), Some(listener)), Scope::Route(route.clone(), None), Scope::Listener(listener), Scope::Gateway]);
        scopes.into_iter().filter_map(move |s| self.scopes.get(&s))
    }
    /// The policy of an HTTP or gRPC rule on a listener: the most specific one, whole.
    pub fn for_rule(&self, listener: usize, route: &ObjectKey, rule: Option<&str>) -> Option<&Effect<T>> {
        if self.scopes.is_empty() {
            return None;
        }
        self.chain(listener, route, rule).next()
    }
}

/// The words a kind's status messages use, as Envoy Gateway writes them.
pub struct Words {
    /// `BackendTrafficPolicy`
    pub kind: &'static str,
    /// `backendTrafficPolicy` (the route-rules message)
    pub singular: &'static str,
    /// `backendTrafficPolicies`
    pub plural: &'static str,
}

/// One policy of the kind, in canonical order (oldest first, then namespace/name).
pub struct Entry<'a, T> {
    pub key: ObjectKey,
    pub loc: &'a crate::source::Locator,
    pub targets: Vec<TargetRef>,
    pub merge: Option<MergeType>,
    /// The translation, or Envoy Gateway's message for why there is none.
    pub effect: Result<Arc<T>, String>,
    /// A part that could not be translated but may be left out (a SecurityPolicy's extAuth
    /// with failOpen): the policy is Invalid in status, its translation still applies.
    pub degraded: Option<String>,
}

impl<T> Entry<'_, T> {
    fn effect(&self) -> Effect<T> {
        match &self.effect {
            Ok(t) => Effect::Apply(t.clone()),
            Err(_) => Effect::Invalid,
        }
    }
}

/// A kind's policies and what precedence needs of the kind.
pub struct Kinded<'a, 'e, T> {
    pub words: Words,
    pub entries: &'e [Entry<'a, T>],
    /// The effect of route policy `child` merged over `parent` (indexes into `entries`;
    /// `true`: JSONMerge, else StrategicMerge).
    pub merged: &'e dyn Fn(usize, usize, bool) -> Effect<T>,
    /// The kind's table in a Gateway.
    pub table: fn(&mut ResolvedGateway) -> &mut Table<T>,
}

/// What has been claimed so far, and by whom (for Overridden and Merged messages).
#[derive(Default)]
struct Claims {
    rules: HashSet<(ObjectKey, String)>,
    routes: HashSet<ObjectKey>,
    listeners: HashSet<(usize, usize)>,
    listener_sets: HashSet<ObjectKey>,
    gateways: HashSet<usize>,
    /// Routes with a route- or rule-level policy, per (Gateway, listener), and whether merged.
    specific: HashMap<(usize, usize), Vec<(ObjectKey, bool)>>,
}

#[derive(PartialEq, Clone, Copy)]
enum Pass {
    Rules,
    Routes,
    Listeners,
    ListenerSets,
    Gateways,
}

/// The pass of a target on listeners: one listener (of a Gateway or a ListenerSet), a whole
/// ListenerSet, a whole Gateway; None for a route target.
fn listener_pass(t: &TargetRef) -> Option<Pass> {
    match (t.kind, &t.section) {
        (Kind::Gateway | Kind::ListenerSet, Some(_)) => Some(Pass::Listeners),
        (Kind::ListenerSet, None) => Some(Pass::ListenerSets),
        (Kind::Gateway, None) => Some(Pass::Gateways),
        _ => None,
    }
}

/// Resolve a kind's policies against the Gateways and their attached routes, filling each
/// Gateway's table of the kind and the policies' status.
pub fn resolve<T>(k: &Kinded<T>, idx: &RouteIndex, gateways: &mut [ResolvedGateway], rec: &mut Recorder) {
    // The first policy of each listener (a listener's, then its ListenerSet's) and Gateway:
    // the parents route policies merge with.
    let mut parents: HashMap<(usize, Option<usize>), usize> = HashMap::new();
    for pass in [Pass::Listeners, Pass::ListenerSets, Pass::Gateways] {
        for (pi, p) in k.entries.iter().enumerate() {
            for t in p.targets.iter().filter(|t| listener_pass(t) == Some(pass)) {
                let Some((gi, owner)) = super::gateway_of(gateways, t.kind, &p.key.namespace, &t.name) else { continue };
                let g = &gateways[gi];
                match (&t.section, pass) {
                    (Some(s), _) => match g.listener_of(&owner, s) {
                        Some(li) => {
                            parents.entry((gi, Some(li))).or_insert(pi);
                        }
                        None => continue,
                    },
                    (None, Pass::ListenerSets) => g.listeners_of(&owner).into_iter().for_each(|li| {
                        parents.entry((gi, Some(li))).or_insert(pi);
                    }),
                    (None, _) => {
                        parents.entry((gi, None)).or_insert(pi);
                    }
                }
            }
        }
    }
    let mut claims = Claims::default();
    let mut found: HashSet<usize> = HashSet::new();
    for pass in [Pass::Rules, Pass::Routes] {
        for (pi, p) in k.entries.iter().enumerate() {
            for t in p.targets.iter().filter(|t| !policy::on_listeners(t.kind) && (t.section.is_some() == (pass == Pass::Rules))) {
                if route_target(k, idx, &parents, pi, t, gateways, &mut claims, rec) {
                    found.insert(pi);
                }
            }
        }
    }
    for pass in [Pass::Listeners, Pass::ListenerSets, Pass::Gateways] {
        for (pi, p) in k.entries.iter().enumerate() {
            for t in p.targets.iter().filter(|t| listener_pass(t) == Some(pass)) {
                let Some((gi, owner)) = super::gateway_of(gateways, t.kind, &p.key.namespace, &t.name) else { continue };
                found.insert(pi);
                gateway_target(k, p, t, (gi, &owner), gateways, &mut claims, rec);
            }
        }
    }
    for (pi, p) in k.entries.iter().enumerate() {
        if !found.contains(&pi) {
            let site = Site { object: &p.key, loc: p.loc };
            rec.report(site, Problem::new(Code::ReferencePolicyTargetMissing, "None of the policy's targets is a Gateway of ours or a route attached to one; it has no effect", "/spec"));
        }
    }
}

/// Set a condition on every ancestor, reporting the problem once.
fn problem_for<T>(rec: &mut Recorder, p: &Entry<T>, ancestors: &[AncestorRef], pr: Problem) {
    policy::report_for_ancestors(rec, Site { object: &p.key, loc: p.loc }, ancestors, pr);
}

fn accepted<T>(rec: &mut Recorder, p: &Entry<T>, ancestors: &[AncestorRef]) {
    for a in ancestors {
        rec.status.policies.entry(p.key.clone()).or_default().ancestor(a);
    }
    if let Some(msg) = p.effect.as_ref().err().or(p.degraded.as_ref()) {
        let pr = Problem::new(Code::PolicyInvalid, msg.clone(), "/spec").sets(Target::Policy(p.key.clone()), "Accepted", false, "Invalid");
        problem_for(rec, p, ancestors, pr);
    }
}

/// A policy on a route or one of its rules. False when the route is not one of ours.
#[allow(clippy::too_many_arguments)]
fn route_target<T>(k: &Kinded<T>, idx: &RouteIndex, parents: &HashMap<(usize, Option<usize>), usize>, pi: usize, t: &TargetRef, gateways: &mut [ResolvedGateway], claims: &mut Claims, rec: &mut Recorder) -> bool {
    let p = &k.entries[pi];
    let route = ObjectKey::new(t.kind, &p.key.namespace, &t.name);
    let Some(ancestors) = idx.parents.get(&route) else { return false };
    let conflicted = |what: String| Problem::new(Code::ConflictPolicy, format!("Unable to target {what}, another {} has already attached to it", k.words.kind), t.pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Conflicted");
    if let Some(rule) = &t.section {
        let known = idx.rule_names.get(&route).is_some_and(|n| n.contains(rule));
        if !known {
            let msg = format!("No section name {rule} found for {}/{}", route.namespace, route.name);
            problem_for(rec, p, ancestors, Problem::new(Code::ReferencePolicyTarget, msg, format!("{}/sectionName", t.pointer)).sets(Target::Policy(p.key.clone()), "Accepted", false, "TargetNotFound"));
            return true;
        }
        if !claims.rules.insert((route.clone(), rule.clone())) {
            problem_for(rec, p, ancestors, conflicted(format!("RouteRule {}/{rule}", route.name)));
            return true;
        }
    } else if !claims.routes.insert(route.clone()) {
        problem_for(rec, p, ancestors, conflicted(format!("{} {}", t.kind.name(), route.name)));
        return true;
    }
    accepted(rec, p, ancestors);
    let sites: Vec<(usize, Vec<usize>)> = idx.sites.get(&route).map(|s| s.gateways.clone()).unwrap_or_default();
    for (gi, listeners) in sites {
        for &li in &listeners {
            claims.specific.entry((gi, li)).or_default().push((route.clone(), p.merge.is_some()));
        }
        // A stream route (TCP, UDP, TLS) is served as one: a policy on its rule is one on it.
        let http = matches!(t.kind, Kind::HTTPRoute | Kind::GRPCRoute);
        let scope = |l: Option<usize>| match &t.section {
            Some(rule) if http => Scope::Rule(route.clone(), rule.clone(), l),
            _ => Scope::Route(route.clone(), l),
        };
        let Some(mt) = p.merge else {
            (k.table)(&mut gateways[gi]).scopes.entry(scope(None)).or_insert_with(|| p.effect());
            continue;
        };
        for li in listeners {
            let parent = parents.get(&(gi, Some(li))).or_else(|| parents.get(&(gi, None))).copied();
            let effect = match parent {
                None => p.effect(),
                Some(parent) => {
                    let id = &gateways[gi].listeners[li].id;
                    let a = AncestorRef { gateway: id.parent.clone(), section: Some(id.section.clone()) };
                    let pp = &k.entries[parent];
                    rec.condition(Target::PolicyAncestor(p.key.clone(), a), Condition::new("Merged", true, "Merged", format!("Merged with policy {}/{}", pp.key.namespace, pp.key.name)));
                    (k.merged)(parent, pi, mt == MergeType::JSONMerge)
                }
            };
            (k.table)(&mut gateways[gi]).scopes.entry(scope(Some(li))).or_insert(effect);
        }
    }
    // A route-level policy is overridden where one of its rules has a policy of its own.
    if t.section.is_none() {
        let mut rules: Vec<String> = claims.rules.iter().filter(|(r, _)| *r == route).map(|(_, n)| n.clone()).collect();
        if !rules.is_empty() {
            rules.sort();
            let msg = format!("This policy is being overridden by other {} for these route rules: [{}]", k.words.singular, rules.join(" "));
            for a in ancestors {
                rec.condition(Target::PolicyAncestor(p.key.clone(), a.clone()), Condition::new("Overridden", true, "Overridden", msg.clone()));
            }
        }
    }
    true
}

/// A policy on a Gateway, a ListenerSet of one (`owner`), or one of their listeners.
fn gateway_target<T>(k: &Kinded<T>, p: &Entry<T>, t: &TargetRef, (gi, owner): (usize, &ObjectKey), gateways: &mut [ResolvedGateway], claims: &mut Claims, rec: &mut Recorder) {
    let g = &gateways[gi];
    let a = AncestorRef { gateway: owner.clone(), section: t.section.clone() };
    let ancestors = std::slice::from_ref(&a);
    let li = match &t.section {
        Some(s) => match g.listener_of(owner, s) {
            Some(li) => Some(li),
            None => {
                let msg = format!("No section name {s} found for {}/{}", owner.namespace, owner.name);
                problem_for(rec, p, ancestors, Problem::new(Code::ReferencePolicyTarget, msg, format!("{}/sectionName", t.pointer)).sets(Target::Policy(p.key.clone()), "Accepted", false, "TargetNotFound"));
                return;
            }
        },
        None => None,
    };
    let set = owner.kind == Kind::ListenerSet;
    let fresh = match li {
        Some(li) => claims.listeners.insert((gi, li)),
        None if set => claims.listener_sets.insert(owner.clone()),
        None => claims.gateways.insert(gi),
    };
    if !fresh {
        let what = match (li, &t.section) {
            (Some(_), Some(s)) => format!("Listener {}/{}/{s}", owner.namespace, owner.name),
            _ => format!("{} {}", owner.kind.name(), owner.name),
        };
        let msg = format!("Unable to target {what}, another {} has already attached to it", k.words.kind);
        problem_for(rec, p, ancestors, Problem::new(Code::ConflictPolicy, msg, t.pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Conflicted"));
        return;
    }
    accepted(rec, p, ancestors);
    let listeners: Vec<usize> = match li {
        Some(li) => vec![li],
        None => gateways[gi].listeners_of(owner),
    };
    let table = (k.table)(&mut gateways[gi]);
    match li {
        Some(li) => {
            table.scopes.insert(Scope::Listener(li), p.effect());
        }
        // A whole ListenerSet: each of its listeners no listener policy holds.
        None if set => listeners.iter().for_each(|&li| {
            table.scopes.entry(Scope::Listener(li)).or_insert_with(|| p.effect());
        }),
        None => {
            table.scopes.insert(Scope::Gateway, p.effect());
        }
    }
    // Routes with a policy of their own (or a listener's, for a Gateway policy) override it
    // there; routes whose policy merges with it say so.
    let (mut overridden, mut merged) = (Vec::new(), Vec::new());
    for l in &listeners {
        for (r, m) in claims.specific.get(&(gi, *l)).into_iter().flatten() {
            if *m { merged.push(r.clone()) } else { overridden.push(r.clone()) }
        }
    }
    if !merged.is_empty() {
        let msg = format!("This policy is being merged by other {} for these routes: {}", k.words.plural, policy::route_list(merged.into_iter()));
        rec.condition(Target::PolicyAncestor(p.key.clone(), a.clone()), Condition::new("Merged", true, "Merged", msg));
    }
    if !overridden.is_empty() {
        let msg = format!("This policy is being overridden by other {} for these routes: {}", k.words.plural, policy::route_list(overridden.into_iter()));
        rec.condition(Target::PolicyAncestor(p.key.clone(), a), Condition::new("Overridden", true, "Overridden", msg));
    }
}

/// A route policy's spec merged over its parent's (`json_merge`: JSON merge patch, else
/// strategic merge), keeping the route policy's own targets and mergeType out of it.
pub fn merged_spec<S: serde::Serialize + serde::de::DeserializeOwned>(parent: &S, child: &S, json_merge: bool) -> Result<S, String> {
    let (pv, cv) = (serde_json::to_value(parent).map_err(|e| e.to_string())?, serde_json::to_value(child).map_err(|e| e.to_string())?);
    let mut m = super::traffic::merge(&pv, &cv, json_merge);
    if let Some(o) = m.as_object_mut() {
        for k in ["targetRef", "targetRefs", "targetSelectors", "mergeType"] {
            o.remove(k);
        }
    }
    serde_json::from_value(m).map_err(|e| e.to_string())
}
