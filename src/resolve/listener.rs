//! Listeners: one [`ResolvedListener`] shape for every protocol, whatever declares it (a
//! Gateway now, a ListenerSet later), with its conditions written through the recorder.

use super::backend::Index;
use super::status::{Condition, ListenerStatus, Problem, Recorder, RouteGroupKind, Site, Target};
use super::tls::Certificate;
use crate::api::gateway::{FromNamespaces, Listener, TlsMode};
use crate::api::meta::LabelSelector;
use crate::api::{GATEWAY_GROUP, Gateway, Item, Kind};
use crate::diag::Code;
use crate::id::{ListenerId, ObjectKey};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What a listener speaks, explicitly (never guessed from whether it has certificates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Http,
    Https,
    TlsPassthrough,
    TlsTerminate,
    Tcp,
    Udp,
}

impl Protocol {
    fn of(l: &Listener) -> Option<Protocol> {
        let terminate = l.tls.as_ref().is_none_or(|t| t.mode == TlsMode::Terminate);
        Some(match l.protocol.as_str() {
            "HTTP" => Protocol::Http,
            "HTTPS" => Protocol::Https,
            "TLS" if terminate => Protocol::TlsTerminate,
            "TLS" => Protocol::TlsPassthrough,
            "TCP" => Protocol::Tcp,
            "UDP" => Protocol::Udp,
            _ => return None,
        })
    }
    /// Route kinds a listener of this protocol serves; `None` for protocols gatewayc does not
    /// implement yet.
    pub fn route_kinds(self) -> Option<&'static [Kind]> {
        match self {
            Protocol::Http | Protocol::Https => Some(&[Kind::HTTPRoute]),
            Protocol::TlsPassthrough | Protocol::TlsTerminate | Protocol::Tcp | Protocol::Udp => None,
        }
    }
    /// Does this protocol terminate TLS with the listener's certificates?
    pub fn terminates_tls(self) -> bool {
        matches!(self, Protocol::Https | Protocol::TlsTerminate)
    }
}

/// Which namespaces' routes a listener admits.
#[derive(Debug, Clone)]
pub enum AllowedNamespaces {
    All,
    Same,
    Selector(LabelSelector),
}

/// A listener after validation.
#[derive(Debug, Clone)]
pub struct ResolvedListener {
    pub id: ListenerId,
    pub protocol: Protocol,
    pub port: u32,
    pub hostname: Option<String>,
    /// The valid certificates, for protocols that terminate TLS.
    pub certificates: Vec<Arc<Certificate>>,
    /// Route kinds that may attach (allowedRoutes.kinds within what the protocol serves).
    pub kinds: Vec<Kind>,
    pub namespaces: AllowedNamespaces,
    /// Programmed into Envoy: valid, not conflicted.
    pub programmed: bool,
}

impl ResolvedListener {
    pub fn is_https(&self) -> bool {
        self.protocol == Protocol::Https
    }
}

