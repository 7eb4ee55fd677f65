//! The data-driven conformance suite: each fixtures/conformance/<case>/ holds manifests and a
//! requests.yaml of requests with expectations, run through the real Envoy against Rust echo
//! backends (and a real TLS client for HTTPS cases). Every case names the Gateway API
//! feature(s) it exercises; docs/features.md must list them.
//!
//! Placeholders in both files: `${port:NAME}` is a free loopback port, one per NAME.
//! The harness adds a GatewayClass `eg` of our controller, one echo backend per entry of
//! `backends` (a Service `NAME` with port 8080 and an EndpointSlice), and one TLS Secret per
//! entry of `secrets`, signed by a CA made for the run. Stream backends: `tcp:NAME` (greets
//! with its name), `udp:NAME` (answers with its name; the Service port is UDP) and
//! `tls:NAME@HOST,HOST` (TLS with its own certificate for those hosts, then greets); a request
//! with `transport: tcp`, `udp` or `tls` checks which one answered (`backend`), which
//! certificate the client saw (`certificate`: a `tls:` backend or a secret), or `refused`.
//! gRPC: `grpc:NAME` is a gRPC backend (it answers any method with its name and the metadata
//! it saw); a request with `transport: grpc` calls `path` (`/service/method`) with `headers`
//! as metadata and `host` as `:authority` (over TLS with `sni`), and checks `backend`,
//! `headers`, `absentHeaders`, `responseHeaders` (response metadata), `mirroredTo` and
//! `grpcStatus` (a failed call's code, as tonic names it: `Unimplemented`, ...).

