//! BackendTrafficPolicy: its targets resolved the way Envoy Gateway resolves them, its
//! precedence (route rule over route over listener over Gateway; between two policies on one
//! target the older wins, the other is `Conflicted`), `mergeType` with the parent policy, and
//! its status per ancestor. The effect is a [`TrafficTable`] per Gateway that the IR reads.

use super::ResolvedGateway;
use super::policy::{self, RouteIndex, TargetRef};
use super::status::{AncestorRef, Condition, Problem, Recorder, Site, Target};
use super::traffic::{self, ClusterPolicy, Effect};
use crate::api::{Kind, Resources};
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

/// The BackendTrafficPolicies in effect in one Gateway.
#[derive(Debug, Default)]
pub struct TrafficTable {
    pub scopes: HashMap<Scope, Effect>,
}

impl TrafficTable {
    fn chain(&self, listener: usize, route: &ObjectKey, rule: Option<&str>) -> impl Iterator<Item = &Effect> + '_ {
        let mut scopes = Vec::with_capacity(6);
        if let Some(r) = rule {
            scopes.push(Scope::Rule(route.clone(), r.to_string(), Some(listener)));
            scopes.push(Scope::Rule(route.clone(), r.to_string(), None));
        }
        scopes.extend([Scope::Route(route.clone(), Some(listener)), Scope::Route(route.clone(), None), Scope::Listener(listener), Scope::Gateway]);
        scopes.into_iter().filter_map(move |s| self.scopes.get(&s))
    }
    /// The policy of an HTTP or gRPC rule on a listener: the most specific one, whole.
    pub fn for_rule(&self, listener: usize, route: &ObjectKey, rule: Option<&str>) -> Option<&Effect> {
        if self.scopes.is_empty() {
            return None;
        }
        self.chain(listener, route, rule).next()
    }
    /// The cluster settings of a TCP, UDP or TLS route: each setting from the most specific
    /// policy that has it, as Envoy Gateway fills them. A stream route has one rule; a
    /// policy on that rule counts as one on the route.
    pub fn for_stream(&self, listener: usize, route: &ObjectKey, rule: Option<&str>) -> Option<Arc<ClusterPolicy>> {
        if self.scopes.is_empty() {
            return None;
        }
        let mut out = ClusterPolicy::default();
        for e in self.chain(listener, route, rule) {
            if let Effect::Apply(t) = e
                && let Some(c) = &t.cluster
            {
                out.fill_from(c);
            }
        }
        (!out.is_empty()).then(|| Arc::new(out))
    }
}

struct Policy<'a> {
    key: ObjectKey,
    item: &'a crate::api::Item<Box<crate::api::BackendTrafficPolicy>>,
    targets: Vec<TargetRef>,
    effect: Result<Arc<traffic::Traffic>, String>,
}

impl Policy<'_> {
    fn effect(&self) -> Effect {
        match &self.effect {
            Ok(t) => Effect::Apply(t.clone()),
            Err(_) => Effect::Invalid,
        }
    }
}

/// What has been claimed so far, and by whom (for Overridden and Merged messages).
#[derive(Default)]
struct Claims {
    rules: HashSet<(ObjectKey, String)>,
    routes: HashSet<ObjectKey>,
    listeners: HashSet<(usize, usize)>,
    gateways: HashSet<usize>,
    /// Routes with a route- or rule-level policy, per (Gateway, listener), and whether merged.
    specific: HashMap<(usize, usize), Vec<(ObjectKey, bool)>>,
}

