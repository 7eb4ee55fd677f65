//! HTTPRoute attachment (parentRefs, allowedRoutes, hostnames) and backend resolution.

use super::backend::Index;
use super::hostname;
use super::status::{Condition, ParentRefStatus, RouteParentStatus, RouteStatus, StatusTable};
use super::{AttachedRoute, Options, ResolvedBackend, ResolvedGateway, ResolvedRule};
use crate::api::gateway::FromNamespaces;
use crate::api::httproute::HTTPRouteFilterType;
use crate::api::{GATEWAY_GROUP, HTTPRoute, Item, Resources};
use crate::diag::{Code, Diagnostic};
use std::collections::HashMap;

/// Attach every HTTPRoute to the Gateways it names; returns the resolved rules per route.
pub fn attach<'a>(
    res: &'a Resources,
    index: &Index,
    opts: &Options,
    gateways: &mut [ResolvedGateway<'a>],
    st: &mut StatusTable,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Vec<ResolvedRule>> {
    let by_name: HashMap<(String, String), usize> =
        gateways.iter().enumerate().map(|(i, g)| ((g.namespace().to_string(), g.name().to_string()), i)).collect();
    // Every Gateway of the input, ours or not (a parentRef to another controller's is silent).
    let all_gateways: std::collections::HashSet<(&str, &str)> =
        res.gateways.iter().map(|g| (g.obj.metadata.ns(), g.obj.metadata.name.as_str())).collect();
    let mut all_rules = Vec::new();
    for (order, item) in res.http_routes.iter().enumerate() {
        let route = &item.obj;
        let rns = route.metadata.ns();
        let object = format!("HTTPRoute {rns}/{}", route.metadata.name);
        let (rules, refs_problem) = resolve_rules(item, index, &object, diags);
        let rules_idx = all_rules.len();
        let mut parents = Vec::new();
        for (pi, pr) in route.spec.parent_refs.iter().enumerate() {
            if pr.group != GATEWAY_GROUP || pr.kind != "Gateway" {
                continue;
            }
            let gns = pr.namespace.as_deref().unwrap_or(rns);
            let Some(&gi) = by_name.get(&(gns.to_string(), pr.name.clone())) else {
                if !all_gateways.contains(&(gns, pr.name.as_str())) {
                    diags.push(
                        Diagnostic::new(Code::ReferenceParentNotFound, format!("parentRef names Gateway {gns}/{} which is not in the input", pr.name))
                            .with_span(item.loc.span_of(&format!("/spec/parentRefs/{pi}"), false))
                            .with_object(object.clone())
                            .with_path(format!("/spec/parentRefs/{pi}")),
                    );
                }
                continue;
            };
            let gw = &mut gateways[gi];
            let gspec = &gw.gateway.obj.spec;
            let mut matched = Vec::new();
            let mut any_candidate = false;
            let mut any_allowed = false;
            for (li, l) in gspec.listeners.iter().enumerate() {
                if pr.section_name.as_deref().is_some_and(|s| s != l.name) || pr.port.is_some_and(|p| p != l.port) {
                    continue;
                }
                any_candidate = true;
                let kind_ok = st
                    .gateways
                    .get(&(gw.namespace().to_string(), gw.name().to_string()))
                    .and_then(|s| s.listeners.get(li))
                    .is_some_and(|ls| ls.supported_kinds.iter().any(|k| k.group == GATEWAY_GROUP && k.kind == "HTTPRoute"));
                let ns_ok = match l.allowed_routes.namespaces.from {
                    FromNamespaces::All => true,
                    FromNamespaces::Same => rns == gw.namespace(),
                    FromNamespaces::Selector => l
                        .allowed_routes
                        .namespaces
                        .selector
                        .as_ref()
                        .is_some_and(|sel| sel.matches(&index.namespace_labels(rns))),
                };
                if !(kind_ok && ns_ok) {
                    continue;
                }
                any_allowed = true;
                if let Some(hosts) = hostname::intersect(l.hostname.as_deref(), &route.spec.hostnames) {
                    matched.push((li, hosts));
                }
            }
            let accepted = if !any_candidate {
                Condition::new("Accepted", false, "NoMatchingParent", "No listener matches the parentRef's sectionName and port")
            } else if !any_allowed {
                Condition::new("Accepted", false, "NotAllowedByListeners", "No listener of the parent allows this route (allowedRoutes namespaces and kinds)")
            } else if matched.is_empty() {
                Condition::new("Accepted", false, "NoMatchingListenerHostname", "No hostname of the route matches a listener hostname")
            } else {
                Condition::new("Accepted", true, "Accepted", "Route is accepted")
            };
            if !accepted.status {
                diags.push(
                    Diagnostic::new(Code::ReferenceRouteNotAccepted, format!("not accepted by Gateway {gns}/{}: {} ({})", pr.name, accepted.message, accepted.reason))
                        .with_span(item.loc.span_of(&format!("/spec/parentRefs/{pi}"), false))
                        .with_object(object.clone())
                        .with_path(format!("/spec/parentRefs/{pi}")),
                );
            }
            let resolved = match &refs_problem {
                Some((reason, msg)) => Condition::new("ResolvedRefs", false, reason, msg.clone()),
                None => Condition::new("ResolvedRefs", true, "ResolvedRefs", "Resolved all the Object references for the Route"),
            };
            if accepted.status {
                if let Some(gs) = st.gateways.get_mut(&(gw.namespace().to_string(), gw.name().to_string())) {
                    for (li, _) in &matched {
                        gs.listeners[*li].attached_routes += 1;
                    }
                }
                gw.routes.push(AttachedRoute { route: item, order, listeners: matched, rules: rules_idx });
            }
            parents.push(RouteParentStatus {
                parent_ref: ParentRefStatus {
                    group: pr.group.clone(),
                    kind: pr.kind.clone(),
                    namespace: gns.to_string(),
                    name: pr.name.clone(),
                    section_name: pr.section_name.clone(),
                    port: pr.port,
                },
                controller_name: opts.controller_name.clone(),
                conditions: vec![accepted, resolved],
            });
        }
        if !parents.is_empty() {
            st.http_routes.insert((rns.to_string(), route.metadata.name.clone()), RouteStatus { parents, generation: route.metadata.generation });
        }
        all_rules.push(rules);
    }
    all_rules
}

/// Resolve every backendRef of every rule. Returns the first problem for ResolvedRefs.
fn resolve_rules(
    item: &Item<HTTPRoute>,
    index: &Index,
    object: &str,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<ResolvedRule>, Option<(&'static str, String)>) {
    let route = &item.obj;
    let rns = route.metadata.ns();
    let mut problem = None;
    let mut out = Vec::new();
    for (ri, rule) in route.spec.rules.iter().enumerate() {
        let mut backends = Vec::new();
        let mut invalid_weight = 0u32;
        for (bi, b) in rule.backend_refs.iter().enumerate() {
            match index.service_backend(rns, &b.group, &b.kind, &b.name, b.namespace.as_deref(), b.port) {
                Ok(target) => backends.push(ResolvedBackend { index: bi, weight: b.weight, target }),
                Err(u) => {
                    invalid_weight = invalid_weight.saturating_add(b.weight);
                    let p = format!("/spec/rules/{ri}/backendRefs/{bi}");
                    diags.push(
                        Diagnostic::new(Code::ReferenceBackend, format!("{} ({})", u.message, u.reason))
                            .with_span(item.loc.span_of(&p, false))
                            .with_object(object)
                            .with_path(p),
                    );
                    if problem.is_none() {
                        problem = Some((u.reason, u.message));
                    }
                }
            }
            for (fi, f) in b.filters.iter().enumerate() {
                if !matches!(f.type_, HTTPRouteFilterType::RequestHeaderModifier | HTTPRouteFilterType::ResponseHeaderModifier) {
                    let p = format!("/spec/rules/{ri}/backendRefs/{bi}/filters/{fi}");
                    diags.push(
                        Diagnostic::new(Code::UnsupportedField, format!("backendRef filter {:?} is not supported yet and is ignored", f.type_))
                            .with_span(item.loc.span_of(&p, false))
                            .with_object(object)
                            .with_path(p),
                    );
                }
            }
        }
        let mut mirrors = Vec::new();
        let mut unresolvable_filter = false;
        for (fi, f) in rule.filters.iter().enumerate() {
            if let Some(m) = &f.request_mirror {
                let b = &m.backend_ref;
                let (num, den) = match (m.percent, &m.fraction) {
                    (Some(p), _) => (p, 100),
                    (None, Some(fr)) => (fr.numerator, fr.denominator),
                    (None, None) => (100, 100),
                };
                match index.service_backend(rns, &b.group, &b.kind, &b.name, b.namespace.as_deref(), b.port) {
                    Ok(target) => mirrors.push((target, num, den)),
                    Err(u) => {
                        let p = format!("/spec/rules/{ri}/filters/{fi}/requestMirror/backendRef");
                        diags.push(
                            Diagnostic::new(Code::ReferenceBackend, format!("mirror: {} ({})", u.message, u.reason))
                                .with_span(item.loc.span_of(&p, false))
                                .with_object(object)
                                .with_path(p),
                        );
                        if problem.is_none() {
                            problem = Some((u.reason, u.message));
                        }
                    }
                }
            }
            if f.type_ == HTTPRouteFilterType::ExtensionRef {
                unresolvable_filter = true;
                let p = format!("/spec/rules/{ri}/filters/{fi}");
                diags.push(
                    Diagnostic::new(Code::UnsupportedField, "ExtensionRef filters are not supported yet; the rule answers 500, as the spec requires for a filter that cannot be applied")
                        .with_span(item.loc.span_of(&p, false))
                        .with_object(object)
                        .with_path(p),
                );
            }
        }
        out.push(ResolvedRule { backends, invalid_weight, mirrors, unresolvable_filter });
    }
    (out, problem)
}
