//! BackendTLSPolicy: which Service ports the Gateway reaches over verified TLS, with what trust
//! and which name, the spec's precedence among policies, and their status (per Gateway that
//! uses a targeted Service: its ancestors).

use super::backend::{BackendTarget, Index};
use super::status::{Problem, Recorder, Site, Target};
use super::tls::ca_bundle;
use crate::api::backendtls::SubjectAltNameType;
use crate::api::gateway::ObjectReference;
use crate::api::{Kind, Resources};
use crate::diag::Code;
use crate::id::ObjectKey;
use std::collections::HashMap;
use std::sync::Arc;

/// What the backend's certificate must chain to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrustedCa {
    /// PEM bundle (public).
    Bundle(String),
    /// The system trust store of the machine running Envoy.
    System,
    /// No verification: a Backend's `insecureSkipVerify`.
    Skip,
}

/// A name the backend's certificate must carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SanMatch {
    Dns(String),
    Uri(String),
}

/// TLS from the Gateway to one backend, verified (unless `ca` is `Skip`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpstreamTls {
    /// The BackendTLSPolicy, or the Backend whose own `tls` this is.
    pub policy: ObjectKey,
    /// Empty: no SNI.
    pub sni: String,
    pub ca: TrustedCa,
    pub sans: Vec<SanMatch>,
    /// A Backend's own settings: versions, ciphers, curves, algorithms, ALPN, its client
    /// certificate (else the Gateway's, when it has one).
    pub settings: Option<Arc<UpstreamTlsSettings>>,
}

/// TLS settings a Backend gives for its own connections (Envoy's names for versions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpstreamTlsSettings {
    pub min_version: Option<&'static str>,
    pub max_version: Option<&'static str>,
    pub ciphers: Vec<String>,
    pub ecdh_curves: Vec<String>,
    pub signature_algorithms: Vec<String>,
    /// None: h2 for HTTP/2 clusters, none otherwise.
    pub alpn: Option<Vec<String>>,
    pub client_certificate: Option<Arc<super::tls::Certificate>>,
}

/// What a policy does to a backend: TLS to verify, or (no valid CA) requests that must fail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendTls {
    Verify(Arc<UpstreamTls>),
    Refused(ObjectKey),
}

impl BackendTls {
    pub fn policy(&self) -> &ObjectKey {
        match self {
            BackendTls::Verify(t) => &t.policy,
            BackendTls::Refused(k) => k,
        }
    }
}

