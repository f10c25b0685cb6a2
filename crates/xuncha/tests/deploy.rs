//! The files under deploy/ checked without a container engine or a cluster:
//!
//! - every YAML file parses (a key twice in one mapping is an error), every JSON file
//!   parses, every shell script passes `bash -n`;
//! - the Dockerfile: FROM images pinned to a tag, `--from=` names a stage defined above it,
//!   every COPY source exists in the build context (the repository root) and is not
//!   excluded by its .dockerignore, ENTRYPOINT names a file the image receives, `cargo build
//!   -p` names a workspace package;
//! - every metric the Grafana dashboards and the Prometheus rules query is registered in
//!   crates/*/src;
//! - every `xuncha` command line (compose `command`, Kubernetes `args`, Dockerfile `CMD`)
//!   starts with a subcommand of the built binary, and its `--config` file exists under
//!   config/;
//! - every XUNCHA_* variable set is one xuncha reads (a settings key of config/*.toml
//!   reachable through config.rs, or a command-line flag's `env`);
//! - cross-references: compose services, volumes and bind mounts, Prometheus targets and
//!   rule files, Grafana data sources and dashboard paths, Kubernetes ConfigMaps (as
//!   deploy/k8s/configmaps.sh makes them), claims, ports, probes and selectors; scanner
//!   replicas within the partitions of the postings topic;
//! - where this machine has them, `docker compose config` and `kubectl kustomize`.
//!
//! A failure lists every problem as `file:line: message`.

#[path = "deploy/code.rs"]
mod code;
#[path = "deploy/commands.rs"]
mod commands;
#[path = "deploy/compose.rs"]
mod compose;
#[path = "deploy/dockerfile.rs"]
mod dockerfile;
#[path = "deploy/k8s.rs"]
mod k8s;
#[path = "deploy/metrics.rs"]
mod metrics;
#[path = "deploy/yaml.rs"]
mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_json::Value as Json;

use code::Code;
use yaml::Node;

const DEPLOY: &str = "deploy";

/// The checkout, addressed by paths relative to its root with `/` separators, as messages
/// name them.
pub struct Repo {
    root: PathBuf,
}

impl Repo {
    fn real() -> Repo {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Repo {
            root: root.canonicalize().unwrap_or(root),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        if rel.starts_with('/') {
            PathBuf::from(rel)
        } else {
            self.root.join(rel)
        }
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.path(rel)).ok()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    pub fn is_file(&self, rel: &str) -> bool {
        self.path(rel).is_file()
    }

    pub fn is_dir(&self, rel: &str) -> bool {
        self.path(rel).is_dir()
    }

    /// Names of the plain files directly in `rel`.
    pub fn list_files(&self, rel: &str) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.path(rel)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .flatten()
            .filter(|e| e.path().is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Every file under `rel`, recursively, sorted.
    fn walk(&self, rel: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(dir) = std::fs::read_dir(self.path(rel)) else {
            return out;
        };
        for e in dir.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let child = format!("{rel}/{name}");
            if e.path().is_dir() {
                out.extend(self.walk(&child));
            } else {
                out.push(child);
            }
        }
        out.sort();
        out
    }

    /// Paths matching `pattern` (`*`, `?`, `[…]` within a component, `**` across them).
    pub fn glob(&self, pattern: &str) -> Vec<String> {
        let mut found = vec![String::new()];
        for part in normalize(pattern).split('/') {
            let mut next = Vec::new();
            for base in &found {
                let dir = if base.is_empty() { "." } else { base.as_str() };
                let join = |name: &str| {
                    if base.is_empty() {
                        name.to_string()
                    } else {
                        format!("{base}/{name}")
                    }
                };
                if part == "**" {
                    next.push(base.clone());
                    next.extend(self.walk_dirs(dir).into_iter().map(|d| join(&d)));
                } else if part.contains(['*', '?', '[']) {
                    let rx = wildcard(part);
                    let Ok(entries) = std::fs::read_dir(self.path(dir)) else {
                        continue;
                    };
                    let mut names: Vec<String> = entries
                        .flatten()
                        .filter_map(|e| e.file_name().into_string().ok())
                        .filter(|n| !n.starts_with('.') && rx.is_match(n))
                        .collect();
                    names.sort();
                    next.extend(names.iter().map(|n| join(n)));
                } else if self.exists(&join(part)) {
                    next.push(join(part));
                }
            }
            found = next;
        }
        found.retain(|p| !p.is_empty());
        found
    }

    /// Directories under `rel`, relative to it.
    fn walk_dirs(&self, rel: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(dir) = std::fs::read_dir(self.path(rel)) else {
            return out;
        };
        for e in dir.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            if e.path().is_dir() {
                out.push(name.clone());
                let sub = format!("{rel}/{name}");
                out.extend(
                    self.walk_dirs(&sub)
                        .into_iter()
                        .map(|d| format!("{name}/{d}")),
                );
            }
        }
        out
    }
}

