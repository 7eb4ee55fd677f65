//! A BackendTrafficPolicy's rate limits as resolve hands them on: local buckets (Envoy's
//! local_ratelimit filter) and global rules (counted by the rate-limit service), both made of
//! the same rules and client selectors. Envoy Gateway's messages for what it cannot translate.

use super::traffic::{RouteTraffic, parse_cidr};
use crate::api::btp;
use std::sync::Arc;

/// A token bucket: so many requests per so many seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub requests: u32,
    pub per_s: u64,
}

/// Local rate limiting of a route: the default bucket (requests no rule selects) and a
/// bucket per rule, for the requests its client selectors select.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalRateLimit {
    pub default: Bucket,
    pub rules: Vec<RateRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RateRule {
    /// One action list per method the rule names (or one without a method).
    pub selectors: Vec<RateSelector>,
    pub bucket: Bucket,
    pub shadow: bool,
}

/// One conjunction of conditions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateSelector {
    /// (name, match, invert); a `None` match counts each distinct value apart.
    pub headers: Vec<(String, Option<crate::resolve::http::StringMatch>, bool)>,
    pub method: Option<(String, bool)>,
    pub path: Option<(crate::resolve::http::StringMatch, bool)>,
    /// (network/len, prefix length, IPv6, one bucket per address).
    pub cidr: Option<(String, u32, bool, bool)>,
}

/// A policy's `rateLimit` onto the routes it covers, or Envoy Gateway's error message.
pub fn build(rl: &btp::RateLimit, rate_limit_service: bool, route: &mut RouteTraffic) -> Result<(), String> {
    if let Some(l) = &rl.local {
        route.rate_limit = Some(local_rate_limit(l).map_err(|e| format!("RateLimit: {e}"))?);
    }
    match (&rl.global, rl.type_.as_deref()) {
        (None, Some("Global")) => return Err("RateLimit: global configuration empty for rateLimit".into()),
        (None, _) => {}
        // Envoy Gateway's answer when no rate-limit service is configured.
        (Some(_), _) if !rate_limit_service => return Err("RateLimit: enable Ratelimit in the EnvoyGateway config to configure global rateLimit".into()),
        (Some(g), _) => route.global_rate_limit = Some(Arc::new(global_rate_limit(g).map_err(|e| format!("RateLimit: {e}"))?)),
    }
    if rl.local.is_none() && rl.type_.as_deref() == Some("Local") {
        return Err("RateLimit: local configuration empty for rateLimit".into());
    }
    Ok(())
}

fn unit_seconds(unit: &str) -> u64 {
    match unit {
        "Minute" => 60,
        "Hour" => 3_600,
        "Day" => 86_400,
        "Week" => 604_800,
        "Month" => 2_592_000,
        "Year" => 31_536_000,
        _ => 1,
    }
}

/// Envoy Gateway's translation: the rule without client selectors is the default bucket
/// (none: unlimited); every rule's unit must be a multiple of the default's.
fn local_rate_limit(l: &btp::LocalRateLimit) -> Result<LocalRateLimit, String> {
    if l.rules.iter().filter(|r| r.client_selectors.is_empty()).count() > 1 {
        return Err("local rateLimit can not have more than one rule without clientSelectors".into());
    }
    let default = l.rules.iter().find(|r| r.client_selectors.is_empty()).map(|r| bucket(&r.limit)).unwrap_or(Bucket { requests: u32::MAX, per_s: 1 });
    if l.rules.iter().any(|r| !unit_seconds(&r.limit.unit).is_multiple_of(default.per_s)) {
        return Err("local rateLimit rule limit unit must be a multiple of the default limit unit".into());
    }
    let rules = l.rules.iter().filter(|r| !r.client_selectors.is_empty()).map(rate_rule).collect::<Result<Vec<_>, _>>()?;
    Ok(LocalRateLimit { default, rules })
}

/// Envoy Gateway's translation of `global`: every rule counts at the rate-limit service (a
/// rule without client selectors counts every request).
fn global_rate_limit(g: &btp::GlobalRateLimit) -> Result<Vec<RateRule>, String> {
    g.rules.iter().map(rate_rule).collect()
}

fn bucket(v: &btp::RateLimitValue) -> Bucket {
    Bucket { requests: u32::try_from(v.requests).unwrap_or(u32::MAX), per_s: unit_seconds(&v.unit) }
}

/// One rule: a selector per method it names (or one), all counting in the rule's bucket.
fn rate_rule(r: &btp::RateLimitRule) -> Result<RateRule, String> {
    use crate::resolve::http::StringMatch;
    {
        let mut base = RateSelector::default();
        let mut methods: Vec<(String, bool)> = Vec::new();
        for c in &r.client_selectors {
            for h in &c.headers {
                let m = match (h.type_.as_deref(), &h.value) {
                    (Some("Distinct"), _) => None,
                    (Some("RegularExpression"), Some(v)) => {
                        crate::validate::regex::check_re2(v).map_err(|e| format!("invalid regex {v}: {e}"))?;
                        Some(StringMatch::Regex(v.clone()))
                    }
                    (_, Some(v)) => Some(StringMatch::Exact(v.clone())),
                    (_, None) => return Err("unable to translate rateLimit. Either the header.Type is not valid or the header is missing a value".into()),
                };
                base.headers.push((h.name.to_ascii_lowercase(), m, h.invert.unwrap_or(false)));
            }
            methods.extend(c.methods.iter().map(|m| (m.value.clone(), m.invert.unwrap_or(false))));
            if let Some(p) = &c.path {
                let m = match p.type_.as_deref() {
                    Some("Exact") => StringMatch::Exact(p.value.clone()),
                    Some("RegularExpression") => {
                        crate::validate::regex::check_re2(&p.value).map_err(|e| format!("invalid regex {}: {e}", p.value))?;
                        StringMatch::Regex(p.value.clone())
                    }
                    // A segment-aware prefix as a regex, as Envoy Gateway writes it.
                    _ if p.value == "/" => StringMatch::Regex("^/.*".into()),
                    _ => StringMatch::Regex(format!("^{}(/.*)?$", crate::validate::regex::escape(p.value.trim_end_matches('/')))),
                };
                base.path = Some((m, p.invert.unwrap_or(false)));
            }
            if let Some(sc) = &c.source_cidr {
                let (net, len, v6) = parse_cidr(&sc.value).ok_or_else(|| format!("unable to translate rateLimit: invalid CIDR address: {}", sc.value))?;
                base.cidr = Some((net, len, v6, sc.type_.as_deref() == Some("Distinct")));
            }
        }
        let selectors = if methods.is_empty() {
            vec![base]
        } else {
            methods.into_iter().map(|m| RateSelector { method: Some(m), ..base.clone() }).collect()
        };
        Ok(RateRule { selectors, bucket: bucket(&r.limit), shadow: r.shadow_mode.unwrap_or(false) })
    }
}
