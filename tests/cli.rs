//! The command line as users and CI see it: exit codes, stdin, directories, output layout,
//! determinism, and what is (not) written when a run fails.

mod support;
use support::gatewayc;
use std::path::Path;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn translate_quickstart_to_stdout_and_output_dir() {
    let (code, out, err) = gatewayc(&["translate", "-f", "fixtures/quickstart"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("static_resources:") && out.contains("port_value: 10080"));
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().to_string_lossy().to_string();
    let (code, out, err) = gatewayc(&["translate", "-f", "fixtures/quickstart", "--output-dir", &d, "-o", "json"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let json: serde_json::Value = serde_json::from_str(&read(&dir.path().join("default/web/envoy.json"))).expect("json bootstrap");
    assert_eq!(json["admin"]["address"]["socket_address"]["port_value"], 19000);
}

#[test]
fn stdin_and_directories_give_the_same_bootstrap() {
    let mut all = String::new();
    for f in ["gateway.yaml", "routes.yaml", "services.yaml"] {
        all.push_str(&read(&Path::new("fixtures/quickstart").join(f)));
        all.push_str("\n---\n");
    }
    let (c1, from_stdin, e1) = gatewayc(&["translate", "-f", "-"], &all);
    let (c2, from_dir, e2) = gatewayc(&["translate", "-f", "fixtures/quickstart"], "");
    assert_eq!((c1, c2), (0, 0), "{e1}{e2}");
    assert_eq!(from_stdin, from_dir);
}

#[test]
fn output_does_not_depend_on_file_names_or_document_order() {
    let src = Path::new("fixtures/translate/allowed-routes/input.yaml");
    let text = read(src);
    let docs: Vec<&str> = text.split("\n---\n").collect();
    let dir = tempfile::tempdir().expect("tmp");
    // Reverse the documents and spread them over files whose names sort the other way round.
    for (i, d) in docs.iter().rev().enumerate() {
        let sub = dir.path().join(format!("z{:02}", 99 - i));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(sub.join(format!("{i}.yml")), d).expect("write");
    }
    let d = dir.path().to_string_lossy().to_string();
    for verb in ["translate", "status"] {
        let (c1, a, _) = gatewayc(&[verb, "-f", src.to_str().expect("path")], "");
        let (c2, b, _) = gatewayc(&[verb, "-f", &d], "");
        assert_eq!((c1, c2), (0, 0));
        assert_eq!(a, b, "{verb} output changed with file order");
    }
}

#[test]
fn several_gateways_need_output_dir_or_selection() {
    let (code, out, err) = gatewayc(&["translate", "-f", "fixtures/translate/multi-gateway"], "");
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("--output-dir") && err.contains("--gateway"), "{err}");
    let (code, out, err) = gatewayc(&["translate", "-f", "fixtures/translate/multi-gateway", "--gateway", "edge/internal"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("gatewayc/edge/internal"));
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().to_string_lossy().to_string();
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/translate/multi-gateway", "--output-dir", &d], "");
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("edge/internal/envoy.yaml").is_file());
    assert!(dir.path().join("edge/public/envoy.yaml").is_file());
    assert!(!dir.path().join("edge/foreign").exists(), "a Gateway of another controller is left alone");
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/translate/multi-gateway", "--gateway", "edge/nope"], "");
    assert_eq!(code, 1);
    assert!(err.contains("input::gateway-not-found"), "{err}");
}

#[test]
fn failed_run_writes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().join("out").to_string_lossy().to_string();
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/quickstart", "-f", "fixtures/invalid/schema-errors", "--output-dir", &d], "");
    assert_eq!(code, 1, "{err}");
    assert!(!dir.path().join("out").exists(), "nothing may be written when the run fails");
}

#[test]
fn strict_turns_warnings_into_failures() {
    // An output directory that cannot be created fails the run (a file is in the way).
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/quickstart", "--output-dir", "fixtures/quickstart/gateway.yaml/out"], "");
    assert_eq!(code, 1, "{err}");
    // Warnings alone do not fail translate.
    let (code, out, err) = gatewayc(&["translate", "-f", "fixtures/translate/route-status"], "");
    assert_eq!(code, 0, "{err}");
    assert!(!out.is_empty());
    assert!(err.contains("NoMatchingParent"), "warnings go to stderr: {err}");
    let (code, out, _) = gatewayc(&["translate", "-f", "fixtures/translate/route-status", "--strict"], "");
    assert_eq!(code, 1);
    assert!(out.is_empty());
}

#[test]
fn validate_exit_codes_and_json() {
    let (code, _, err) = gatewayc(&["validate", "-f", "fixtures/quickstart"], "");
    assert_eq!(code, 0, "{err}");
    // A route that is not accepted fails validation.
    let (code, out, _) = gatewayc(&["validate", "-f", "fixtures/translate/route-status", "--format", "json"], "");
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let diags = v["diagnostics"].as_array().expect("array");
    assert!(diags.iter().any(|d| d["code"] == "reference::route-not-accepted" && d["line"].is_u64() && d["column"].is_u64()));
    for d in diags {
        for k in ["severity", "code", "message", "object", "path", "file", "line", "column"] {
            assert!(d.get(k).is_some(), "missing {k} in {d}");
        }
    }
    // What gatewayc does not implement fails closed; --allow-unsupported makes it a warning,
    // which --strict fails again.
    for verb in ["validate", "translate"] {
        let (code, _, err) = gatewayc(&[verb, "-f", "fixtures/invalid/unsupported-kind"], "");
        assert_eq!(code, 1, "{verb}: {err}");
        assert!(err.contains("unsupported::kind") && err.contains("XBackendTrafficPolicy"), "{err}");
    }
    let (code, _, err) = gatewayc(&["validate", "-f", "fixtures/invalid/unsupported-kind", "--allow-unsupported"], "");
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = gatewayc(&["validate", "-f", "fixtures/invalid/unsupported-kind", "--allow-unsupported", "--strict"], "");
    assert_eq!(code, 1);
    // status reports it and succeeds.
    let (code, _, err) = gatewayc(&["status", "-f", "fixtures/invalid/unsupported-kind"], "");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("unsupported::kind"), "{err}");
}

