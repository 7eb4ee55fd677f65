//! `gatewayc render`: the manifests that run a Gateway. Rendered objects parse back into
//! strict types, snapshots cover the seed's scenarios, the Deployment's command line really
//! starts Envoy, and the post-renderer mode keeps its input byte for byte.

mod support;
use gatewayc::emit::k8s::types::*;
use serde_json::Value;
use support::*;

fn docs(text: &str) -> Vec<Value> {
    let l = gatewayc::source::load_str("render.yaml", text);
    assert!(l.diagnostics.iter().all(|d| !d.is_error()), "{:?}", l.diagnostics);
    l.documents.into_iter().map(|d| d.value).collect()
}

/// Every rendered object decodes into its strict type (unknown fields refused), and the
/// MetalLB objects satisfy their CRDs' required fields.
fn check_strict(objects: &[Value]) {
    for o in objects {
        let kind = o["kind"].as_str().unwrap_or_default();
        let r = match kind {
            "ConfigMap" => serde_json::from_value::<ConfigMap>(o.clone()).map(|_| ()),
            "Secret" => serde_json::from_value::<Secret>(o.clone()).map(|_| ()),
            "Deployment" => serde_json::from_value::<Deployment>(o.clone()).map(|_| ()),
            "Service" => serde_json::from_value::<Service>(o.clone()).map(|_| ()),
            "IPAddressPool" => serde_json::from_value::<IPAddressPool>(o.clone()).map(|p| assert!(!p.spec.addresses.is_empty())),
            "L2Advertisement" => serde_json::from_value::<L2Advertisement>(o.clone()).map(|_| ()),
            "PodDisruptionBudget" => serde_json::from_value::<PodDisruptionBudget>(o.clone()).map(|_| ()),
            "HorizontalPodAutoscaler" => serde_json::from_value::<HorizontalPodAutoscaler>(o.clone()).map(|_| ()),
            other => panic!("unexpected kind {other}"),
        };
        r.unwrap_or_else(|e| panic!("{kind} does not parse back strictly: {e}\n{o:#}"));
        round_trip(o);
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        assert!(gatewayc::validate::is_dns_label(name), "{kind} name `{name}` is not a DNS label");
    }
}

/// A core object survives a round trip through Kubernetes' own types as k8s-openapi writes
/// them (independent of gatewayc's): a field Kubernetes does not know, misspelt or misplaced,
/// is dropped by them, and the difference fails here.
fn round_trip(o: &Value) {
    use k8s_openapi::api::{apps::v1 as apps, autoscaling::v2 as autoscaling, core::v1 as core, policy::v1 as policy};
    fn back<T: serde::de::DeserializeOwned + serde::Serialize>(o: &Value) -> Value {
        let t: T = serde_json::from_value(o.clone()).unwrap_or_else(|e| panic!("k8s-openapi refuses it: {e}\n{o:#}"));
        serde_json::to_value(&t).expect("serialize")
    }
    let again = match o["kind"].as_str().unwrap_or_default() {
        "ConfigMap" => back::<core::ConfigMap>(o),
        "Secret" => back::<core::Secret>(o),
        "Service" => back::<core::Service>(o),
        "Deployment" => back::<apps::Deployment>(o),
        "PodDisruptionBudget" => back::<policy::PodDisruptionBudget>(o),
        "HorizontalPodAutoscaler" => back::<autoscaling::HorizontalPodAutoscaler>(o),
        // MetalLB's kinds are CRDs k8s-openapi does not have.
        _ => return,
    };
    assert_eq!(&again, o, "lost or changed in a round trip through k8s-openapi");
}

/// Hide what changes from run to run (certificates made at test time, their checksum).
fn redact(mut v: Value) -> Value {
    if v["kind"] == "Secret"
        && let Some(data) = v["data"].as_object_mut()
    {
        for val in data.values_mut() {
            *val = Value::String("<redacted>".into());
        }
    }
    if let Some(a) = v.pointer_mut("/spec/template/metadata/annotations/gatewayc.dev~1config-checksum") {
        *a = Value::String("<checksum>".into());
    }
    v
}

fn snapshot(name: &str, text: &str) {
    let objs: Vec<Value> = docs(text).into_iter().map(redact).collect();
    let yaml = gatewayc::emit::yaml::to_string_multiple(&objs).expect("yaml");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, yaml);
    });
}

