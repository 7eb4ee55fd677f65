//! Observability through a real Envoy, as Envoy Gateway configures it: the Prometheus endpoint
//! (`GET /stats/prometheus` on the metrics port, counters that move with traffic; other paths
//! and methods not served; an EnvoyProxy that disables it), an EnvoyProxy's access logs
//! (JSON and text formats to files, OpenTelemetry), and tracing (spans to an OTLP collector
//! and to a Zipkin receiver, sampling as asked).

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
    // What is not implemented is refused by name.
    let sinks = off.replace("prometheus: {disable: true}}", "prometheus: {disable: true}, sinks: [{type: OpenTelemetry}]}");
    let (code, _, err) = gatewayc(&["translate", "-f", "-"], &sinks);
    assert_ne!(code, 0);
    assert!(err.contains("EnvoyProxy spec.telemetry.metrics.sinks is not supported yet"), "{err}");
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

/// `telemetry.tracing` to an OpenTelemetry collector (OTLP over gRPC, through a Backend):
/// a server span per request, named as asked, with the tags asked for, the service name and
/// the resource attributes; and a client span per upstream call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_opentelemetry_collector() {
    let Some(envoy) = envoy() else { return };
    let collector = support::grpc::otlp_collector().await;
    let b = echo("b").await;
    let port = free_port();
    let spec = "  telemetry:\n    tracing:\n      samplingRate: 100\n      customTags:\n        tenant: {type: RequestHeader, requestHeader: {name: x-tenant, defaultValue: none}}\n        zone: {type: Literal, literal: {value: old}}\n      tags: {zone: eu-1, path: \"%REQ(:PATH)%\"}\n      spanName: {client: \"ingress %REQ(:PATH)%\", server: \"upstream %UPSTREAM_CLUSTER%\"}\n      provider:\n        type: OpenTelemetry\n        backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: collector}]\n        openTelemetry: {resourceAttributes: {deployment.environment: test}}\n";
    let mut input = with_proxy("traced", spec, port, &b);
    input.push_str(&format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {{name: collector, namespace: default}}\nspec:\n  endpoints: [{{ip: {{address: 127.0.0.1, port: {}}}}}]\n", collector.addr.port()));
    let _s = serve(&envoy, &input, &["--allow-loopback-backends"]).await;
    // Five requests make ten spans: Envoy sends them five at a time.
    for i in 0..5 {
        let r = request(port, "GET", "app", &format!("/t{i}"), &[("x-tenant", "acme")]).await.expect("request");
        assert_eq!(r.status, 200);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let spans = loop {
        let spans: Vec<_> = collector.received.lock().map(|r| r.iter().filter(|(p, _)| p == "/opentelemetry.proto.collector.trace.v1.TraceService/Export").flat_map(|(_, m)| support::grpc::otlp_spans(m)).collect()).unwrap_or_default();
        if spans.iter().filter(|(_, s)| s.kind == 2).count() >= 5 {
            break spans;
        }
        assert!(std::time::Instant::now() < deadline, "spans: {spans:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let servers: Vec<_> = spans.iter().filter(|(_, s)| s.kind == 2).collect();
    assert_eq!(servers.len(), 5, "one server span per request: {spans:?}");
    let mut names: Vec<_> = servers.iter().map(|(_, s)| s.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["ingress /t0", "ingress /t1", "ingress /t2", "ingress /t3", "ingress /t4"]);
    let (resource, first) = servers[0];
    assert_eq!(resource.get("service.name").map(String::as_str), Some("gw.default"), "{resource:?}");
    assert_eq!(resource.get("deployment.environment").map(String::as_str), Some("test"), "{resource:?}");
    assert_eq!(first.attributes.get("tenant").map(String::as_str), Some("acme"), "{first:?}");
    assert_eq!(first.attributes.get("zone").map(String::as_str), Some("eu-1"), "tags win over customTags: {first:?}");
    assert!(first.attributes.get("path").is_some_and(|p| p.starts_with("/t")), "{first:?}");
    let clients: Vec<_> = spans.iter().filter(|(_, s)| s.kind == 3).collect();
    assert!(!clients.is_empty() && clients.iter().all(|(_, s)| s.name == "upstream service/default/svc/8080"), "upstream spans: {clients:?}");
}

/// Zipkin (JSON over HTTP to `/api/v2/spans`, through a Service in another namespace): the
/// receiver gets the spans; B3 headers reach the backend, sampled or not as the rate says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_a_zipkin_receiver_and_sampling_follows_the_rate() {
    let Some(envoy) = envoy() else { return };
    let zipkin = echo("zipkin").await;
    let b = echo("b").await;
    let port = free_port();
    let spec = "  telemetry:\n    tracing:\n      samplingRate: 100\n      customTags: {team: {type: Literal, literal: {value: shop}}}\n      provider:\n        type: Zipkin\n        backendRefs: [{name: zipkin, namespace: monitoring, port: 8080}]\n        zipkin: {enable128BitTraceId: true}\n";
    let mut input = with_proxy("zipkin", spec, port, &b);
    input.push_str(&service("monitoring", "zipkin", &[zipkin.addr.port()]));
    let _s = serve(&envoy, &input, &[]).await;
    for i in 0..3 {
        let r = request(port, "GET", "app", &format!("/z{i}"), &[]).await.expect("request");
        assert_eq!(r.status, 200);
        let seen: serde_json::Value = serde_json::from_str(&r.body).expect("echo json");
        assert_eq!(seen["headers"]["x-b3-sampled"], "1", "{seen}");
        assert_eq!(seen["headers"]["x-b3-traceid"].as_str().map(str::len), Some(32), "128-bit trace ids: {seen}");
    }
    assert!(zipkin.wait_for("/api/v2/spans", std::time::Duration::from_secs(15)).await, "no spans reached the receiver");
    let bodies = zipkin.bodies.lock().map(|b| b.clone()).unwrap_or_default();
    let spans: Vec<serde_json::Value> = bodies.iter().filter(|(m, p, _)| m == "POST" && p == "/api/v2/spans").flat_map(|(_, _, b)| serde_json::from_str::<Vec<serde_json::Value>>(b).unwrap_or_default()).collect();
    let server = spans.iter().find(|s| s["kind"] == "SERVER").unwrap_or_else(|| panic!("no server span: {spans:?}"));
    assert_eq!(server["tags"]["team"], "shop", "{server}");
    // A rate of 0: the request is not sampled, and the backend is told so.
    let spec0 = spec.replace("samplingRate: 100", "samplingRate: 0");
    let port0 = free_port();
    let mut input = with_proxy("zipkin", &spec0, port0, &b);
    input.push_str(&service("monitoring", "zipkin", &[zipkin.addr.port()]));
    let _s0 = serve(&envoy, &input, &[]).await;
    let r = request(port0, "GET", "app", "/unsampled", &[]).await.expect("request");
    let seen: serde_json::Value = serde_json::from_str(&r.body).expect("echo json");
    assert_eq!(seen["headers"]["x-b3-sampled"], "0", "{seen}");
}

/// An EnvoyProxy's `bootstrap`: a Merge (lists appended, objects merged, as protobuf merges)
/// and JSON patches reach the running Envoy (its runtime, read on the admin interface); a
/// patch that does not apply fails translate and validate, and Replace is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_merge_and_json_patches_reach_envoy() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let runtime = |port: u16| async move {
        let r = request(port, "GET", "any", "/runtime", &[]).await.expect("runtime");
        serde_json::from_str::<serde_json::Value>(&r.body).expect("runtime json")
    };
    let port = free_port();
    let merge = "  bootstrap:\n    type: Merge\n    value: |\n      layered_runtime:\n        layers:\n        - name: merged\n          static_layer: {gatewayc.test.merged: on}\n";
    let s = serve(&envoy, &with_proxy("merge", merge, port, &b), &[]).await;
    assert_eq!(request(port, "GET", "app", "/", &[]).await.expect("app").status, 200, "the rest of the bootstrap is untouched");
    let rt = runtime(s.envoy.admin_port).await;
    assert_eq!(rt["entries"]["gatewayc.test.merged"]["final_value"], "on", "{rt:#}");
    drop(s);

    let port = free_port();
    let patch = "  bootstrap:\n    type: JSONPatch\n    jsonPatches:\n    - {op: add, path: /layered_runtime/layers/-, value: {name: patched, static_layer: {gatewayc.test.patched: yes}}}\n";
    let s = serve(&envoy, &with_proxy("patch", patch, port, &b), &[]).await;
    let rt = runtime(s.envoy.admin_port).await;
    assert_eq!(rt["entries"]["gatewayc.test.patched"]["final_value"], "yes", "{rt:#}");
    drop(s);

    let failing = with_proxy("failing", "  bootstrap:\n    type: JSONPatch\n    jsonPatches:\n    - {op: test, path: /admin, value: nothing}\n", free_port(), &b);
    for verb in ["translate", "validate"] {
        let (code, _, err) = gatewayc(&[verb, "-f", "-"], &failing);
        assert_eq!(code, 1, "{verb}: {err}");
        assert!(err.contains("proxy::bootstrap") && err.contains("test: the value at /admin differs"), "{verb}: {err}");
    }
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &with_proxy("replace", "  bootstrap: {value: \"admin: {}\"}\n", free_port(), &b));
    assert_eq!(code, 1);
    assert!(err.contains("EnvoyProxy bootstrap of type Replace"), "{err}");
}

