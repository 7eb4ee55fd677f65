//! Envoy Gateway's Backend kind: each Backend judged once, as Envoy Gateway judges it (its
//! `Accepted` condition), into the [`BackendTarget`] every backendRef to it shares.
//!
//! Envoy Gateway serves Backends only with `enableBackend` in its own configuration; offline
//! there is no such configuration, and gatewayc accepts them (docs/features.md).

use super::backend::{BackendTarget, Endpoints, Index, TargetKind};
use super::backendtls::{BackendTls, SanMatch, TrustedCa, UpstreamTls, UpstreamTlsSettings};
use super::status::{Condition, Problem, Recorder, Site, Target};
use super::Options;
use crate::api::backend::{AppProtocol, BackendSpec};
use crate::api::{Kind, Resources};
use crate::diag::Code;
use crate::id::ObjectKey;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a backendRef to a Backend does not resolve: (route status reason, message).
pub type Refusal = (&'static str, String);

/// Every Backend by (namespace, name): its target, or why Envoy Gateway would not accept it.
pub type Judged = HashMap<(String, String), Result<Arc<BackendTarget>, Refusal>>;

/// Judge every Backend: its status, and what backendRefs to it reach.
pub fn judge_all(res: &Resources, index: &Index, opts: &Options, rec: &mut Recorder) -> Judged {
    let mut out = HashMap::new();
    for item in &res.backends {
        let b = &item.obj;
        let key = ObjectKey::of(Kind::Backend, &b.metadata);
        rec.status.backends.insert(key.clone(), (Vec::new(), b.metadata.generation));
        let site = Site { object: &key, loc: &item.loc };
        let judged = match unsupported(&b.spec) {
            // validate reported it; the Backend is not used (allowing never opens).
            Some(what) => {
                let msg = format!("The Backend was not accepted: {what} is not supported by gatewayc");
                rec.condition(Target::Backend(key.clone()), Condition::new("Accepted", false, "Invalid", msg.clone()));
                Err(("UnsupportedValue", msg))
            }
            None => match target(&b.spec, &key, index, opts) {
                Ok(t) => Ok(Arc::new(t)),
                Err((reason, err, at)) => {
                    let msg = format!("The Backend was not accepted: {err}");
                    rec.report(site, Problem::new(Code::BackendInvalid, msg.clone(), at).sets(Target::Backend(key.clone()), "Accepted", false, "Invalid"));
                    Err((reason, format!("Backend {}/{} is not accepted: {err}", key.namespace, key.name)))
                }
            },
        };
        out.insert((key.namespace.clone(), key.name.clone()), judged);
    }
    out
}

/// The first part of the Backend gatewayc does not implement (validate names them all).
fn unsupported(s: &BackendSpec) -> Option<String> {
    if s.type_.as_deref() == Some("DynamicResolver") {
        return Some("type DynamicResolver".into());
    }
    if s.endpoints.iter().any(|e| e.zone.is_some()) {
        return Some("endpoint zone".into());
    }
    let t = s.tls.as_ref()?;
    if t.well_known_ca_certificates.as_deref().is_some_and(|w| w != "System") {
        return Some("tls.wellKnownCACertificates other than System".into());
    }
    t.unsupported().first().map(|(_, what)| what.trim_start_matches("Backend ").to_string())
}

/// Envoy Gateway's checks of a DNS name, in its order: a DNS subdomain (no trailing dot), of
/// at least two labels, not an address.
fn check_hostname(h: &str, what: &str) -> Result<(), String> {
    if !crate::validate::is_dns_subdomain(h) {
        return Err(format!("hostname {h} is not a valid {what}"));
    }
    if h.split('.').count() < 2 {
        return Err(format!("hostname {h} should be a domain with at least two segments separated by dots"));
    }
    if h.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!("hostname {h} is an IP address"));
    }
    Ok(())
}