mod support;
use serde::Deserialize;
use support::{grpc, streams};
use std::collections::BTreeMap;
use support::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    features: Vec<String>,
    #[serde(default)]
    backends: Vec<String>,
    #[serde(default)]
    secrets: Vec<SecretSpec>,
    #[serde(default)]
    requests: Vec<Req>,
    /// What `gatewayc status` must say.
    #[serde(default)]
    status: Vec<StatusExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusExpect {
    kind: String,
    /// `namespace/name` (GatewayClass: `name`).
    name: String,
    /// For a route: the parent Gateway `namespace/name` (and optional `/sectionName`).
    #[serde(default)]
    parent: Option<String>,
    /// For a Gateway: the listener.
    #[serde(default)]
    listener: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default, rename = "attachedRoutes")]
    attached_routes: Option<u64>,
    /// The object has no status at all (not ours).
    #[serde(default, rename = "noStatus")]
    no_status: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretSpec {
    name: String,
    hosts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Req {
    port: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    path: String,
    /// `tcp`, `udp` or `tls` (with `sni`): a raw connection to a stream backend instead of HTTP.
    #[serde(default)]
    transport: Option<String>,
    #[serde(default = "get")]
    method: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// TLS with this SNI (verified against the run's CA).
    #[serde(default)]
    sni: Option<String>,
    expect: Expect,
}

fn get() -> String {
    "GET".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    status: Option<u16>,
    /// Which backend answered (`namespace/name` or `name`).
    #[serde(default)]
    backend: Option<String>,
    /// Path and query the backend saw.
    #[serde(default)]
    path: Option<String>,
    /// Host the backend saw.
    #[serde(default)]
    host: Option<String>,
    /// Headers the backend saw.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// HTTP version the backend saw (`HTTP/1.1`, `HTTP/2.0`).
    #[serde(default)]
    version: Option<String>,
    /// Headers the backend must not see.
    #[serde(default, rename = "absentHeaders")]
    absent_headers: Vec<String>,
    /// Headers of the response the client got.
    #[serde(default, rename = "responseHeaders")]
    response_headers: BTreeMap<String, String>,
    /// Headers the response must not have.
    #[serde(default, rename = "absentResponseHeaders")]
    absent_response_headers: Vec<String>,
    /// Envoy answered itself: no backend saw the request.
    #[serde(default, rename = "answeredByGateway")]
    answered_by_gateway: bool,
    #[serde(default)]
    location: Option<String>,
    /// The TLS handshake must fail.
    #[serde(default, rename = "tlsFails")]
    tls_fails: bool,
    /// Backends (`namespace/name` as in `backends`) that must receive a copy of the request.
    #[serde(default, rename = "mirroredTo")]
    mirrored_to: Vec<String>,
    /// Stream requests: nothing answers (connection refused or closed, no datagram back).
    #[serde(default)]
    refused: bool,
    /// TLS stream requests: whose certificate the client saw (a `tls:` backend or a secret).
    #[serde(default)]
    certificate: Option<String>,
    /// gRPC requests: the call fails with this status code.
    #[serde(default, rename = "grpcStatus")]
    grpc_status: Option<String>,
}

fn substitute(text: &str, ports: &mut BTreeMap<String, u16>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${port:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let end = after.find('}').expect("unterminated ${port:");
        let name = &after[..end];
        let port = *ports.entry(name.to_string()).or_insert_with(free_port);
        out.push_str(&port.to_string());
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn yaml_value(text: &str) -> serde_json::Value {
    let l = gatewayc::source::load_str("requests.yaml", text);
    assert!(l.diagnostics.iter().all(|d| !d.is_error()), "{:?}", l.diagnostics);
    l.documents.into_iter().next().expect("one document").value
}

pub fn case_dirs() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir("fixtures/conformance").expect("fixtures/conformance").map(|e| e.expect("entry").path()).collect();
    v.sort();
    v
}

async fn run_case(dir: &std::path::Path, envoy: &std::path::Path) -> Vec<String> {
    let mut ports = BTreeMap::new();
    let manifests = substitute(&std::fs::read_to_string(dir.join("manifests.yaml")).expect("manifests.yaml"), &mut ports);
    let case: Case = serde_json::from_value(yaml_value(&substitute(
        &std::fs::read_to_string(dir.join("requests.yaml")).expect("requests.yaml"),
        &mut ports,
    )))
    .unwrap_or_else(|e| panic!("{}: requests.yaml: {e}", dir.display()));
    assert!(!case.features.is_empty());
    let pki = Pki::new("conformance CA");
    let mut input = String::from(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: eg}\nspec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}\n---\n",
    );
    input.push_str(&manifests);
    let mut echoes = Vec::new();
    let mut grpcs = BTreeMap::new();
    // Certificates by the name a `certificate` expectation uses.
    let mut certs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for b in &case.backends {
        if let Some((kind, rest)) = b.split_once(':') {
            let (name, hosts) = rest.split_once('@').unwrap_or((rest, ""));
            let (addr, protocol) = match kind {
                "grpc" => {
                    let g = grpc::grpc_backend(name).await;
                    let addr = g.addr;
                    grpcs.insert(name.to_string(), g);
                    (addr, "TCP")
                }
                "tcp" => (streams::tcp_backend(name).await, "TCP"),
                "udp" => (streams::udp_backend(name).await, "UDP"),
                _ => {
                    let hosts: Vec<&str> = hosts.split(',').filter(|h| !h.is_empty()).collect();
                    let (crt, key) = pki.leaf(&hosts);
                    certs.insert(name.to_string(), streams::rustls_pemfile_certs(&crt).remove(0).to_vec());
                    (streams::tls_backend(name, &crt, &key).await, "TCP")
                }
            };
            input.push_str(&format!(
                "\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  ports: [{{name: p, port: 8080, protocol: {protocol}}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}-x1\n  namespace: default\n  labels: {{kubernetes.io/service-name: {name}}}\naddressType: IPv4\nports: [{{name: p, port: {}, protocol: {protocol}}}]\nendpoints:\n  - addresses: [127.0.0.1]\n",
                addr.port()
            ));
            continue;
        }
        // `ns/name@h2c` gives the Service port appProtocol kubernetes.io/h2c.
        let (b, app) = match b.split_once('@') {
            Some((b, "h2c")) => (b, ", appProtocol: kubernetes.io/h2c"),
            Some((b, _)) => (b, ""),
            None => (b.as_str(), ""),
        };
        let (ns, name) = b.split_once('/').unwrap_or(("default", b));
        let e = echo(b).await;
        input.push_str(&format!(
            "\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  ports: [{{name: http, port: 8080{app}}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}-x1\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: {name}}}\naddressType: IPv4\nports: [{{name: http, port: {}}}]\nendpoints:\n  - addresses: [127.0.0.1]\n",
            e.addr.port()
        ));
        echoes.push(e);
    }
    for s in &case.secrets {
        let (ns, name) = s.name.split_once('/').unwrap_or(("default", &s.name));
        let hosts: Vec<&str> = s.hosts.iter().map(String::as_str).collect();
        let (crt, key) = pki.leaf(&hosts);
        certs.insert(s.name.clone(), streams::rustls_pemfile_certs(&crt).remove(0).to_vec());
        input.push('\n');
        input.push_str(&tls_secret(ns, name, &crt, &key));
    }
    let mut failures = check_status(&case.status, &input);
    if case.requests.is_empty() {
        return failures;
    }
    let admin = free_port();
    let admin_arg = format!("127.0.0.1:{admin}");
    let (code, bootstrap, stderr) =
        gatewayc(&["translate", "-f", "-", "--bind-address", "127.0.0.1", "--admin-address", &admin_arg], &input);
    if code != 0 {
        failures.push(format!("translate exited {code}:\n{stderr}"));
        return failures;
    }
    let _envoy = EnvoyProc::start(envoy, &bootstrap, admin).await;
    for (i, r) in case.requests.iter().enumerate() {
        let what = format!("request {i} ({} {} {}{})", r.transport.as_deref().unwrap_or(&r.method), r.port, r.sni.as_deref().unwrap_or(&r.host), r.path);
        let literal = r.port.parse::<u16>().ok();
        let Some(port) = literal.or_else(|| ports.get(&r.port).copied()) else {
            failures.push(format!("{what}: no port placeholder `{}`", r.port));
            continue;
        };
        if r.transport.as_deref() == Some("grpc") {
            failures.extend(grpc_request(port, r, &pki, &grpcs).await.into_iter().map(|f| format!("{what}: {f}")));
            continue;
        }
        if let Some(t) = &r.transport {
            failures.extend(stream_request(t, port, r, &pki, &certs).await.into_iter().map(|f| format!("request {i} ({t} {}): {f}", r.port)));
            continue;
        }
        let hdrs: Vec<(&str, &str)> = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let reply = match &r.sni {
            Some(sni) => https_request_with(port, sni, &pki.ca_der, &r.method, &r.host, &r.path, &hdrs).await,
            None => request(port, &r.method, &r.host, &r.path, &hdrs).await,
        };
        let e = &r.expect;
        let reply = match (reply, e.tls_fails) {
            (Err(_), true) => continue,
            (Ok(_), true) => {
                failures.push(format!("{what}: TLS handshake should have failed"));
                continue;
            }
            (Err(err), false) => {
                failures.push(format!("{what}: {err}"));
                continue;
            }
            (Ok(reply), false) => reply,
        };
        let mut check = |ok: bool, msg: String| {
            if !ok {
                failures.push(format!("{what}: {msg}"));
            }
        };
        if let Some(s) = e.status {
            check(reply.status == s, format!("status {} want {s}; body {}", reply.status, reply.body));
        }
        let seen = reply.echo();
        if e.answered_by_gateway {
            check(reply.backend().is_empty(), format!("backend `{}` answered; the gateway should have", reply.backend()));
        }
        if let Some(b) = &e.backend {
            let got = reply.backend();
            check(got == *b || got.rsplit('/').next() == Some(b.as_str()), format!("backend `{got}` want `{b}`"));
        }
        if let Some(p) = &e.path {
            check(seen["path"] == *p, format!("backend saw path {} want {p}", seen["path"]));
        }
        if let Some(v) = &e.version {
            check(seen["version"] == *v, format!("backend saw {} want {v}", seen["version"]));
        }
        if let Some(h) = &e.host {
            check(seen["host"] == *h, format!("backend saw host {} want {h}", seen["host"]));
        }
        for (k, v) in &e.headers {
            let got = &seen["headers"][k.to_ascii_lowercase()];
            check(got == v, format!("backend saw header {k}: {got} want {v}"));
        }
        for k in &e.absent_headers {
            check(seen["headers"].get(k.to_ascii_lowercase()).is_none(), format!("backend saw header {k}, should not"));
        }
        for (k, v) in &e.response_headers {
            let got = reply.headers.get(&k.to_ascii_lowercase());
            check(got == Some(v), format!("response header {k}: {got:?} want {v}"));
        }
        for k in &e.absent_response_headers {
            check(!reply.headers.contains_key(&k.to_ascii_lowercase()), format!("response has header {k}, should not"));
        }
        if let Some(l) = &e.location {
            let got = reply.headers.get("location");
            check(got == Some(l), format!("location {got:?} want {l}"));
        }
        for m in &e.mirrored_to {
            match echoes.iter().find(|x| x.name == *m) {
                Some(x) => {
                    let ok = x.wait_for(&r.path, std::time::Duration::from_secs(3)).await;
                    if !ok {
                        failures.push(format!("{what}: no copy of the request reached {m}"));
                    }
                }
                None => failures.push(format!("{what}: mirroredTo {m} is not in backends")),
            }
        }
    }
    failures
}

