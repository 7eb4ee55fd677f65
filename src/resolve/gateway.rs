//! GatewayClasses, Gateways and listeners: which are ours, which listeners are valid, conflicts.

use super::listener;
use super::status::{Condition, GatewayStatus, Problem, Recorder, Site, Target};
use super::{Infra, Options, ProxySettings, ResolvedGateway};
use crate::api::{EnvoyProxy, Kind, Resources};
use crate::diag::Code;
use crate::id::ObjectKey;
use std::collections::{BTreeMap, HashMap};

fn envoy_proxy<'a>(res: &'a Resources, ns: &str, name: &str) -> Option<&'a EnvoyProxy> {
    res.envoy_proxies.iter().map(|e| &*e.obj).find(|e| e.metadata.ns() == ns && e.metadata.name == name)
}

/// Our GatewayClasses (controllerName ours) by name, with the EnvoyProxy their parametersRef
/// names; and, for `input::no-gateway`, why each class of ours is not usable. A parametersRef
/// that does not resolve makes the class not Accepted (`InvalidParameters`), as Envoy Gateway
/// does; its Gateways are then left alone. A parametersRef without a namespace looks in
/// `default`, as Envoy Gateway does.
pub fn classes<'a>(res: &'a Resources, opts: &Options, rec: &mut Recorder) -> HashMap<String, Option<&'a EnvoyProxy>> {
    let mut ours = HashMap::new();
    for gc in &res.gateway_classes {
        if gc.obj.spec.controller_name != opts.controller_name {
            continue;
        }
        let name = &gc.obj.metadata.name;
        let key = ObjectKey::of(Kind::GatewayClass, &gc.obj.metadata);
        rec.status.gateway_classes.insert(key.clone(), (Vec::new(), gc.obj.metadata.generation));
        let mut proxy = None;
        let mut problem = None;
        if let Some(p) = &gc.obj.spec.parameters_ref {
            let ns = p.namespace.as_deref().unwrap_or("default");
            if p.group != crate::api::ENVOY_GATEWAY_GROUP || p.kind != "EnvoyProxy" {
                problem = Some(format!("parametersRef must name a gateway.envoyproxy.io EnvoyProxy, not {} {}", p.group, p.kind));
            } else {
                match envoy_proxy(res, ns, &p.name) {
                    Some(e) => proxy = Some(e),
                    None => problem = Some(format!("EnvoyProxy {ns}/{} not found", p.name)),
                }
            }
        }
        match problem {
            Some(msg) => rec.report(
                Site { object: &key, loc: &gc.loc },
                Problem::new(Code::ReferenceParameters, msg, "/spec/parametersRef").sets(Target::GatewayClass(key.clone()), "Accepted", false, "InvalidParameters"),
            ),
            None => {
                ours.insert(name.clone(), proxy);
            }
        }
    }
    ours
}

