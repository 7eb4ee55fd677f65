//! Listener certificates: Secrets of type kubernetes.io/tls, checked as a controller would
//! before handing them to Envoy (PEM parses, the key matches the certificate).

use super::backend::Index;

use crate::api::meta::SecretObjectReference;
use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// A certificate chain and its private key, PEM. Never printed: Debug shows only the Secret.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Certificate {
    pub secret: String,
    pub chain_pem: String,
    pub key_pem: String,
    /// The leaf's DNS subject alternative names (for OverlappingTLSConfig).
    pub dns_names: Vec<String>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({})", self.secret)
    }
}

/// Why a certificateRef did not resolve: the listener's ResolvedRefs reason and a message.
#[derive(Debug, Clone)]
pub struct Refused {
    pub reason: &'static str,
    pub message: String,
}

fn refused(reason: &'static str, message: String) -> Refused {
    Refused { reason, message }
}

/// One certificateRef of a Gateway in `gw_ns` to a certificate, or why not.
pub fn certificate(index: &Index, gw_ns: &str, r: &SecretObjectReference) -> Result<Arc<Certificate>, Refused> {
    certificate_for(index, "Gateway", gw_ns, r)
}

/// [`certificate`] for a referrer of kind `from_kind` (a ListenerSet) in `gw_ns`.
pub fn certificate_for(index: &Index, from_kind: &str, gw_ns: &str, r: &SecretObjectReference) -> Result<Arc<Certificate>, Refused> {
    let ns = r.namespace.as_deref().unwrap_or(gw_ns);
    if !(r.group.is_empty() || r.group == "core") || r.kind != "Secret" {
        return Err(refused("InvalidCertificateRef", format!("certificateRef kind {} of group `{}` is not supported; only Secrets are", r.kind, r.group)));
    }
    if ns != gw_ns && !index.granted(from_kind, gw_ns, "", "Secret", ns, &r.name) {
        return Err(refused(
            "RefNotPermitted",
            format!("certificateRef to Secret {ns}/{} is not permitted by any ReferenceGrant in namespace {ns}", r.name),
        ));
    }
    let Some(secret) = index.secret(ns, &r.name) else {
        return Err(refused("InvalidCertificateRef", format!("Secret {ns}/{} not found", r.name)));
    };
    if secret.type_.as_deref() != Some("kubernetes.io/tls") {
        return Err(refused(
            "InvalidCertificateRef",
            format!("Secret {ns}/{} is of type `{}`, not kubernetes.io/tls", r.name, secret.type_.as_deref().unwrap_or("Opaque")),
        ));
    }
    let field = |k: &str| -> Result<String, Refused> {
        // stringData wins over data, as the API server merges it.
        if let Some(v) = secret.string_data.get(k) {
            return Ok(v.clone());
        }
        let Some(b64) = secret.data.get(k) else {
            return Err(refused("InvalidCertificateRef", format!("Secret {ns}/{} has no `{k}`", r.name)));
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| refused("InvalidCertificateRef", format!("Secret {ns}/{}: `{k}` is not valid base64", r.name)))?;
        String::from_utf8(bytes).map_err(|_| refused("InvalidCertificateRef", format!("Secret {ns}/{}: `{k}` is not PEM text", r.name)))
    };
    let chain_pem = field("tls.crt")?;
    let key_pem = field("tls.key")?;
    let bad = |what: &str| refused("InvalidCertificateRef", format!("Secret {ns}/{}: {what}", r.name));
    let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("tls.crt is not a valid PEM certificate chain"))?;
    let Some(leaf) = certs.first() else { return Err(bad("tls.crt holds no certificate")) };
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf).map_err(|_| bad("tls.crt does not parse as an X.509 certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| bad("tls.key is not a valid PEM private key"))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key).map_err(|_| bad("tls.key is not a supported private key (RSA, ECDSA or Ed25519)"))?;
    if let Some(spki) = signing.public_key()
        && spki.as_ref() != parsed.tbs_certificate.subject_pki.raw
    {
        return Err(bad("tls.key does not match the certificate in tls.crt"));
    }
    let dns_names = parsed
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| if let x509_parser::extensions::GeneralName::DNSName(d) = n { Some(d.to_string()) } else { None })
                .collect()
        })
        .unwrap_or_default();
    Ok(Arc::new(Certificate { secret: format!("{ns}/{}", r.name), chain_pem, key_pem, dns_names }))
}

/// Listener certificates: the valid ones, and the first problem (for ResolvedRefs).
pub fn listener_certificates(index: &Index, from_kind: &str, gw_ns: &str, refs: &[SecretObjectReference]) -> (Vec<Arc<Certificate>>, Option<Refused>) {
    let mut ok = Vec::new();
    let mut problem = None;
    for r in refs {
        match certificate_for(index, from_kind, gw_ns, r) {
            Ok(c) => ok.push(c),
            Err(e) => {
                problem.get_or_insert(e);
            }
        }
    }
    (ok, problem)
}


/// Client certificate validation of a listener: the CA bundle (PEM, public) clients'
/// certificates must chain to, and whether a client may also come without one.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientValidation {
    /// The referenced objects (`namespace/name`), for names and messages.
    pub sources: Vec<String>,
    pub ca_pem: String,
    /// AllowInsecureFallback: a certificate is asked for, verified when presented, not required.
    pub optional: bool,
    /// A certificate that does not chain to the CA is accepted (a ClientTrafficPolicy's
    /// RequireAny and Request modes).
    pub accept_untrusted: bool,
    pub allow_expired: bool,
    /// Base64 SHA-256 of SubjectPublicKeyInfo / hex SHA-256 of the certificate: one must match.
    pub spki_hashes: Vec<String>,
    pub certificate_hashes: Vec<String>,
    /// Subject alternative names, one of which must match.
    pub subject_alt_names: Vec<ClientSan>,
    /// PEM revocation lists, and whether only the leaf is checked against them.
    pub crl: Option<(String, bool)>,
}