#[test]
fn render_plain_http() {
    let (code, out, err) = gatewayc(&["render", "-f", "fixtures/quickstart"], "");
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let kinds: Vec<&str> = objs.iter().map(|o| o["kind"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["ConfigMap", "Deployment", "Service"]);
    let svc = &objs[2];
    assert_eq!(svc["spec"]["type"], "LoadBalancer");
    assert_eq!(svc["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 10080);
    let dep = &objs[1];
    assert_eq!(dep["spec"]["selector"]["matchLabels"], svc["spec"]["selector"]);
    assert_eq!(dep["spec"]["template"]["spec"]["containers"][0]["image"], "envoyproxy/envoy:distroless-v1.40.0");
    assert_eq!(dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"], true);
    snapshot("render__plain_http", &out);
}

#[test]
fn render_metallb_static_address_and_infrastructure() {
    let args = ["render", "-f", "fixtures/render/metallb", "--metallb-pool", "lan=192.168.10.0/24", "--metallb-pool", "spare=10.9.0.1-10.9.0.9", "--metallb-l2", "--external-dns"];
    let (code, out, err) = gatewayc(&args, "");
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let svc = objs.iter().find(|o| o["kind"] == "Service").expect("service");
    let ann = &svc["metadata"]["annotations"];
    assert_eq!(ann["metallb.io/loadBalancerIPs"], "192.168.10.20");
    assert_eq!(ann["metallb.io/address-pool"], "lan");
    assert_eq!(ann["external-dns.alpha.kubernetes.io/hostname"], "api.example.com,www.example.com");
    assert!(svc["spec"].get("externalIPs").is_none());
    // spec.infrastructure labels and annotations are on every generated object.
    for o in objs.iter().filter(|o| o["metadata"]["namespace"] == "web") {
        assert_eq!(o["metadata"]["labels"]["team"], "platform", "{}", o["kind"]);
        assert_eq!(o["metadata"]["annotations"]["example.com/owner"], "platform-team", "{}", o["kind"]);
    }
    snapshot("render__metallb", &out);
    // An address outside every pool cannot be assigned: an error, nothing written.
    let (code, out, err) = gatewayc(&["render", "-f", "fixtures/render/metallb", "--metallb-pool", "other=10.0.0.0/24"], "");
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("conflict::address-outside-pool"), "{err}");
    assert_eq!(gatewayc(&["render", "-f", "fixtures/render/metallb", "--metallb-pool", "bad=10.0.0.0/40"], "").0, 2);
}

fn https_input(port: u16, pki: &Pki) -> String {
    let (crt, key) = pki.leaf(&["secure.example.com"]);
    let mut input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: secure, namespace: default}}\nspec:\n  gatewayClassName: eg\n  listeners:\n    - {{name: https, protocol: HTTPS, port: {port}, hostname: secure.example.com, tls: {{certificateRefs: [{{name: secure-cert}}]}}}}\n"
    );
    input.push_str(&tls_secret("default", "secure-cert", &crt, &key));
    input
}

#[test]
fn render_https_keeps_keys_out_of_the_configmap() {
    let pki = Pki::new("render CA");
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &https_input(443, &pki));
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let cm = objs.iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    let bootstrap = cm["data"]["envoy.yaml"].as_str().expect("bootstrap");
    assert!(!bootstrap.contains("PRIVATE KEY"), "no key material in a ConfigMap");
    assert!(bootstrap.contains("/etc/envoy/secrets/default/secure-cert/tls.key"));
    let secret = objs.iter().find(|o| o["kind"] == "Secret").expect("secret");
    assert!(secret["data"]["default.secure-cert.tls.key"].is_string());
    snapshot("render__https", &out);
}

/// The Gateway's client certificate for backends is a key like a listener's: out of the
/// ConfigMap, in the mounted Secret, referenced by path.
#[test]
fn render_keeps_the_backend_client_key_out_of_the_configmap() {
    let pki = Pki::new("render CA");
    let (crt, key) = pki.leaf(&["gateway.example.com"]);
    let mut input = format!(
        "{EG_CLASS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\nspec:\n  gatewayClassName: eg\n  tls: {{backend: {{clientCertificateRef: {{name: client}}}}}}\n  listeners: [{{name: http, protocol: HTTP, port: 80}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{name: api, port: 443}}]}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: default}}\nspec:\n  ports: [{{name: https, port: 443}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {{name: api, namespace: default}}\nspec:\n  targetRefs: [{{group: \"\", kind: Service, name: api}}]\n  validation: {{hostname: api.internal, wellKnownCACertificates: System}}\n"
    );
    input.push_str(&tls_secret("default", "client", &crt, &key));
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    let cm = objs.iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    let bootstrap = cm["data"]["envoy.yaml"].as_str().expect("bootstrap");
    assert!(!bootstrap.contains("PRIVATE KEY"), "no key material in a ConfigMap");
    assert!(bootstrap.contains("/etc/envoy/secrets/default/client/tls.key"), "{bootstrap}");
    let secret = objs.iter().find(|o| o["kind"] == "Secret").expect("secret");
    assert!(secret["data"]["default.client.tls.key"].is_string());
}

