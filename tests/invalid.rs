//! The bad-input corpus: each fixtures/invalid/<case>/input.yaml yields exactly the diagnostics
//! (severity, code, line:col) listed in its expected.txt, and never a panic.

mod support;

use gatewayc::pipeline;
use gatewayc::resolve::Options;
use gatewayc::source::Input;

#[test]
fn invalid_corpus_gives_expected_codes_and_positions() {
    let mut cases: Vec<_> = std::fs::read_dir("fixtures/invalid").expect("corpus").map(|e| e.expect("entry").path()).collect();
    cases.sort();
    assert!(cases.len() >= 15, "corpus shrank");
    for case in cases {
        let c = pipeline::compile::<()>(&[Input::Path(case.join("input.yaml"))], &mut std::io::empty(), &Options::default(), pipeline::Want::Status, None);
        let got: Vec<String> = c
            .diagnostics
            .iter()
            .map(|d| {
                let pos = d.span.map(|s| c.sources.line_col(s)).map(|(l, col)| format!("{l}:{col}")).unwrap_or("-".into());
                format!("{} {} {pos}", if d.is_error() { "error" } else { "warning" }, d.code)
            })
            .collect();
        let want: Vec<String> = std::fs::read_to_string(case.join("expected.txt"))
            .expect("expected.txt")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect();
        assert_eq!(got, want, "{}", case.display());
    }
}

#[test]
fn invalid_input_exits_1_with_file_line_column() {
    let (code, out, err) = support::gatewayc(&["validate", "-f", "fixtures/invalid/schema-errors/input.yaml"], "");
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("fixtures/invalid/schema-errors/input.yaml:16:17: 70000 is greater than the maximum of 65535"), "{err}");
    assert!(err.contains("port: 70000"), "snippet shown: {err}");
}

#[test]
fn private_keys_never_appear_in_diagnostics() {
    let path = "fixtures/invalid/secret-material/input.yaml";
    for args in [vec!["validate", "-f", path], vec!["validate", "-f", path, "--format", "json"], vec!["translate", "-f", path]] {
        let (code, out, err) = support::gatewayc(&args, "");
        assert_eq!(code, 1, "{args:?}");
        for text in [&out, &err] {
            assert!(!text.contains("PRIVATE KEY") && !text.contains("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), "{args:?} leaked key material:\n{text}");
        }
        assert!(err.contains("input.yaml:8:5") || out.contains("\"line\": 8"), "{args:?} still points at the node: {out}{err}");
    }
}

#[test]
fn oversized_document_is_refused_not_loaded() {
    let mut doc = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n");
    let line = format!("  k{{}}: {}\n", "x".repeat(1000));
    for i in 0..3300 {
        doc.push_str(&line.replace("{}", &i.to_string()));
    }
    let (code, _out, err) = support::gatewayc(&["validate", "-f", "-"], &doc);
    assert_eq!(code, 1);
    assert!(err.contains("parse::document-too-large"), "{err}");
}

/// No byte of Secret data, base64 or decoded, in any diagnostic of any renderer, whatever error
/// sits next to it: a syntax error inside a Secret, a List holding a Secret and a bad Service, a
/// YAML 1.1 value in a Secret, a Secret defined twice, a bad field of a Secret.
#[test]
fn secret_data_never_appears_in_any_renderer() {
    use base64::Engine;
    let secret = "hunter2-very-secret-password";
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let cases = [
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  password: {b64}\n  user: [unclosed\n"),
        format!("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {{name: bad}}\n  spec: {{ports: [{{port: nope}}]}}\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: s}}\n  data: {{password: {b64}}}\n"),
        format!("{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {{\"name\": \"s\"}}, \"stringData\": {{\"password\": \"{secret}\"}}}}, {{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {{\"name\": \"Bad_Name\"}}}}]}}\n"),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  password: {secret}\n  enabled: yes\n"),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData: {{password: {secret}}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData: {{password: {secret}-2}}\n"),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ntype: 7\nstringData: {{password: {secret}}}\n"),
    ];
    for (i, input) in cases.iter().enumerate() {
        let mut any = false;
        for format in ["human", "json", "github", "sarif"] {
            let (_, out, err) = support::gatewayc(&["validate", "-f", "-", "--format", format], input);
            any |= !(out.trim().is_empty() || out.contains("\"diagnostics\": []")) || !err.trim().is_empty();
            for text in [&out, &err] {
                assert!(!text.contains(secret) && !text.contains(&b64) && !text.contains("hunter2"), "case {i}, {format} leaked:\n{text}");
            }
        }
        assert!(any, "case {i} produced no diagnostic at all");
        for verb in ["translate", "status"] {
            let (_, out, err) = support::gatewayc(&[verb, "-f", "-"], input);
            assert!(!err.contains(secret) && !err.contains(&b64), "case {i}, {verb} leaked:\n{err}");
            if verb == "status" {
                assert!(!out.contains(secret) && !out.contains(&b64), "status printed Secret data:\n{out}");
            }
        }
    }
}
