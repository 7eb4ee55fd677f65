//! ClientTrafficPolicy: its targets (Gateways and their listeners) resolved the way Envoy
//! Gateway resolves them, its precedence (a listener's policy beats its Gateway's; between two
//! policies on one target the older wins, the other is `Conflicted`) and its status per
//! ancestor. The effect is the [`ClientSettings`] of each listener, which the IR reads.

use super::ResolvedGateway;
use super::policy::{self, TargetRef};
use super::status::{AncestorRef, Condition, Problem, Recorder, Site, Target};
use crate::api::{Kind, Resources};
use crate::diag::Code;
use crate::id::ObjectKey;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

pub(crate) mod settings;
pub use settings::*;
use settings::{Failed, settings};

struct Policy<'a> {
    key: ObjectKey,
    loc: &'a crate::source::Locator,
    targets: Vec<TargetRef>,
    settings: Result<Arc<ClientSettings>, Failed>,
}

/// Set a condition on the ancestor, reporting the problem once.
fn problem(rec: &mut Recorder, p: &Policy, a: &AncestorRef, pr: Problem) {
    policy::report_for_ancestors(rec, Site { object: &p.key, loc: p.loc }, std::slice::from_ref(a), pr);
}

/// The other plain-HTTP listeners of the Gateway on listener `li`'s port (they share its
/// connection manager), as Envoy Gateway names them.
fn sharing_port(g: &ResolvedGateway, li: usize) -> Vec<String> {
    let l = &g.listeners[li];
    if l.protocol != super::Protocol::Http {
        return Vec::new();
    }
    g.listeners
        .iter()
        .enumerate()
        .filter(|(j, o)| *j != li && o.protocol == super::Protocol::Http && o.port == l.port)
        .map(|(_, o)| format!("{}/{}/{}", o.id.parent.namespace, o.id.parent.name, o.id.section))
        .collect()
}

/// Resolve every ClientTrafficPolicy (in canonical order: oldest first): those on a listener
/// first, then those on a whole Gateway, as Envoy Gateway does; each listener gets the
/// settings of the policy that holds it.
pub fn resolve_all(res: &Resources, gateways: &mut [ResolvedGateway], index: &super::backend::Index, controller: &str, rec: &mut Recorder) {
    if res.client_traffic_policies.is_empty() {
        return;
    }
    let policies: Vec<Policy> = res
        .client_traffic_policies
        .iter()
        .map(|item| {
            let key = ObjectKey::of(Kind::ClientTrafficPolicy, &item.obj.metadata);
            let st = rec.status.policies.entry(key.clone()).or_default();
            (st.generation, st.controller_name) = (item.obj.metadata.generation, controller.to_string());
            let targets = policy::targets(item.obj.spec.targets(), item.obj.metadata.ns(), res).into_iter().filter(|t| policy::on_listeners(t.kind)).collect();
            Policy { key, loc: &item.loc, targets, settings: settings(&item.obj.spec, item.obj.metadata.ns(), index).map(Arc::new) }
        })
        .collect();
    // What each Gateway's policies hold: listeners, and whole Gateways or ListenerSets.
    let mut held: HashMap<usize, Held> = HashMap::new();
    // One listener first, then whole ListenerSets, then whole Gateways.
    let pass = |t: &TargetRef| match (&t.section, t.kind) {
        (Some(_), _) => 0,
        (None, Kind::ListenerSet) => 1,
        (None, _) => 2,
    };
    for n in 0..3 {
        for p in &policies {
            for t in p.targets.iter().filter(|t| pass(t) == n) {
                let Some((gi, owner)) = super::gateway_of(gateways, t.kind, &p.key.namespace, &t.name) else { continue };
                target(p, t, (gi, &owner), gateways, held.entry(gi).or_default(), rec);
            }
        }
    }
}

/// What a Gateway's ClientTrafficPolicies hold so far.
#[derive(Default)]
struct Held {
    listeners: BTreeSet<usize>,
    owners: BTreeSet<ObjectKey>,
}

