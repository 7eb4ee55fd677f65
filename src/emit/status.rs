//! The input's Gateway API objects with `.status` as a conformant controller would write it.

use crate::api::{Kind, Resources};
use crate::id::ObjectKey;
use crate::resolve::status::{Condition, StatusTable};
use serde_json::{Value, json};

/// Conditions carry a transition time; an offline run has no clock worth trusting, and output
/// must be byte-for-byte reproducible, so every condition uses the Unix epoch.
pub const TRANSITION_TIME: &str = "1970-01-01T00:00:00Z";

fn conditions(conds: &[Condition], generation: Option<i64>) -> Value {
    Value::Array(
        conds
            .iter()
            .map(|c| {
                json!({
                    "type": c.type_,
                    "status": if c.status { "True" } else { "False" },
                    "reason": c.reason,
                    "message": c.message,
                    "observedGeneration": generation.unwrap_or(1),
                    "lastTransitionTime": TRANSITION_TIME,
                })
            })
            .collect(),
    )
}

fn with_status<T: serde::Serialize>(obj: &T, status: Option<Value>) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    if let (Some(m), Some(s)) = (v.as_object_mut(), status) {
        m.insert("status".into(), s);
    }
    v
}

/// Every Gateway API object of the input, status filled where we own it, in canonical order.
pub fn objects(res: &Resources, st: &StatusTable) -> Vec<Value> {
    let mut out = Vec::new();
    for gc in &res.gateway_classes {
        let m = &gc.obj.metadata;
        let s = st.gateway_classes.get(&ObjectKey::of(Kind::GatewayClass, m)).map(|(c, g)| json!({ "conditions": conditions(c, *g) }));
        out.push(with_status(&gc.obj, s));
    }
    for gw in &res.gateways {
        let m = &gw.obj.metadata;
        let s = st.gateways.get(&ObjectKey::of(Kind::Gateway, m)).map(|gs| {
            // Static addresses are what MetalLB assigns from the Service's annotation.
            let addresses: Vec<Value> = gw
                .obj
                .spec
                .addresses
                .iter()
                .filter(|a| a.type_ == "IPAddress")
                .filter_map(|a| a.value.as_ref().map(|v| json!({"type": "IPAddress", "value": v})))
                .collect();
            let mut s = json!({
                "addresses": addresses,
                "conditions": conditions(&gs.conditions, gs.generation),
                "listeners": listeners(gs),
            });
            // Counted when the Gateway takes ListenerSets at all.
            if gw.obj.spec.allowed_listeners.is_some() || gs.attached_listener_sets > 0 {
                s["attachedListenerSets"] = json!(gs.attached_listener_sets);
            }
            s
        });
        out.push(with_status(&gw.obj, s));
    }
    for ls in &res.listener_sets {
        let s = st.gateways.get(&ObjectKey::of(Kind::ListenerSet, &ls.obj.metadata)).map(|gs| {
            json!({
                "conditions": conditions(&gs.conditions, gs.generation),
                "listeners": listeners(gs),
            })
        });
        out.push(with_status(&ls.obj, s));
    }
    macro_rules! routes {
        ($($list:ident: $kind:ident),+) => {$(
            for r in &res.$list {
                out.push(with_status(&r.obj, route_status(st, ObjectKey::of(Kind::$kind, &r.obj.metadata))));
            }
        )+};
    }
    routes!(http_routes: HTTPRoute, grpc_routes: GRPCRoute, tls_routes: TLSRoute, tcp_routes: TCPRoute, udp_routes: UDPRoute);
    for p in &res.backend_tls_policies {
        out.push(with_status(&p.obj, policy_status(st, &ObjectKey::of(Kind::BackendTLSPolicy, &p.obj.metadata))));
    }
    for p in &res.backend_traffic_policies {
        out.push(with_status(&p.obj, policy_status(st, &ObjectKey::of(Kind::BackendTrafficPolicy, &p.obj.metadata))));
    }
    for p in &res.client_traffic_policies {
        out.push(with_status(&p.obj, policy_status(st, &ObjectKey::of(Kind::ClientTrafficPolicy, &p.obj.metadata))));
    }
    for p in &res.security_policies {
        out.push(with_status(&p.obj, policy_status(st, &ObjectKey::of(Kind::SecurityPolicy, &p.obj.metadata))));
    }
    for p in &res.envoy_extension_policies {
        out.push(with_status(&p.obj, policy_status(st, &ObjectKey::of(Kind::EnvoyExtensionPolicy, &p.obj.metadata))));
    }
    for p in &res.envoy_patch_policies {
        out.push(with_status(&p.obj, policy_status(st, &ObjectKey::of(Kind::EnvoyPatchPolicy, &p.obj.metadata))));
    }
    for b in &res.backends {
        let s = st.backends.get(&ObjectKey::of(Kind::Backend, &b.obj.metadata)).map(|(c, g)| json!({ "conditions": conditions(c, *g) }));
        out.push(with_status(&b.obj, s));
    }
    for g in &res.reference_grants {
        out.push(with_status(&g.obj, None));
    }
    out
}

