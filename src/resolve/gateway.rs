//! GatewayClasses, Gateways and listeners: which are ours, which listeners are valid, conflicts.

use super::status::{self, Condition, GatewayStatus, ListenerStatus, RouteGroupKind, StatusTable};
use super::{Options, ResolvedGateway, ResolvedListener};
use crate::api::{GATEWAY_GROUP, Resources};
use crate::diag::{Code, Diagnostic};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn envoy_proxy<'a>(res: &'a Resources, ns: &str, name: &str) -> Option<&'a crate::api::EnvoyProxy> {
    res.envoy_proxies.iter().map(|e| &e.obj).find(|e| e.metadata.ns() == ns && e.metadata.name == name)
}

/// Our GatewayClasses (controllerName ours) by name, with the EnvoyProxy their parametersRef
/// names. A parametersRef that does not resolve makes the class not Accepted
/// (`InvalidParameters`), as Envoy Gateway does; its Gateways are then left alone.
pub fn classes<'a>(
    res: &'a Resources,
    opts: &Options,
    st: &mut StatusTable,
    diags: &mut Vec<Diagnostic>,
) -> HashMap<String, Option<&'a crate::api::EnvoyProxy>> {
    let mut ours = HashMap::new();
    for gc in &res.gateway_classes {
        if gc.obj.spec.controller_name != opts.controller_name {
            continue;
        }
        let name = &gc.obj.metadata.name;
        let mut proxy = None;
        let mut cond = Condition::new("Accepted", true, "Accepted", "Valid GatewayClass");
        if let Some(p) = &gc.obj.spec.parameters_ref {
            let problem = if p.group != crate::api::ENVOY_GATEWAY_GROUP || p.kind != "EnvoyProxy" {
                Some(format!("parametersRef must name a gateway.envoyproxy.io EnvoyProxy, not {} {}", p.group, p.kind))
            } else {
                match p.namespace.as_deref().and_then(|ns| envoy_proxy(res, ns, &p.name)) {
                    Some(e) => {
                        proxy = Some(e);
                        None
                    }
                    None => Some(format!("EnvoyProxy {}/{} not found", p.namespace.as_deref().unwrap_or("<no namespace>"), p.name)),
                }
            };
            if let Some(msg) = problem {
                diags.push(
                    Diagnostic::new(Code::ReferenceParameters, format!("GatewayClass {name}: {msg} (InvalidParameters)"))
                        .with_span(gc.loc.span_of("/spec/parametersRef", false))
                        .with_object(format!("GatewayClass {name}"))
                        .with_path("/spec/parametersRef"),
                );
                cond = Condition::new("Accepted", false, "InvalidParameters", msg);
            }
        }
        let accepted = cond.status;
        st.gateway_classes.insert(name.clone(), (vec![cond], gc.obj.metadata.generation));
        if accepted {
            ours.insert(name.clone(), proxy);
        }
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
    ours: &HashMap<String, Option<&'a crate::api::EnvoyProxy>>,
    index: &super::backend::Index,
    st: &mut StatusTable,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ResolvedGateway<'a>> {
    let mut out = Vec::new();
    for gw in &res.gateways {
        let g = &gw.obj;
        let Some(class_proxy) = ours.get(&g.spec.gateway_class_name) else { continue };
        let object = format!("Gateway {}/{}", g.metadata.ns(), g.metadata.name);
        // The Gateway's own EnvoyProxy replaces its class's.
        let mut proxy = *class_proxy;
        if let Some(p) = g.spec.infrastructure.as_ref().and_then(|i| i.parameters_ref.as_ref()) {
            match envoy_proxy(res, g.metadata.ns(), &p.name).filter(|_| p.group == crate::api::ENVOY_GATEWAY_GROUP && p.kind == "EnvoyProxy") {
                Some(e) => proxy = Some(e),
                None => diags.push(
                    Diagnostic::new(Code::ReferenceParameters, format!("infrastructure.parametersRef: EnvoyProxy {}/{} not found", g.metadata.ns(), p.name))
                        .with_span(gw.loc.span_of("/spec/infrastructure/parametersRef", false))
                        .with_object(object.clone())
                        .with_path("/spec/infrastructure/parametersRef"),
                ),
            }
        }
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
                        Diagnostic::new(Code::UnsupportedProtocol, format!("listener `{}`: protocol {} is not supported yet; the listener is not programmed", l.name, l.protocol))
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
                        Diagnostic::new(Code::ReferenceCertificate, format!("listener `{}`: {} ({})", l.name, p.message, p.reason))
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
        out.push(ResolvedGateway { gateway: gw, proxy, listeners, routes: Vec::new() });
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