/// A file's path and text, for messages and for finding the line something is on.
pub struct Source {
    pub path: String,
    pub text: String,
}

impl Source {
    pub fn new(path: &str, text: &str) -> Source {
        Source {
            path: path.to_string(),
            text: text.to_string(),
        }
    }

    fn read(repo: &Repo, path: &str) -> Source {
        Source::new(path, &repo.read(path).unwrap_or_default())
    }

    /// First line at or after `start` (1-based) that contains `needle`.
    pub fn line_of(&self, needle: &str, start: usize) -> Option<usize> {
        self.text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .find(|(i, l)| *i >= start && l.contains(needle))
            .map(|(i, _)| i)
    }
}

#[derive(Default)]
pub struct Report {
    pub problems: Vec<String>,
}

impl Report {
    pub fn err(&mut self, path: &str, line: Option<usize>, msg: impl Display) {
        self.problems.push(match line {
            Some(n) if n > 0 => format!("{path}:{n}: {msg}"),
            _ => format!("{path}: {msg}"),
        });
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system; "." for nothing left.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (path.starts_with('/'), joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A .dockerignore or glob pattern as an anchored regex: `*` and `?` stay within a
/// component, `**` crosses them.
pub fn wildcard(pat: &str) -> Regex {
    let mut rx = String::from("^");
    let mut rest = pat;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("**/") {
            rx.push_str("(?:.*/)?");
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix("**") {
            rx.push_str(".*");
            rest = r;
            continue;
        }
        match c {
            '*' => rx.push_str("[^/]*"),
            '?' => rx.push_str("[^/]"),
            '[' if rest.contains(']') => {
                let end = rest.find(']').unwrap_or(0);
                rx.push_str(&rest[..=end].replace('!', "^"));
                rest = &rest[end + 1..];
                continue;
            }
            _ => rx.push_str(&regex::escape(&c.to_string())),
        }
        rest = &rest[c.len_utf8()..];
    }
    rx.push('$');
    Regex::new(&rx).unwrap_or_else(|_| Regex::new(&format!("^{}$", regex::escape(pat))).unwrap())
}

/// A tag other than `latest`, or a digest: an image that does not change under a rebuild.
pub fn pinned(image: &str) -> bool {
    if image == "scratch" || image.contains("@sha256:") {
        return true;
    }
    let tail = image.rsplit('/').next().unwrap_or(image);
    tail.contains(':') && !tail.ends_with(":latest")
}

/// Parses one YAML text, reporting what does not parse.
fn parse_yaml(report: &mut Report, src: &Source) -> Option<Vec<Node>> {
    match yaml::load(&src.text) {
        Ok(docs) => Some(docs),
        Err(e) => {
            report.err(
                &src.path,
                Some(e.line),
                format!("YAML does not parse: {}", e.msg),
            );
            None
        }
    }
}

fn parse_json(report: &mut Report, src: &Source) -> Option<Json> {
    match serde_json::from_str(&src.text) {
        Ok(v) => Some(v),
        Err(e) => {
            // serde_json's message ends with the position, which the prefix already gives.
            let full = e.to_string();
            let msg = full.split(" at line ").next().unwrap_or(&full);
            report.err(
                &src.path,
                Some(e.line()),
                format!("JSON does not parse: {msg} (column {})", e.column()),
            );
            None
        }
    }
}

fn bash_n(report: &mut Report, repo: &Repo, path: &str) {
    let run = Command::new("bash")
        .current_dir(&repo.root)
        .args(["-n", path])
        .output();
    match run {
        Ok(out) if out.status.success() => {}
        Ok(out) => report.err(
            path,
            None,
            format!(
                "bash -n: {}",
                String::from_utf8_lossy(&out.stderr)
                    .trim()
                    .replace('\n', "; ")
            ),
        ),
        Err(e) => report.err(path, None, format!("bash -n cannot run: {e}")),
    }
}

/// The engines' own validators, where this machine has them: they need no daemon or
/// cluster, and know the schema better than any list here.
fn engines(report: &mut Report, repo: &Repo, compose_files: &[&String]) {
    let runs = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs("docker", &["compose", "version"]) {
        for c in compose_files {
            let out = Command::new("docker")
                .current_dir(&repo.root)
                .args(["compose", "-f", c, "config", "--quiet"])
                .output();
            if let Some(out) = out.ok().filter(|o| !o.status.success()) {
                let msg = String::from_utf8_lossy(&out.stderr)
                    .trim()
                    .replace('\n', "; ");
                report.err(c, None, format!("docker compose config: {msg}"));
            }
        }
    }
    let kust = format!("{}/kustomization.yaml", k8s::DIR);
    if repo.is_file(&kust) && runs("kubectl", &["version", "--client"]) {
        let out = Command::new("kubectl")
            .current_dir(&repo.root)
            .args(["kustomize", k8s::DIR])
            .output();
        if let Some(out) = out.ok().filter(|o| !o.status.success()) {
            let msg = String::from_utf8_lossy(&out.stderr)
                .trim()
                .replace('\n', "; ");
            report.err(&kust, None, format!("kubectl kustomize: {msg}"));
        }
    }
}

/// Runs every check over the checkout's deploy/; returns the report and a summary line.
fn check_all(repo: &Repo) -> (Report, String) {
    let mut report = Report::default();
    let code = Code::load(repo, &mut report);
    let files = repo.walk(DEPLOY);
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    let mut yaml_docs: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    let mut json_docs: BTreeMap<String, Json> = BTreeMap::new();
    for path in &files {
        let Some(text) = repo.read(path) else {
            report.err(path, None, "cannot be read as UTF-8");
            continue;
        };
        let src = Source::new(path, &text);
        if path.ends_with(".yml") || path.ends_with(".yaml") {
            if let Some(docs) = parse_yaml(&mut report, &src) {
                yaml_docs.insert(path.clone(), docs);
            }
        } else if path.ends_with(".json") {
            if let Some(doc) = parse_json(&mut report, &src) {
                json_docs.insert(path.clone(), doc);
            }
        } else if path.ends_with(".sh") {
            bash_n(&mut report, repo, path);
        }
        sources.insert(path.clone(), src);
    }

    let is_dockerfile = |p: &str| {
        let base = p.rsplit('/').next().unwrap_or(p);
        base == "Dockerfile" || base.ends_with(".Dockerfile")
    };
    let dockerfiles: BTreeSet<String> =
        files.iter().filter(|p| is_dockerfile(p)).cloned().collect();
    for path in &dockerfiles {
        let ignore = dockerfile::Ignore::find(repo, path);
        dockerfile::check(&mut report, repo, &code, &sources[path], ignore.as_ref());
    }

    for (path, dash) in &json_docs {
        if dash.get("panels").is_some() {
            metrics::check_dashboard(&mut report, &code, &sources[path], dash);
        }
    }
    for (path, docs) in &yaml_docs {
        for doc in docs
            .iter()
            .filter(|d| d.get("groups").is_some_and(Node::is_seq))
        {
            metrics::check_rules(&mut report, &code, &sources[path], doc);
        }
    }

    let parsed = compose::Parsed {
        yaml: &yaml_docs,
        json: &json_docs,
    };
    let mut compose_files = Vec::new();
    for (path, docs) in &yaml_docs {
        let Some(doc) = docs.first().filter(|d| compose::is_compose(d)) else {
            continue;
        };
        compose_files.push(path);
        let src = &sources[path];
        let mounts = compose::check(&mut report, repo, &code, src, doc, &dockerfiles);
        compose::cross_check(&mut report, repo, src, doc, &mounts, &parsed);
    }

    let in_k8s = |p: &str| p.starts_with(&format!("{}/", k8s::DIR));
    let mut objects = Vec::new();
    for (path, docs) in yaml_docs.iter().filter(|(p, _)| in_k8s(p)) {
        for doc in docs {
            match doc.get("kind").map(Node::text) {
                Some("Kustomization") => {
                    k8s::check_kustomization(&mut report, repo, &sources[path], doc)
                }
                Some(_) => objects.push(k8s::Object {
                    src: &sources[path],
                    doc,
                }),
                None => {}
            }
        }
    }
    let script = sources.get(&format!("{}/configmaps.sh", k8s::DIR));
    let configmaps = k8s::configmaps(&mut report, repo, &objects, script);
    let partitions = repo.read("config/kafka.toml").and_then(|t| {
        let rx = Regex::new(r"(?m)^partitions\s*=\s*(\d+)").unwrap();
        rx.captures(&t).and_then(|c| c[1].parse().ok())
    });
    k8s::check(&mut report, repo, &code, &objects, &configmaps, partitions);

    engines(&mut report, repo, &compose_files);

    let checked = files
        .iter()
        .filter(|p| {
            [".yml", ".yaml", ".json", ".sh"]
                .iter()
                .any(|e| p.ends_with(e))
                || is_dockerfile(p)
        })
        .count();
    let summary = format!(
        "{checked} files under deploy/ checked ({} metrics known, subcommands: {})",
        code.metrics.len(),
        code.subcommands
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    (report, summary)
}

#[test]
fn deploy_files_are_consistent_with_the_code() {
    let (report, summary) = check_all(&Repo::real());
    assert!(
        report.problems.is_empty(),
        "{} problem(s) in deploy/:\n{}",
        report.problems.len(),
        report.problems.join("\n")
    );
    eprintln!("{summary}");
}

/// Each check on a small bad input: it must fail, naming the file and the line.
mod bad_inputs {
    use super::*;

    fn code() -> Code {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Code {
            metrics: [("xuncha_ready".to_string(), "metrics.rs".to_string())].into(),
            subcommands: strings(&["run", "file"]),
            env_sections: vec!["kafka".into(), "http".into()],
            env_special: [("http_addr".to_string(), "http.addr".to_string())].into(),
            flag_envs: strings(&["XUNCHA_RULES"]),
            settings_keys: strings(&["kafka", "kafka.group", "http", "http.addr"]),
            ..Code::default()
        }
    }

    fn one_problem(report: Report) -> String {
        assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
        report.problems.into_iter().next().unwrap_or_default()
    }

    /// The one problem the Dockerfile check finds in `text`.
    fn dockerfile_problem(text: &str, ignore: Option<&dockerfile::Ignore>) -> String {
        let src = Source::new("deploy/Dockerfile", text);
        let mut report = Report::default();
        dockerfile::check(&mut report, &Repo::real(), &code(), &src, ignore);
        one_problem(report)
    }

    /// The one problem the compose check finds in `text`.
    fn compose_problem(text: &str) -> String {
        let src = Source::new("deploy/docker-compose.yml", text);
        let docs = yaml::load(text).expect("parses");
        let mut report = Report::default();
        compose::check(
            &mut report,
            &Repo::real(),
            &code(),
            &src,
            &docs[0],
            &BTreeSet::new(),
        );
        one_problem(report)
    }

    #[test]
    fn a_key_given_twice() {
        let mut report = Report::default();
        let src = Source::new("deploy/x.yml", "a: 1\nb:\n  c: 2\n  c: 3\n");
        assert!(parse_yaml(&mut report, &src).is_none());
        assert_eq!(
            one_problem(report),
            "deploy/x.yml:4: YAML does not parse: duplicate key \"c\" (first at line 3)"
        );
    }

    #[test]
    fn merged_keys_are_no_duplicates() {
        let text = "base: &b\n  a: 1\n  b: 2\nuse:\n  <<: *b\n  a: 3\n";
        let docs = yaml::load(text).expect("parses");
        let used = docs[0].get("use").expect("use");
        assert_eq!(used.get("a").map(Node::text), Some("3"));
        assert_eq!(used.get("b").map(Node::text), Some("2"));
    }

    #[test]
    fn an_unknown_metric() {
        let text = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(xuncha_readdy) == 0\n";
        let src = Source::new("deploy/alerts.yml", text);
        let docs = yaml::load(text).expect("parses");
        let mut report = Report::default();
        metrics::check_rules(&mut report, &code(), &src, &docs[0]);
        assert_eq!(
            one_problem(report),
            "deploy/alerts.yml:5: rule A: metric xuncha_readdy is registered nowhere in crates/*/src"
        );
    }

    #[test]
    fn an_unknown_subcommand() {
        let text = "FROM debian:12\nENTRYPOINT [\"xuncha\"]\nCMD [\"serve\", \"--once\"]\n";
        assert_eq!(
            dockerfile_problem(text, None),
            "deploy/Dockerfile:3: CMD: `xuncha serve --once` does not start with a subcommand (file, run)"
        );
    }

    #[test]
    fn an_unknown_variable() {
        let text = "services:\n  scanner:\n    image: xuncha:1\n    environment:\n      XUNCHA_HTTP_ADDR: 0.0.0.0:1\n      XUNCHA_KAFKA_GRUOP: g\n";
        assert_eq!(
            compose_problem(text),
            "deploy/docker-compose.yml:6: XUNCHA_KAFKA_GRUOP sets `kafka_gruop`, which is no key of config/default.toml or config/kafka.toml"
        );
    }

    #[test]
    fn a_variable_nothing_reads() {
        assert_eq!(
            dockerfile_problem("FROM debian:12\nENV XUNCHA_RULEZ=/r\n", None),
            "deploy/Dockerfile:2: XUNCHA_RULEZ is read by nothing in xuncha (neither a setting nor a flag's env)"
        );
    }

    #[test]
    fn a_missing_copy_source() {
        let text = "FROM debian:12\n# the rules\nCOPY rules /r\nCOPY no/such/dir \\\n     /x\n";
        assert_eq!(
            dockerfile_problem(text, None),
            "deploy/Dockerfile:4: COPY no/such/dir: no such path in the build context (the repository root)"
        );
    }

    #[test]
    fn a_copy_source_the_dockerignore_drops() {
        let ignore = dockerfile::Ignore::parse("deploy/Dockerfile.dockerignore", "*\n!config\n");
        assert_eq!(
            dockerfile_problem("FROM debian:12\nCOPY rules /r\n", Some(&ignore)),
            "deploy/Dockerfile:2: COPY rules: excluded from the build context by deploy/Dockerfile.dockerignore"
        );
    }

    #[test]
    fn a_dangling_compose_volume() {
        let text = "services:\n  db:\n    image: postgres:17\n    volumes:\n      - db-data:/var/lib/postgresql\n      - ../rules:/rules:ro\nvolumes:\n  other-data:\n";
        assert_eq!(
            compose_problem(text),
            "deploy/docker-compose.yml:5: service db: volume db-data is not declared under volumes:"
        );
    }

    #[test]
    fn the_binary_lists_its_subcommands_and_flag_variables() {
        let mut report = Report::default();
        let code = Code::load(&Repo::real(), &mut report);
        assert!(report.problems.is_empty(), "{:#?}", report.problems);
        assert!(code.subcommands.contains("run") && code.subcommands.contains("file"));
        assert!(!code.subcommands.contains("help"));
        assert!(code.flag_envs.contains("XUNCHA_RULES") && code.flag_envs.contains("XUNCHA_DB"));
    }
}