/// The Deployment's command line, run with the local envoy against the rendered ConfigMap and
/// Secret (their mount paths mapped into a temp dir): /ready answers on the probe's port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_deployment_starts_envoy() {
    let Some(envoy) = envoy() else { return };
    let pki = Pki::new("render CA");
    let (port, ready, admin, metrics) = (free_port(), free_port(), free_port(), free_port());
    let admin_arg = format!("127.0.0.1:{admin}");
    let (ready_arg, metrics_arg) = (ready.to_string(), metrics.to_string());
    let (code, out, err) = gatewayc(&["render", "-f", "-", "--readiness-port", &ready_arg, "--metrics-port", &metrics_arg, "--admin-address", &admin_arg], &https_input(port, &pki));
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().to_string_lossy().to_string();
    let map = |s: &str| s.replace("/etc/envoy", &format!("{root}/etc/envoy"));
    let dep: Deployment = serde_json::from_value(objs.iter().find(|o| o["kind"] == "Deployment").expect("deployment").clone()).expect("strict");
    let cm: ConfigMap = serde_json::from_value(objs.iter().find(|o| o["kind"] == "ConfigMap").expect("cm").clone()).expect("strict");
    let secret: Secret = serde_json::from_value(objs.iter().find(|o| o["kind"] == "Secret").expect("secret").clone()).expect("strict");
    let pod = &dep.spec.template.spec;
    let c = &pod.containers[0];
    // Lay the volumes out as the kubelet would.
    for m in c.volume_mounts.iter().filter_map(Entry::ours) {
        let v = pod.volumes.iter().filter_map(Entry::ours).find(|v| v.name == m.name).expect("volume");
        let at = std::path::PathBuf::from(map(&m.mount_path));
        std::fs::create_dir_all(&at).expect("mkdir");
        if v.config_map.is_some() {
            for (k, val) in &cm.data {
                std::fs::write(at.join(k), map(val)).expect("write");
            }
        }
        if let Some(s) = &v.secret {
            use base64::Engine;
            for item in &s.items {
                let p = at.join(&item.path);
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                let bytes = base64::engine::general_purpose::STANDARD.decode(&secret.data[&item.key]).expect("base64");
                std::fs::write(p, bytes).expect("write");
            }
        }
    }
    assert_eq!(c.readiness_probe.http_get.port, u32::from(ready));
    let args: Vec<String> = c.args.iter().map(|a| map(a)).collect();
    let mut child = std::process::Command::new(&envoy)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn envoy");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut ok = false;
    while std::time::Instant::now() < deadline {
        if let Ok(r) = get(ready, "pod", &c.readiness_probe.http_get.path).await
            && r.status == 200
        {
            ok = true;
            break;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("envoy exited: {st}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // And the HTTPS listener serves with the certificate from the Secret; Prometheus scrapes.
    let tls = https_request(port, "secure.example.com", &pki.ca_der, "secure.example.com", "/").await;
    let scraped = get(metrics, "pod", "/stats/prometheus").await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "readiness probe never answered 200");
    assert_eq!(tls.expect("tls handshake with the mounted certificate").status, 404);
    let scraped = scraped.expect("metrics");
    assert!(scraped.status == 200 && scraped.body.contains("envoy_server_live"), "{scraped:?}");
}

/// An EnvoyProxy's logging levels, concurrency and extra arguments become the container's
/// command line, which Envoy accepts; options gatewayc sets itself are refused.
#[test]
fn envoy_proxy_logging_concurrency_and_extra_args() {
    let class = EG_CLASS.replace("spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}", "spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller, parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: p, namespace: default}}");
    let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 8080}]\n";
    let proxy = |spec: &str| format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: EnvoyProxy\nmetadata: {{name: p, namespace: default}}\nspec:\n{spec}");
    let input = format!("{class}{gw}{}", proxy("  logging: {level: {default: info, upstream: debug, http: trace}}\n  concurrency: 2\n  extraArgs: [--service-node, edge]\n"));
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    let dep = objs.iter().find(|o| o["kind"] == "Deployment").expect("deployment");
    let args: Vec<String> = dep["spec"]["template"]["spec"]["containers"][0]["args"].as_array().expect("args").iter().filter_map(|a| a.as_str().map(str::to_string)).collect();
    let joined = args.join(" ");
    assert!(joined.contains("--log-level info --disable-hot-restart") && joined.contains("--component-log-level http:trace,upstream:debug --concurrency 2 --service-node edge"), "{joined}");
    // Envoy takes them (validate mode, on the translated bootstrap).
    if let Some(envoy) = envoy() {
        let (code, bootstrap, err) = gatewayc(&["translate", "-f", "-"], &input);
        assert_eq!(code, 0, "{err}");
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("envoy.yaml");
        std::fs::write(&path, bootstrap).expect("write");
        let rest: Vec<&String> = args.iter().skip(2).collect();
        let out = std::process::Command::new(&envoy).arg("--mode").arg("validate").arg("-c").arg(&path).args(rest).output().expect("envoy");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // Envoy Gateway's default level is warn.
    let (_, out, _) = gatewayc(&["render", "-f", "-"], &format!("{EG_CLASS}{gw}"));
    assert!(out.contains("- --log-level\n") && out.contains("- warn\n"), "{out}");
    let (code, _, err) = gatewayc(&["render", "-f", "-"], &format!("{class}{gw}{}", proxy("  extraArgs: [--log-level, debug]\n")));
    assert_ne!(code, 0);
    assert!(err.contains("extraArgs cannot set --log-level"), "{err}");
}

