//! EnvoyProxy: which fields gatewayc reads; everything else is named as unsupported.

use super::Ctx;
use crate::api::EnvoyProxy;
use std::collections::BTreeMap;

fn others(map: &BTreeMap<String, serde_json::Value>, at: &str, ctx: &mut Ctx) {
    for k in map.keys() {
        ctx.unsupported(format!("{at}/{}", crate::source::escape_pointer(k)), &format!("EnvoyProxy {}.{k}", at.trim_start_matches('/').replace('/', ".")));
    }
}

pub fn check(e: &EnvoyProxy, ctx: &mut Ctx) {
    let s = &e.spec;
    others(&s.other, "/spec", ctx);
    let Some(p) = &s.provider else { return };
    others(&p.other, "/spec/provider", ctx);
    if p.type_ != "Kubernetes" {
        ctx.unsupported("/spec/provider/type", "EnvoyProxy provider types other than Kubernetes");
    }
    let Some(k) = &p.kubernetes else { return };
    others(&k.other, "/spec/provider/kubernetes", ctx);
    if let Some(d) = &k.envoy_deployment {
        others(&d.other, "/spec/provider/kubernetes/envoyDeployment", ctx);
        if let Some(c) = &d.container {
            others(&c.other, "/spec/provider/kubernetes/envoyDeployment/container", ctx);
        }
    }
    if let Some(svc) = &k.envoy_service {
        others(&svc.other, "/spec/provider/kubernetes/envoyService", ctx);
    }
}
