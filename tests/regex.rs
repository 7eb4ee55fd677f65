//! Regular expressions are judged as Envoy's RE2 judges them: for each pattern, gatewayc's
//! verdict is compared with a real `envoy --mode validate` of a bootstrap gatewayc wrote (the
//! pattern put in place of a placeholder, so Envoy sees patterns gatewayc refuses too).

mod support;
use support::*;

const PATTERNS: &[&str] = &[
    "/v[0-9]+/.*",
    "^/api/(users|orders)/[^/]+$",
    "(?i)/admin",
    "(?U)/a+",
    "(?s).*",
    "(?m)^/x$",
    "\\Q/a.b*c\\E",
    "\\p{Greek}+",
    "\\pL",
    "\\p{^Latin}",
    "\\PN",
    "[[:alpha:]]+",
    "\\x{41}\\x42",
    "\\012",
    "a{2,5}",
    "(a{10}){100}",
    "(?P<name>x)",
    "\\p{Alphabetic}",
    "(?u)a",
    "(a{1000}){1000}",
    "(a{2}){501}",
    "a{1001}",
    "(a)\\1",
    "(?=x)",
    "x*+",
    "[z-a]",
    "(?x)a b",
    "\\8",
    "a**",
];

#[test]
fn regex_verdicts_agree_with_envoy() {
    let Some(envoy) = envoy() else { return };
    // A long alternation passes Envoy's default RE2 program-size limit of 100; the bootstrap
    // raises it as Envoy Gateway does.
    let long = (0..200).map(|i| format!("/p{i}")).collect::<Vec<_>>().join("|");
    let mut patterns: Vec<String> = PATTERNS.iter().map(|p| p.to_string()).collect();
    patterns.push(long);
    // RE2's program size: each pair straddles Envoy's budget of 698,996 instructions (one
    // instruction per `a`, three per `.`, thirteen per `\pL` in Latin-1, nine per factored
    // `foo|bar|baz`, sixteen per `GET|HEAD|POST|PUT`, none for a class outside Latin-1).
    let times = |unit: &str, n: usize| unit.repeat(n);
    let mut edges: Vec<(String, bool)> = Vec::new();
    for (unit, fits) in [("\\pL{1000}", 53), (".{1000}", 232), ("(?:foo|bar|baz){1000}", 77), ("(?:GET|HEAD|POST|PUT){1000}", 43)] {
        edges.push((times(unit, fits), true));
        edges.push((times(unit, fits + 1), false));
    }
    edges.push((format!("{}a{{992}}", times("a{1000}", 698)), true));
    edges.push((format!("{}a{{993}}", times("a{1000}", 698)), false));
    edges.push((format!("{}a{{1000}}", times("\\p{Greek}{1000}", 800)), true));
    patterns.extend(edges.iter().map(|e| e.0.clone()));
    let input = format!(
        "{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: default}}\nspec:\n  parentRefs: [{{name: gw}}]\n  rules:\n    - matches: [{{path: {{type: RegularExpression, value: PLACEHOLDER}}}}]\n",
        http_gateway(8080)
    );
    let (code, bootstrap, err) = gatewayc(&["translate", "-f", "-", "-o", "json"], &input);
    assert_eq!(code, 0, "{err}");
    assert!(bootstrap.contains("\"PLACEHOLDER\""));
    let dir = tempfile::tempdir().expect("tmp");
    let results: Vec<(String, bool, Result<(), String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (envoy, bootstrap, dir) = (&envoy, &bootstrap, dir.path());
                s.spawn(move || {
                    let text = bootstrap.replace("\"PLACEHOLDER\"", &serde_json::to_string(p).expect("json"));
                    let path = dir.join(format!("b{i}.json"));
                    std::fs::write(&path, text).expect("write");
                    let ok = std::process::Command::new(envoy)
                        .args(["--mode", "validate", "--disable-hot-restart", "--log-level", "critical", "-c"])
                        .arg(&path)
                        .output()
                        .expect("envoy")
                        .status
                        .success();
                    (p.clone(), ok, gatewayc::validate::regex::check_re2(p))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let disagree: Vec<String> = results
        .iter()
        .filter(|(_, envoy_ok, ours)| *envoy_ok != ours.is_ok())
        .map(|(p, envoy_ok, ours)| format!("{p}: envoy {}, gatewayc {ours:?}", if *envoy_ok { "accepts" } else { "refuses" }))
        .collect();
    assert!(disagree.is_empty(), "verdicts differ:\n{}", disagree.join("\n"));
    for (p, want) in &edges {
        let got = results.iter().find(|r| r.0 == *p).map(|r| r.1);
        assert_eq!(got, Some(*want), "Envoy's budget moved: {}… ({} chars)", &p[..40.min(p.len())], p.len());
    }
    assert!(results.iter().any(|r| !r.1) && results.iter().any(|r| r.1), "the corpus has both verdicts");
}