/// Every Gateway of our classes, with its listeners resolved.
pub fn gateways(res: &Resources, ours: &HashMap<String, Option<&EnvoyProxy>>, index: &super::backend::Index, rec: &mut Recorder) -> Vec<ResolvedGateway> {
    let mut out = Vec::new();
    for gw in &res.gateways {
        let g = &gw.obj;
        let Some(class_proxy) = ours.get(&g.spec.gateway_class_name) else { continue };
        let key = ObjectKey::of(Kind::Gateway, &g.metadata);
        rec.status.gateways.insert(key.clone(), GatewayStatus { conditions: Vec::new(), listeners: Vec::new(), generation: g.metadata.generation, attached_listener_sets: 0 });
        let site = Site { object: &key, loc: &gw.loc };
        // The Gateway's own EnvoyProxy replaces its class's; one that does not resolve makes
        // the Gateway not Accepted (InvalidParameters), as Envoy Gateway does.
        let mut proxy = *class_proxy;
        let mut accepted = true;
        if let Some(p) = g.spec.infrastructure.as_ref().and_then(|i| i.parameters_ref.as_ref()) {
            let found = envoy_proxy(res, g.metadata.ns(), &p.name).filter(|_| p.group == crate::api::ENVOY_GATEWAY_GROUP && p.kind == "EnvoyProxy");
            match found {
                Some(e) => proxy = Some(e),
                None => {
                    accepted = false;
                    let msg = if p.group != crate::api::ENVOY_GATEWAY_GROUP || p.kind != "EnvoyProxy" {
                        format!("infrastructure.parametersRef must name a gateway.envoyproxy.io EnvoyProxy, not {} {}", p.group, p.kind)
                    } else {
                        format!("infrastructure.parametersRef: EnvoyProxy {}/{} not found", g.metadata.ns(), p.name)
                    };
                    rec.report(
                        site,
                        Problem::new(Code::ReferenceParameters, msg, "/spec/infrastructure/parametersRef").sets(Target::Gateway(key.clone()), "Accepted", false, "InvalidParameters"),
                    );
                }
            }
        }
        let listeners = listener::resolve_all(gw, &key, index, rec);
        let backend_client_certificate = backend_client_certificate(g, &key, index, site, rec);
        let infra = Infra {
            addresses: g.spec.addresses.iter().filter(|a| a.type_ == "IPAddress").filter_map(|a| a.value.clone()).collect(),
            labels: g.spec.infrastructure.as_ref().map(|i| i.labels.clone()).unwrap_or_default(),
            annotations: g.spec.infrastructure.as_ref().map(|i| i.annotations.clone()).unwrap_or_default(),
            proxy: proxy_settings(proxy, &key, index, site, rec),
        };
        out.push(ResolvedGateway {
            key,
            accepted,
            infra,
            listeners,
            routes: Vec::new(),
            streams: Vec::new(),
            unserved: Vec::new(),
            backend_client_certificate,
            traffic: Default::default(),
            security: Default::default(),
            extensions: Default::default(),
            patches: Vec::new(),
            listener_sets: Vec::new(),
        });
    }
    out
}

/// Gateway-level conditions, once listeners and routes are known.
pub fn finish(gws: &[ResolvedGateway], rec: &mut Recorder) {
    for g in gws {
        let target = || Target::Gateway(g.key.clone());
        if !g.accepted {
            rec.condition(target(), Condition::new("Programmed", false, "Invalid", "The Gateway is not accepted"));
            continue;
        }
        super::listenerset::finish(g, rec);
        // The Gateway's conditions judge its own listeners; a ListenerSet's are its own.
        let own = || g.listeners.iter().filter(|l| l.id.parent == g.key);
        let any = own().any(|l| l.programmed);
        let all = own().all(|l| l.programmed);
        if !any {
            rec.condition(target(), Condition::new("Programmed", false, "Invalid", "No listener of the Gateway is valid"));
        } else if !all {
            rec.condition(target(), Condition::new("Programmed", true, "Programmed", "Some listeners are invalid; the valid ones are programmed"));
        }
        if !all {
            rec.condition(target(), Condition::new("Accepted", any, "ListenersNotValid", "Some listeners are invalid, see their conditions"));
        }
        // The attached route counts per listener.
        let mut counts: BTreeMap<usize, u32> = BTreeMap::new();
        let attached = g
            .routes
            .iter()
            .map(|r| &r.listeners)
            .chain(g.streams.iter().map(|s| &s.listeners));
        for listeners in attached {
            for (li, _) in listeners {
                *counts.entry(*li).or_default() += 1;
            }
        }
        for li in &g.unserved {
            *counts.entry(*li).or_default() += 1;
        }
        if let Some(gs) = rec.status.gateways.get_mut(&g.key) {
            gs.attached_listener_sets = g.listener_sets.len() as u32;
        }
        // Each listener's status is its declarer's: the Gateway's or a ListenerSet's.
        for (li, n) in counts {
            let Some(id) = g.listeners.get(li).map(|l| &l.id) else { continue };
            if let Some(ls) = rec.status.gateways.get_mut(&id.parent).and_then(|s| s.listeners.iter_mut().find(|x| x.name == id.section)) {
                ls.attached_routes = n;
            }
        }
    }
}

