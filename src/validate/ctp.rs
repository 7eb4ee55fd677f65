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
    if let Some(h) = &s.headers {
        for (field, set) in h.unimplemented() {
            if set {
                ctx.unsupported(format!("/spec/headers/{field}"), &format!("ClientTrafficPolicy headers.{field}"));
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
    if let Some(t) = &s.timeout {
        if t.tcp.is_some() {
            ctx.unsupported("/spec/timeout/tcp", "ClientTrafficPolicy timeout.tcp");
        }
        if let Some(h) = &t.http {
            for (field, set) in [("requestHeadersReceivedTimeout", h.request_headers_received_timeout.is_some()), ("streamIdleTimeout", h.stream_idle_timeout.is_some())] {
                if set {
                    ctx.unsupported(format!("/spec/timeout/http/{field}"), &format!("ClientTrafficPolicy timeout.http.{field}"));
                }
            }
        }
    }
}
