//! Command-line interface: verbs, flags, and what each verb prints. `main` maps the
//! returned [`Exit`] to a process exit code and does nothing else.

use crate::diag::{self, Code, Diagnostic, Verdict};
use crate::emit::envoy::EnvoyOptions;
use crate::pipeline::{self, Compiled};
use crate::resolve::{DEFAULT_CONTROLLER, Options};
use crate::source::Input;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "gatewayc", version, about = "Compile Kubernetes Gateway API manifests to static Envoy bootstraps, offline")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write one Envoy bootstrap per Gateway.
    Translate(TranslateArgs),
    /// Check the input; exit 1 on any invalid object or route not accepted.
    Validate(ValidateArgs),
    /// Print every Gateway API object of the input with the status a controller would write.
    Status(StatusArgs),
    /// Write the Kubernetes manifests that run each Gateway (ConfigMap, Secret, Deployment,
    /// Service, MetalLB objects); with --passthrough, a Helm/kustomize post-renderer.
    Render(RenderArgs),
    /// Write the JSON Schemas of the kinds gatewayc reads.
    Schema(SchemaArgs),
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write DIR/<namespace>/<name>/*.yaml per Gateway instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Only this Gateway (NAMESPACE/NAME); repeatable.
    #[arg(long = "gateway", value_name = "NS/NAME")]
    pub gateways: Vec<String>,
    /// The Envoy image of the Deployment.
    #[arg(long, default_value = crate::emit::k8s::DEFAULT_IMAGE)]
    pub envoy_image: String,
    /// Port of the readiness endpoint (`GET /ready`) the kubelet probes (Envoy Gateway's 19003).
    #[arg(long, default_value_t = 19003)]
    pub readiness_port: u32,
    /// Port of the Prometheus endpoint (`GET /stats/prometheus`), Envoy Gateway's 19001; not
    /// served when the EnvoyProxy disables it.
    #[arg(long, default_value_t = 19001)]
    pub metrics_port: u32,
    /// Address of Envoy's admin interface inside the pod (loopback only by default).
    #[arg(long, default_value = "127.0.0.1:19000", value_name = "ADDR:PORT")]
    pub admin_address: String,
    /// A MetalLB IPAddressPool NAME=CIDR[,CIDR...] (ranges first-last too); repeatable.
    #[arg(long = "metallb-pool", value_name = "NAME=CIDR[,CIDR...]")]
    pub metallb_pools: Vec<String>,
    /// Also write an L2Advertisement of the pools.
    #[arg(long)]
    pub metallb_l2: bool,
    /// Namespace of the MetalLB objects.
    #[arg(long, default_value = "metallb-system")]
    pub metallb_namespace: String,
    /// Annotate each Service with its listeners' hostnames for external-dns.
    #[arg(long)]
    pub external_dns: bool,
    /// Post-renderer mode: write every input document back unchanged and in order, then the
    /// generated objects.
    #[arg(long)]
    pub passthrough: bool,
    /// KRM function mode (kustomize): read a ResourceList on stdin, write it back with the
    /// generated objects added to its items.
    #[arg(long, conflicts_with_all = ["passthrough", "output_dir"])]
    pub krm: bool,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// No summary line on success.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// A file, a directory (walked recursively) or `-` for stdin; repeatable.
    #[arg(short = 'f', long = "file", value_name = "PATH", required_unless_present = "paths")]
    pub files: Vec<String>,
    /// More input paths, as with -f (so that tools such as pre-commit can append file names).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Only GatewayClasses with this spec.controllerName (and their Gateways) are processed.
    #[arg(long, default_value = DEFAULT_CONTROLLER)]
    pub controller_name: String,
    /// DNS suffix of Service names used when a Service has no EndpointSlices.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// The Gateway API CRD channel the cluster runs: `standard` refuses experimental fields
    /// (HTTPRoute retry, sessionPersistence). Envoy Gateway installs `experimental`.
    #[arg(long, value_enum, default_value = "experimental")]
    pub gateway_api_channel: ChannelArg,
    /// Report features gatewayc does not implement yet (kinds, fields) as warnings instead of
    /// errors; they are left out of the output.
    #[arg(long)]
    pub allow_unsupported: bool,
    /// The gRPC rate-limit service (envoyproxy/ratelimit, HOST:PORT) that BackendTrafficPolicy
    /// global rate limits count at; without it they are Invalid, as Envoy Gateway's are when
    /// its rate limiting is not enabled.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub rate_limit_service: Option<(String, u16)>,
    /// Accept Backend IP endpoints in the loopback range (127.0.0.0/8, ::1), which Envoy
    /// Gateway refuses: for a proxy run next to its backends (local runs, tests).
    #[arg(long)]
    pub allow_loopback_backends: bool,
}

/// `host:port` (a DNS name or IPv4 address, a port above 0).
fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s.rsplit_once(':').ok_or("expected HOST:PORT")?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or("the port must be 1 to 65535")?;
    let ok = !host.is_empty() && host.len() <= 253 && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !ok {
        return Err("the host must be a DNS name or an IPv4 address".into());
    }
    Ok((host.to_ascii_lowercase(), port))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChannelArg {
    Standard,
    Experimental,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

#[derive(Args, Debug)]
pub struct TranslateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write DIR/<namespace>/<name>/envoy.yaml per Gateway instead of printing one.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Only this Gateway (NAMESPACE/NAME); repeatable.
    #[arg(long = "gateway", value_name = "NS/NAME")]
    pub gateways: Vec<String>,
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub format: OutputFormat,
    /// Address Envoy's listeners bind.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: String,
    /// Address of Envoy's admin interface (serves /ready).
    #[arg(long, default_value = "127.0.0.1:19000", value_name = "ADDR:PORT")]
    pub admin_address: String,
    /// Serve the Prometheus endpoint (`GET /stats/prometheus`) on this port of
    /// --bind-address, as Envoy Gateway does on 19001 (unless the EnvoyProxy disables it).
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u32>,
    /// Fail on warnings too (routes not accepted, unsupported fields).
    #[arg(long)]
    pub strict: bool,
    /// Where TLS certificates and keys go: inline in the bootstrap, or files (mode 0600)
    /// under --secrets-dir that the bootstrap refers to by path.
    #[arg(long, value_enum, default_value = "inline")]
    pub tls_secrets: TlsSecrets,
    /// Directory of the certificate files with --tls-secrets files; the bootstrap refers to
    /// them under this path, so give the path Envoy will see.
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// No summary line on success.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TlsSecrets {
    Inline,
    Files,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiagFormat {
    Human,
    Json,
    /// GitHub Actions workflow annotations.
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiagFormat,
    /// Fail on every warning, not only on invalid objects and routes not accepted.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Report each Gateway's listener hostnames as Hostname addresses (what external-dns
    /// publishes with `render --external-dns`).
    #[arg(long)]
    pub external_dns: bool,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    #[arg(long, value_name = "DIR")]
    pub output_dir: PathBuf,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    /// Invalid input (or warnings under --strict).
    Invalid,
    /// The command line cannot be carried out as given.
    Usage,
}

/// What a run produced for the terminal.
pub struct Report {
    pub exit: Exit,
    pub stdout: String,
    pub stderr: String,
    /// The summary line of a successful run, printed once stdout is written.
    pub summary: String,
}

pub(crate) fn options(i: &InputArgs) -> Options {
    Options {
        controller_name: i.controller_name.clone(),
        cluster_domain: i.cluster_domain.clone(),
        channel: match i.gateway_api_channel {
            ChannelArg::Standard => crate::api::Channel::Standard,
            ChannelArg::Experimental => crate::api::Channel::Experimental,
        },
        allow_unsupported: i.allow_unsupported,
        rate_limit_service: i.rate_limit_service.clone(),
        allow_loopback_backends: i.allow_loopback_backends,
    }
}

pub(crate) fn inputs(i: &InputArgs) -> Vec<Input> {
    i.files.iter().chain(&i.paths).map(|f| Input::parse(f)).collect()
}

pub(crate) fn human<R>(c: &Compiled<R>, diags: &[Diagnostic], color: bool) -> String {
    diag::render_human(diags, &c.sources, color)
}

pub fn run(cli: Cli, stdin: &mut dyn std::io::Read, color: bool) -> Report {
    match cli.command {
        Command::Translate(a) => translate(a, stdin, color),
        Command::Validate(a) => validate(a, stdin, color),
        Command::Status(a) => status(a, stdin, color),
        Command::Render(a) => crate::render::run(a, stdin, color),
        Command::Schema(a) => schema(a),
    }
}

pub(crate) fn usage(msg: impl Into<String>) -> Report {
    Report { summary: String::new(), exit: Exit::Usage, stdout: String::new(), stderr: format!("error: {}\n", msg.into()) }
}

pub(crate) fn parse_admin(addr: &str) -> Option<(String, u32)> {
    let (host, port) = addr.rsplit_once(':')?;
    let port: u32 = port.parse().ok().filter(|p| (1..=65535).contains(p))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() { None } else { Some((host.to_string(), port)) }
}

fn translate(a: TranslateArgs, stdin: &mut dyn std::io::Read, color: bool) -> Report {
    let Some((admin_address, admin_port)) = parse_admin(&a.admin_address) else {
        return usage(format!("--admin-address must be ADDR:PORT, got `{}`", a.admin_address));
    };
    let selected = match Selection::parse(&a.gateways) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let secrets_dir = match (a.tls_secrets, &a.secrets_dir) {
        (TlsSecrets::Inline, None) => None,
        (TlsSecrets::Files, Some(d)) => Some(d.clone()),
        (TlsSecrets::Files, None) => return usage("--tls-secrets files needs --secrets-dir DIR"),
        (TlsSecrets::Inline, Some(_)) => return usage("--secrets-dir goes with --tls-secrets files"),
    };
    let envoy = EnvoyOptions {
        bind_address: a.bind_address.clone(),
        admin_address,
        admin_port,
        secrets_dir,
        readiness_port: None,
        metrics_port: a.metrics_port,
        rate_limit_service: a.input.rate_limit_service.clone(),
    };
    let json = a.format == OutputFormat::Json;
    let ext = if json { "json" } else { "yaml" };
    let is_selected = |ns: &str, name: &str| selected.includes(ns, name);
    let failed = |diags: &[Diagnostic]| diag::fails(diags, Verdict::Translate, a.strict);
    // Gateways are rendered only when the run will succeed; with --output-dir each bootstrap
    // is staged to a temp file as soon as it is rendered, and renamed into place at the end.
    let go = |diags: &[Diagnostic], ours: &[(String, String)]| {
        !failed(diags) && selected.all_in(ours) && !ours.is_empty()
    };
    let each = |g: &crate::ir::GatewayIr| -> Result<(Rendered, Vec<crate::output::Staged>, Stats), String> {
        // Certificate files (with --tls-secrets files) are staged like the bootstraps.
        let secrets = match &envoy.secrets_dir {
            Some(dir) => crate::emit::envoy::secret_files(g, dir)
                .into_iter()
                .map(|(path, pem)| crate::output::stage(std::path::Path::new(""), &path, pem.as_bytes()))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        // The rate-limit service's configuration goes beside the bootstrap.
        let mut secrets = secrets;
        let limits = crate::emit::envoy::rate_limit_files(g)?;
        match (&a.output_dir, limits.is_empty()) {
            (_, true) => {}
            (Some(dir), false) => {
                for (file, text) in limits {
                    let rel = crate::names::gateway_dir(&g.namespace, &g.name).join(file);
                    secrets.push(crate::output::stage(dir, &rel, text.as_bytes())?);
                }
            }
            (None, false) => {
                return Err(format!(
                    "Gateway {}/{} has global rate limits: pass --output-dir DIR to write the rate-limit service's configuration beside its bootstrap",
                    g.namespace, g.name
                ))
            }
        }
        let rendered = match &a.output_dir {
            Some(dir) => {
                let rel = crate::names::gateway_dir(&g.namespace, &g.name).join(crate::names::bootstrap_file(ext));
                crate::output::stage_with(dir, &rel, &mut |w| pipeline::write_bootstrap(g, &envoy, json, w)).map(Rendered::Staged)
            }
            None => pipeline::render_bootstrap(g, &envoy, json).map(Rendered::Text),
        }?;
        Ok((rendered, secrets, Stats::of(g)))
    };
    let emit = pipeline::Emit { select: &is_selected, go: &go, each: &each };
    let c = pipeline::compile(&inputs(&a.input), stdin, &options(&a.input), pipeline::Want::Translate, Some(&emit));
    let mut diags = c.diagnostics.clone();
    selected.check(&c.gateways, &a.input.controller_name, &c.why_no_gateway, true, &mut diags);
    let stderr = human(&c, &diags, color);
    if failed(&diags) {
        return Report { summary: String::new(), exit: Exit::Invalid, stdout: String::new(), stderr };
    }
    let mut outputs = Vec::new();
    let mut staged = Vec::new();
    let mut stats = Stats::default();
    for o in c.outputs {
        match o {
            Ok((r, secrets, st)) => {
                outputs.push(r);
                staged.extend(secrets);
                stats.add(&st);
            }
            Err(e) => return Report { summary: String::new(), exit: Exit::Invalid, stdout: String::new(), stderr: format!("{stderr}error: {e}\n") },
        }
    }
    if a.output_dir.is_none() && outputs.len() != 1 {
        return usage(format!(
            "{} Gateways selected; pass --output-dir DIR to write them all, or --gateway NAMESPACE/NAME to print one",
            outputs.len()
        ));
    }
    let mut stdout = String::new();
    for r in outputs {
        match r {
            Rendered::Staged(s) => staged.push(s),
            Rendered::Text(t) => stdout = t,
        }
    }
    // Certificates and bootstraps go into place together, or not at all.
    stats.files = staged.len();
    if let Err(e) = crate::output::commit(staged) {
        return Report { summary: String::new(), exit: Exit::Invalid, stdout: String::new(), stderr: format!("{stderr}error: {e}\n") };
    }
    let written = if a.output_dir.is_none() && stats.files == 0 { "printed 1 bootstrap".to_string() } else { format!("wrote {} file{}", stats.files, plural(stats.files)) };
    let summary = if a.quiet { String::new() } else { stats.line(&written) };
    Report { summary, exit: Exit::Ok, stdout, stderr }
}

/// What a run wrote, for the summary line on stderr.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stats {
    pub files: usize,
    pub gateways: usize,
    pub listeners: usize,
    pub routes: usize,
    pub clusters: usize,
}

impl Stats {
    pub(crate) fn of(g: &crate::ir::GatewayIr) -> Stats {
        let mut routes = std::collections::HashSet::new();
        for v in g.ports.iter().flat_map(|p| p.virtual_hosts()) {
            routes.extend(v.routes.iter().map(|r| r.name.as_str()));
        }
        routes.extend(g.ports.iter().flat_map(|p| p.proxies()).map(|p| p.name.as_str()));
        Stats { files: 0, gateways: 1, listeners: g.ports.len(), routes: routes.len(), clusters: g.clusters.len() }
    }
    pub(crate) fn add(&mut self, o: &Stats) {
        self.gateways += o.gateways;
        self.listeners += o.listeners;
        self.routes += o.routes;
        self.clusters += o.clusters;
    }
    /// `gatewayc: <what was written>: N Gateways, N listeners, N routes, N clusters`.
    pub(crate) fn line(&self, files: &str) -> String {
        format!(
            "gatewayc: {files}: {} Gateway{}, {} listener{}, {} route{}, {} cluster{}\n",
            self.gateways,
            plural(self.gateways),
            self.listeners,
            plural(self.listeners),
            self.routes,
            plural(self.routes),
            self.clusters,
            plural(self.clusters)
        )
    }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The Gateways named with `--gateway NAMESPACE/NAME` (none: all of ours).
pub(crate) struct Selection(Vec<(String, String)>);

impl Selection {
    pub(crate) fn parse(args: &[String]) -> Result<Selection, Report> {
        let mut out = Vec::new();
        for g in args {
            match g.split_once('/') {
                Some((ns, name)) if !ns.is_empty() && !name.is_empty() => out.push((ns.to_string(), name.to_string())),
                _ => return Err(usage(format!("--gateway must be NAMESPACE/NAME, got `{g}`"))),
            }
        }
        Ok(Selection(out))
    }
    pub(crate) fn includes(&self, ns: &str, name: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|(s, n)| s == ns && n == name)
    }
    /// Every named Gateway is one of ours.
    pub(crate) fn all_in(&self, ours: &[(String, String)]) -> bool {
        self.0.iter().all(|s| ours.contains(s))
    }
    /// Errors for named Gateways that are not ours, and (when `need_one`) for an input with
    /// no Gateway of ours at all.
    pub(crate) fn check(&self, ours: &[(String, String)], controller: &str, why_none: &str, need_one: bool, diags: &mut Vec<Diagnostic>) {
        for (ns, name) in self.0.iter().filter(|s| !ours.contains(s)) {
            diags.push(Diagnostic::new(Code::InputGatewayNotFound,
                format!("--gateway {ns}/{name}: no such Gateway of a GatewayClass with controllerName {controller}"),
            ));
        }
        if need_one && ours.is_empty() && !diags.iter().any(Diagnostic::is_error) {
            diags.push(Diagnostic::new(Code::InputNoGateway, why_none));
        }
    }
}

/// One Gateway's bootstrap: staged in the output directory, or text for stdout.
enum Rendered {
    Staged(crate::output::Staged),
    Text(String),
}

fn validate(a: ValidateArgs, stdin: &mut dyn std::io::Read, color: bool) -> Report {
    let c = pipeline::compile::<()>(&inputs(&a.input), stdin, &options(&a.input), pipeline::Want::Translate, None);
    let failed = diag::fails(&c.diagnostics, Verdict::Validate, a.strict);
    let (stdout, stderr) = match a.format {
        DiagFormat::Json => (diag::render_json(&c.diagnostics, &c.sources), String::new()),
        DiagFormat::Github => (diag::render_github(&c.diagnostics, &c.sources), String::new()),
        DiagFormat::Sarif => (diag::render_sarif(&c.diagnostics, &c.sources), String::new()),
        DiagFormat::Human => (String::new(), human(&c, &c.diagnostics, color)),
    };
    Report { summary: String::new(), exit: if failed { Exit::Invalid } else { Exit::Ok }, stdout, stderr }
}

fn status(a: StatusArgs, stdin: &mut dyn std::io::Read, color: bool) -> Report {
    let mut c = pipeline::compile::<()>(&inputs(&a.input), stdin, &options(&a.input), pipeline::Want::Status, None);
    if a.external_dns {
        crate::emit::status::add_dns_hostnames(&mut c.status_objects);
    }
    let stderr = human(&c, &c.diagnostics, color);
    // Exit 0 whenever the input parsed; objects refused by validation are left out.
    let parse_failed = diag::fails(&c.diagnostics, Verdict::Status, false);
    match crate::emit::yaml::to_string_multiple(&c.status_objects) {
        Ok(out) => Report { summary: String::new(), exit: if parse_failed { Exit::Invalid } else { Exit::Ok }, stdout: out, stderr },
        Err(e) => Report { summary: String::new(), exit: Exit::Invalid, stdout: String::new(), stderr: format!("{stderr}error: {e}\n") },
    }
}

fn schema(a: SchemaArgs) -> Report {
    let files: Vec<(PathBuf, String)> = crate::api::schema_files()
        .into_iter()
        .map(|(name, schema)| {
            let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            text.push('\n');
            (PathBuf::from(name), text)
        })
        .collect();
    match crate::output::write_all(&a.output_dir, &files) {
        Ok(()) => Report { summary: String::new(), exit: Exit::Ok, stdout: String::new(), stderr: String::new() },
        Err(e) => Report { summary: String::new(), exit: Exit::Invalid, stdout: String::new(), stderr: format!("error: {e}\n") },
    }
}
