//! ExtensionRef filters naming Envoy Gateway's HTTPRouteFilter, as Envoy Gateway applies
//! them to a rule: a regex path rewrite, a host rewrite (from a header, the backend or the
//! path), X-Forwarded-Host, a direct response with its body and headers, cookie matches, an injected
//! credential.

use super::backend::Index;
use super::http::{HeaderOps, HostRewrite, KeyMatch, PathModifier, StringMatch};

/// What the HTTPRouteFilters of one rule do, together.
#[derive(Debug, Default)]
pub struct Applied {
    pub path: Option<PathModifier>,
    pub host: Option<HostRewrite>,
    pub append_x_forwarded_host: bool,
    /// (status, body): the rule answers itself.
    pub respond: Option<(u16, Option<String>)>,
    pub response_headers: HeaderOps,
    pub credential: Option<super::http::Credential>,
    /// Further conditions (any one of them, each its cookie matches all): the rule's matches
    /// are crossed with them.
    pub matches: Vec<Vec<KeyMatch>>,
}

/// Why a filter does not apply: Envoy Gateway's message and the condition it sets on the
/// route (ResolvedRefs for a filter not found, Accepted for one that cannot be applied).
pub struct Refused {
    pub message: String,
    pub condition: &'static str,
}

/// Apply the HTTPRouteFilter `name` of namespace `ns` to `into`; `core_rewrite`: the rule's
/// own URLRewrite filter rewrites (path, host).
pub fn apply(name: &str, ns: &str, index: &Index, core_rewrite: (bool, bool), into: &mut Applied) -> Result<(), Refused> {
    let Some(f) = index.route_filter(ns, name) else {
        return Err(Refused { message: format!("Unable to translate HTTPRouteFilter: {ns}/{name}"), condition: "ResolvedRefs" });
    };
    let invalid = |m: String| Refused { message: format!("invalid filter HTTPRouteFilter: {m}"), condition: "Accepted" };
    let accepted = |m: &str| Refused { message: m.to_string(), condition: "Accepted" };
    if let Some(r) = &f.spec.url_rewrite {
        let twice = (r.path.is_some() && (into.path.is_some() || core_rewrite.0)) || (r.hostname.is_some() && (into.host.is_some() || core_rewrite.1));
        if twice {
            return Err(accepted("cannot configure multiple urlRewrite filters for a single HTTPRouteRule"));
        }
        if let Some(p) = r.path.as_ref().and_then(|p| p.replace_regex_match.as_ref()) {
            if crate::validate::regex::check_re2(&p.pattern).is_err() {
                return Err(accepted("ReplaceRegexMatch must be a valid RE2 regular expression"));
            }
            into.path = Some(PathModifier::Regex { pattern: p.pattern.clone(), substitution: p.substitution.clone() });
        }
        if let Some(h) = &r.hostname {
            into.host = match (h.type_.as_str(), &h.header, &h.path_regex) {
                ("Header", Some(header), _) => Some(HostRewrite::Header(header.clone())),
                ("Backend", ..) => Some(HostRewrite::Backend),
                ("PathRegex", _, Some(p)) => {
                    if crate::validate::regex::check_re2(&p.pattern).is_err() {
                        return Err(accepted("PathRegex pattern must be a valid RE2 regular expression"));
                    }
                    Some(HostRewrite::PathRegex { pattern: p.pattern.clone(), substitution: p.substitution.clone() })
                }
                _ => return Err(accepted("Header must be set when rewrite path type is \"Header\"")),
            };
        }
        into.append_x_forwarded_host |= r.append_x_forwarded_host == Some(true);
    }
    if !f.spec.matches.is_empty() {
        if !into.matches.is_empty() {
            return Err(accepted("cannot configure multiple HTTPRouteFilter matches for a single HTTPRouteRule"));
        }
        for m in &f.spec.matches {
            let mut all = Vec::new();
            for c in &m.cookies {
                all.push(cookie_match(c).map_err(|e| accepted(&e))?);
            }
            into.matches.push(all);
        }
    }
    if let Some(c) = &f.spec.credential_injection {
        let (secret, sname) = super::security::secret_entries_from("HTTPRouteFilter", &c.credential.value_ref, ns, index).map_err(invalid)?;
        let value = super::security::secret_text(secret, "credential").filter(|v| !v.is_empty()).ok_or_else(|| invalid(format!("credential key credential not found in secret {sname}")))?;
        let key = crate::id::ObjectKey::new(crate::api::Kind::HTTPRouteFilter, ns, name);
        into.credential = Some(super::http::Credential {
            filter: crate::names::credential_filter(&key),
            header: c.header.clone().unwrap_or_else(|| "Authorization".into()),
            overwrite: c.overwrite.unwrap_or(false),
            secret_name: crate::names::credential_secret(&key),
            value,
        });
    }
    if let Some(d) = &f.spec.direct_response {
        let body = match &d.body {
            None => None,
            Some(b) if b.type_.as_deref().unwrap_or("Inline") == "Inline" => b.inline.clone(),
            Some(b) => {
                let r = b.value_ref.as_ref().ok_or_else(|| invalid("valueRef must be set for type ValueRef".into()))?;
                let cm = index.config_map(ns, &r.name).ok_or_else(|| invalid(format!("can't find the referenced configmap {}", r.name)))?;
                // The key `response.body`, else the ConfigMap's first entry (Envoy Gateway's reading).
                Some(cm.data.get("response.body").or_else(|| cm.data.values().next()).cloned().ok_or_else(|| invalid(format!("can't find the key response.body in the referenced configmap {}", r.name)))?)
            }
        };
        into.respond = Some((d.status_code.unwrap_or(200), body));
        if let Some(ct) = &d.content_type {
            into.response_headers.set.push(("Content-Type".into(), ct.clone()));
        }
        if let Some(h) = &d.header {
            into.response_headers.add.extend(h.add.iter().map(|x| (x.name.clone(), x.value.clone())));
            into.response_headers.set.extend(h.set.iter().map(|x| (x.name.clone(), x.value.clone())));
        }
    }
    Ok(())
}