/// A subject alternative name a client certificate may carry: Envoy's SAN type, the OID of
/// an otherName, and how its value must look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSan {
    pub san_type: &'static str,
    pub oid: Option<String>,
    pub value: crate::resolve::traffic_http::ValueMatch,
}

impl ClientValidation {
    /// Verification against `ca_pem` alone, required unless `optional`.
    pub fn of_ca(sources: Vec<String>, ca_pem: String, optional: bool) -> ClientValidation {
        ClientValidation { sources, ca_pem, optional, accept_untrusted: false, allow_expired: false, spki_hashes: Vec::new(), certificate_hashes: Vec::new(), subject_alt_names: Vec::new(), crl: None }
    }
}

/// One caCertificateRef of a Gateway in `gw_ns`: the PEM bundle under `ca.crt` of a ConfigMap
/// (or a Secret, as Envoy Gateway also accepts), or why not.
pub fn ca_bundle(index: &Index, gw_ns: &str, r: &crate::api::gateway::ObjectReference) -> Result<String, Refused> {
    ca_bundle_for(index, (crate::api::GATEWAY_GROUP, "Gateway"), gw_ns, r)
}

/// [`ca_bundle`] for a referrer of another kind (`(group, kind)`, as ReferenceGrants name it).
pub fn ca_bundle_for(index: &Index, from: (&str, &str), gw_ns: &str, r: &crate::api::gateway::ObjectReference) -> Result<String, Refused> {
    let (ns, pem) = pem_entry(index, from, gw_ns, r, "caCertificateRef", "ca.crt")?;
    let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| refused("InvalidCACertificateRef", format!("{} {ns}/{}: `ca.crt` is not a valid PEM certificate bundle", r.kind, r.name)))?;
    if certs.is_empty() || certs.iter().any(|c| x509_parser::parse_x509_certificate(c).is_err()) {
        return Err(refused("InvalidCACertificateRef", format!("{} {ns}/{}: `ca.crt` holds no valid X.509 certificate", r.kind, r.name)));
    }
    Ok(pem)
}

/// The PEM certificate revocation lists under `ca.crl` of a ConfigMap or Secret a
/// ClientTrafficPolicy refers to (`crl.refs`), or why not.
pub fn crl_for(index: &Index, from: (&str, &str), ns: &str, r: &crate::api::gateway::ObjectReference) -> Result<String, Refused> {
    use rustls::pki_types::CertificateRevocationListDer;
    let (ns, pem) = pem_entry(index, from, ns, r, "crl ref", "ca.crl")?;
    let lists: Vec<CertificateRevocationListDer> = CertificateRevocationListDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| refused("InvalidCACertificateRef", format!("{} {ns}/{}: `ca.crl` is not a valid PEM revocation list", r.kind, r.name)))?;
    if lists.is_empty() || lists.iter().any(|c| x509_parser::parse_x509_crl(c).is_err()) {
        return Err(refused("InvalidCACertificateRef", format!("{} {ns}/{}: `ca.crl` holds no valid certificate revocation list", r.kind, r.name)));
    }
    Ok(pem)
}

/// The text under `key` of the ConfigMap or Secret `r` (default namespace `gw_ns`) names,
/// with its namespace; refused for another kind, another namespace without a ReferenceGrant
/// from `from`, a missing object or key. `what` names the reference in messages.
fn pem_entry(index: &Index, from: (&str, &str), gw_ns: &str, r: &crate::api::gateway::ObjectReference, what: &str, key: &str) -> Result<(String, String), Refused> {
    let ns = r.namespace.as_deref().unwrap_or(gw_ns);
    let core = r.group.is_empty() || r.group == "core";
    if !core || !(r.kind == "ConfigMap" || r.kind == "Secret") {
        return Err(refused("InvalidCACertificateKind", format!("{what} kind {} of group `{}` is not supported; use a ConfigMap (or a Secret) with `{key}`", r.kind, r.group)));
    }
    if ns != gw_ns && !index.granted_from(from.0, from.1, gw_ns, "", &r.kind, ns, &r.name) {
        return Err(refused("RefNotPermitted", format!("{what} to {} {ns}/{} is not permitted by any ReferenceGrant in namespace {ns}", r.kind, r.name)));
    }
    let missing = || refused("InvalidCACertificateRef", format!("{} {ns}/{} not found", r.kind, r.name));
    let text = if r.kind == "ConfigMap" {
        let cm = index.config_map(ns, &r.name).ok_or_else(missing)?;
        cm.data.get(key).cloned().ok_or_else(|| refused("InvalidCACertificateRef", format!("ConfigMap {ns}/{} has no `{key}`", r.name)))?
    } else {
        let secret = index.secret(ns, &r.name).ok_or_else(missing)?;
        match (secret.string_data.get(key), secret.data.get(key)) {
            (Some(v), _) => v.clone(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| refused("InvalidCACertificateRef", format!("Secret {ns}/{}: `{key}` is not base64 of PEM text", r.name)))?,
            (None, None) => return Err(refused("InvalidCACertificateRef", format!("Secret {ns}/{} has no `{key}`", r.name))),
        }
    };
    Ok((ns.to_string(), text))
}
