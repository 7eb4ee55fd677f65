//! Listeners: one [`ResolvedListener`] shape for every protocol, whatever declares it (a
//! Gateway, or a ListenerSet attached to one: [`Declarer`]), with its conditions written
//! through the recorder.

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
    /// Route kinds a listener of this protocol serves, as Envoy Gateway lists them (a TLS
    /// terminate listener also serves TCPRoutes, forwarding the decrypted stream).
    pub fn route_kinds(self) -> Option<&'static [Kind]> {
        Some(match self {
            Protocol::Http | Protocol::Https => &[Kind::HTTPRoute, Kind::GRPCRoute],
            Protocol::TlsPassthrough => &[Kind::TLSRoute],
            Protocol::TlsTerminate => &[Kind::TCPRoute, Kind::TLSRoute],
            Protocol::Tcp => &[Kind::TCPRoute],
            Protocol::Udp => &[Kind::UDPRoute],
        })
    }
    /// Carried over UDP (its own Envoy listener, which may share a port number with a TCP one).
    pub fn is_udp(self) -> bool {
        self == Protocol::Udp
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
    /// Its hostname or certificates overlap another HTTPS listener's on the port: ALPN offers
    /// HTTP/1.1 only, so that HTTP/2 connection coalescing cannot reach the wrong listener.
    pub tls_overlaps: bool,
    /// Client certificates it asks for and verifies (`spec.tls.frontend`), if TLS ends here.
    pub client_validation: Option<Arc<super::tls::ClientValidation>>,
    /// How Envoy treats its clients (a ClientTrafficPolicy's settings).
    pub client: Option<Arc<super::ctp::ClientSettings>>,
    /// A ClientTrafficPolicy on this listener could not be translated: as Envoy Gateway, its
    /// routes answer 500 and its TCP and TLS routes carry nothing (never the listener as if
    /// the policy were not there).
    pub client_failed: bool,
}

impl ResolvedListener {
    pub fn is_https(&self) -> bool {
        self.protocol == Protocol::Https
    }
}

/// What declares listeners: a Gateway, or a ListenerSet attached to one (its `key`; its
/// namespace holds the certificates, ReferenceGrants name its kind).
pub struct Declarer<'a> {
    pub key: &'a ObjectKey,
    pub loc: &'a crate::source::Locator,
    pub listeners: &'a [Listener],
    /// The Gateway: its `spec.tls.frontend` applies to every listener on its ports.
    pub gateway: &'a Gateway,
    pub gateway_site: Site<'a>,
}

/// The listeners of one Gateway, each with its status.
pub fn resolve_all(gw: &Item<Box<Gateway>>, key: &ObjectKey, index: &Index, rec: &mut Recorder) -> Vec<ResolvedListener> {
    let site = Site { object: key, loc: &gw.loc };
    let d = Declarer { key, loc: &gw.loc, listeners: &gw.obj.spec.listeners, gateway: &gw.obj, gateway_site: site };
    let out = resolve_declared(&d, conflicts(&gw.obj.spec.listeners.iter().collect::<Vec<_>>()), index, rec);
    super::frontend::insecure_fallback(&gw.obj, key, site, rec);
    out
}

/// The listeners of a ListenerSet attached to a Gateway, judged with the listeners that
/// precede them (`earlier`: the Gateway's own, then older ListenerSets'): a conflict makes the
/// ListenerSet's listener Conflicted, never the earlier one (whose verdict was given).
pub fn resolve_set(d: &Declarer, earlier: &[&Listener], index: &Index, rec: &mut Recorder) -> Vec<ResolvedListener> {
    let all: Vec<&Listener> = earlier.iter().copied().chain(d.listeners).collect();
    let theirs = conflicts(&all).split_off(earlier.len());
    resolve_declared(d, theirs, index, rec)
}