/// A cookie condition as a match on the `Cookie` header (Envoy's route match has no cookie
/// matcher; HTTP/2 cookie headers reach the router joined into one): the pair `name=value`
/// between `;` separators, the value exact or an RE2 expression over the whole value (Envoy's
/// regex matchers match the whole header value).
fn cookie_match(c: &crate::api::routefilter::CookieMatch) -> Result<KeyMatch, String> {
    let value = match c.type_.as_deref().unwrap_or("Exact") {
        "RegularExpression" => {
            crate::validate::regex::check_re2(&c.value).map_err(|_| format!("cookie {} value must be a valid RE2 regular expression", c.name))?;
            // The expression is over the value: its own anchors are the value's ends, which the
            // surrounding separators already are.
            let v = c.value.strip_prefix('^').unwrap_or(&c.value);
            let v = if v.ends_with('$') && !v.ends_with("\\$") { &v[..v.len() - 1] } else { v };
            format!("(?:{v})")
        }
        _ => crate::validate::regex::escape(&c.value),
    };
    Ok(KeyMatch { name: "cookie".into(), value: StringMatch::Regex(format!("(?:.*;\\s*)?{}={value}(?:;.*)?", crate::validate::regex::escape(&c.name))) })
}


/// A rule's matches under its filters' further conditions: each of its matches with each
/// condition (the rule matches when one of its own and one condition both do).
pub fn cross(matches: Vec<super::http::HttpMatch>, extra: &[Vec<KeyMatch>]) -> Vec<super::http::HttpMatch> {
    if extra.is_empty() {
        return matches;
    }
    let mut out = Vec::with_capacity(matches.len() * extra.len());
    for m in matches {
        for e in extra {
            let mut m = m.clone();
            m.headers.extend(e.iter().cloned());
            out.push(m);
        }
    }
    out
}
