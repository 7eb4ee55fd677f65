//! Observability through a real Envoy, as Envoy Gateway configures it: the Prometheus endpoint
//! (`GET /stats/prometheus` on the metrics port, counters that move with traffic; other paths
//! and methods not served; an EnvoyProxy that disables it), and an EnvoyProxy's access logs
//! (JSON and text formats to files).

mod support;

use support::policy::*;
use support::*;

/// Gateway `gw` of a class whose parametersRef is the EnvoyProxy `name` with `spec` (YAML lines
/// under spec), an HTTP listener on `port`, and route `app` to the echo backend `b`.
fn with_proxy(name: &str, spec: &str, port: u16, b: &Echo) -> String {
    let class = EG_CLASS.replace("spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}", &format!("spec: {{controllerName: gateway.envoyproxy.io/gatewayclass-controller, parametersRef: {{group: gateway.envoyproxy.io, kind: EnvoyProxy, name: {name}, namespace: default}}}}"));
    let mut input = format!("{class}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners: [{{name: http, protocol: HTTP, port: {port}}}]\n---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {{name: {name}, namespace: default}}\nspec:\n{spec}");
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input
}

fn upstream_requests(metrics: &str, cluster: &str) -> Option<u64> {
    let line = metrics.lines().find(|l| l.starts_with("envoy_cluster_upstream_rq_total{") && l.contains(&format!("envoy_cluster_name=\"{cluster}\"")))?;
    line.rsplit(' ').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_counters_move_with_traffic() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (port, metrics) = (free_port(), free_port());
    let mut input = http_gateway(port);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    let m = metrics.to_string();
    let _s = serve(&envoy, &input, &["--metrics-port", &m]).await;
    let cluster = "service/default/svc/8080";
    let before = request(metrics, "GET", "any", "/stats/prometheus", &[]).await.expect("metrics");
    assert_eq!(before.status, 200, "{before:?}");
    let n0 = upstream_requests(&before.body, cluster).unwrap_or(0);
    for _ in 0..3 {
        assert_eq!(request(port, "GET", "app", "/x", &[]).await.expect("app").status, 200);
    }
    let after = request(metrics, "GET", "any", "/stats/prometheus", &[]).await.expect("metrics");
    assert_eq!(upstream_requests(&after.body, cluster), Some(n0 + 3), "{}", after.body.lines().filter(|l| l.contains("upstream_rq_total")).collect::<Vec<_>>().join("\n"));
    assert!(after.body.contains("envoy_http_downstream_rq_total"), "all stats are kept without matches");
    assert!(!after.body.contains("envoy_cluster_upstream_rq_headers_size") && !after.body.contains("envoy_cluster_endpoint_"), "no size or per-endpoint stats unless asked for");
    // Only the metrics, and only by GET: the admin interface stays private.
    assert_eq!(request(metrics, "GET", "any", "/config_dump", &[]).await.expect("config dump").status, 404);
    assert_eq!(request(metrics, "POST", "any", "/stats/prometheus", &[]).await.expect("post").status, 404);
}

#[test]
fn an_envoy_proxy_can_turn_it_off() {
    let proxy = "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {name: quiet, namespace: default}\nspec:\n  telemetry: {metrics: {prometheus: {disable: true}}}\n";
    let class = EG_CLASS.replace("spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}", "spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller, parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: quiet, namespace: default}}");
    let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 8080}]\n";
    let on = format!("{EG_CLASS}{gw}");
    let off = format!("{class}{proxy}{gw}");
    let (code, out, err) = gatewayc(&["translate", "-f", "-", "--metrics-port", "19001"], &on);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/stats/prometheus"), "{out}");
    let (code, out, err) = gatewayc(&["translate", "-f", "-", "--metrics-port", "19001"], &off);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("/stats/prometheus"), "{out}");
    // render: the container's metrics port follows.
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &on);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name: metrics\n") && out.contains("containerPort: 19001"), "{out}");
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &off);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("containerPort: 19001"), "{out}");
    // The rest of telemetry is not implemented yet: refused by name.
    let tracing = off.replace("prometheus: {disable: true}}", "prometheus: {disable: true}}, tracing: {samplingRate: 100}");
    let (code, _, err) = gatewayc(&["translate", "-f", "-"], &tracing);
    assert_ne!(code, 0);
    assert!(err.contains("EnvoyProxy spec.telemetry.tracing is not supported yet"), "{err}");
}