/// One raw TCP, UDP or TLS request: who answered, which certificate the client saw, or that
/// nothing did.
async fn stream_request(transport: &str, port: u16, r: &Req, pki: &Pki, certs: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let e = &r.expect;
    let (answer, shown) = match transport {
        "tcp" => (streams::tcp_greeting(port).await, None),
        "udp" => {
            let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("client socket");
            let mut got = Err("no answer".to_string());
            for _ in 0..3 {
                let _ = s.send_to(b"ping", ("127.0.0.1", port)).await;
                let mut buf = [0u8; 256];
                if let Ok(Ok((n, _))) = tokio::time::timeout(std::time::Duration::from_millis(500), s.recv_from(&mut buf)).await {
                    got = Ok(String::from_utf8_lossy(&buf[..n]).into_owned());
                    break;
                }
            }
            (got, None)
        }
        "tls" => match streams::tls_greeting(port, r.sni.as_deref().unwrap_or(""), &pki.ca_der).await {
            Ok((who, der)) => (Ok(who), Some(der)),
            Err(err) => (Err(err), None),
        },
        other => return vec![format!("unknown transport {other}")],
    };
    let mut failures = Vec::new();
    match (answer, e.refused) {
        (Ok(who), true) => failures.push(format!("{who} answered; the connection should have been refused")),
        (Err(_), true) => {}
        (Err(err), false) => failures.push(err),
        (Ok(who), false) => {
            if let Some(b) = &e.backend
                && *b != who
            {
                failures.push(format!("backend `{who}` want `{b}`"));
            }
            if let Some(c) = &e.certificate {
                match certs.get(c) {
                    Some(want) if shown.as_ref() == Some(want) => {}
                    Some(_) => failures.push(format!("the client was not shown {c}'s certificate")),
                    None => failures.push(format!("certificate {c} is neither a tls: backend nor a secret")),
                }
            }
        }
    }
    failures
}