/// `status.listeners` of a Gateway or ListenerSet.
fn listeners(gs: &crate::resolve::status::GatewayStatus) -> Vec<Value> {
    gs.listeners
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "supportedKinds": l.supported_kinds.iter().map(|k| json!({"group": k.group, "kind": k.kind})).collect::<Vec<_>>(),
                "attachedRoutes": l.attached_routes,
                "conditions": conditions(&l.conditions, gs.generation),
            })
        })
        .collect()
}

/// A policy's `.status`: its conditions for each Gateway it takes effect in; none when no
/// Gateway of ours uses its targets.
fn policy_status(st: &StatusTable, key: &ObjectKey) -> Option<Value> {
    let ps = st.policies.get(key).filter(|p| !p.ancestors.is_empty())?;
    Some(json!({
        "ancestors": ps.ancestors.iter().map(|(a, conds)| {
            // A Gateway, or a ListenerSet (a policy on it, or on a route attached through it).
            let mut r = json!({"group": crate::api::GATEWAY_GROUP, "kind": a.gateway.kind.name(), "namespace": a.gateway.namespace, "name": a.gateway.name});
            if let Some(s) = &a.section { r["sectionName"] = json!(s); }
            json!({
                "ancestorRef": r,
                "controllerName": ps.controller_name,
                "conditions": conditions(conds, ps.generation),
            })
        }).collect::<Vec<_>>(),
    }))
}

/// A route's `.status` (any route kind), if we own one of its parents.
fn route_status(st: &StatusTable, key: ObjectKey) -> Option<Value> {
    st.routes.get(&key).map(|rs| {
        json!({
            "parents": rs.parents.iter().map(|p| {
                let mut pr = json!({
                    "group": p.parent_ref.group,
                    "kind": p.parent_ref.kind,
                    "namespace": p.parent_ref.namespace,
                    "name": p.parent_ref.name,
                });
                if let Some(sn) = &p.parent_ref.section_name { pr["sectionName"] = json!(sn); }
                if let Some(port) = p.parent_ref.port { pr["port"] = json!(port); }
                json!({
                    "parentRef": pr,
                    "controllerName": p.controller_name,
                    "conditions": conditions(&p.conditions, rs.generation),
                })
            }).collect::<Vec<_>>(),
        })
    })
}

/// With external-dns, each programmed listener's hostname (not wildcards) resolves to the
/// Gateway: report them as Hostname addresses.
pub fn add_dns_hostnames(objects: &mut [Value]) {
    for o in objects.iter_mut().filter(|o| o["kind"] == "Gateway") {
        let programmed: Vec<String> = o["status"]["listeners"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .filter(|l| l["conditions"].as_array().is_some_and(|cs| cs.iter().any(|c| c["type"] == "Programmed" && c["status"] == "True")))
                    .filter_map(|l| l["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut hosts: Vec<String> = o["spec"]["listeners"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .filter(|l| l["name"].as_str().is_some_and(|n| programmed.iter().any(|p| p == n)))
                    .filter_map(|l| l["hostname"].as_str())
                    .filter(|h| !h.starts_with('*'))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        hosts.sort();
        hosts.dedup();
        if let Some(addrs) = o["status"]["addresses"].as_array_mut() {
            addrs.extend(hosts.into_iter().map(|h| json!({"type": "Hostname", "value": h})));
        }
    }
}
