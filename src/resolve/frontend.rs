//! Client certificate validation at the Gateway (`spec.tls.frontend`): per listener that
//! terminates TLS, the per-port setting of its port or else the default, its CA bundles
//! resolved, and the status the spec asks for.

use super::backend::Index;
use super::status::{Problem, Recorder, Site, Target};
use super::tls::{ClientValidation, ca_bundle};
use crate::api::Gateway;
use crate::api::gateway::{FrontendValidationMode, Listener};
use crate::diag::Code;
use crate::id::{ListenerId, ObjectKey};
use std::sync::Arc;

/// The validation a TLS-terminating listener `l` enforces, if the Gateway asks for one. A
/// listener whose CA references all fail is reported `Accepted=False NoValidCACertificate`
/// (and so not programmed): no client gets in unverified.
pub fn listener(g: &Gateway, l: &Listener, id: &ListenerId, index: &Index, site: Site, rec: &mut Recorder) -> Option<Arc<ClientValidation>> {
    let frontend = g.spec.tls.as_ref()?.frontend.as_ref()?;
    let (config, at) = match frontend.per_port.iter().position(|p| p.port == l.port) {
        Some(j) => (&frontend.per_port[j].tls, format!("/spec/tls/frontend/perPort/{j}/tls/validation")),
        None => (&frontend.default, "/spec/tls/frontend/default/validation".to_string()),
    };
    let v = config.validation.as_ref()?;
    let target = || Target::Listener(id.clone());
    let mut bundles = Vec::new();
    let mut sources = Vec::new();
    let mut first_problem = true;
    for (k, r) in v.ca_certificate_refs.iter().enumerate() {
        match ca_bundle(index, g.metadata.ns(), r) {
            Ok(pem) => {
                bundles.push(pem);
                sources.push(format!("{}/{}", r.namespace.as_deref().unwrap_or(g.metadata.ns()), r.name));
            }
            Err(e) => {
                let p = Problem::new(Code::ReferenceCaCertificate, e.message, format!("{at}/caCertificateRefs/{k}")).context(format!("listener `{}`", l.name));
                // The first problem is the listener's ResolvedRefs reason.
                rec.report(site, if first_problem { p.sets(target(), "ResolvedRefs", false, e.reason) } else { p });
                first_problem = false;
            }
        }
    }
    if bundles.is_empty() {
        rec.report(
            site,
            Problem::new(Code::ReferenceCaCertificate, "No valid CA certificate for client certificate validation; the listener is not programmed", format!("{at}/caCertificateRefs"))
                .context(format!("listener `{}`", l.name))
                .sets(target(), "Accepted", false, "NoValidCACertificate"),
        );
        return None;
    }
    let mut ca_pem = String::new();
    for b in bundles {
        ca_pem.push_str(b.trim_end());
        ca_pem.push('\n');
    }
    Some(Arc::new(ClientValidation::of_ca(sources, ca_pem, v.mode == FrontendValidationMode::AllowInsecureFallback)))
}

/// The Gateway condition the spec asks for when any validation lets clients in without a
/// valid certificate.
pub fn insecure_fallback(g: &Gateway, key: &ObjectKey, site: Site, rec: &mut Recorder) {
    let Some(f) = g.spec.tls.as_ref().and_then(|t| t.frontend.as_ref()) else { return };
    let insecure = |c: &crate::api::gateway::FrontendTlsConfig| c.validation.as_ref().is_some_and(|v| v.mode == FrontendValidationMode::AllowInsecureFallback);
    let at = if insecure(&f.default) {
        "/spec/tls/frontend/default/validation/mode".to_string()
    } else if let Some(j) = f.per_port.iter().position(|p| insecure(&p.tls)) {
        format!("/spec/tls/frontend/perPort/{j}/tls/validation/mode")
    } else {
        return;
    };
    rec.report(
        site,
        Problem::new(
            Code::TlsInsecureFallback,
            "Client certificate validation is AllowInsecureFallback: clients without a certificate are accepted (a presented certificate is still verified)",
            at,
        )
        .sets(Target::Gateway(key.clone()), "InsecureFrontendValidationMode", true, "ConfigurationChanged"),
    );
}