#[test]
fn status_prints_the_rest_when_objects_are_invalid() {
    let (code, out, err) = gatewayc(&["status", "-f", "fixtures/quickstart", "-f", "fixtures/invalid/route-rules"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name: shop") && out.contains("controllerName: gateway.envoyproxy.io/gatewayclass-controller"));
    assert!(err.contains("schema::rule"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(gatewayc(&["translate"], "").0, 2);
    assert_eq!(gatewayc(&["frobnicate"], "").0, 2);
    assert_eq!(gatewayc(&["translate", "-f", "fixtures/quickstart", "--admin-address", "nope"], "").0, 2);
    assert_eq!(gatewayc(&["translate", "-f", "fixtures/quickstart", "--gateway", "noslash"], "").0, 2);
}

#[test]
fn missing_file_and_empty_input_fail() {
    let (code, _, err) = gatewayc(&["validate", "-f", "does/not/exist.yaml"], "");
    assert_eq!(code, 1);
    assert!(err.contains("input::io"), "{err}");
    let (code, _, err) = gatewayc(&["validate", "-f", "-"], "# nothing\n");
    assert_eq!(code, 1);
    assert!(err.contains("input::empty"), "{err}");
}

#[test]
fn controller_name_selects_gateway_classes() {
    let (code, _, err) = gatewayc(&["translate", "-f", "fixtures/quickstart", "--controller-name", "example.com/other"], "");
    assert_eq!(code, 1);
    assert!(err.contains("input::no-gateway"), "{err}");
}

#[test]
fn hidden_entries_are_skipped_and_extensions_filtered() {
    let dir = tempfile::tempdir().expect("tmp");
    for f in ["gateway.yaml", "routes.yaml", "services.yaml"] {
        std::fs::copy(Path::new("fixtures/quickstart").join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::create_dir(dir.path().join(".hidden")).expect("mkdir");
    std::fs::write(dir.path().join(".hidden/bad.yaml"), "not: [valid").expect("write");
    std::fs::write(dir.path().join("README.md"), "# not yaml: [").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).expect("symlink");
    let d = dir.path().to_string_lossy().to_string();
    let (code, _, err) = gatewayc(&["validate", "-f", &d], "");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn human_diagnostic_snapshot() {
    let (code, _, err) = gatewayc(&["validate", "-f", "fixtures/invalid/schema-errors/input.yaml"], "");
    assert_eq!(code, 1);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("cli__human_diagnostics", err);
    });
}

#[test]
fn schema_verb_writes_the_committed_schemas() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().to_string_lossy().to_string();
    assert_eq!(gatewayc(&["schema", "--output-dir", &d], "").0, 0);
    for e in std::fs::read_dir("schemas").expect("schemas") {
        let e = e.expect("entry");
        assert_eq!(read(&e.path()), read(&dir.path().join(e.file_name())));
    }
}

#[test]
fn validate_github_annotations() {
    let (code, out, _) = gatewayc(&["validate", "-f", "fixtures/invalid/schema-errors/input.yaml", "--format", "github"], "");
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines.contains(&"::error file=fixtures/invalid/schema-errors/input.yaml,line=16,col=17,title=schema%3A%3Aconstraint::70000 is greater than the maximum of 65535 [HTTPRoute default/broken]"),
        "{out}"
    );
}

#[test]
fn validate_sarif() {
    let (code, out, _) = gatewayc(&["validate", "-f", "fixtures/invalid/schema-errors/input.yaml", "--format", "sarif"], "");
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("sarif json");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "gatewayc");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    for r in results {
        assert_eq!(r["level"], "error");
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l >= 1) && region["startColumn"].as_u64().is_some_and(|c| c >= 1));
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "fixtures/invalid/schema-errors/input.yaml");
    }
}