/// Resolve every BackendTrafficPolicy (in canonical order: oldest first, then namespace/name)
/// against the Gateways and their attached routes, filling each Gateway's `traffic`.
pub fn resolve_all(res: &Resources, gateways: &mut [ResolvedGateway], controller: &str, rate_limit_service: bool, rec: &mut Recorder) {
    if res.backend_traffic_policies.is_empty() {
        return;
    }
    let idx = RouteIndex::new(res, gateways);
    let policies: Vec<Policy> = res
        .backend_traffic_policies
        .iter()
        .map(|item| {
            let key = ObjectKey::of(Kind::BackendTrafficPolicy, &item.obj.metadata);
            let st = rec.status.policies.entry(key.clone()).or_default();
            (st.generation, st.controller_name) = (item.obj.metadata.generation, controller.to_string());
            let targets = policy::targets(item.obj.spec.targets(), item.obj.metadata.ns(), res);
            let cm = config_maps(res, item.obj.metadata.ns());
            let effect = traffic::build(&item.obj.spec, &traffic::Env { config_map: &cm, rate_limit_service }).map(Arc::new);
            Policy { key, item, targets, effect }
        })
        .collect();
    let gw_of: HashMap<ObjectKey, usize> = gateways.iter().enumerate().map(|(i, g)| (g.key.clone(), i)).collect();
    // The first policy of each Gateway and listener: the parents route policies merge with.
    let mut parents: HashMap<(usize, Option<usize>), usize> = HashMap::new();
    for (pi, p) in policies.iter().enumerate() {
        for t in p.targets.iter().filter(|t| t.kind == Kind::Gateway) {
            let Some(&gi) = gw_of.get(&ObjectKey::new(Kind::Gateway, &p.key.namespace, &t.name)) else { continue };
            let li = match &t.section {
                Some(s) => match gateways[gi].listeners.iter().position(|l| &l.id.section == s) {
                    Some(li) => Some(li),
                    None => continue,
                },
                None => None,
            };
            parents.entry((gi, li)).or_insert(pi);
        }
    }
    let mut claims = Claims::default();
    let mut found: HashSet<usize> = HashSet::new();
    let ctx = Ctx { res, rate_limit_service, idx: &idx, policies: &policies, parents: &parents };
    for pass in [Pass::Rules, Pass::Routes] {
        for (pi, p) in policies.iter().enumerate() {
            for t in p.targets.iter().filter(|t| t.kind != Kind::Gateway && (t.section.is_some() == (pass == Pass::Rules))) {
                if route_target(&ctx, pi, t, gateways, &mut claims, rec) {
                    found.insert(pi);
                }
            }
        }
    }
    for pass in [Pass::Listeners, Pass::Gateways] {
        for (pi, p) in policies.iter().enumerate() {
            for t in p.targets.iter().filter(|t| t.kind == Kind::Gateway && (t.section.is_some() == (pass == Pass::Listeners))) {
                let Some(&gi) = gw_of.get(&ObjectKey::new(Kind::Gateway, &p.key.namespace, &t.name)) else { continue };
                found.insert(pi);
                gateway_target(p, t, gi, gateways, &mut claims, rec);
            }
        }
    }
    for (pi, p) in policies.iter().enumerate() {
        if !found.contains(&pi) {
            let site = Site { object: &p.key, loc: &p.item.loc };
            rec.report(
                site,
                Problem::new(Code::ReferencePolicyTargetMissing, "None of the policy's targets is a Gateway of ours or a route attached to one; it has no effect", "/spec"),
            );
        }
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Pass {
    Rules,
    Routes,
    Listeners,
    Gateways,
}

struct Ctx<'a> {
    res: &'a Resources,
    rate_limit_service: bool,
    idx: &'a RouteIndex,
    policies: &'a [Policy<'a>],
    parents: &'a HashMap<(usize, Option<usize>), usize>,
}

/// Set a condition on every ancestor, reporting the problem once.
fn problem_for(rec: &mut Recorder, p: &Policy, ancestors: &[AncestorRef], pr: Problem) {
    policy::report_for_ancestors(rec, Site { object: &p.key, loc: &p.item.loc }, ancestors, pr);
}

fn accepted(rec: &mut Recorder, p: &Policy, ancestors: &[AncestorRef]) {
    for a in ancestors {
        rec.status.policies.entry(p.key.clone()).or_default().ancestor(a);
    }
    if let Err(msg) = &p.effect {
        let pr = Problem::new(Code::PolicyInvalid, msg.clone(), "/spec").sets(Target::Policy(p.key.clone()), "Accepted", false, "Invalid");
        problem_for(rec, p, ancestors, pr);
    }
}

