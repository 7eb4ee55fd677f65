//! TCPRoute, UDPRoute and TLSRoute: backends resolved once per route, attachment through
//! `attach`, and the rules Envoy Gateway applies when routes share a listener.

use super::attach::{self, Parents, RouteView};
use super::backend::{BackendRef, BackendTarget, Index};
use super::status::{Problem, Recorder, Site, Target};
use super::{Options, ResolvedGateway};
use crate::api::core::PortProtocol;
use crate::api::httproute::ParentReference;
use crate::api::l4route::L4Rule;
use crate::api::{Kind, Resources};
use crate::diag::Code;
use crate::id::ObjectKey;
use crate::source::Locator;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What a TCPRoute, UDPRoute or TLSRoute forwards to.
#[derive(Debug)]
pub struct StreamRoute {
    pub key: ObjectKey,
    pub loc: Locator,
    /// Valid backends with a weight above 0; empty: connections are refused.
    pub backends: Vec<(Arc<BackendTarget>, u32)>,
}

/// A stream route accepted by a Gateway: on which listeners, with which SNI hostnames (TLS).
#[derive(Debug)]
pub struct AttachedStream {
    pub route: Arc<StreamRoute>,
    pub kind: Kind,
    /// Position in canonical order within its kind (oldest first): who wins a listener.
    pub order: usize,
    pub listeners: Vec<(usize, Vec<String>)>,
}

struct Input<'a> {
    kind: Kind,
    key: ObjectKey,
    loc: &'a Locator,
    parent_refs: &'a [ParentReference],
    hostnames: &'a [String],
    rules: &'a [L4Rule],
    generation: Option<i64>,
}

/// Resolve and attach every TLSRoute, TCPRoute and UDPRoute.
pub fn resolve_all(
    res: &Resources,
    parents: &Parents,
    gateways: &mut [ResolvedGateway],
    index: &Index,
    opts: &Options,
    rec: &mut Recorder,
) {
    let none: &[String] = &[];
    macro_rules! inputs {
        ($list:ident, $kind:ident, |$i:ident| $hostnames:expr) => {
            res.$list.iter().map(|$i| Input {
                kind: Kind::$kind,
                key: ObjectKey::of(Kind::$kind, &$i.obj.metadata),
                loc: &$i.loc,
                parent_refs: &$i.obj.spec.parent_refs,
                hostnames: $hostnames,
                rules: &$i.obj.spec.rules,
                generation: $i.obj.metadata.generation,
            })
        };
    }
    let tls = inputs!(tls_routes, TLSRoute, |i| &i.obj.spec.hostnames);
    let tcp = inputs!(tcp_routes, TCPRoute, |i| none);
    let udp = inputs!(udp_routes, UDPRoute, |i| none);
    // (gateway, listener) → the UDPRoute that holds it.
    let mut udp_taken: BTreeSet<(usize, usize)> = BTreeSet::new();
    // `order` counts within each kind: routes of one kind compete by age (on a TLS Terminate
    // listener TLSRoutes come before any TCPRoute).
    for (order, r) in tls.enumerate().chain(tcp.enumerate()).chain(udp.enumerate()) {
        let view = RouteView { key: &r.key, loc: r.loc, parent_refs: r.parent_refs, hostnames: r.hostnames, generation: r.generation };
        if !parents.any_ours(&view) {
            attach::report_missing_parents(&view, parents, rec);
            continue;
        }
        let (route, valid) = resolve_one(&r, index, rec);
        let route = Arc::new(route);
        for a in attach::attach(&view, r.kind, parents, gateways, index, opts, rec) {
            let (gi, mut listeners) = (a.gateway, a.listeners);
            if !valid {
                continue;
            }
            if r.kind == Kind::UDPRoute {
                listeners.retain(|(li, _)| udp_taken.insert((gi, *li)));
                if listeners.is_empty() {
                    let problem = Problem::new(Code::ConflictRoute, "Multiple routes on the same UDP listener", format!("/spec/parentRefs/{}", a.parent_ref))
                        .context(format!("an older UDPRoute holds the listener of {}", gateways[gi].key))
                        .sets(Target::RouteParent(r.key.clone(), a.status_parent), "Accepted", false, "UnsupportedValue");
                    rec.report(Site { object: &r.key, loc: r.loc }, problem);
                    continue;
                }
            }
            gateways[gi].streams.push(AttachedStream { route: route.clone(), kind: r.kind, order, listeners });
        }
    }
    for g in gateways.iter_mut() {
        shadowed(g, rec);
    }
}

