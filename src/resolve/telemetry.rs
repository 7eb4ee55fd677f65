//! EnvoyProxy telemetry: where access log lines and trace spans go (collectors reached by
//! host or backendRefs, each in a cluster of its own), and how spans are sampled and tagged.

use super::status::{Problem, Recorder, Site};
use crate::api::Kind;
use crate::diag::Code;
use crate::id::ObjectKey;

/// `telemetry.accessLog` as the listeners' logs: its File sinks with their formats (sinks
/// gatewayc does not implement are refused by validate, and left out here).
pub(super) fn access_log(a: Option<&crate::api::envoyproxy::AccessLog>, (ns, key): (&str, &ObjectKey), index: &super::backend::Index, site: Site, rec: &mut Recorder) -> super::AccessLogIr {
    use super::{AccessLogIr, LogFormatIr, LogSinkIr};
    let Some(a) = a else { return AccessLogIr::Default };
    if a.disable == Some(true) {
        return AccessLogIr::Off;
    }
    if a.settings.is_empty() {
        return AccessLogIr::Default;
    }
    let mut sinks = Vec::new();
    for s in &a.settings {
        let format = match &s.format {
            Some(f) if f.type_.as_deref() == Some("Text") => LogFormatIr::Text(f.text.clone().unwrap_or_default()),
            Some(f) if !f.json.is_empty() => LogFormatIr::Json(f.json.clone()),
            _ => LogFormatIr::DefaultJson,
        };
        for k in &s.sinks {
            match (k.type_.as_str(), &k.file, &k.open_telemetry) {
                ("File", Some(f), _) => sinks.push((LogSinkIr::File(f.path.clone()), format.clone())),
                ("OpenTelemetry", _, Some(o)) => {
                    let cluster = crate::names::access_log_cluster(key, sinks.len());
                    match otel_sink(o, cluster, ns, index) {
                        Ok(o) => sinks.push((LogSinkIr::Otel(std::sync::Arc::new(o)), format.clone())),
                        Err(e) => rec.report(site, Problem::new(Code::ReferenceBackend, format!("EnvoyProxy access log OpenTelemetry sink: {e}; its lines are not sent"), "/spec/infrastructure")),
                    }
                }
                _ => {}
            }
        }
    }
    AccessLogIr::Sinks(sinks)
}

/// An OpenTelemetry access log sink: its backendRefs (from the EnvoyProxy's namespace), else
/// its host (default port 4317).
fn otel_sink(o: &crate::api::envoyproxy::OtelSink, cluster: String, ns: &str, index: &super::backend::Index) -> Result<super::OtelSinkIr, String> {
    let mut c = collector(o.host.as_deref(), o.port.unwrap_or(4317), &o.backend_refs, cluster, ns, index)?;
    c.resources = o.resources.clone();
    Ok(c)
}

/// A collector: its backendRefs' targets with weights (from the EnvoyProxy's namespace), else
/// `host:port`; the authority it is asked with, as Envoy Gateway derives it (the first
/// backend's hostname, the host).
fn collector(host: Option<&str>, port: u32, refs: &[crate::api::sp_auth::ExtBackendRef], cluster: String, ns: &str, index: &super::backend::Index) -> Result<super::OtelSinkIr, String> {
    use super::backend::BackendRef;
    let mut backends = Vec::new();
    for r in refs {
        let to = BackendRef { group: &r.group, kind: &r.kind, name: &r.name, namespace: r.namespace.as_deref(), port: r.port };
        let t = index.target((Kind::EnvoyProxy, ns), to, crate::api::core::PortProtocol::Tcp).map_err(|u| u.message)?;
        backends.push((t, r.weight.unwrap_or(1)));
    }
    let host = host.map(str::to_string).filter(|_| backends.is_empty()).map(|h| (h, port));
    let authority = match (&host, backends.first()) {
        (Some((h, _)), _) => h.clone(),
        (None, Some((t, _))) => authority(t),
        (None, None) => return Err("host or backendRefs needs to be set".into()),
    };
    Ok(super::OtelSinkIr { cluster, authority, backends, host, resources: Default::default() })
}