/// One gRPC call: who answered, what the backend saw, the response metadata, copies at
/// mirrors, or the status of a failed call.
async fn grpc_request(port: u16, r: &Req, pki: &Pki, grpcs: &BTreeMap<String, grpc::GrpcBackend>) -> Vec<String> {
    let e = &r.expect;
    let mut client = match &r.sni {
        Some(sni) => grpc::grpc_tls_client(port, sni, &pki.ca_pem()).await,
        None => grpc::grpc_client(port, &r.host).await,
    };
    let metadata: Vec<(String, &str)> = r.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_str())).collect();
    let before: BTreeMap<&String, usize> = e.mirrored_to.iter().map(|m| (m, grpcs.get(m).map_or(0, |g| g.calls().len()))).collect();
    let mut failures = Vec::new();
    let reply = match (grpc::call_with(&mut client, &r.path, &metadata).await, &e.grpc_status) {
        (Ok(reply), None) => reply,
        (Ok(reply), Some(want)) => return vec![format!("backend `{}` answered; want status {want}", reply.backend())],
        (Err(status), Some(want)) => {
            if format!("{:?}", status.code()) != *want {
                failures.push(format!("status {:?} want {want} ({status:?})", status.code()));
            }
            return failures;
        }
        (Err(status), None) => return vec![format!("call failed: {status:?}")],
    };
    if let Some(b) = &e.backend
        && reply.backend() != *b
    {
        failures.push(format!("backend `{}` want `{b}`", reply.backend()));
    }
    for (k, v) in &e.headers {
        let got = reply.header(&k.to_ascii_lowercase());
        if got.as_deref() != Some(v.as_str()) {
            failures.push(format!("backend saw metadata {k}: {got:?} want {v}"));
        }
    }
    for k in &e.absent_headers {
        if reply.header(&k.to_ascii_lowercase()).is_some() {
            failures.push(format!("backend saw metadata {k}, should not"));
        }
    }
    for (k, v) in &e.response_headers {
        let got = reply.meta_all(&k.to_ascii_lowercase()).join(",");
        if got != *v {
            failures.push(format!("response metadata {k}: `{got}` want `{v}`"));
        }
    }
    for m in &e.mirrored_to {
        match grpcs.get(m) {
            Some(g) if g.wait_for_calls(before[m] + 1, std::time::Duration::from_secs(3)).await => {}
            Some(_) => failures.push(format!("no copy of the call reached {m}")),
            None => failures.push(format!("mirroredTo {m} is not a grpc: backend")),
        }
    }
    failures
}