/// The route's backends. TCPRoute and UDPRoute serve exactly one rule (v1alpha2 allows more:
/// `Accepted=False InvalidRule`, as Envoy Gateway); TLSRoute rules all add their backends.
fn resolve_one(r: &Input, index: &Index, rec: &mut Recorder) -> (StreamRoute, bool) {
    let site = Site {
        object: &r.key,
        loc: r.loc,
    };
    let route = |backends| StreamRoute {
        key: r.key.clone(),
        loc: r.loc.clone(),
        backends,
    };
    if r.kind != Kind::TLSRoute && r.rules.len() != 1 {
        rec.report(
            site,
            Problem::new(
                Code::RouteInvalidRule,
                "One and only one rule is supported",
                "/spec/rules",
            )
            .sets(
                Target::Route(r.key.clone()),
                "Accepted",
                false,
                "InvalidRule",
            ),
        );
        return (route(Vec::new()), false);
    }
    let protocol = if r.kind == Kind::UDPRoute {
        PortProtocol::Udp
    } else {
        PortProtocol::Tcp
    };
    let mut backends = Vec::new();
    for (ri, rule) in r.rules.iter().enumerate() {
        for (bi, b) in rule.backend_refs.iter().enumerate() {
            let to = BackendRef {
                group: &b.group,
                kind: &b.kind,
                name: &b.name,
                namespace: b.namespace.as_deref(),
                port: b.port,
            };
            let resolved = index.target((r.kind, r.key.namespace.as_str()), to, protocol);
            if let Ok(t) = &resolved {
                super::backendtls::uses(index, &r.key, t, rec);
            }
            match resolved {
                // A BackendTLSPolicy without a valid CA: not reached (the policy says why).
                Ok(t) if matches!(t.tls, Some(super::backendtls::BackendTls::Refused(_))) => {}
                Ok(t) if b.weight > 0 => backends.push((t, b.weight)),
                Ok(_) => {}
                Err(u) => rec.report(
                    site,
                    Problem::new(
                        u.code,
                        u.message,
                        format!("/spec/rules/{ri}/backendRefs/{bi}"),
                    )
                    .sets(
                        Target::Route(r.key.clone()),
                        "ResolvedRefs",
                        false,
                        u.reason,
                    ),
                ),
            }
        }
    }
    // Fallback Backends that cannot share one cluster: nothing is forwarded rather than a
    // fallback taking a primary's share.
    if !super::httproute::fallback_ok(site, backends.iter().map(|(t, _)| (&**t, false)), "/spec/rules".into(), rec) {
        return (route(Vec::new()), true);
    }
    (route(backends), true)
}

/// Who gets a listener's connections when several routes claim them: the oldest TCPRoute
/// (the others stay Accepted and carry nothing), and per SNI hostname the oldest TLSRoute
/// (a hostname an older route claims is dropped from the younger one). Advice for each.
fn shadowed(g: &mut ResolvedGateway, rec: &mut Recorder) {
    let mut tcp_holder: BTreeMap<usize, (usize, ObjectKey)> = BTreeMap::new();
    let mut sni: BTreeMap<(usize, String), ObjectKey> = BTreeMap::new();
    let mut notes = Vec::new();
    let mut order: Vec<usize> = (0..g.streams.len()).collect();
    order.sort_by_key(|&i| (g.streams[i].kind != Kind::TLSRoute, g.streams[i].order));
    for i in order {
        let s = &mut g.streams[i];
        for (li, hosts) in &mut s.listeners {
            match s.kind {
                // A TCPRoute takes the whole listener (on a TLS terminate listener: its
                // hostname), unless an older TCPRoute or a TLSRoute has it. `hosts` emptied:
                // the route carries nothing there.
                Kind::TCPRoute => {
                    let section = &g.listeners[*li].id.section;
                    if let Some((_, holder)) = tcp_holder.get(li) {
                        notes.push((s.route.clone(), format!("the older {holder} carries the connections of listener `{section}`")));
                        hosts.clear();
                    } else if let Some(holder) =
                        hosts.iter().find_map(|h| sni.get(&(*li, h.clone())))
                    {
                        notes.push((s.route.clone(), format!("{holder} carries the connections of listener `{section}` for its hostname")));
                        hosts.clear();
                    } else {
                        tcp_holder.insert(*li, (i, s.route.key.clone()));
                    }
                }
                Kind::TLSRoute => hosts.retain(|h| match sni.get(&(*li, h.clone())) {
                    Some(holder) => {
                        notes.push((
                            s.route.clone(),
                            format!(
                                "hostname {h} on listener `{}` goes to the older {holder}",
                                g.listeners[*li].id.section
                            ),
                        ));
                        false
                    }
                    None => {
                        sni.insert((*li, h.clone()), s.route.key.clone());
                        true
                    }
                }),
                _ => {}
            }
        }
    }
    for (route, msg) in notes {
        rec.report(
            Site {
                object: &route.key,
                loc: &route.loc,
            },
            Problem::new(Code::ConflictRouteShadowed, msg, "/spec/parentRefs"),
        );
    }
}