/// The certificate the Gateway presents to backends that ask for one
/// (`spec.tls.backend.clientCertificateRef`), or the Gateway's `ResolvedRefs=False` reason.
fn backend_client_certificate(g: &crate::api::Gateway, key: &ObjectKey, index: &super::backend::Index, site: Site, rec: &mut Recorder) -> Option<std::sync::Arc<super::tls::Certificate>> {
    let r = g.spec.tls.as_ref()?.backend.as_ref()?.client_certificate_ref.as_ref()?;
    match super::tls::certificate(index, g.metadata.ns(), r) {
        Ok(c) => Some(c),
        Err(e) => {
            let reason = if e.reason == "RefNotPermitted" { e.reason } else { "InvalidClientCertificateRef" };
            rec.report(
                site,
                Problem::new(Code::ReferenceClientCertificate, e.message, "/spec/tls/backend/clientCertificateRef").sets(Target::Gateway(key.clone()), "ResolvedRefs", false, reason),
            );
            None
        }
    }
}

fn proxy_settings(e: Option<&EnvoyProxy>, key: &ObjectKey, index: &super::backend::Index, site: Site, rec: &mut Recorder) -> ProxySettings {
    let prometheus_disabled = e.and_then(|e| e.spec.telemetry.as_ref()).and_then(|t| t.metrics.as_ref()).and_then(|m| m.prometheus.as_ref()).is_some_and(|p| p.disable == Some(true));
    let log_levels = e.and_then(|e| e.spec.logging.as_ref()).map(|l| l.level.iter().map(|(k, v)| (k.clone(), v.name())).collect()).unwrap_or_default();
    let (concurrency, extra_args) = (e.and_then(|e| e.spec.concurrency), e.map(|e| e.spec.extra_args.clone()).unwrap_or_default());
    let ns = e.map(|e| e.metadata.ns().to_string()).unwrap_or_default();
    let access_log = super::telemetry::access_log(e.and_then(|e| e.spec.telemetry.as_ref()).and_then(|t| t.access_log.as_ref()), (&ns, key), index, site, rec);
    let mut stats_matches = Vec::new();
    for m in e.and_then(|e| e.spec.telemetry.as_ref()).and_then(|t| t.metrics.as_ref()).map(|m| m.matches.as_slice()).unwrap_or_default() {
        match super::traffic_http::value_match(m) {
            Ok(v) => stats_matches.push(v),
            Err(err) => rec.report(site, Problem::new(Code::SchemaRule, format!("EnvoyProxy telemetry.metrics.matches: {err}"), "/spec/infrastructure")),
        }
    }
    let metrics = e.and_then(|e| e.spec.telemetry.as_ref()).and_then(|t| t.metrics.as_ref());
    let (size_stats, endpoint_stats) = (metrics.is_some_and(|m| m.enable_request_response_sizes_stats == Some(true)), metrics.is_some_and(|m| m.enable_per_endpoint_stats == Some(true)));
    let tracing = e.and_then(|e| e.spec.telemetry.as_ref()).and_then(|t| t.tracing.as_ref()).and_then(|t| match super::telemetry::tracing(t, (&ns, key), index) {
        Ok(t) => Some(std::sync::Arc::new(t)),
        Err(err) => {
            rec.report(site, Problem::new(Code::ReferenceBackend, format!("EnvoyProxy tracing provider: {err}; requests are not traced"), "/spec/infrastructure"));
            None
        }
    });
    let bootstrap = e.and_then(|e| e.spec.bootstrap.as_ref()).and_then(super::workload::bootstrap_change).map(std::sync::Arc::new);
    let filter_order = e
        .map(|e| e.spec.filter_order.iter().filter_map(|f| match (&f.before, &f.after) {
            (Some(b), _) => Some(super::FilterPosition { name: f.name.clone(), anchor: b.clone(), before: true }),
            (None, Some(a)) => Some(super::FilterPosition { name: f.name.clone(), anchor: a.clone(), before: false }),
            (None, None) => None,
        }).collect())
        .unwrap_or_default();
    let preserve_route_order = e.and_then(|e| e.spec.preserve_route_order).unwrap_or(false);
    let base = ProxySettings { bootstrap, filter_order, preserve_route_order, prometheus_disabled, log_levels, concurrency, extra_args, access_log, stats_matches, size_stats, endpoint_stats, tracing, ..Default::default() };
    let Some(k) = e.and_then(|e| e.spec.provider.as_ref()).and_then(|p| p.kubernetes.as_ref()) else {
        return base;
    };
    let d = k.envoy_deployment.as_ref();
    let c = d.and_then(|d| d.container.as_ref());
    let s = k.envoy_service.clone().unwrap_or_default();
    ProxySettings {
        replicas: d.and_then(|d| d.replicas),
        image: c.and_then(|c| c.image.clone()),
        resources: c.and_then(|c| c.resources.clone()),
        service_type: s.type_,
        service_annotations: s.annotations,
        service_labels: s.labels,
        load_balancer_class: s.load_balancer_class,
        load_balancer_ip: s.load_balancer_ip,
        load_balancer_source_ranges: s.load_balancer_source_ranges,
        allocate_load_balancer_node_ports: s.allocate_load_balancer_node_ports,
        external_traffic_policy: s.external_traffic_policy,
        workload: std::sync::Arc::new(super::workload::workload(k)),
        ..base
    }
}