/// A policy on a route or one of its rules. False when the route is not one of ours.
fn route_target(ctx: &Ctx, pi: usize, t: &TargetRef, gateways: &mut [ResolvedGateway], claims: &mut Claims, rec: &mut Recorder) -> bool {
    let p = &ctx.policies[pi];
    let route = ObjectKey::new(t.kind, &p.key.namespace, &t.name);
    let Some(ancestors) = ctx.idx.parents.get(&route) else { return false };
    if let Some(rule) = &t.section {
        let known = ctx.idx.rule_names.get(&route).is_some_and(|n| n.contains(rule));
        if !known {
            let msg = format!("No section name {rule} found for {}/{}", route.namespace, route.name);
            problem_for(rec, p, ancestors, Problem::new(Code::ReferencePolicyTarget, msg, format!("{}/sectionName", t.pointer)).sets(Target::Policy(p.key.clone()), "Accepted", false, "TargetNotFound"));
            return true;
        }
        if !claims.rules.insert((route.clone(), rule.clone())) {
            let msg = format!("Unable to target RouteRule {}/{rule}, another BackendTrafficPolicy has already attached to it", route.name);
            problem_for(rec, p, ancestors, Problem::new(Code::ConflictPolicy, msg, t.pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Conflicted"));
            return true;
        }
    } else if !claims.routes.insert(route.clone()) {
        let msg = format!("Unable to target {} {}, another BackendTrafficPolicy has already attached to it", t.kind.name(), route.name);
        problem_for(rec, p, ancestors, Problem::new(Code::ConflictPolicy, msg, t.pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Conflicted"));
        return true;
    }
    accepted(rec, p, ancestors);
    let sites: Vec<(usize, Vec<usize>)> = ctx.idx.sites.get(&route).map(|s| s.gateways.clone()).unwrap_or_default();
    let merge = p.item.obj.spec.merge_type;
    for (gi, listeners) in sites {
        for &li in &listeners {
            claims.specific.entry((gi, li)).or_default().push((route.clone(), merge.is_some()));
        }
        // A stream route (TCP, UDP, TLS) is served as one: a policy on its rule is one on it.
        let http = matches!(t.kind, Kind::HTTPRoute | Kind::GRPCRoute);
        let scope = |l: Option<usize>| match &t.section {
            Some(rule) if http => Scope::Rule(route.clone(), rule.clone(), l),
            _ => Scope::Route(route.clone(), l),
        };
        let Some(mt) = merge else {
            gateways[gi].traffic.scopes.entry(scope(None)).or_insert_with(|| p.effect());
            continue;
        };
        for li in listeners {
            let parent = ctx.parents.get(&(gi, Some(li))).or_else(|| ctx.parents.get(&(gi, None))).copied();
            let effect = match parent {
                None => p.effect(),
                Some(parent) => {
                    let section = gateways[gi].listeners[li].id.section.clone();
                    let a = AncestorRef { gateway: gateways[gi].key.clone(), section: Some(section) };
                    let pp = &ctx.policies[parent];
                    rec.condition(
                        Target::PolicyAncestor(p.key.clone(), a),
                        Condition::new("Merged", true, "Merged", format!("Merged with policy {}/{}", pp.key.namespace, pp.key.name)),
                    );
                    merged(ctx, pp, p, mt == crate::api::policy::MergeType::JSONMerge)
                }
            };
            gateways[gi].traffic.scopes.entry(scope(Some(li))).or_insert(effect);
        }
    }
    // A route-level policy is overridden where one of its rules has a policy of its own.
    if t.section.is_none() {
        let rules: Vec<String> = claims.rules.iter().filter(|(r, _)| *r == route).map(|(_, n)| n.clone()).collect();
        if !rules.is_empty() {
            let mut rules = rules;
            rules.sort();
            let msg = format!("This policy is being overridden by other backendTrafficPolicy for these route rules: [{}]", rules.join(" "));
            for a in ancestors {
                rec.condition(Target::PolicyAncestor(p.key.clone(), a.clone()), Condition::new("Overridden", true, "Overridden", msg.clone()));
            }
        }
    }
    true
}

/// The ConfigMaps of namespace `ns`, by name.
fn config_maps<'r>(res: &'r Resources, ns: &'r str) -> impl Fn(&str) -> Option<&'r crate::api::ConfigMap> + 'r {
    move |name| res.config_maps.iter().map(|c| &*c.obj).find(|c| c.metadata.ns() == ns && c.metadata.name == name)
}

/// The effect of a route policy merged over its parent's spec.
fn merged(ctx: &Ctx, parent: &Policy, child: &Policy, json_merge: bool) -> Effect {
    let (Ok(pv), Ok(cv)) = (serde_json::to_value(&parent.item.obj.spec), serde_json::to_value(&child.item.obj.spec)) else { return Effect::Invalid };
    let mut m = traffic::merge(&pv, &cv, json_merge);
    // Targets and mergeType are the route policy's own.
    if let Some(o) = m.as_object_mut() {
        for k in ["targetRef", "targetRefs", "targetSelectors", "mergeType"] {
            o.remove(k);
        }
    }
    match serde_json::from_value::<crate::api::btp::BackendTrafficPolicySpec>(m).map_err(|e| e.to_string()).and_then(|s| {
        let cm = config_maps(ctx.res, child.item.obj.metadata.ns());
        traffic::build(&s, &traffic::Env { config_map: &cm, rate_limit_service: ctx.rate_limit_service })
    }) {
        Ok(t) => Effect::Apply(Arc::new(t)),
        Err(_) => Effect::Invalid,
    }
}

/// A policy on a Gateway or one of its listeners.
fn gateway_target(p: &Policy, t: &TargetRef, gi: usize, gateways: &mut [ResolvedGateway], claims: &mut Claims, rec: &mut Recorder) {
    let g = &gateways[gi];
    let a = AncestorRef { gateway: g.key.clone(), section: t.section.clone() };
    let ancestors = std::slice::from_ref(&a);
    let li = match &t.section {
        Some(s) => match g.listeners.iter().position(|l| &l.id.section == s) {
            Some(li) => Some(li),
            None => {
                let msg = format!("No section name {s} found for {}/{}", g.key.namespace, g.key.name);
                problem_for(rec, p, ancestors, Problem::new(Code::ReferencePolicyTarget, msg, format!("{}/sectionName", t.pointer)).sets(Target::Policy(p.key.clone()), "Accepted", false, "TargetNotFound"));
                return;
            }
        },
        None => None,
    };
    let fresh = match li {
        Some(li) => claims.listeners.insert((gi, li)),
        None => claims.gateways.insert(gi),
    };
    if !fresh {
        let msg = match (li, &t.section) {
            (Some(_), Some(s)) => format!("Unable to target Listener {}/{}/{s}, another BackendTrafficPolicy has already attached to it", g.key.namespace, g.key.name),
            _ => format!("Unable to target Gateway {}, another BackendTrafficPolicy has already attached to it", g.key.name),
        };
        problem_for(rec, p, ancestors, Problem::new(Code::ConflictPolicy, msg, t.pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Conflicted"));
        return;
    }
    accepted(rec, p, ancestors);
    let scope = match li {
        Some(li) => Scope::Listener(li),
        None => Scope::Gateway,
    };
    gateways[gi].traffic.scopes.insert(scope, p.effect());
    // Routes with a policy of their own (or a listener's, for a Gateway policy) override it
    // there; routes whose policy merges with it say so.
    let listeners: Vec<usize> = match li {
        Some(li) => vec![li],
        None => (0..gateways[gi].listeners.len()).collect(),
    };
    let (mut overridden, mut merged) = (Vec::new(), Vec::new());
    for l in &listeners {
        for (r, m) in claims.specific.get(&(gi, *l)).into_iter().flatten() {
            if *m { merged.push(r.clone()) } else { overridden.push(r.clone()) }
        }
    }
    if !merged.is_empty() {
        let msg = format!("This policy is being merged by other backendTrafficPolicies for these routes: {}", policy::route_list(merged.into_iter()));
        rec.condition(Target::PolicyAncestor(p.key.clone(), a.clone()), Condition::new("Merged", true, "Merged", msg));
    }
    if !overridden.is_empty() {
        let msg = format!("This policy is being overridden by other backendTrafficPolicies for these routes: {}", policy::route_list(overridden.into_iter()));
        rec.condition(Target::PolicyAncestor(p.key.clone(), a), Condition::new("Overridden", true, "Overridden", msg));
    }
}
