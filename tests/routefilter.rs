//! Envoy Gateway's HTTPRouteFilter through a real Envoy, named by ExtensionRef filters of
//! HTTPRoute rules: a regex path rewrite and a host rewrite the backend sees, a direct response
//! with its body (inline and from a ConfigMap), and a filter that is not there.

mod support;

use support::policy::*;
use support::*;

fn filter(name: &str, spec: &str) -> String {
    format!("---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: HTTPRouteFilter\nmetadata: {{name: {name}, namespace: default}}\nspec:\n{spec}")
}

/// A route `name` for `path` to `svc` whose rule names the HTTPRouteFilter `f`.
fn filtered_route(name: &str, path: &str, f: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n    - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]\n      filters: [{{type: ExtensionRef, extensionRef: {{group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: {f}}}}}]\n      backendRefs: [{{name: svc, port: 8080}}]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewrites_and_direct_responses() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&filter("regex", "  urlRewrite:\n    path: {type: ReplaceRegexMatch, replaceRegexMatch: {pattern: \"^/service/([^/]+)(/.*)$\", substitution: \"\\\\2/instance/\\\\1\"}}\n"));
    input.push_str(&filtered_route("regex", "/service", "regex"));
    input.push_str(&filter("host", "  urlRewrite:\n    hostname: {type: Header, header: x-target-host}\n    appendXForwardedHost: true\n"));
    input.push_str(&filtered_route("host", "/host", "host"));
    input.push_str(&filter("inline", "  directResponse:\n    statusCode: 503\n    contentType: text/plain\n    body: {type: Inline, inline: \"down for maintenance\"}\n    header: {set: [{name: retry-after, value: \"120\"}]}\n"));
    input.push_str(&filtered_route("inline", "/maintenance", "inline"));
    input.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: page, namespace: default}\ndata:\n  response.body: '{\"error\": \"gone\"}'\n");
    input.push_str(&filter("from-cm", "  directResponse:\n    statusCode: 410\n    contentType: application/json\n    body: {type: ValueRef, valueRef: {group: \"\", kind: ConfigMap, name: page}}\n"));
    input.push_str(&filtered_route("from-cm", "/gone", "from-cm"));
    input.push_str(&filtered_route("missing", "/missing", "nope"));
    let _s = serve(&envoy, &input, &[]).await;
    let r = request(port, "GET", "app", "/service/foo/v1/api", &[]).await.expect("regex");
    assert_eq!((r.status, r.echo()["path"].as_str()), (200, Some("/v1/api/instance/foo")), "{r:?}");
    let r = request(port, "GET", "app.example", "/host", &[("x-target-host", "internal.example")]).await.expect("host");
    assert_eq!(r.echo()["headers"]["host"], "internal.example", "{r:?}");
    assert_eq!(r.echo()["headers"]["x-forwarded-host"], "app.example", "{r:?}");
    let r = request(port, "GET", "app", "/maintenance", &[]).await.expect("inline");
    assert_eq!((r.status, r.body.as_str()), (503, "down for maintenance"));
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("text/plain"));
    assert_eq!(r.headers.get("retry-after").map(String::as_str), Some("120"));
    let r = request(port, "GET", "app", "/gone", &[]).await.expect("configmap");
    assert_eq!((r.status, r.body.as_str()), (410, "{\"error\": \"gone\"}"));
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("application/json"));
    assert_eq!(request(port, "GET", "app", "/missing", &[]).await.expect("missing").status, 500);
    let (code, out, err) = gatewayc(&["status", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Unable to translate HTTPRouteFilter: default/nope"), "{out}");
}

#[test]
fn crd_rules_and_what_is_not_implemented() {
    for (spec, msg) in [
        ("  urlRewrite: {hostname: {type: Header}}\n", "header must be specified for Header type"),
        ("  urlRewrite: {hostname: {type: Backend, header: x}}\n", "header must be nil if the type is not Header"),
        ("  urlRewrite: {path: {type: ReplaceRegexMatch}}\n", "If HTTPPathModifier type is ReplaceRegexMatch, replaceRegexMatch field needs to be set."),
        ("  directResponse: {body: {type: Inline}}\n", "inline must be set for type Inline"),
        ("  directResponse: {header: {remove: [x]}}\n", "header.remove is not supported for DirectResponse"),
        ("  matches: [{}]\n", "at least one matcher must be specified"),
    ] {
        let (code, _, err) = gatewayc(&["validate", "-f", "-"], &format!("{}{}", http_gateway(8080), filter("f", spec)));
        assert!(code == 1 && err.contains(msg), "{spec}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_credentials_reach_the_backend_only() {
    let Some(envoy) = envoy() else { return };
    let b = echo("b").await;
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&service("default", "svc", &[b.addr.port()]));
    input.push_str(&opaque_secret("upstream-token", &[("credential", "Bearer upstream-s3cret")]));
    input.push_str(&filter("inject", "  credentialInjection:\n    credential: {valueRef: {name: upstream-token}}\n"));
    input.push_str(&filtered_route("inject", "/inject", "inject"));
    input.push_str(&filter("keep", "  credentialInjection:\n    header: x-api-token\n    overwrite: false\n    credential: {valueRef: {name: upstream-token}}\n"));
    input.push_str(&filtered_route("keep", "/keep", "keep"));
    let s = serve(&envoy, &input, &[]).await;
    assert!(!s.stderr.contains("upstream-s3cret"));
    let r = request(port, "GET", "app", "/inject", &[]).await.expect("inject");
    assert_eq!(r.echo()["headers"]["authorization"], "Bearer upstream-s3cret", "{r:?}");
    assert!(!r.body.is_empty() && !r.headers.values().any(|v| v.contains("upstream-s3cret")), "the client never sees it");
    // Without overwrite a credential the client sent stays.
    let r = request(port, "GET", "app", "/keep", &[("x-api-token", "mine")]).await.expect("keep");
    assert_eq!(r.echo()["headers"]["x-api-token"], "mine");
    let r = request(port, "GET", "app", "/keep", &[]).await.expect("keep");
    assert_eq!(r.echo()["headers"]["x-api-token"], "Bearer upstream-s3cret");
    // A missing Secret: Invalid, the rule answers 500.
    let broken = input.replace("name: upstream-token}}\n    header", "name: nope}}\n    header").replace("  credentialInjection:\n    header: x-api-token\n    overwrite: false\n    credential: {valueRef: {name: upstream-token}}", "  credentialInjection:\n    header: x-api-token\n    credential: {valueRef: {name: nope}}");
    let (_, out, _) = gatewayc(&["status", "-f", "-"], &broken);
    assert!(out.contains("invalid filter HTTPRouteFilter: secret default/nope does not exist"), "{out}");
}

/// HTTPRouteFilter `matches`: a rule's matches narrowed by cookies (exact and RE2), the other
/// requests falling to the next rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_matches_narrow_a_rule() {
    let Some(envoy) = envoy() else { return };
    let (stable, canary) = (echo("stable").await, echo("canary").await);
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&service("default", "stable", &[stable.addr.port()]));
    input.push_str(&service("default", "canary", &[canary.addr.port()]));
    input.push_str(&filter("canary-users", "  matches:\n  - cookies: [{name: track, value: canary}]\n  - cookies: [{name: build, type: RegularExpression, value: \"^v2\\\\.[0-9]+$\"}, {name: beta, value: \"yes\"}]\n"));
    input.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app, namespace: default}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n    - matches: [{path: {type: PathPrefix, value: /}}]\n      filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: canary-users}}]\n      backendRefs: [{name: canary, port: 8080}]\n    - matches: [{path: {type: PathPrefix, value: /}}]\n      backendRefs: [{name: stable, port: 8080}]\n");
    let _s = serve(&envoy, &input, &[]).await;
    let backend = |cookie: &'static str| async move {
        let headers: Vec<(&str, &str)> = if cookie.is_empty() { Vec::new() } else { vec![("cookie", cookie)] };
        request(port, "GET", "app", "/", &headers).await.expect("request").echo()["backend"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(backend("").await, "stable");
    assert_eq!(backend("a=1; track=canary").await, "canary");
    assert_eq!(backend("track=canary-old").await, "stable", "an exact value is the whole value");
    assert_eq!(backend("xtrack=canary").await, "stable", "the name is the whole name");
    assert_eq!(backend("build=v2.17; beta=yes").await, "canary", "all cookies of one match");
    assert_eq!(backend("build=v2.17").await, "stable");
    assert_eq!(backend("beta=yes; build=v3.1").await, "stable");
}

