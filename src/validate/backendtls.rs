//! The BackendTLSPolicy CRD's CEL rules, with its messages, and `unsupported` for what is
//! not implemented (implementation-specific `options`, well-known CA sets other than System).

use super::Ctx;
use crate::api::BackendTLSPolicy;
use crate::api::backendtls::SubjectAltNameType;
use crate::diag::Code;

pub fn check(p: &BackendTLSPolicy, ctx: &mut Ctx) {
    let refs = &p.spec.target_refs;
    let same = |a: &crate::api::backendtls::PolicyTargetReference, b: &crate::api::backendtls::PolicyTargetReference| a.group == b.group && a.kind == b.kind && a.name == b.name;
    fn section(r: &crate::api::backendtls::PolicyTargetReference) -> Option<&str> {
        r.section_name.as_deref().filter(|s| !s.is_empty())
    }
    if refs.iter().any(|a| refs.iter().any(|b| same(a, b) && section(a).is_none() != section(b).is_none())) {
        ctx.error(Code::SchemaRule, "sectionName must be specified when targetRefs includes 2 or more references to the same target", "/spec/targetRefs");
    }
    if refs.iter().any(|a| refs.iter().filter(|b| same(a, b) && section(a) == section(b)).count() != 1) {
        ctx.error(Code::SchemaRule, "sectionName must be unique when targetRefs includes 2 or more references to the same target", "/spec/targetRefs");
    }
    let v = &p.spec.validation;
    let well_known = v.well_known_ca_certificates.as_deref().filter(|w| !w.is_empty());
    if !v.ca_certificate_refs.is_empty() && well_known.is_some() {
        ctx.error(Code::SchemaRule, "must not contain both CACertificateRefs and WellKnownCACertificates", "/spec/validation");
    }
    if v.ca_certificate_refs.is_empty() && well_known.is_none() {
        ctx.error(Code::SchemaRule, "must specify either CACertificateRefs or WellKnownCACertificates", "/spec/validation");
    }
    if well_known.is_some_and(|w| w != "System") {
        ctx.unsupported("/spec/validation/wellKnownCACertificates", "wellKnownCACertificates other than System");
    }
    for (i, s) in v.subject_alt_names.iter().enumerate() {
        let at = format!("/spec/validation/subjectAltNames/{i}");
        let has_host = s.hostname.as_deref().is_some_and(|h| !h.is_empty());
        let has_uri = s.uri.as_deref().is_some_and(|u| !u.is_empty());
        let host = s.type_ == SubjectAltNameType::Hostname;
        for (bad, msg) in [
            (host && !has_host, "SubjectAltName element must contain Hostname, if Type is set to Hostname"),
            (!host && has_host, "SubjectAltName element must not contain Hostname, if Type is not set to Hostname"),
            (!host && !has_uri, "SubjectAltName element must contain URI, if Type is set to URI"),
            (host && has_uri, "SubjectAltName element must not contain URI, if Type is not set to URI"),
        ] {
            if bad {
                ctx.error(Code::SchemaRule, msg, at.clone());
            }
        }
    }
    if !p.spec.options.is_empty() {
        ctx.unsupported("/spec/options", "BackendTLSPolicy options");
    }
}