#[test]
fn passthrough_keeps_an_unrelated_stream_byte_for_byte() {
    let stream = "# a chart's output\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web   # keep this comment\nspec: {replicas: 3}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  flag: \"yes\"\n";
    let (code, out, err) = gatewayc(&["render", "-f", "-", "--passthrough"], stream);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, stream);
    let (code, out, _) = gatewayc(&["render", "-f", "-", "--passthrough"], "");
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn passthrough_appends_generated_objects_deterministically() {
    let mut input = String::new();
    for f in ["gateway.yaml", "routes.yaml", "services.yaml"] {
        input.push_str(&std::fs::read_to_string(std::path::Path::new("fixtures/quickstart").join(f)).expect("read"));
        input.push_str("---\n");
    }
    let (code, a, err) = gatewayc(&["render", "-f", "-", "--passthrough"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(a.starts_with(&input), "input first, unchanged");
    let generated = docs(&a[input.len()..]);
    check_strict(&generated);
    assert_eq!(generated.len(), 3);
    let (_, b, _) = gatewayc(&["render", "-f", "-", "--passthrough"], &input);
    assert_eq!(a, b, "same input, same bytes");
}

#[test]
fn render_output_dir_layout() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().to_string_lossy().to_string();
    let (code, _, err) = gatewayc(&["render", "-f", "fixtures/render/metallb", "--output-dir", &d, "--metallb-pool", "lan=192.168.10.0/24", "--metallb-l2"], "");
    assert_eq!(code, 0, "{err}");
    for f in ["web/edge/configmap.yaml", "web/edge/deployment.yaml", "web/edge/service.yaml", "metallb-system/metallb/ipaddresspool-lan.yaml", "metallb-system/metallb/l2advertisement-gatewayc-l2.yaml"] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
}

#[test]
fn render_envoyproxy_customised_service_and_deployment() {
    let (code, out, err) = gatewayc(&["render", "-f", "fixtures/render/envoyproxy"], "");
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let svc = objs.iter().find(|o| o["kind"] == "Service").expect("service");
    assert_eq!(svc["spec"]["loadBalancerClass"], "metallb.io/metallb");
    assert_eq!(svc["spec"]["loadBalancerSourceRanges"][0], "203.0.113.0/24");
    assert_eq!(svc["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(svc["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"], "nlb");
    assert_eq!(svc["metadata"]["labels"]["exposure"], "internet");
    let dep = objs.iter().find(|o| o["kind"] == "Deployment").expect("deployment");
    assert_eq!(dep["spec"]["replicas"], 3);
    assert_eq!(dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"], "1Gi");
    snapshot("render__envoyproxy", &out);
    // A parametersRef to a missing EnvoyProxy: the class is not accepted.
    let text = std::fs::read_to_string("fixtures/render/envoyproxy/input.yaml").expect("read").replace("kind: EnvoyProxy, name: custom", "kind: EnvoyProxy, name: missing");
    let (code, out, _) = gatewayc(&["status", "-f", "-"], &text);
    assert_eq!(code, 0);
    assert!(out.contains("reason: InvalidParameters"), "{out}");
}

/// A ClientTrafficPolicy's PROXY protocol behind a load balancer that can send it (here AWS,
/// by the EnvoyProxy's Service annotations): the Service asks for it. Not when a port of the
/// Gateway does not read the header (the load balancer would send it to every port), nor
/// when the Service already says.
#[test]
fn render_asks_a_cloud_load_balancer_for_the_proxy_protocol() {
    let text = std::fs::read_to_string("fixtures/render/envoyproxy/input.yaml").expect("read");
    let policy = |section: &str| format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata: {{name: pp, namespace: default}}\nspec:\n  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: edge{section}}}]\n  proxyProtocol: {{}}\n");
    let annotation = |input: &str| {
        let (code, out, err) = gatewayc(&["render", "-f", "-"], input);
        assert_eq!(code, 0, "{err}");
        let objs = docs(&out);
        let svc = objs.iter().find(|o| o["kind"] == "Service").expect("service").clone();
        svc["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-proxy-protocol"].as_str().map(str::to_string)
    };
    assert_eq!(annotation(&format!("{text}{}", policy(""))).as_deref(), Some("*"));
    assert_eq!(annotation(&text), None, "no policy, no PROXY protocol");
    let two_ports = text.replace("listeners: [{name: http, protocol: HTTP, port: 80}]", "listeners: [{name: http, protocol: HTTP, port: 80}, {name: alt, protocol: HTTP, port: 8080}]");
    assert_eq!(annotation(&format!("{two_ports}{}", policy(", sectionName: http"))), None, "port 8080 does not read the header");
    assert_eq!(annotation(&format!("{two_ports}{}", policy(""))).as_deref(), Some("*"));
}

#[test]
fn status_reports_static_addresses_and_dns_hostnames() {
    let (code, out, err) = gatewayc(&["status", "-f", "fixtures/render/metallb", "--external-dns"], "");
    assert_eq!(code, 0, "{err}");
    let gw = docs(&out).into_iter().find(|d| d["kind"] == "Gateway").expect("gateway");
    let addrs: Vec<(String, String)> = gw["status"]["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|a| (a["type"].as_str().unwrap_or("").into(), a["value"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(
        addrs,
        [("IPAddress".into(), "192.168.10.20".into()), ("Hostname".into(), "api.example.com".into()), ("Hostname".into(), "www.example.com".into())]
    );
}

/// A UDP listener's Service and container ports are UDP; a TCP listener on the same number
/// is a second, TCP port.
#[test]
fn render_udp_and_tcp_ports() {
    let (code, out, err) = gatewayc(&["render", "-f", "fixtures/translate/streams"], "");
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let svc = objs.iter().find(|o| o["kind"] == "Service").expect("service");
    let ports: Vec<(String, u64, String)> = svc["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or("").into(), p["port"].as_u64().unwrap_or(0), p["protocol"].as_str().unwrap_or("").into()))
        .collect();
    assert!(ports.contains(&("udp-53".into(), 53, "UDP".into())), "{ports:?}");
    assert!(ports.contains(&("tcp-5432".into(), 5432, "TCP".into())), "{ports:?}");
    assert!(ports.contains(&("tls-443".into(), 443, "TCP".into())), "{ports:?}");
    let dep = objs.iter().find(|o| o["kind"] == "Deployment").expect("deployment");
    let cports = dep["spec"]["template"]["spec"]["containers"][0]["ports"].as_array().expect("container ports");
    assert!(cports.iter().any(|p| p["containerPort"] == 10053 && p["protocol"] == "UDP"), "{cports:?}");
}

/// Global rate limits: render writes the rate-limit service's configuration into a ConfigMap
/// of its own, the same text `translate --output-dir` writes beside the bootstrap, and the
/// bootstrap it carries asks that service.
#[test]
fn render_writes_the_rate_limit_service_configuration() {
    let input = format!(
        "{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{name: s, port: 80}}]}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: default}}\nspec: {{ports: [{{port: 80}}]}}\n---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {{name: p, namespace: default}}\nspec:\n  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}}]\n  rateLimit: {{global: {{rules: [{{limit: {{requests: 5, unit: Minute}}}}]}}}}\n",
        http_gateway(8080)
    );
    let rls = ["--rate-limit-service", "ratelimit.envoy-gateway-system:8081"];
    let (code, out, err) = gatewayc(&["render", "-f", "-", rls[0], rls[1]], &input);
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let cm = objs.iter().find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"].as_str().is_some_and(|n| n.ends_with("-ratelimit"))).expect("the rate-limit ConfigMap");
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().to_str().expect("utf-8");
    let (code, _, err) = gatewayc(&["translate", "-f", "-", rls[0], rls[1], "--output-dir", out_dir], &input);
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(dir.path().join("default/gw/ratelimit/http-8080.yaml")).expect("translate's file");
    assert_eq!(cm["data"]["http-8080.yaml"].as_str(), Some(written.as_str()));
    assert!(written.contains("requests_per_unit: 5") && written.contains("domain: default/gw/http-8080"), "{written}");
    let bootstrap = objs.iter().find_map(|o| o["data"]["envoy.yaml"].as_str()).expect("bootstrap");
    assert!(bootstrap.contains("ratelimit_cluster") && bootstrap.contains("ratelimit.envoy-gateway-system"), "{bootstrap}");
}

/// SecurityPolicy credentials never land in a ConfigMap: the htpasswd list goes to the mounted
/// Secret (the bootstrap names its file); a bootstrap holding API keys is a Secret itself.
#[test]
fn render_keeps_security_credentials_out_of_configmaps() {
    use support::policy::*;
    let mut input = http_gateway(80);
    input.push_str(&route("app", "/", "svc"));
    input.push_str(&service("default", "svc", &[8080]));
    input.push_str(&opaque_secret("users", &[(".htpasswd", &htpasswd_line("alice", "wonderland"))]));
    let basic = security_policy("basic", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", "  basicAuth: {users: {name: users}}\n");
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &format!("{input}{basic}"));
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let cm = objs.iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    let bootstrap = cm["data"]["envoy.yaml"].as_str().expect("bootstrap");
    assert!(!bootstrap.contains("{SHA}") && bootstrap.contains("/etc/envoy/secrets/default/users/htpasswd"), "{bootstrap}");
    let secret = objs.iter().find(|o| o["kind"] == "Secret").expect("secret");
    assert!(secret["data"]["default.users.htpasswd"].is_string(), "{secret}");

    let keys = security_policy("keys", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", "  apiKeyAuth: {credentialRefs: [{name: keys}], extractFrom: [{headers: [x-api-key]}]}\n");
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &format!("{input}{}{keys}", opaque_secret("keys", &[("client", "s3cret-key")])));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("s3cret-key"), "the key appears only base64 in a Secret");
    let objs = docs(&out);
    check_strict(&objs);
    assert!(objs.iter().all(|o| o["kind"] != "ConfigMap"), "no ConfigMap holds the bootstrap");
    let secret = objs.iter().find(|o| o["kind"] == "Secret" && o["metadata"]["name"].as_str().is_some_and(|n| n.ends_with("-bootstrap"))).expect("bootstrap secret");
    assert!(secret["data"]["envoy.yaml"].is_string());
    let deploy = objs.iter().find(|o| o["kind"] == "Deployment").expect("deployment");
    let volumes = deploy["spec"]["template"]["spec"]["volumes"].as_array().expect("volumes");
    assert!(volumes.iter().any(|v| v["name"] == "config" && v["secret"]["secretName"] == secret["metadata"]["name"]), "{volumes:?}");

    // An OIDC client secret (and the HMAC key) are files of the mounted Secret.
    let oidc = security_policy("login", "2025-01-01T00:00:00Z", "{group: gateway.networking.k8s.io, kind: Gateway, name: gw}", "  oidc: {provider: {issuer: \"https://idp.example\", authorizationEndpoint: \"https://idp.example/a\", tokenEndpoint: \"https://idp.example/t\"}, clientID: c, clientSecret: {name: client}}\n");
    let (code, out, err) = gatewayc(&["render", "-f", "-"], &format!("{input}{}{oidc}", opaque_secret("client", &[("client-secret", "0idc-s3cret")])));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("0idc-s3cret"), "the client secret appears only base64 in a Secret");
    let objs = docs(&out);
    check_strict(&objs);
    let cm = objs.iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    let bootstrap = cm["data"]["envoy.yaml"].as_str().expect("bootstrap");
    assert!(bootstrap.contains("/etc/envoy/secrets/securitypolicy/default/login/oauth2/client-secret"), "{bootstrap}");
    let secret = objs.iter().find(|o| o["kind"] == "Secret").expect("secret");
    assert!(secret["data"]["securitypolicy.default.login.oauth2.client-secret"].is_string() && secret["data"]["securitypolicy.default.login.oauth2.hmac"].is_string(), "{secret}");
}

