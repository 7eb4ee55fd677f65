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
    assert!(results.iter().any(|r| !r.1) && results.iter().any(|r| r.1), "the corpus has both verdicts");
}
