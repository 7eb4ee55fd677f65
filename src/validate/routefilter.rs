//! HTTPRouteFilter: the v1.9.0 CRD's CEL rules, with the CRD's messages, and `unsupported`
//! for the fields gatewayc does not implement yet.

use super::Ctx;
use crate::api::HTTPRouteFilter;
use crate::diag::Code;

pub fn check(f: &HTTPRouteFilter, ctx: &mut Ctx) {
    let s = &f.spec;
    for (i, m) in s.matches.iter().enumerate() {
        // The CRD's minProperties: at least one matcher.
        if m.cookies.is_empty() {
            ctx.error(Code::SchemaConstraint, "at least one matcher must be specified", format!("/spec/matches/{i}"));
        }
    }
    if let Some(r) = &s.url_rewrite {
        if let Some(p) = &r.path
            && (p.type_ == "ReplaceRegexMatch") != p.replace_regex_match.is_some()
        {
            ctx.error(Code::SchemaRule, "If HTTPPathModifier type is ReplaceRegexMatch, replaceRegexMatch field needs to be set.", "/spec/urlRewrite/path");
        }
        if let Some(h) = &r.hostname {
            let at = "/spec/urlRewrite/hostname";
            let header = h.type_ == "Header";
            if h.header.is_some() && !header {
                ctx.error(Code::SchemaRule, "header must be nil if the type is not Header", at);
            }
            if h.header.is_none() && header {
                ctx.error(Code::SchemaRule, "header must be specified for Header type", at);
            }
            let regex = h.type_ == "PathRegex";
            if h.path_regex.is_some() && !regex {
                ctx.error(Code::SchemaRule, "pathRegex must be nil if the type is not PathRegex", at);
            }
            if h.path_regex.is_none() && regex {
                ctx.error(Code::SchemaRule, "pathRegex must be specified for PathRegex type", at);
            }
        }
    }
    if let Some(d) = &s.direct_response {
        if let Some(b) = &d.body {
            let at = "/spec/directResponse/body";
            let inline = b.type_.as_deref().unwrap_or("Inline") == "Inline";
            if inline && b.inline.is_none() {
                ctx.error(Code::SchemaRule, "inline must be set for type Inline", at);
            }
            if !inline && b.value_ref.is_none() {
                ctx.error(Code::SchemaRule, "valueRef must be set for type ValueRef", at);
            }
            if b.value_ref.as_ref().is_some_and(|r| r.kind != "ConfigMap") {
                ctx.error(Code::SchemaRule, "only ConfigMap is supported for ValueRef", at);
            }
        }
        if d.header.as_ref().is_some_and(|h| !h.remove.is_empty()) {
            ctx.error(Code::SchemaRule, "header.remove is not supported for DirectResponse", "/spec/directResponse/header");
        }
    }
}