/// Why the input has no Gateway of ours to translate, in one line: no class of our
/// controllerName (and which controllers the classes name), a class not accepted (and why), no
/// Gateway of the class, or Gateways not accepted (and why).
pub fn why_no_gateway(res: &Resources, opts: &Options, st: &super::status::StatusTable) -> String {
    let ctrl = &opts.controller_name;
    let ours: Vec<_> = res.gateway_classes.iter().filter(|c| &c.obj.spec.controller_name == ctrl).collect();
    if ours.is_empty() {
        let others: Vec<String> = res.gateway_classes.iter().map(|c| format!("{} ({})", c.obj.metadata.name, c.obj.spec.controller_name)).collect();
        return if others.is_empty() {
            format!("no GatewayClass with controllerName {ctrl} in the input")
        } else {
            format!("no GatewayClass with controllerName {ctrl} in the input; the classes found are {}", others.join(", "))
        };
    }
    let mut why = Vec::new();
    for c in &ours {
        let key = ObjectKey::of(Kind::GatewayClass, &c.obj.metadata);
        let refused = st.gateway_classes.get(&key).and_then(|(conds, _)| conds.iter().find(|x| x.type_ == "Accepted" && !x.status));
        let name = &c.obj.metadata.name;
        if let Some(r) = refused {
            why.push(format!("GatewayClass {name} is not accepted ({}: {})", r.reason, r.message));
            continue;
        }
        let gws: Vec<_> = res.gateways.iter().filter(|g| &g.obj.spec.gateway_class_name == name).collect();
        if gws.is_empty() {
            why.push(format!("no Gateway names GatewayClass {name}"));
        }
        for g in gws {
            let key = ObjectKey::of(Kind::Gateway, &g.obj.metadata);
            if let Some(r) = st.gateways.get(&key).and_then(|s| s.conditions.iter().find(|x| x.type_ == "Accepted" && !x.status)) {
                why.push(format!("{key} is not accepted ({}: {})", r.reason, r.message));
            }
        }
    }
    format!("the input holds no Gateway of a GatewayClass with controllerName {ctrl} to translate: {}", why.join("; "))
}
