//! ExtensionRef filters naming Envoy Gateway's HTTPRouteFilter, as Envoy Gateway applies
//! them to a rule: a regex path rewrite, a host rewrite (from a header, the backend or the
//! path), X-Forwarded-Host, a direct response with its body and headers.

use super::backend::Index;
use super::http::{HeaderOps, HostRewrite, PathModifier};

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