type Failure = (&'static str, String, String);

fn target(s: &BackendSpec, key: &ObjectKey, index: &Index, opts: &Options) -> Result<BackendTarget, Failure> {
    let mut ips = Vec::new();
    let mut names = Vec::new();
    for (i, e) in s.endpoints.iter().enumerate() {
        let at = format!("/spec/endpoints/{i}");
        if let Some(h) = &e.hostname {
            check_hostname(h, "hostname").map_err(|m| ("InvalidAddress", m, format!("{at}/hostname")))?;
        }
        if let Some(f) = &e.fqdn {
            check_hostname(&f.hostname, "FQDN").map_err(|m| ("InvalidAddress", m, format!("{at}/fqdn/hostname")))?;
            names.push((f.hostname.clone(), f.port));
        } else if let Some(ip) = &e.ip {
            let addr: std::net::IpAddr = ip.address.parse().map_err(|_| ("InvalidAddress", format!("IP address {} is invalid", ip.address), format!("{at}/ip/address")))?;
            if addr.is_loopback() && !opts.allow_loopback_backends {
                let msg = format!("IP address {} in the loopback range is not supported (--allow-loopback-backends accepts it)", ip.address);
                return Err(("InvalidAddress", msg, format!("{at}/ip/address")));
            }
            ips.push((addr.to_string(), ip.port));
        } else if let Some(u) = &e.unix {
            // A Unix socket: its path with port 0 (see `Endpoints`).
            ips.push((u.path.clone(), 0));
        }
    }
    let endpoints = if names.is_empty() { Endpoints::Static(ips) } else { Endpoints::Dns(names) };
    let first_port = s.endpoints.iter().find_map(|e| e.ip.as_ref().map(|i| i.port).or(e.fqdn.as_ref().map(|f| f.port)));
    Ok(BackendTarget {
        namespace: key.namespace.clone(),
        service: key.name.clone(),
        kind: TargetKind::Backend,
        port: 0,
        endpoints,
        app_protocol: s.app_protocols.contains(&AppProtocol::H2c).then(|| "kubernetes.io/h2c".to_string()),
        tls: tls(s, key, index, first_port)?,
        fallback: s.fallback.unwrap_or(false),
    })
}

/// TLS to the Backend: a BackendTLSPolicy targeting it (the whole Backend, or the port of its
/// first endpoint as sectionName) wins; else its own `tls`, which must say what to trust
/// unless it skips verification.
fn tls(s: &BackendSpec, key: &ObjectKey, index: &Index, port: Option<u32>) -> Result<Option<BackendTls>, Failure> {
    let section = port.map(|p| p.to_string()).unwrap_or_default();
    let settings = match &s.tls {
        Some(t) => settings(t, key, index)?,
        None => None,
    };
    if let Some(p) = index.tls_policy_for(&key.namespace, "Backend", &key.name, &section) {
        // The policy's trust and names, with the Backend's own connection settings.
        return Ok(Some(match (p, settings) {
            (BackendTls::Verify(u), Some(st)) => BackendTls::Verify(Arc::new(UpstreamTls { settings: Some(st), ..(**u).clone() })),
            (p, _) => p.clone(),
        }));
    }
    let Some(t) = &s.tls else { return Ok(None) };
    let at = "/spec/tls".to_string();
    let ca = if t.insecure_skip_verify == Some(true) {
        TrustedCa::Skip
    } else if t.well_known_ca_certificates.as_deref() == Some("System") {
        TrustedCa::System
    } else if t.ca_certificate_refs.is_empty() {
        let msg = "must specify either CACertificateRefs or WellKnownCACertificates when InsecureSkipVerify is unset or false";
        return Err(("InvalidBackendRef", msg.into(), at));
    } else {
        let mut bundle = String::new();
        for (i, r) in t.ca_certificate_refs.iter().enumerate() {
            let r = crate::api::gateway::ObjectReference { group: r.group.clone(), kind: r.kind.clone(), name: r.name.clone(), namespace: None };
            let pem = super::tls::ca_bundle_for(index, (crate::api::ENVOY_GATEWAY_GROUP, "Backend"), &key.namespace, &r).map_err(|e| ("InvalidBackendTLS", e.message, format!("{at}/caCertificateRefs/{i}")))?;
            bundle.push_str(pem.trim_end());
            bundle.push('\n');
        }
        TrustedCa::Bundle(bundle)
    };
    let sni = t.sni.clone().unwrap_or_default();
    let sans = if sni.is_empty() || ca == TrustedCa::Skip { Vec::new() } else { vec![SanMatch::Dns(sni.clone())] };
    Ok(Some(BackendTls::Verify(Arc::new(UpstreamTls { policy: key.clone(), sni, ca, sans, settings }))))
}

/// A Backend's own connection settings: versions, ciphers, curves, signature algorithms,
/// ALPN, its client certificate (a Secret of its namespace, or another by ReferenceGrant).
fn settings(t: &crate::api::backend::BackendTlsSettings, key: &ObjectKey, index: &Index) -> Result<Option<Arc<UpstreamTlsSettings>>, Failure> {
    use super::ctp::settings::tls_version;
    let client_certificate = match &t.client_certificate_ref {
        Some(r) => Some(super::tls::certificate_for(index, "Backend", &key.namespace, r).map_err(|e| ("InvalidBackendTLS", e.message, "/spec/tls/clientCertificateRef".to_string()))?),
        None => None,
    };
    let st = UpstreamTlsSettings {
        min_version: t.min_version.as_deref().map(tls_version),
        // Envoy's upstream maximum is TLS 1.2 by default: a minimum of 1.3 needs 1.3 as the
        // maximum too; a set minimum keeps the CRD's range (up to 1.3).
        max_version: t.max_version.as_deref().map(tls_version).or(t.min_version.as_ref().map(|_| "TLSv1_3")),
        ciphers: t.ciphers.clone().unwrap_or_default(),
        ecdh_curves: t.ecdh_curves.clone().unwrap_or_default(),
        signature_algorithms: t.signature_algorithms.clone().unwrap_or_default(),
        alpn: t.alpn_protocols.clone(),
        client_certificate,
    };
    Ok((st != UpstreamTlsSettings::default()).then(|| Arc::new(st)))
}
