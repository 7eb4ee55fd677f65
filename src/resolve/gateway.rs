//! GatewayClasses, Gateways and listeners: which are ours, which listeners are valid, conflicts.

use super::status::{self, Condition, GatewayStatus, ListenerStatus, RouteGroupKind, StatusTable};
use super::{Options, ResolvedGateway, ResolvedListener};
use crate::api::{GATEWAY_GROUP, Resources};
use crate::diag::Diagnostic;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Names of the GatewayClasses whose controllerName is ours; their status is Accepted.
pub fn classes(res: &Resources, opts: &Options, st: &mut StatusTable, diags: &mut Vec<Diagnostic>) -> HashSet<String> {
    let mut ours = HashSet::new();
    for gc in &res.gateway_classes {
        if gc.obj.spec.controller_name != opts.controller_name {
            continue;
        }
        ours.insert(gc.obj.metadata.name.clone());
        if gc.obj.spec.parameters_ref.is_some() {
            diags.push(
                Diagnostic::warning("unsupported::field", "GatewayClass spec.parametersRef (EnvoyProxy) is not supported yet and is ignored")
                    .with_span(gc.loc.span_of("/spec/parametersRef", true))
                    .with_object(format!("GatewayClass {}", gc.obj.metadata.name))
                    .with_path("/spec/parametersRef"),
            );
        }
        st.gateway_classes.insert(
            gc.obj.metadata.name.clone(),
            (vec![Condition::new("Accepted", true, "Accepted", "Valid GatewayClass")], gc.obj.metadata.generation),
        );
    }
    ours
}

/// Protocols whose listeners we program, and the route kinds each supports.
fn supported_kinds(protocol: &str) -> Option<&'static [&'static str]> {
    match protocol {
        "HTTP" | "HTTPS" => Some(&["HTTPRoute"]),
        _ => None,
    }
}