/// Compare `gatewayc status` output with the expectations.
fn check_status(expects: &[StatusExpect], input: &str) -> Vec<String> {
    if expects.is_empty() {
        return Vec::new();
    }
    let (code, out, err) = gatewayc(&["status", "-f", "-"], input);
    if code != 0 {
        return vec![format!("status exited {code}: {err}")];
    }
    let docs: Vec<serde_json::Value> = gatewayc::source::load_str("status.yaml", &out).documents.into_iter().map(|d| d.value).collect();
    let mut failures = Vec::new();
    for e in expects {
        let what = format!("status of {} {}", e.kind, e.name);
        let (ns, name) = e.name.split_once('/').map(|(a, b)| (Some(a), b)).unwrap_or((None, e.name.as_str()));
        let Some(obj) = docs.iter().find(|d| {
            d["kind"] == e.kind.as_str() && d["metadata"]["name"] == name && ns.is_none_or(|n| d["metadata"]["namespace"] == n)
        }) else {
            failures.push(format!("{what}: object not in the output"));
            continue;
        };
        let st = &obj["status"];
        if e.no_status {
            if !st.is_null() {
                failures.push(format!("{what}: has status, should not: {st}"));
            }
            continue;
        }
        let holder = if let Some(p) = &e.parent {
            let mut parts = p.splitn(3, '/');
            let (pns, pname, section) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
            st["parents"].as_array().and_then(|ps| {
                ps.iter().find(|x| {
                    x["parentRef"]["namespace"] == pns
                        && x["parentRef"]["name"] == pname
                        && section.is_none_or(|sn| x["parentRef"]["sectionName"] == sn)
                })
            })
        } else if let Some(l) = &e.listener {
            st["listeners"].as_array().and_then(|ls| ls.iter().find(|x| x["name"] == l.as_str()))
        } else {
            Some(st)
        };
        let Some(holder) = holder else {
            failures.push(format!("{what}: no status entry for {:?}{:?}", e.parent, e.listener));
            continue;
        };
        if let Some(n) = e.attached_routes
            && holder["attachedRoutes"] != n
        {
            failures.push(format!("{what}: attachedRoutes {} want {n}", holder["attachedRoutes"]));
        }
        if let Some(t) = &e.condition {
            let Some(c) = holder["conditions"].as_array().and_then(|cs| cs.iter().find(|c| c["type"] == t.as_str())) else {
                failures.push(format!("{what}: no condition {t}"));
                continue;
            };
            if let Some(s) = &e.status
                && c["status"] != s.as_str()
            {
                failures.push(format!("{what}: {t} is {} want {s} ({})", c["status"], c["reason"]));
            }
            if let Some(r) = &e.reason
                && c["reason"] != r.as_str()
            {
                failures.push(format!("{what}: {t} reason {} want {r}", c["reason"]));
            }
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_cases_through_envoy() {
    let Some(envoy) = envoy() else { return };
    let mut failures = Vec::new();
    let dirs = case_dirs();
    assert!(dirs.len() >= 10, "conformance suite shrank");
    for dir in &dirs {
        for f in run_case(dir, &envoy).await {
            failures.push(format!("{}: {f}", dir.display()));
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

/// Every feature a case claims is listed in docs/features.md, and every GATEWAY-HTTP feature
/// listed there as supported has a case.
#[test]
fn features_doc_and_cases_agree() {
    let doc = std::fs::read_to_string("docs/features.md").expect("docs/features.md");
    let mut claimed = std::collections::BTreeSet::new();
    for dir in case_dirs() {
        let case: Case = serde_json::from_value(yaml_value(&std::fs::read_to_string(dir.join("requests.yaml")).expect("requests.yaml")))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for f in case.features {
            assert!(doc.contains(&format!("`{f}`")), "{}: feature {f} is not in docs/features.md", dir.display());
            claimed.insert(f);
        }
    }
    let table = doc.split("## Gateway API conformance features").nth(1).expect("features.md has the conformance feature table");
    let table = table.split("\n## ").next().unwrap_or(table);
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let name = line.split('`').nth(1).unwrap_or("");
        // A feature proved by a dedicated test file says so ("tests/e2e.rs", "tests/render.rs").
        if line.contains("| supported") && !line.contains("tests/") {
            assert!(claimed.contains(name), "{name} is marked supported in docs/features.md but no conformance case exercises it");
        }
    }
}