/// A target of a policy: (namespace, kind: `Service` or `Backend`, name).
type Targeted = (String, &'static str, String);

/// The policy in effect per (target, section: a Service's port name, a Backend's port; none
/// for every port).
#[derive(Debug, Default)]
pub struct Policies {
    by_target: HashMap<(Targeted, Option<String>), BackendTls>,
    /// Every policy that targets a Service or Backend (in effect or not): their status goes
    /// to each Gateway that uses it.
    by_service: HashMap<Targeted, Vec<ObjectKey>>,
}

impl Policies {
    /// Every policy targeting the Service (`kind` "Service") or Backend.
    pub fn targeting(&self, ns: &str, kind: &'static str, name: &str) -> &[ObjectKey] {
        if self.by_service.is_empty() {
            return &[];
        }
        self.by_service.get(&(ns.to_string(), kind, name.to_string())).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The policy for a port: one naming the port wins over one for the whole target.
    pub fn for_port(&self, ns: &str, kind: &'static str, name: &str, port_name: &str) -> Option<&BackendTls> {
        if self.by_target.is_empty() {
            return None;
        }
        let key = |p: Option<&str>| ((ns.to_string(), kind, name.to_string()), p.map(str::to_string));
        self.by_target.get(&key(Some(port_name))).filter(|_| !port_name.is_empty()).or_else(|| self.by_target.get(&key(None)))
    }
}

/// Every BackendTLSPolicy, in canonical order (oldest first, then namespace/name, which is the
/// spec's precedence): its trust resolved, its targets claimed unless an earlier policy holds
/// them (then `Accepted=False Conflicted`).
pub fn resolve_all(res: &Resources, index: &Index, controller: &str, rec: &mut Recorder) -> Policies {
    let mut out = Policies::default();
    for item in &res.backend_tls_policies {
        let p = &item.obj;
        let key = ObjectKey::of(Kind::BackendTLSPolicy, &p.metadata);
        let site = Site { object: &key, loc: &item.loc };
        let st = rec.status.policies.entry(key.clone()).or_default();
        (st.generation, st.controller_name) = (p.metadata.generation, controller.to_string());
        let ns = p.metadata.ns();
        let v = &p.spec.validation;
        let target = || Target::Policy(key.clone());
        let tls = if v.well_known_ca_certificates.as_deref() == Some("System") {
            Some(TrustedCa::System)
        } else {
            let mut bundles = Vec::new();
            let mut first = true;
            for (k, r) in v.ca_certificate_refs.iter().enumerate() {
                let r = ObjectReference { group: r.group.clone(), kind: r.kind.clone(), name: r.name.clone(), namespace: None };
                match ca_bundle(index, ns, &r) {
                    Ok(pem) => bundles.push(pem),
                    Err(e) => {
                        // The spec names the kind problem InvalidKind for this policy.
                        let reason = if e.reason == "InvalidCACertificateKind" { "InvalidKind" } else { e.reason };
                        let pr = Problem::new(Code::ReferenceCaCertificate, e.message, format!("/spec/validation/caCertificateRefs/{k}"));
                        rec.report(site, if first { pr.sets(target(), "ResolvedRefs", false, reason) } else { pr });
                        first = false;
                    }
                }
            }
            if bundles.is_empty() {
                rec.report(
                    site,
                    Problem::new(Code::ReferenceCaCertificate, "No valid CA certificate: requests to the policy's backends fail", "/spec/validation/caCertificateRefs")
                        .sets(target(), "Accepted", false, "NoValidCACertificate"),
                );
                None
            } else {
                Some(TrustedCa::Bundle(bundles.iter().map(|b| format!("{}\n", b.trim_end())).collect()))
            }
        };
        let sans: Vec<SanMatch> = if v.subject_alt_names.is_empty() {
            vec![SanMatch::Dns(v.hostname.clone())]
        } else {
            v.subject_alt_names
                .iter()
                .filter_map(|s| match s.type_ {
                    SubjectAltNameType::Hostname => s.hostname.clone().map(SanMatch::Dns),
                    SubjectAltNameType::URI => s.uri.clone().map(SanMatch::Uri),
                })
                .collect()
        };
        let effect = match tls {
            Some(ca) => BackendTls::Verify(Arc::new(UpstreamTls { policy: key.clone(), sni: v.hostname.clone(), ca, sans, settings: None })),
            None => BackendTls::Refused(key.clone()),
        };
        let mut conflicted = None;
        for (t, r) in p.spec.target_refs.iter().enumerate() {
            let kind = match (r.group.as_str(), r.kind.as_str()) {
                ("", "Service") => "Service",
                (crate::api::ENVOY_GATEWAY_GROUP, "Backend") => "Backend",
                _ => {
                    rec.report(
                        site,
                        Problem::new(Code::ReferenceBackend, format!("targetRef kind {} of group `{}` is not supported; only Services and Envoy Gateway's Backends are", r.kind, r.group), format!("/spec/targetRefs/{t}"))
                            .sets(target(), "Accepted", false, "InvalidKind"),
                    );
                    continue;
                }
            };
            let by = out.by_service.entry((ns.to_string(), kind, r.name.clone())).or_default();
            if !by.contains(&key) {
                by.push(key.clone());
            }
            let k = ((ns.to_string(), kind, r.name.clone()), r.section_name.clone());
            match out.by_target.get(&k) {
                Some(held) => conflicted = Some((t, held.policy().clone())),
                None => {
                    out.by_target.insert(k, effect.clone());
                }
            }
        }
        if let Some((t, holder)) = conflicted {
            rec.report(
                site,
                Problem::new(Code::ConflictPolicy, format!("The target is already held by BackendTLSPolicy {}/{}, which takes precedence", holder.namespace, holder.name), format!("/spec/targetRefs/{t}"))
                    .sets(target(), "Accepted", false, "Conflicted"),
            );
        }
    }
    out
}

/// Record that `route` uses the Service of `target`: the policies targeting it will have
/// each Gateway of the route as an ancestor.
pub fn uses(index: &Index, route: &ObjectKey, target: &BackendTarget, rec: &mut Recorder) {
    let keys = index.tls_policies_targeting(&target.namespace, target.kind.name(), &target.service);
    if !keys.is_empty() {
        rec.route_policies.entry(route.clone()).or_default().extend(keys.iter().cloned());
    }
}

/// Each Gateway is an ancestor of the policies of the Services its routes use.
pub fn ancestors(gateway: &ObjectKey, routes: impl Iterator<Item = ObjectKey>, rec: &mut Recorder) {
    for r in routes {
        let Some(keys) = rec.route_policies.get(&r).cloned() else { continue };
        for k in keys {
            if let Some(p) = rec.status.policies.get_mut(&k) {
                p.ancestor(&super::status::AncestorRef { gateway: gateway.clone(), section: None });
            }
        }
    }
}