/// An EnvoyProxy's access log settings: a JSON format and a text format, each to its file,
/// with the fields asked for; `disable` leaves no access log at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_logs_in_the_formats_asked_for() {
    let Some(envoy) = envoy() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (json_log, text_log) = (dir.path().join("access.json"), dir.path().join("access.txt"));
    let b = echo("b").await;
    let port = free_port();
    let spec = format!(
        "  telemetry:\n    accessLog:\n      settings:\n      - format: {{type: JSON, json: {{verb: \"%REQ(:METHOD)%\", path: \"%REQ(:PATH)%\", status: \"%RESPONSE_CODE%\"}}}}\n        sinks: [{{type: File, file: {{path: {}}}}}]\n      - format: {{type: Text, text: \"%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%\"}}\n        sinks: [{{type: File, file: {{path: {}}}}}]\n",
        json_log.display(),
        text_log.display()
    );
    let input = with_proxy("logs", &spec, port, &b);
    let _s = serve(&envoy, &input, &[]).await;
    assert_eq!(request(port, "GET", "app", "/logged?x=1", &[]).await.expect("request").status, 200);
    let line = |path: std::path::PathBuf| async move {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if let Some(l) = std::fs::read_to_string(&path).ok().and_then(|t| t.lines().next().map(str::to_string)) {
                return l;
            }
            assert!(std::time::Instant::now() < deadline, "no line in {}", path.display());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let json: serde_json::Value = serde_json::from_str(&line(json_log.clone()).await).expect("a JSON line");
    assert_eq!(json, serde_json::json!({"verb": "GET", "path": "/logged?x=1", "status": 200}));
    assert_eq!(line(text_log.clone()).await, "GET /logged?x=1 200");
    // disable: no access log in the bootstrap.
    let off = input.replace("    accessLog:\n      settings:", "    accessLog:\n      disable: true\n      settings:");
    let (code, out, err) = gatewayc(&["translate", "-f", "-"], &off);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("http_connection_manager") && !out.contains("envoy.access_loggers"), "{out}");
}

/// Access logs to an OpenTelemetry collector named by an Envoy Gateway Backend: each request
/// is exported (OTLP logs over gRPC) with the text format as its body and the resources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_logs_to_an_opentelemetry_collector_through_a_backend() {
    let Some(envoy) = envoy() else { return };
    let collector = support::grpc::otlp_collector().await;
    let b = echo("b").await;
    let port = free_port();
    let spec = "  telemetry:\n    accessLog:\n      settings:\n      - format: {type: Text, text: \"otel-line %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%\"}\n        sinks:\n        - type: OpenTelemetry\n          openTelemetry:\n            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: collector}]\n            resources: {service.name: edge-gateway}\n";
    let mut input = with_proxy("otel", spec, port, &b);
    input.push_str(&format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: collector, namespace: default}}\nspec:\n  endpoints: [{{ip: {{address: 127.0.0.1, port: {}}}}}]\n", collector.addr.port()));
    let _s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    assert_eq!(request(port, "GET", "app", "/traced", &[]).await.expect("request").status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let found = loop {
        let hit = collector.received.lock().ok().and_then(|r| r.iter().find(|(_, m)| String::from_utf8_lossy(m).contains("otel-line GET /traced 200")).cloned());
        if let Some(h) = hit {
            break h;
        }
        assert!(std::time::Instant::now() < deadline, "no export reached the collector");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(found.0, "/opentelemetry.proto.collector.logs.v1.LogsService/Export");
    assert!(String::from_utf8_lossy(&found.1).contains("edge-gateway"), "the resource attribute");
}

/// `telemetry.metrics.matches`: Envoy keeps only the stats whose names match.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_matchers_keep_only_the_stats_asked_for() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (port, metrics) = (free_port(), free_port());
    let input = with_proxy("few", "  telemetry:\n    metrics:\n      matches: [{type: Prefix, value: \"cluster.\"}]\n", port, &b);
    let m = metrics.to_string();
    let _s = serve(&envoy, &input, &["--metrics-port", &m]).await;
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("app").status, 200);
    let scraped = request(metrics, "GET", "any", "/stats/prometheus", &[]).await.expect("metrics");
    assert!(scraped.body.contains("envoy_cluster_upstream_rq_total"), "{}", scraped.body);
    assert!(!scraped.body.contains("envoy_http_downstream_rq_total"), "the connection managers' stats are not kept");
}

/// `telemetry.metrics` enableRequestResponseSizesStats and enablePerEndpointStats: the size
/// histograms and the per-endpoint counters appear in the scrape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_per_endpoint_stats() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let (port, metrics) = (free_port(), free_port());
    let input = with_proxy("more", "  telemetry:\n    metrics: {enableRequestResponseSizesStats: true, enablePerEndpointStats: true}\n", port, &b);
    let m = metrics.to_string();
    let _s = serve(&envoy, &input, &["--metrics-port", &m]).await;
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("app").status, 200);
    let scraped = request(metrics, "GET", "any", "/stats/prometheus", &[]).await.expect("metrics");
    assert!(scraped.body.contains("envoy_cluster_upstream_rq_headers_size"), "size histograms");
    assert!(scraped.body.contains("envoy_cluster_endpoint_"), "per-endpoint stats");
}