fn target(p: &Policy, t: &TargetRef, (gi, owner): (usize, &ObjectKey), gateways: &mut [ResolvedGateway], held: &mut Held, rec: &mut Recorder) {
    let g = &gateways[gi];
    let a = AncestorRef { gateway: owner.clone(), section: t.section.clone() };
    rec.status.policies.entry(p.key.clone()).or_default().ancestor(&a);
    let conflict = |what: &str| Problem::new(Code::ConflictPolicy, format!("Unable to target {what}, another ClientTrafficPolicy has already attached to it"), t.pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Conflicted");
    let listeners: Vec<usize> = match &t.section {
        Some(s) => {
            let Some(li) = g.listener_of(owner, s) else {
                let msg = format!("No section name {s} found for {}/{}", owner.namespace, owner.name);
                problem(rec, p, &a, Problem::new(Code::ReferencePolicyTarget, msg, format!("{}/sectionName", t.pointer)).sets(Target::Policy(p.key.clone()), "Accepted", false, "Invalid"));
                return;
            };
            if !held.listeners.insert(li) {
                problem(rec, p, &a, conflict("section"));
                return;
            }
            let others = sharing_port(g, li);
            if !others.is_empty() {
                let msg = format!("ClientTrafficPolicy is being applied to multiple http (non https) listeners ({}) on the same port, which is not allowed", others.join(", "));
                problem(rec, p, &a, Problem::new(Code::PolicyInvalid, msg, t.pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Invalid"));
                return;
            }
            vec![li]
        }
        None => {
            if !held.owners.insert(owner.clone()) {
                problem(rec, p, &a, conflict(owner.kind.name()));
                return;
            }
            let all = g.listeners_of(owner);
            let mut sections: Vec<String> = all.iter().filter(|li| held.listeners.contains(li)).map(|li| g.listeners[*li].id.section.clone()).collect();
            sections.sort();
            if !sections.is_empty() {
                let msg = format!("There are existing ClientTrafficPolicies that are overriding these sections [{}]", sections.join(" "));
                rec.condition(Target::PolicyAncestor(p.key.clone(), a.clone()), Condition::new("Overridden", true, "Overridden", msg));
            }
            // The listeners a more specific policy holds keep it.
            let free: Vec<usize> = all.into_iter().filter(|li| !held.listeners.contains(li)).collect();
            held.listeners.extend(free.iter().copied());
            free
        }
    };
    match &p.settings {
        Ok(s) => {
            // UDP listeners take none of a policy's settings (Envoy Gateway ignores the policy
            // there); gatewayc refuses what would otherwise be dropped.
            let udp = listeners.iter().any(|li| gateways[gi].listeners[*li].protocol.is_udp());
            let connection = s.connection_limit.is_some() || s.buffer_limit.is_some() || s.max_accept_per_socket_event.is_some();
            for (set, field, what) in [(connection, "connection", "connection settings"), (s.proxy_protocol.is_some(), "proxyProtocol", "PROXY protocol"), (s.keepalive.is_some(), "tcpKeepalive", "TCP keepalive"), (s.tcp_idle_timeout_ms.is_some(), "timeout/tcp", "TCP timeouts")] {
                if udp && set {
                    let msg = format!("ClientTrafficPolicy {what} on UDP listeners are not supported");
                    rec.report(Site { object: &p.key, loc: p.loc }, Problem::new(Code::UnsupportedField, msg, format!("/spec/{field}")).help(crate::validate::UNSUPPORTED_HELP));
                }
            }
            let wants_host = s.http1.as_ref().is_some_and(|h| h.http10_listener_host);
            for li in listeners {
                let l = &mut gateways[gi].listeners[li];
                if !wants_host {
                    l.client = Some(s.clone());
                    continue;
                }
                // HTTP/1.0's default host is the listener's hostname; Envoy Gateway's fallback to
                // a single route's hostname is not implemented: refused, never guessed.
                match l.hostname.clone().filter(|h| !h.contains('*')) {
                    Some(host) => {
                        let mut own = (**s).clone();
                        own.http1 = own.http1.map(|h| Http1 { http10: Some(Some(host)), ..h });
                        l.client = Some(Arc::new(own));
                    }
                    None => {
                        let msg = format!("ClientTrafficPolicy http1.http10.useDefaultHost on listener {} without a non-wildcard hostname is not supported yet", l.id.section);
                        rec.report(Site { object: &p.key, loc: p.loc }, Problem::new(Code::UnsupportedField, msg, "/spec/http1/http10/useDefaultHost").help(crate::validate::UNSUPPORTED_HELP));
                    }
                }
            }
        }
        Err((msg, pointer)) => {
            for li in listeners {
                gateways[gi].listeners[li].client_failed = true;
            }
            problem(rec, p, &a, Problem::new(Code::PolicyInvalid, msg.clone(), pointer.clone()).sets(Target::Policy(p.key.clone()), "Accepted", false, "Invalid"));
        }
    }
}

/// The TLS a listener speaks with its clients: its policy's, else Envoy Gateway's defaults.
pub fn listener_tls(l: &super::ResolvedListener) -> Arc<DownstreamTls> {
    l.client.as_ref().and_then(|c| c.tls.clone()).unwrap_or_default()
}

/// The client validation a terminating listener enforces: its policy's, else the Gateway's.
pub fn listener_validation(l: &super::ResolvedListener) -> Option<Arc<super::tls::ClientValidation>> {
    l.client.as_ref().and_then(|c| c.client_validation.clone()).or_else(|| l.client_validation.clone())
}