/// Listeners of every Gateway of our classes, with their conditions.
pub fn gateways<'a>(
    res: &'a Resources,
    ours: &HashSet<String>,
    index: &super::backend::Index,
    st: &mut StatusTable,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ResolvedGateway<'a>> {
    let mut out = Vec::new();
    for gw in &res.gateways {
        let g = &gw.obj;
        if !ours.contains(&g.spec.gateway_class_name) {
            continue;
        }
        let object = format!("Gateway {}/{}", g.metadata.ns(), g.metadata.name);
        // Conflicts among listeners sharing a port (as Envoy Gateway groups them).
        let mut protocols: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
        let mut hostnames: BTreeMap<(u32, &str), usize> = BTreeMap::new();
        for l in &g.spec.listeners {
            let family = match l.protocol.as_str() {
                "HTTPS" | "TLS" => "https/tls",
                p => p,
            };
            if family != "UDP" {
                protocols.entry(l.port).or_default().insert(family);
            }
            *hostnames.entry((l.port, l.hostname.as_deref().unwrap_or(""))).or_default() += 1;
        }
        let mut listeners = Vec::new();
        let mut lstatus = Vec::new();
        for (i, l) in g.spec.listeners.iter().enumerate() {
            let mut conds = Vec::new();
            let mut kinds = Vec::new();
            let mut ok = true;
            match supported_kinds(&l.protocol) {
                None => {
                    ok = false;
                    conds.push(Condition::new(
                        "Accepted",
                        false,
                        "UnsupportedProtocol",
                        format!("Protocol {} is not supported by gatewayc yet", l.protocol),
                    ));
                    diags.push(
                        Diagnostic::warning("unsupported::protocol", format!("listener `{}`: protocol {} is not supported yet; the listener is not programmed", l.name, l.protocol))
                            .with_span(gw.loc.span_of(&format!("/spec/listeners/{i}/protocol"), false))
                            .with_object(object.clone())
                            .with_path(format!("/spec/listeners/{i}/protocol")),
                    );
                }
                Some(supported) => {
                    conds.push(Condition::new("Accepted", true, "Accepted", "Listener has been successfully translated"));
                    let requested = &l.allowed_routes.kinds;
                    let mut invalid = false;
                    if requested.is_empty() {
                        kinds.extend(supported.iter().map(|k| RouteGroupKind { group: GATEWAY_GROUP.into(), kind: k.to_string() }));
                    } else {
                        for k in requested {
                            if k.group == GATEWAY_GROUP && supported.contains(&k.kind.as_str()) {
                                let rgk = RouteGroupKind { group: k.group.clone(), kind: k.kind.clone() };
                                if !kinds.contains(&rgk) {
                                    kinds.push(rgk);
                                }
                            } else {
                                invalid = true;
                            }
                        }
                    }
                    if invalid {
                        ok = false;
                        conds.push(Condition::new(
                            "ResolvedRefs",
                            false,
                            "InvalidRouteKinds",
                            "Route kinds in allowedRoutes.kinds are not supported for this listener's protocol",
                        ));
                    }
                }
            }
            // HTTPS: certificates. The listener works with the valid ones; with none it is
            // not programmed. Other listeners are not affected.
            let mut tls = Vec::new();
            if l.protocol == "HTTPS"
                && let Some(t) = &l.tls
            {
                let (certs, problem) = super::tls::listener_certificates(index, g.metadata.ns(), &t.certificate_refs);
                if let Some(p) = problem {
                    diags.push(
                        Diagnostic::warning("reference::certificate", format!("listener `{}`: {} ({})", l.name, p.message, p.reason))
                            .with_span(gw.loc.span_of(&format!("/spec/listeners/{i}/tls/certificateRefs"), false))
                            .with_object(object.clone())
                            .with_path(format!("/spec/listeners/{i}/tls/certificateRefs")),
                    );
                    if status::get(&conds, "ResolvedRefs").is_none() {
                        conds.push(Condition::new("ResolvedRefs", false, p.reason, p.message));
                    }
                }
                if certs.is_empty() {
                    ok = false;
                }
                tls = certs;
            }
            if status::get(&conds, "ResolvedRefs").is_none() {
                conds.push(Condition::new("ResolvedRefs", true, "ResolvedRefs", "Listener references have been resolved"));
            }
            let conflicted = if protocols.get(&l.port).is_some_and(|p| p.len() > 1) {
                Some(("ProtocolConflict", "All listeners for a given port must use a compatible protocol"))
            } else if hostnames.get(&(l.port, l.hostname.as_deref().unwrap_or(""))).is_some_and(|n| *n > 1) {
                Some(("HostnameConflict", "All listeners for a given port must use a unique hostname"))
            } else {
                None
            };
            match conflicted {
                Some((reason, msg)) => {
                    ok = false;
                    conds.push(Condition::new("Conflicted", true, reason, msg));
                }
                None => conds.push(Condition::new("Conflicted", false, "NoConflicts", "No conflicts")),
            }
            conds.push(if ok {
                Condition::new("Programmed", true, "Programmed", "Sending translated listener configuration to the data plane")
            } else {
                Condition::new("Programmed", false, "Invalid", "Listener is invalid, see other Conditions for details.")
            });
            listeners.push(ResolvedListener { name: l.name.clone(), port: l.port, hostname: l.hostname.clone(), programmed: ok, tls });
            lstatus.push(ListenerStatus { name: l.name.clone(), supported_kinds: kinds, attached_routes: 0, conditions: conds });
        }
        st.gateways.insert(
            (g.metadata.ns().to_string(), g.metadata.name.clone()),
            GatewayStatus { conditions: Vec::new(), listeners: lstatus, generation: g.metadata.generation },
        );
        out.push(ResolvedGateway { gateway: gw, listeners, routes: Vec::new() });
    }
    out
}

/// Gateway-level conditions, once listeners and routes are known.
pub fn finish(gws: &[ResolvedGateway], st: &mut StatusTable) {
    for g in gws {
        let Some(gs) = st.gateways.get_mut(&(g.namespace().to_string(), g.name().to_string())) else { continue };
        let any = g.listeners.iter().any(|l| l.programmed);
        let all = g.listeners.iter().all(|l| l.programmed);
        status::set(&mut gs.conditions, Condition::new("Accepted", true, "Accepted", "The Gateway has been scheduled by gatewayc"));
        let (prog, reason, msg) = if any {
            (true, "Programmed", if all { "All listeners are programmed" } else { "Some listeners are invalid; the valid ones are programmed" })
        } else {
            (false, "Invalid", "No listener of the Gateway is valid")
        };
        status::set(&mut gs.conditions, Condition::new("Programmed", prog, reason, msg));
        if !all {
            status::set(&mut gs.conditions, Condition::new("Accepted", any, "ListenersNotValid", "Some listeners are invalid, see their conditions"));
        }
    }
}