/// The round trip catches what gatewayc's own types would let pass: a misspelt field.
#[test]
#[should_panic(expected = "lost or changed in a round trip through k8s-openapi")]
fn a_misspelt_field_fails_the_round_trip() {
    round_trip(&serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "date": {"a": "b"}}));
}

/// An EnvoyProxy's workload shape: the Deployment's strategy, the pods' labels, annotations,
/// scheduling and security context, the container's env and mounts, an init container, a
/// PodDisruptionBudget and a HorizontalPodAutoscaler (which takes the replica count), each
/// where Kubernetes reads it (every object survives the k8s-openapi round trip), with
/// gatewayc's own selector labels, volumes and mounts kept.
#[test]
fn render_envoyproxy_workload_shape() {
    let (code, out, err) = gatewayc(&["render", "-f", "fixtures/render/workload"], "");
    assert_eq!(code, 0, "{err}");
    let objs = docs(&out);
    check_strict(&objs);
    let of = |kind: &str| objs.iter().find(|o| o["kind"] == kind).unwrap_or_else(|| panic!("no {kind}"));
    let dep = of("Deployment");
    assert_eq!(dep["spec"].get("replicas"), None, "the autoscaler decides");
    assert_eq!(dep["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "50%");
    let tpl = &dep["spec"]["template"];
    assert_eq!(tpl["metadata"]["labels"]["team"], "edge");
    assert_eq!(tpl["metadata"]["labels"]["app.kubernetes.io/managed-by"], dep["spec"]["selector"]["matchLabels"]["app.kubernetes.io/managed-by"], "the selector's labels win over a pod label of the same name");
    assert_eq!(tpl["metadata"]["annotations"]["prometheus.io/scrape"], "true");
    assert!(tpl["metadata"]["annotations"]["gatewayc.dev/config-checksum"].is_string());
    let pod = &tpl["spec"];
    assert_eq!(pod["nodeSelector"]["kubernetes.io/os"], "linux");
    assert_eq!(pod["tolerations"][0]["key"], "dedicated");
    assert_eq!(pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"], 100);
    assert_eq!(pod["priorityClassName"], "edge-critical");
    assert_eq!(pod["securityContext"]["runAsUser"], 65532, "the given pod security context replaces gatewayc's");
    assert_eq!(pod["initContainers"][0]["name"], "warm-up");
    let volumes: Vec<&str> = pod["volumes"].as_array().expect("volumes").iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(volumes, ["config", "scratch"]);
    let c = &pod["containers"][0];
    assert_eq!(c["env"][0]["name"], "TZ");
    let mounts: Vec<&str> = c["volumeMounts"].as_array().expect("mounts").iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(mounts, ["config", "scratch"]);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "gatewayc's container security context stays when none is given");
    assert_eq!(of("Service")["spec"]["allocateLoadBalancerNodePorts"], false);
    let pdb = of("PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], dep["spec"]["selector"]["matchLabels"]);
    let hpa = of("HorizontalPodAutoscaler");
    assert_eq!((hpa["spec"]["minReplicas"].as_i64(), hpa["spec"]["maxReplicas"].as_i64()), (Some(2), Some(6)));
    assert_eq!((dep["metadata"]["name"].as_str(), hpa["metadata"]["name"].as_str()), (Some("edge-proxy"), Some("edge-autoscaler")), "the names given");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "edge-proxy", "the autoscaler scales the Deployment by its given name");
    assert_eq!(pdb["metadata"]["name"], of("Service")["metadata"]["name"], "gatewayc's name where none is given");
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 80, "Envoy Gateway's default metric");
    snapshot("render__workload", &out);
}