/// `telemetry.tracing` as Envoy Gateway translates it: the provider's collector, sampling
/// in percent, tags (`tags` over `customTags`), span names.
pub(super) fn tracing(t: &crate::api::envoyproxy::Tracing, (ns, key): (&str, &ObjectKey), index: &super::backend::Index) -> Result<super::TracingIr, String> {
    use super::{SamplerIr, TagIr, TracerIr};
    let p = &t.provider;
    let mut c = collector(p.host.as_deref(), p.port.unwrap_or(4317), &p.backend_refs, crate::names::tracing_cluster().to_string(), ns, index)?;
    let otel = p.open_telemetry.clone().unwrap_or_default();
    c.resources = otel.resource_attributes.clone();
    let service_name = p.service_name.clone().unwrap_or_else(|| format!("{}.{}", key.name, key.namespace));
    let percent = |f: &crate::api::httproute::Fraction| (f64::from(f.numerator) * 100.0 / f64::from(f.denominator.max(1))).clamp(0.0, 100.0);
    let ratio = |f: &Option<crate::api::httproute::Fraction>| f.as_ref().map_or(SamplerIr::Ratio(100, 100), |f| SamplerIr::Ratio(f.numerator, f.denominator));
    let sampler = otel.sampler.as_ref().map(|s| match s.type_.as_str() {
        "AlwaysOff" => SamplerIr::Ratio(0, 100),
        "TraceIdRatio" => ratio(&s.sampling_percentage),
        "ParentBasedAlwaysOn" => SamplerIr::ParentBased(Box::new(SamplerIr::AlwaysOn)),
        "ParentBasedAlwaysOff" => SamplerIr::ParentBased(Box::new(SamplerIr::Ratio(0, 100))),
        "ParentBasedTraceIdRatio" => SamplerIr::ParentBased(Box::new(ratio(&s.sampling_percentage))),
        _ => SamplerIr::AlwaysOn,
    });
    // With a sampler of its own, the sampler alone decides.
    let random = match (&sampler, t.sampling_rate, &t.sampling_fraction) {
        (Some(_), _, _) => 100.0,
        (None, Some(r), _) => f64::from(r.min(100)),
        (None, None, Some(f)) => percent(f),
        (None, None, None) => 100.0,
    };
    let tracer = match p.type_.as_str() {
        "Zipkin" => {
            let z = p.zipkin.clone().unwrap_or_default();
            TracerIr::Zipkin { trace_id_128bit: z.enable_128bit_trace_id == Some(true), shared_span_context: z.disable_shared_span_context != Some(true) }
        }
        "Datadog" => TracerIr::Datadog { service_name },
        _ => TracerIr::Otel { service_name, headers: otel.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect(), sampler },
    };
    let mut tags = std::collections::BTreeMap::new();
    for (k, v) in &t.custom_tags {
        let named = |n: &Option<crate::api::envoyproxy::NamedTag>| n.as_ref().map(|n| (n.name.clone(), n.default_value.clone().unwrap_or_default()));
        let tag = match v.type_.as_str() {
            "Environment" => named(&v.environment).map(|(n, d)| TagIr::Environment(n, d)),
            "RequestHeader" => named(&v.request_header).map(|(n, d)| TagIr::RequestHeader(n, d)),
            _ => v.literal.as_ref().map(|l| TagIr::Literal(l.value.clone())),
        };
        if let Some(tag) = tag {
            tags.insert(k.clone(), tag);
        }
    }
    for (k, v) in &t.tags {
        tags.insert(k.clone(), TagIr::Format(v.clone()));
    }
    Ok(super::TracingIr {
        tracer,
        collector: std::sync::Arc::new(c),
        random,
        client: t.client_sampling_fraction.as_ref().map_or(0.0, percent),
        overall: t.overall_sampling_fraction.as_ref().map_or(100.0, percent),
        tags: tags.into_iter().collect(),
        span_names: t.span_name.as_ref().map(|s| (s.client.clone(), s.server.clone())),
    })
}

/// The authority a collector is asked with, as Envoy Gateway derives it: the TLS SNI, else
/// the first endpoint's hostname, else `<name>.<namespace>.svc` for a Service and
/// `<name>.<namespace>` for a Backend of IP endpoints.
fn authority(t: &super::backend::BackendTarget) -> String {
    use super::backend::{Endpoints, TargetKind, unix_path};
    if let Some(super::backendtls::BackendTls::Verify(v)) = &t.tls {
        if !v.sni.is_empty() {
            return v.sni.clone();
        }
    }
    if t.kind == TargetKind::Service {
        return format!("{}.{}.svc", t.service, t.namespace);
    }
    let (Endpoints::Static(eps) | Endpoints::Dns(eps)) = &t.endpoints;
    match eps.first() {
        Some(e) if unix_path(e).is_none() && e.0.parse::<std::net::IpAddr>().is_err() => e.0.clone(),
        _ => format!("{}.{}", t.service, t.namespace),
    }
}