/// The listeners of one Gateway, each with its status.
pub fn resolve_all(gw: &Item<Gateway>, key: &ObjectKey, index: &Index, rec: &mut Recorder) -> Vec<ResolvedListener> {
    let g = &gw.obj;
    let site = Site { object: key, loc: &gw.loc };
    // Conflicts among listeners sharing a port (as Envoy Gateway groups them).
    let mut families: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
    let mut hostnames: BTreeMap<(u32, &str), usize> = BTreeMap::new();
    for l in &g.spec.listeners {
        let family = match l.protocol.as_str() {
            "HTTPS" | "TLS" => "https/tls",
            p => p,
        };
        if family != "UDP" {
            families.entry(l.port).or_default().insert(family);
        }
        *hostnames.entry((l.port, l.hostname.as_deref().unwrap_or(""))).or_default() += 1;
    }
    let mut out = Vec::new();
    for (i, l) in g.spec.listeners.iter().enumerate() {
        let id = ListenerId { parent: key.clone(), section: l.name.clone() };
        let target = || Target::Listener(id.clone());
        let at = |f: &str| format!("/spec/listeners/{i}{f}");
        let protocol = Protocol::of(l);
        let supported = protocol.and_then(Protocol::route_kinds);
        let mut kinds = Vec::new();
        let mut status_kinds = Vec::new();
        if let Some(supported) = supported {
            if l.allowed_routes.kinds.is_empty() {
                kinds.extend_from_slice(supported);
            }
            let mut invalid = false;
            for k in &l.allowed_routes.kinds {
                match supported.iter().find(|s| k.group == GATEWAY_GROUP && s.name() == k.kind) {
                    Some(s) if !kinds.contains(s) => kinds.push(*s),
                    Some(_) => {}
                    None => invalid = true,
                }
            }
            status_kinds = kinds.iter().map(|k| RouteGroupKind { group: k.group().into(), kind: k.name().into() }).collect();
            rec.status.gateways.entry(key.clone()).or_default().listeners.push(ListenerStatus {
                name: l.name.clone(),
                supported_kinds: status_kinds.clone(),
                attached_routes: 0,
                conditions: Vec::new(),
            });
            if invalid {
                rec.report(
                    site,
                    Problem::new(Code::ReferenceRouteKinds, "Route kinds in allowedRoutes.kinds are not supported for this listener's protocol", at("/allowedRoutes/kinds"))
                        .context(format!("listener `{}`", l.name))
                        .sets(target(), "ResolvedRefs", false, "InvalidRouteKinds"),
                );
            }
        } else {
            rec.status.gateways.entry(key.clone()).or_default().listeners.push(ListenerStatus {
                name: l.name.clone(),
                supported_kinds: status_kinds,
                attached_routes: 0,
                conditions: Vec::new(),
            });
            rec.report(
                site,
                Problem::new(Code::UnsupportedProtocol, format!("Protocol {} is not supported by gatewayc yet", l.protocol), at("/protocol"))
                    .context(format!("listener `{}`, not programmed", l.name))
                    .sets(target(), "Accepted", false, "UnsupportedProtocol"),
            );
        }
        // Certificates: the listener works with the valid ones; with none it is not programmed.
        let mut certificates = Vec::new();
        if protocol.is_some_and(Protocol::terminates_tls) && supported.is_some()
            && let Some(t) = &l.tls
        {
            let (certs, problem) = super::tls::listener_certificates(index, g.metadata.ns(), &t.certificate_refs);
            if let Some(p) = problem {
                rec.report(
                    site,
                    Problem::new(Code::ReferenceCertificate, p.message, at("/tls/certificateRefs"))
                        .context(format!("listener `{}`", l.name))
                        .sets(target(), "ResolvedRefs", false, p.reason),
                );
            }
            if certs.is_empty() {
                rec.condition(target(), Condition::new("Programmed", false, "Invalid", "Listener is invalid, see other Conditions for details."));
            }
            certificates = certs;
        }
        let conflict = if families.get(&l.port).is_some_and(|p| p.len() > 1) {
            Some(("ProtocolConflict", "All listeners for a given port must use a compatible protocol"))
        } else if hostnames.get(&(l.port, l.hostname.as_deref().unwrap_or(""))).is_some_and(|n| *n > 1) {
            Some(("HostnameConflict", "All listeners for a given port must use a unique hostname"))
        } else {
            None
        };
        if let Some((reason, msg)) = conflict {
            rec.report(
                site,
                Problem::new(Code::ConflictListener, msg, at(""))
                    .context(format!("listener `{}`, not programmed", l.name))
                    .sets(target(), "Conflicted", true, reason),
            );
        }
        let programmed = rec.listener_ok(&id);
        out.push(ResolvedListener {
            id,
            protocol: protocol.unwrap_or(Protocol::Http),
            port: l.port,
            hostname: l.hostname.clone(),
            certificates,
            kinds,
            namespaces: match l.allowed_routes.namespaces.from {
                FromNamespaces::All => AllowedNamespaces::All,
                FromNamespaces::Same => AllowedNamespaces::Same,
                FromNamespaces::Selector => AllowedNamespaces::Selector(l.allowed_routes.namespaces.selector.clone().unwrap_or_default()),
            },
            programmed,
        });
    }
    out
}