/// Each listener of `d`, with `conflicts[i]` the conflict of its `i`th listener.
fn resolve_declared(d: &Declarer, conflicts: Vec<Option<(&'static str, String)>>, index: &Index, rec: &mut Recorder) -> Vec<ResolvedListener> {
    let (g, key) = (d.gateway, d.key);
    let site = Site { object: key, loc: d.loc };
    let mut out = Vec::new();
    for (i, l) in d.listeners.iter().enumerate() {
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
                Problem::new(Code::UnsupportedProtocol, format!("Protocol {} is unsupported, must be HTTP, HTTPS, TCP or UDP.", l.protocol), at("/protocol"))
                    .context(format!("listener `{}`, not programmed", l.name))
                    .sets(target(), "Accepted", false, "UnsupportedProtocol"),
            );
        }
        // Certificates: the listener works with the valid ones; with none it is not programmed.
        let mut certificates = Vec::new();
        if protocol.is_some_and(Protocol::terminates_tls) && supported.is_some()
            && let Some(t) = &l.tls
        {
            let (certs, problem) = super::tls::listener_certificates(index, key.kind.name(), &key.namespace, &t.certificate_refs);
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
        let client_validation = if protocol.is_some_and(Protocol::terminates_tls) && supported.is_some() {
            super::frontend::listener(g, l, &id, index, d.gateway_site, rec)
        } else {
            None
        };
        let conflict = conflicts[i].clone();
        if protocol == Some(Protocol::TlsPassthrough)
            && l.tls
                .as_ref()
                .is_some_and(|t| !t.certificate_refs.is_empty())
        {
            rec.report(
                site,
                Problem::new(
                    Code::ListenerInvalid,
                    "Listener must not have TLS certificate refs set for TLS mode Passthrough.",
                    at("/tls/certificateRefs"),
                )
                .context(format!("listener `{}`, not programmed", l.name))
                .sets(target(), "Programmed", false, "Invalid"),
            );
        }
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
            tls_overlaps: false,
            client_validation,
            client: None,
            client_failed: false,
        });
    }
    overlapping_tls(&mut out, site, rec);
    out
}

/// Conflicts among listeners sharing a port (as Envoy Gateway groups them), per listener:
/// HTTPS and TLS share by SNI; HTTP, TCP and the TLS family exclude each other; UDP has ports
/// of its own. Hostnames must differ among the SNI and HTTP listeners of a port; only the
/// first TCP (or UDP) listener of a port is kept.
fn conflicts(listeners: &[&Listener]) -> Vec<Option<(&'static str, String)>> {
    let mut families: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
    let mut hostnames: BTreeMap<(u32, &str), usize> = BTreeMap::new();
    let mut first_l4: BTreeMap<(u32, &str), usize> = BTreeMap::new();
    for (i, l) in listeners.iter().enumerate() {
        let family = match l.protocol.as_str() {
            "HTTPS" | "TLS" => "https/tls",
            p => p,
        };
        if family != "UDP" {
            families.entry(l.port).or_default().insert(family);
        }
        if matches!(family, "TCP" | "UDP") {
            first_l4.entry((l.port, family)).or_insert(i);
        } else {
            *hostnames.entry((l.port, l.hostname.as_deref().unwrap_or(""))).or_default() += 1;
        }
    }
    let conflict = |i: usize, l: &&Listener| {
        let l4 = matches!(l.protocol.as_str(), "TCP" | "UDP");
        if families.get(&l.port).is_some_and(|p| p.len() > 1) && l.protocol != "UDP" {
            Some(("ProtocolConflict", "All listeners for a given port must use a compatible protocol".to_string()))
        } else if l4 && first_l4.get(&(l.port, l.protocol.as_str())).is_some_and(|f| *f != i) {
            Some(("ProtocolConflict", format!("Only one {} listener is allowed in a given port", l.protocol)))
        } else if !l4 && hostnames.get(&(l.port, l.hostname.as_deref().unwrap_or(""))).is_some_and(|n| *n > 1) {
            Some(("HostnameConflict", "All listeners for a given port must use a unique hostname".to_string()))
        } else {
            None
        }
    };
    listeners.iter().enumerate().map(|(i, l)| conflict(i, l)).collect()
}