/// An EnvoyProxy's preserveRouteOrder: routes match in the order written (older route
/// first, then rule order), not by Gateway API precedence, where an exact path would win.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preserve_route_order_matches_in_the_order_written() {
    let Some(envoy) = envoy() else { return };
    let (b, c) = (echo("b").await, echo("c").await);
    let input = |port: u16, spec: &str| {
        let mut i = with_proxy("order", spec, port, &b);
        i.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: exact, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n    - matches: [{path: {type: Exact, value: /x}}]\n      backendRefs: [{name: other, port: 8080}]\n");
        i.push_str(&service("default", "other", &[c.addr.port()]));
        i
    };
    let port = free_port();
    let s = serve(&envoy, &input(port, "  logging: {}\n"), &[]).await;
    assert_eq!(request(port, "GET", "app", "/x", &[]).await.expect("precedence").backend(), "c", "the exact path wins by precedence");
    drop(s);
    let port = free_port();
    let _s = serve(&envoy, &input(port, "  preserveRouteOrder: true\n"), &[]).await;
    assert_eq!(request(port, "GET", "app", "/x", &[]).await.expect("preserved").backend(), "b", "route app, written first, matches first");
    assert_eq!(request(port, "GET", "app", "/y", &[]).await.expect("preserved").backend(), "b");
}
