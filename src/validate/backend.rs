//! Backend: the v1.9.0 CRD's CEL rules, with the CRD's messages, and `unsupported` for the
//! fields gatewayc does not implement yet. What Envoy Gateway judges later (loopback
//! addresses, a TLS without trust) is `resolve::backend`'s: it sets the Backend's status.

use super::Ctx;
use crate::api::Backend;
use crate::diag::Code;

pub fn check(b: &Backend, ctx: &mut Ctx) {
    let s = &b.spec;
    let dynamic = s.type_.as_deref() == Some("DynamicResolver");
    let auto_sni = s.tls.as_ref().is_some_and(|t| t.auto_sni_from_endpoint_hostname == Some(true));
    if dynamic && !s.endpoints.is_empty() {
        ctx.error(Code::SchemaRule, "DynamicResolver type cannot have endpoints specified", "/spec");
    }
    if dynamic && auto_sni {
        ctx.error(Code::SchemaRule, "DynamicResolver type cannot use autoSNIFromEndpointHostname", "/spec");
    }
    if auto_sni && !s.endpoints.iter().all(|e| (e.ip.is_none() && e.unix.is_none()) || e.hostname.is_some()) {
        ctx.error(Code::SchemaRule, "when autoSNIFromEndpointHostname is enabled, IP and Unix endpoints must define a hostname", "/spec");
    }
    let fqdn = s.endpoints.iter().filter(|e| e.fqdn.is_some()).count();
    if fqdn > 0 && fqdn < s.endpoints.len() {
        ctx.error(Code::SchemaRule, "fqdn addresses cannot be mixed with other address types", "/spec/endpoints");
    }
    for (i, e) in s.endpoints.iter().enumerate() {
        let at = format!("/spec/endpoints/{i}");
        let set = [e.fqdn.is_some(), e.ip.is_some(), e.unix.is_some()].iter().filter(|x| **x).count();
        if set == 0 {
            ctx.error(Code::SchemaRule, "one of fqdn, ip or unix must be specified", at.clone());
        } else if set > 1 {
            ctx.error(Code::SchemaRule, "only one of fqdn, ip or unix can be specified", at.clone());
        }
        if e.unix.as_ref().is_some_and(|u| u.path.len() > 108) {
            ctx.error(Code::SchemaRule, "unix domain socket path must not exceed 108 characters", format!("{at}/unix/path"));
        }
        if e.zone.is_some() {
            ctx.unsupported(format!("{at}/zone"), "Backend endpoint zone");
        }
    }
    if let Some(t) = &s.tls {
        let at = "/spec/tls";
        let has_refs = !t.ca_certificate_refs.is_empty();
        let has_known = t.well_known_ca_certificates.as_deref().is_some_and(|w| !w.is_empty());
        if has_refs && has_known {
            ctx.error(Code::SchemaRule, "must not contain both CACertificateRefs and WellKnownCACertificates", at);
        }
        if t.insecure_skip_verify == Some(true) && (has_refs || has_known) {
            ctx.error(Code::SchemaRule, "must not contain either CACertificateRefs or WellKnownCACertificates when InsecureSkipVerify is enabled", at);
        }
        if t.sni.is_some() && auto_sni {
            ctx.error(Code::SchemaRule, "sni and autoSNIFromEndpointHostname are mutually exclusive", at);
        }
        if t.min_version.as_deref() == Some("1.3") && t.ciphers.is_some() {
            ctx.error(Code::SchemaRule, "setting ciphers has no effect if the minimum possible TLS version is 1.3", at);
        }
        if !super::ctp::versions_ordered(t.min_version.as_deref(), t.max_version.as_deref()) {
            ctx.error(Code::SchemaRule, "minVersion must be smaller or equal to maxVersion", at);
        }
        if t.well_known_ca_certificates.as_deref().is_some_and(|w| w != "System") {
            ctx.unsupported(format!("{at}/wellKnownCACertificates"), "wellKnownCACertificates other than System");
        }
        for (p, what) in t.unsupported() {
            ctx.unsupported(format!("{at}{p}"), what);
        }
    }
    if dynamic {
        ctx.unsupported("/spec/type", "Backend type DynamicResolver");
    }

}
