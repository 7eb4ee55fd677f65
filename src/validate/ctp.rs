//! ClientTrafficPolicy: the v1.9.0 CRD's CEL rules on what gatewayc implements, with the
//! CRD's messages, and `unsupported` for every field it does not implement yet.

use super::Ctx;
use crate::api::ClientTrafficPolicy;

/// The target kinds the CRD allows.
pub const TARGET_KINDS: &[&str] = &["Gateway", "ListenerSet"];

pub fn check(p: &ClientTrafficPolicy, ctx: &mut Ctx) {
    let s = &p.spec;
    super::btp::check_targets(s.targets(), TARGET_KINDS, "Gateway or ListenerSet", ctx);
    for (field, set) in s.unimplemented() {
        if set {
            ctx.unsupported(format!("/spec/{field}"), &format!("ClientTrafficPolicy {field}"));
        }
    }
    if let Some(x) = s.headers.as_ref().and_then(|h| h.x_forwarded_client_cert.as_ref())
        && !x.cert_details_to_add.is_empty()
        && !matches!(x.mode.as_deref(), Some("AppendForward" | "SanitizeSet"))
    {
        ctx.error(crate::diag::Code::SchemaRule, "certDetailsToAdd can only be set when mode is AppendForward or SanitizeSet", "/spec/headers/xForwardedClientCert");
    }
    if let Some(h) = &s.headers {
        for (m, field) in [(&h.early_request_headers, "earlyRequestHeaders"), (&h.late_response_headers, "lateResponseHeaders")] {
            if let Some(m) = m {
                header_mutations(m, &format!("/spec/headers/{field}"), ctx);
            }
        }
    }
    if let Some(c) = &s.connection {
        if c.socket_buffer_limit.is_some() {
            ctx.unsupported("/spec/connection/socketBufferLimit", "ClientTrafficPolicy connection.socketBufferLimit");
        }
        super::btp::quantity(c.buffer_limit.as_ref(), "bufferLimit", "/spec/connection/bufferLimit", ctx);
        if c.connection_limit.as_ref().is_some_and(|l| l.close_delay.is_some() && l.value.is_none()) {
            ctx.error(crate::diag::Code::SchemaRule, "closeDelay can only be configured when value is set", "/spec/connection/connectionLimit");
        }
    }
    if let Some(t) = &s.tls {
        check_tls(t, ctx);
    }
    if let Some(h) = &s.http2 {
        super::btp::http2(h, ctx);
    }
    if let Some(d) = &s.client_ip_detection {
        check_client_ip(d, ctx);
    }
}

/// The lists of header changes are keyed by name (`remove` is a set): the API server refuses
/// a name twice in one list.
fn header_mutations(m: &crate::api::ctp::HeaderMutations, at: &str, ctx: &mut Ctx) {
    let lists: [(&str, Vec<&str>); 4] = [
        ("add", m.add.iter().map(|h| h.name.as_str()).collect()),
        ("addIfAbsent", m.add_if_absent.iter().map(|h| h.name.as_str()).collect()),
        ("set", m.set.iter().map(|h| h.name.as_str()).collect()),
        ("remove", m.remove.iter().map(String::as_str).collect()),
    ];
    for (list, names) in lists {
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                ctx.error(crate::diag::Code::SchemaRule, format!("Duplicate value: {n:?}"), format!("{at}/{list}/{i}"));
            }
        }
    }
}

/// The CRD's CEL rules on `tls`; the parts not implemented yet are refused by name.
fn check_tls(t: &crate::api::ctp::ClientTls, ctx: &mut Ctx) {
    use crate::diag::Code;
    if t.fingerprints.is_some() {
        ctx.unsupported("/spec/tls/fingerprints", "ClientTrafficPolicy tls.fingerprints");
    }
    if let Some(v) = &t.client_validation
        && v.allow_expired_certificate == Some(true)
        && v.mode.as_deref().is_some_and(|m| !matches!(m, "VerifyIfGiven" | "RequireAndVerify"))
    {
        ctx.error(Code::SchemaRule, "allowExpiredCertificate can only be set when mode is VerifyIfGiven or RequireAndVerify", "/spec/tls/clientValidation");
    }
    if t.min_version.as_deref() == Some("1.3") && t.ciphers.is_some() {
        ctx.error(Code::SchemaRule, "setting ciphers has no effect if the minimum possible TLS version is 1.3", "/spec/tls");
    }
    if !versions_ordered(t.min_version.as_deref(), t.max_version.as_deref()) {
        ctx.error(Code::SchemaRule, "minVersion must be smaller or equal to maxVersion", "/spec/tls");
    }
}

/// The CRDs' TLS version rule: Auto is the lowest minimum and the highest maximum; an absent
/// minimum is 1.2.
pub(super) fn versions_ordered(min: Option<&str>, max: Option<&str>) -> bool {
    let rank = |v: &str, auto: u8| match v {
        "1.0" => 1,
        "1.1" => 2,
        "1.2" => 3,
        "1.3" => 4,
        _ => auto,
    };
    max.is_none_or(|max| min.map_or(3, |m| rank(m, 0)) <= rank(max, 5))
}

/// The CRD's CEL rules on `clientIPDetection`.
fn check_client_ip(d: &crate::api::ctp::ClientIpDetection, ctx: &mut Ctx) {
    use crate::diag::Code;
    if [d.x_forwarded_for.is_some(), d.custom_header.is_some(), d.direct_source_ip.is_some()].iter().filter(|x| **x).count() != 1 {
        ctx.error(Code::SchemaRule, "exactly one of xForwardedFor, customHeader, or directSourceIP must be set", "/spec/clientIPDetection");
    }
    if let Some(x) = &d.x_forwarded_for {
        if x.num_trusted_hops.is_some() == x.trusted_cidrs.is_some() {
            ctx.error(Code::SchemaRule, "only one of numTrustedHops or trustedCIDRs must be set", "/spec/clientIPDetection/xForwardedFor");
        }
        for (i, c) in x.trusted_cidrs.iter().flatten().enumerate() {
            if crate::resolve::traffic::parse_cidr(c).is_none() {
                ctx.error(Code::SchemaPattern, format!("trustedCIDRs[{i}] `{c}` is not an IPv4 or IPv6 CIDR"), format!("/spec/clientIPDetection/xForwardedFor/trustedCIDRs/{i}"));
            }
        }
    }
}