/// An HTTPRouteFilter on a backendRef: its credential goes to that backend only, in a split
/// with another backend; a filter on a backendRef that rewrites is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_credential_reaches_that_backend_only() {
    let Some(envoy) = envoy() else { return };
    let (a, b) = (echo("a").await, echo("b").await);
    let port = free_port();
    let mut input = http_gateway(port);
    input.push_str(&service("default", "a", &[a.addr.port()]));
    input.push_str(&service("default", "b", &[b.addr.port()]));
    input.push_str(&opaque_secret("a-token", &[("credential", "Bearer for-a-only")]));
    input.push_str(&filter("to-a", "  credentialInjection:\n    credential: {valueRef: {name: a-token}}\n"));
    let with_filter = "{name: a, port: 8080, filters: [{type: ExtensionRef, extensionRef: {group: gateway.envoyproxy.io, kind: HTTPRouteFilter, name: to-a}}]}";
    input.push_str(&format!("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: split, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n    - backendRefs: [{with_filter}, {{name: b, port: 8080}}]\n"));
    let _s = serve(&envoy, &input, &[]).await;
    let mut seen = (0, 0);
    for _ in 0..40 {
        let r = request(port, "GET", "app", "/", &[]).await.expect("request");
        let auth = r.echo()["headers"]["authorization"].as_str().map(str::to_string);
        match r.echo()["backend"].as_str() {
            Some("a") => {
                assert_eq!(auth.as_deref(), Some("Bearer for-a-only"));
                seen.0 += 1;
            }
            Some("b") => {
                assert_eq!(auth, None, "b never gets a's credential");
                seen.1 += 1;
            }
            other => panic!("{other:?}: {r:?}"),
        }
        assert!(!r.headers.values().any(|v| v.contains("for-a-only")), "the client never sees it");
    }
    assert!(seen.0 > 0 && seen.1 > 0, "{seen:?}");
    // A rewrite has no per-backend form.
    let rewrite = format!("{input}{}", filter("rw", "  urlRewrite: {hostname: {type: Backend}}\n")).replace("name: to-a}", "name: rw}");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], &rewrite);
    assert_ne!(code, 0);
    assert!(err.contains("an HTTPRouteFilter on a backendRef may only inject a credential"), "{err}");
}
