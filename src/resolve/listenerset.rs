//! ListenerSets: which attach to our Gateways (the Gateway's `spec.allowedListeners`), their
//! listeners folded into the Gateway's after its own (oldest ListenerSet first, then
//! namespace/name: the canonical order), and their status as Envoy Gateway writes it.
//!
//! A ListenerSet's listeners are `ResolvedListener`s whose `id.parent` is the ListenerSet:
//! their status is the ListenerSet's `status.listeners` (kept in the status table beside the
//! Gateways'), routes reach them only through parentRefs of kind ListenerSet.

use super::backend::Index;
use super::listener::{self, Declarer};
use super::status::{Condition, GatewayStatus, Problem, Recorder, Site, Target};
use super::ResolvedGateway;
use crate::api::gateway::{FromListenerNamespaces, Listener};
use crate::api::{GATEWAY_GROUP, Kind, Resources};
use crate::diag::Code;
use crate::id::ObjectKey;

/// Attach every ListenerSet whose parent is one of our Gateways. One whose parent is not ours
/// (or not in the input) is not ours to judge: no status.
pub fn attach_all(res: &Resources, gateways: &mut [ResolvedGateway], index: &Index, rec: &mut Recorder) {
    for item in &res.listener_sets {
        let s = &item.obj;
        let p = &s.spec.parent_ref;
        if p.group != GATEWAY_GROUP || p.kind != "Gateway" {
            continue;
        }
        let gns = p.namespace.as_deref().unwrap_or(s.metadata.ns());
        let Some(gi) = gateways.iter().position(|g| g.key.namespace == gns && g.key.name == p.name) else { continue };
        let Some(gw) = res.gateways.iter().find(|g| g.obj.metadata.ns() == gns && g.obj.metadata.name == p.name) else { continue };
        let key = ObjectKey::of(Kind::ListenerSet, &s.metadata);
        rec.status.gateways.insert(key.clone(), GatewayStatus { generation: s.metadata.generation, ..Default::default() });
        let site = Site { object: &key, loc: &item.loc };
        let target = || Target::Gateway(key.clone());
        let g = &gateways[gi];
        let refused = if !g.accepted {
            Some(("ParentNotAccepted", "Programmed", format!("Parent Gateway {gns}/{} not accepted", p.name)))
        } else if !allowed(&gw.obj, s.metadata.ns(), index) {
            Some(("NotAllowed", "NotAllowed", format!("ListenerSet attachment from namespace {} not allowed by Gateway {gns}/{}", s.metadata.ns(), p.name)))
        } else {
            None
        };
        if let Some((reason, programmed_reason, msg)) = refused {
            rec.report(site, Problem::new(Code::ReferenceListenerSet, msg, "/spec/parentRef").sets(target(), "Accepted", false, reason));
            rec.condition(target(), Condition::new("Programmed", false, programmed_reason, "Not Programmed"));
            continue;
        }
        let earlier: Vec<&Listener> = own_listeners(res, g);
        let gw_site = Site { object: &g.key, loc: &gw.loc };
        let d = Declarer { key: &key, loc: &item.loc, listeners: &s.spec.listeners, gateway: &gw.obj, gateway_site: gw_site };
        let resolved = listener::resolve_set(&d, &earlier, index, rec);
        let g = &mut gateways[gi];
        let first = g.listeners.len();
        g.listeners.extend(resolved);
        listener::overlapping_tls_with_earlier(&mut g.listeners, first, site, rec);
        g.listener_sets.push(key);
    }
}

/// The API listeners already on Gateway `g`: its own, then those of its attached ListenerSets.
fn own_listeners<'a>(res: &'a Resources, g: &ResolvedGateway) -> Vec<&'a Listener> {
    let mut out: Vec<&Listener> = res.gateways.iter().filter(|x| x.obj.metadata.ns() == g.key.namespace && x.obj.metadata.name == g.key.name).flat_map(|x| &x.obj.spec.listeners).collect();
    for k in &g.listener_sets {
        out.extend(res.listener_sets.iter().filter(|x| x.obj.metadata.ns() == k.namespace && x.obj.metadata.name == k.name).flat_map(|x| &x.obj.spec.listeners));
    }
    out
}

/// Does the Gateway's `spec.allowedListeners` admit ListenerSets of namespace `ns`? None
/// when absent, as the spec defaults it.
fn allowed(g: &crate::api::Gateway, ns: &str, index: &Index) -> bool {
    let Some(a) = &g.spec.allowed_listeners else { return false };
    match a.namespaces.from {
        FromListenerNamespaces::All => true,
        FromListenerNamespaces::Same => g.metadata.ns() == ns,
        FromListenerNamespaces::Selector => a.namespaces.selector.as_ref().is_some_and(|s| s.matches(&index.namespace_labels(ns))),
        FromListenerNamespaces::None => false,
    }
}

/// The Accepted and Programmed conditions of each attached ListenerSet of `g`, from its
/// listeners, in Envoy Gateway's words.
pub fn finish(g: &ResolvedGateway, rec: &mut Recorder) {
    for key in &g.listener_sets {
        let mine: Vec<_> = g.listeners.iter().filter(|l| &l.id.parent == key).collect();
        let accepted = |l: &&super::ResolvedListener| {
            let st = rec.status.gateways.get(key).and_then(|s| s.listeners.iter().find(|x| x.name == l.id.section));
            st.is_none_or(|s| !s.conditions.iter().any(|c| c.type_ == "Accepted" && !c.status))
        };
        let (n_accepted, n_programmed) = (mine.iter().filter(|l| accepted(l)).count(), mine.iter().filter(|l| l.programmed).count());
        let all = mine.len();
        let a = match n_accepted {
            n if n == all => Condition::new("Accepted", true, "Accepted", "All listeners are accepted"),
            0 => Condition::new("Accepted", false, "ListenersNotValid", "No listeners are accepted"),
            _ => Condition::new("Accepted", true, "ListenersNotValid", "Some listeners are invalid"),
        };
        let p = match n_programmed {
            n if n == all => Condition::new("Programmed", true, "Programmed", "All listeners are programmed"),
            0 => Condition::new("Programmed", false, "ListenersNotValid", "No listeners are programmed"),
            _ => Condition::new("Programmed", true, "Programmed", "Some listeners are not programmed"),
        };
        rec.condition(Target::Gateway(key.clone()), a);
        rec.condition(Target::Gateway(key.clone()), p);
    }
}