/// The same object twice: identical copies are one object; different copies follow
/// `kubectl apply` (the later one wins) with a warning naming both places, which --strict fails.
#[test]
fn duplicate_objects_follow_kubectl_apply() {
    let class = |ctrl: &str| format!("apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: eg}}\nspec: {{controllerName: {ctrl}}}\n");
    let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 8080}]\n";
    // Identical: no warning at all.
    let input = format!("{}{gw}---\n{}", class("gateway.envoyproxy.io/gatewayclass-controller"), class("gateway.envoyproxy.io/gatewayclass-controller"));
    let (code, _, err) = gatewayc(&["translate", "-f", "-", "--strict"], &input);
    assert_eq!(code, 0, "{err}");
    // The quickstart's class, then an example that redefines it for our controller: the later wins.
    let input = format!("{}{gw}---\n{}", class("example.com/other"), class("gateway.envoyproxy.io/gatewayclass-controller"));
    let (code, out, err) = gatewayc(&["translate", "-f", "-"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("static_resources"), "{out}");
    assert!(err.contains("conflict::duplicate-object") && err.contains("<stdin>:15:") && err.contains("also at <stdin>:3:"), "{err}");
    let (code, _, _) = gatewayc(&["translate", "-f", "-", "--strict"], &input);
    assert_eq!(code, 1);
}

/// The later definition wins whatever splits the input: across `-f` files (in their order),
/// and across the shares of a large input that is validated on several threads.
#[test]
fn the_later_definition_wins_across_files_and_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let class = |ctrl: &str| format!("apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: eg}}\nspec: {{controllerName: {ctrl}}}\n");
    let gw = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 8080}]\n";
    let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
    std::fs::write(&a, format!("{}{gw}", class("example.com/other"))).expect("write");
    std::fs::write(&b, class("gateway.envoyproxy.io/gatewayclass-controller")).expect("write");
    let (a, b) = (a.to_str().expect("utf-8"), b.to_str().expect("utf-8"));
    let (code, out, err) = gatewayc(&["translate", "-f", a, "-f", b], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("static_resources"), "{out}");
    let (code, _, err) = gatewayc(&["translate", "-f", b, "-f", a], "");
    assert_ne!(code, 0);
    assert!(err.contains("input::no-gateway"), "{err}");

    // Over 1 MiB: a Service defined at the start (port 80), in the middle and at the end (port
    // 81); the route asks for 81, which only the last definition has.
    let svc = |port: u16| format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: twice, namespace: default}}\nspec:\n  ports: [{{name: http, port: {port}}}]\n");
    let mut input = format!("{}{gw}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules: [{{backendRefs: [{{name: twice, port: 81}}]}}]\n", class("gateway.envoyproxy.io/gatewayclass-controller"));
    input.push_str(&svc(80));
    let filler = |input: &mut String, from: usize| {
        for i in from..from + 6000 {
            input.push_str(&format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: filler-{i}, namespace: default}}\nspec:\n  ports: [{{port: 80}}]\n"));
        }
    };
    filler(&mut input, 0);
    input.push_str(&svc(82));
    filler(&mut input, 6000);
    input.push_str(&svc(81));
    assert!(input.len() > 1 << 20);
    let (code, out, err) = gatewayc(&["translate", "-f", "-", "-o", "json"], &input);
    assert_eq!(code, 0, "{err}");
    let boot: serde_json::Value = serde_json::from_str(&out).expect("json");
    let clusters = boot["static_resources"]["clusters"].as_array().expect("clusters");
    assert!(clusters.iter().any(|c| c["name"].as_str().is_some_and(|n| n.contains("twice") && n.contains("81"))), "{out}");
    assert_eq!(err.matches("conflict::duplicate-object").count(), 2, "{err}");
}