/// Envoy Gateway's OverlappingTLSConfig: HTTPS listeners on one port whose hostnames overlap
/// (OverlappingHostnames), or whose certificates' DNS names do (OverlappingCertificates, which
/// wins). Each listener names the first one it overlaps.
fn overlapping_tls(ls: &mut [ResolvedListener], site: Site, rec: &mut Recorder) {
    let https: Vec<usize> = (0..ls.len()).filter(|&i| ls[i].protocol == Protocol::Https).collect();
    let host = |i: usize| ls[i].hostname.clone().unwrap_or_default();
    let mut found: BTreeMap<usize, (&'static str, String)> = BTreeMap::new();
    for pass in ["OverlappingHostnames", "OverlappingCertificates"] {
        let mut marked: BTreeMap<usize, String> = BTreeMap::new();
        for (x, &i) in https.iter().enumerate() {
            for &j in &https[x + 1..] {
                if ls[i].port != ls[j].port || marked.contains_key(&i) || marked.contains_key(&j) {
                    continue;
                }
                let pair = if pass == "OverlappingHostnames" {
                    overlap(ls[i].hostname.as_deref(), ls[j].hostname.as_deref()).then(|| (host(i), host(j)))
                } else {
                    let names = |k: usize| ls[k].certificates.iter().flat_map(|c| c.dns_names.clone()).collect::<Vec<_>>();
                    let (a, b) = (names(i), names(j));
                    a.iter().find_map(|x| b.iter().find(|y| overlap(Some(x), Some(y))).map(|y| (x.clone(), y.clone())))
                };
                let Some((hi, hj)) = pair else { continue };
                let what = if pass == "OverlappingHostnames" { "hostname" } else { "certificate SAN" };
                let msg = |a: &str, b: &str, other: &str| format!("The {what} {a} overlaps with the {what} {b} in listener {other}. ALPN will default to HTTP/1.1 to prevent HTTP/2 connection coalescing, unless explicitly configured via ClientTrafficPolicy");
                marked.insert(i, msg(&hi, &hj, &ls[j].id.section));
                marked.insert(j, msg(&hj, &hi, &ls[i].id.section));
            }
        }
        for (i, m) in marked {
            found.insert(i, (pass, m));
        }
    }
    for (i, (reason, message)) in found {
        ls[i].tls_overlaps = true;
        // Listeners are in spec order: the index is the listener's place in spec.listeners.
        let at = format!("/spec/listeners/{i}");
        rec.report(site, Problem::new(Code::ConflictOverlappingTls, message, at).context(format!("listener `{}`", ls[i].id.section)).sets(Target::Listener(ls[i].id.clone()), "OverlappingTLSConfig", true, reason));
    }
}

/// Envoy Gateway's OverlappingTLSConfig between a ListenerSet's HTTPS listeners (`new`, from
/// `first`) and the HTTPS listeners before them on the Gateway (the Gateway's own, older
/// ListenerSets'): both are marked (HTTP/1.1 only by ALPN) and get the condition; the
/// diagnostic is the ListenerSet's. Certificates' names overlapping wins over hostnames.
pub fn overlapping_tls_with_earlier(ls: &mut [ResolvedListener], first: usize, site: Site, rec: &mut Recorder) {
    for j in first..ls.len() {
        for i in 0..first {
            let (a, b) = (&ls[i], &ls[j]);
            if a.protocol != Protocol::Https || b.protocol != Protocol::Https || a.port != b.port {
                continue;
            }
            let names = |l: &ResolvedListener| l.certificates.iter().flat_map(|c| c.dns_names.clone()).collect::<Vec<_>>();
            let (na, nb) = (names(a), names(b));
            let certs = nb.iter().find_map(|x| na.iter().find(|y| overlap(Some(x), Some(y))).map(|y| (x.clone(), y.clone())));
            let found = match certs {
                Some(pair) => Some(("OverlappingCertificates", "certificate SAN", pair)),
                None => overlap(a.hostname.as_deref(), b.hostname.as_deref()).then(|| ("OverlappingHostnames", "hostname", (b.hostname.clone().unwrap_or_default(), a.hostname.clone().unwrap_or_default()))),
            };
            let Some((reason, what, (hb, ha))) = found else { continue };
            let msg = |x: &str, y: &str, other: &ListenerId| format!("The {what} {x} overlaps with the {what} {y} in listener {}. ALPN will default to HTTP/1.1 to prevent HTTP/2 connection coalescing, unless explicitly configured via ClientTrafficPolicy", crate::names::listener_label(other));
            let (ida, idb) = (a.id.clone(), b.id.clone());
            let (ma, mb) = (msg(&ha, &hb, &idb), msg(&hb, &ha, &ida));
            rec.condition(Target::Listener(ida), Condition::new("OverlappingTLSConfig", true, reason, ma));
            rec.report(site, Problem::new(Code::ConflictOverlappingTls, mb, format!("/spec/listeners/{}", j - first)).context(format!("listener `{}`", idb.section)).sets(Target::Listener(idb), "OverlappingTLSConfig", true, reason));
            ls[i].tls_overlaps = true;
            ls[j].tls_overlaps = true;
            // The first listener it overlaps is the one its message names.
            break;
        }
    }
}

/// Hostnames overlap when either is absent (any host), they are equal, or one is a wildcard
/// whose one label covers the other.
fn overlap(a: Option<&str>, b: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return true };
    let covers = |this: &str, other: &str| match other.strip_prefix('*') {
        Some(suffix) if !this.starts_with('*') => this.strip_suffix(suffix).is_some_and(|label| !label.contains('.')),
        _ => this == other,
    };
    covers(a, b) || covers(b, a)
}
