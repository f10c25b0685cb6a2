//! The Kubernetes manifests of deploy/k8s: what each object names must exist (ConfigMaps as
//! configmaps.sh makes them, claims, volumes, container ports, served paths, resources of
//! the kustomization), selectors must select, and the scanners' consumer group must not
//! outnumber the partitions of the postings topic, or the extra members idle.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use super::code::Code;
use super::commands::{check_command, check_env};
use super::yaml::Node;
use super::{pinned, Repo, Report, Source};

pub const DIR: &str = "deploy/k8s";
const WORKLOADS: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "Job"];

/// A Kubernetes object and the file it is in.
pub struct Object<'a> {
    pub src: &'a Source,
    pub doc: &'a Node,
}

impl Object<'_> {
    fn kind(&self) -> &str {
        self.doc.get("kind").map_or("", Node::text)
    }

    fn name(&self) -> &str {
        self.doc.at(&["metadata", "name"]).map_or("", Node::text)
    }

    /// The line of the name, else of the kind: where a reader looks for the object.
    fn line(&self) -> usize {
        self.doc
            .at(&["metadata", "name"])
            .or_else(|| self.doc.get("kind"))
            .map_or(self.doc.line, |n| n.line)
    }
}

/// ConfigMap name → its keys, from the manifests and from configmaps.sh's
/// `configmap NAME --from-file=…` lines.
pub fn configmaps(
    report: &mut Report,
    repo: &Repo,
    objects: &[Object],
    script: Option<&Source>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut maps: BTreeMap<String, BTreeSet<String>> = objects
        .iter()
        .filter(|o| o.kind() == "ConfigMap")
        .map(|o| {
            let keys = o.doc.map("data").iter().chain(o.doc.map("binaryData"));
            (
                o.name().to_string(),
                keys.map(|(k, _)| k.text().to_string()).collect(),
            )
        })
        .collect();
    let Some(script) = script else { return maps };
    let line_rx =
        Regex::new(r"(?m)^\s*(?:kubectl create configmap|configmap)\s+([a-z0-9.-]+)(.*)$").unwrap();
    let from_file = Regex::new(r"--from-file=(\S+)").unwrap();
    for m in line_rx.captures_iter(&script.text) {
        let mut keys = BTreeSet::new();
        for f in from_file.captures_iter(&m[2]) {
            let spec = &f[1];
            let (key, path) = spec.rsplit_once('=').unwrap_or(("", spec));
            let line = script.line_of(spec, 1);
            if !repo.exists(path) {
                report.err(
                    &script.path,
                    line,
                    format!("configmap {}: {path} does not exist", &m[1]),
                );
            } else if repo.is_dir(path) {
                keys.extend(repo.list_files(path));
            } else {
                let base = path.rsplit('/').next().unwrap_or(path);
                keys.insert(if key.is_empty() { base } else { key }.to_string());
            }
        }
        maps.insert(m[1].to_string(), keys);
    }
    maps
}

pub fn check_kustomization(report: &mut Report, repo: &Repo, src: &Source, doc: &Node) {
    for r in doc.seq("resources") {
        if !repo.exists(&format!("{DIR}/{}", r.text())) {
            report.err(
                &src.path,
                Some(r.line),
                format!("resource {} does not exist", r.text()),
            );
        }
    }
}

/// `partitions`: of the postings topic, from config/kafka.toml.
pub fn check(
    report: &mut Report,
    repo: &Repo,
    code: &Code,
    objects: &[Object],
    configmaps: &BTreeMap<String, BTreeSet<String>>,
    partitions: Option<u64>,
) {
    for o in objects {
        for field in ["apiVersion", "metadata"] {
            if o.doc.get(field).is_none() {
                report.err(
                    &o.src.path,
                    Some(o.line()),
                    format!("{} has no {field}", o.kind()),
                );
            }
        }
        if o.name().is_empty() {
            report.err(
                &o.src.path,
                Some(o.line()),
                format!("{} has no metadata.name", o.kind()),
            );
        }
    }
    let claims: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o.kind() == "PersistentVolumeClaim")
        .map(Object::name)
        .collect();
    let mut kafka_members: Vec<(&Object, u64)> = Vec::new();
    let mut pod_labels: Vec<&[(Node, Node)]> = Vec::new();
    for o in objects.iter().filter(|o| WORKLOADS.contains(&o.kind())) {
        let (kind, name, path) = (o.kind(), o.name(), o.src.path.as_str());
        let err = |report: &mut Report, at: usize, msg: String| {
            report.err(path, Some(at), format!("{kind} {name}: {msg}"))
        };
        let spec = o.doc.get("spec");
        let tmpl = spec.and_then(|s| s.get("template"));
        let labels = tmpl.map_or(&[][..], |t| {
            t.at(&["metadata", "labels"]).map_or(&[][..], Node::entries)
        });
        pod_labels.push(labels);
        let selector = spec.and_then(|s| s.at(&["selector", "matchLabels"]));
        let label = |k: &str| {
            labels
                .iter()
                .find(|(l, _)| l.text() == k)
                .map(|(_, v)| v.text())
        };
        if let Some(sel) = selector {
            if sel
                .entries()
                .iter()
                .any(|(k, v)| label(k.text()) != Some(v.text()))
            {
                err(
                    report,
                    sel.line,
                    format!(
                        "selector {} does not match the pod labels {}",
                        show(sel.entries()),
                        show(labels)
                    ),
                );
            }
        }
        let pspec = tmpl.and_then(|t| t.get("spec"));
        let volumes: Vec<&Node> = pspec.map_or(Vec::new(), |p| p.seq("volumes").iter().collect());
        let volume = |n: &str| {
            volumes
                .iter()
                .find(|v| v.get("name").map(Node::text) == Some(n))
        };
        for v in &volumes {
            if let Some(cm) = v.at(&["configMap", "name"]) {
                if !configmaps.contains_key(cm.text()) {
                    err(
                        report,
                        cm.line,
                        format!(
                            "ConfigMap {} is neither in deploy/k8s nor made by configmaps.sh",
                            cm.text()
                        ),
                    );
                }
            }
            if let Some(claim) = v.at(&["persistentVolumeClaim", "claimName"]) {
                if !claims.contains(claim.text()) {
                    err(
                        report,
                        claim.line,
                        format!("claim {} is defined nowhere in deploy/k8s", claim.text()),
                    );
                }
            }
        }
        for c in pspec.map_or(&[][..], |p| p.seq("containers")) {
            let image = c.get("image").map_or("", Node::text);
            if !pinned(image) {
                err(
                    report,
                    c.get("image").map_or(c.line, |n| n.line),
                    format!("image {image} is not pinned to a tag"),
                );
            }
            let ports: BTreeSet<&str> = c
                .seq("ports")
                .iter()
                .flat_map(|p| [p.get("name"), p.get("containerPort")])
                .flatten()
                .map(Node::text)
                .collect();
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                let Some(get) = c.at(&[probe, "httpGet"]) else {
                    continue;
                };
                let port = get.get("port").map_or("", Node::text);
                if !ports.contains(port) {
                    err(
                        report,
                        get.line,
                        format!("{probe} port {port} is no port of the container"),
                    );
                }
                let path = get.get("path").map_or("", Node::text);
                if !code.routes.is_empty() && !code.routes.contains(path) {
                    let routes: Vec<&str> = code.routes.iter().map(String::as_str).collect();
                    err(
                        report,
                        get.line,
                        format!(
                            "{probe} path {path} is not served (routes: {})",
                            routes.join(", ")
                        ),
                    );
                }
            }
            for mnt in c.seq("volumeMounts") {
                let mname = mnt.get("name").map_or("", Node::text);
                let Some(v) = volume(mname) else {
                    err(report, mnt.line, format!("mount {mname} names no volume"));
                    continue;
                };
                let cm = v.at(&["configMap", "name"]).map_or("", Node::text);
                if let (Some(keys), Some(sub)) = (configmaps.get(cm), mnt.get("subPath")) {
                    if !keys.contains(sub.text()) {
                        err(
                            report,
                            sub.line,
                            format!("ConfigMap {cm} has no key {}", sub.text()),
                        );
                    }
                }
            }
            for e in c.seq("env") {
                let ename = e.get("name");
                check_env(
                    report,
                    code,
                    o.src,
                    ename.map_or("", Node::text),
                    Some(ename.map_or(e.line, |n| n.line)),
                );
            }
            let base = image
                .split('@')
                .next()
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("");
            if base.rsplit('/').next() == Some("xuncha") {
                let command: Vec<String> = c
                    .seq("command")
                    .iter()
                    .map(|x| x.text().to_string())
                    .collect();
                if command
                    .first()
                    .is_some_and(|b| b.rsplit('/').next() != Some("xuncha"))
                {
                    continue;
                }
                let mut argv: Vec<String> = command.into_iter().skip(1).collect();
                argv.extend(c.seq("args").iter().map(|x| x.text().to_string()));
                let at = c
                    .get("args")
                    .or_else(|| c.get("command"))
                    .map_or(c.line, |n| n.line);
                check_command(
                    report,
                    repo,
                    code,
                    o.src,
                    &argv,
                    &format!("{kind} {name}"),
                    at,
                );
                if argv.first().is_some_and(|a| a == "run")
                    && argv.iter().any(|a| a.contains("kafka"))
                {
                    let replicas = spec
                        .and_then(|s| s.get("replicas"))
                        .and_then(|r| r.text().parse().ok())
                        .unwrap_or(1);
                    kafka_members.push((o, replicas));
                }
            }
        }
    }
    for o in objects.iter().filter(|o| o.kind() == "Service") {
        let Some(sel) = o
            .doc
            .at(&["spec", "selector"])
            .filter(|s| !s.entries().is_empty())
        else {
            continue;
        };
        let selects = |labels: &&[(Node, Node)]| {
            sel.entries().iter().all(|(k, v)| {
                labels
                    .iter()
                    .any(|(l, lv)| l.text() == k.text() && lv.text() == v.text())
            })
        };
        if !pod_labels.iter().any(selects) {
            report.err(
                &o.src.path,
                Some(sel.line),
                format!(
                    "Service {}: selector {} matches no pod template",
                    o.name(),
                    show(sel.entries())
                ),
            );
        }
    }
    let total: u64 = kafka_members.iter().map(|(_, r)| r).sum();
    if let (Some(partitions), Some((first, _))) = (partitions, kafka_members.first()) {
        if total > partitions {
            let members: Vec<String> = kafka_members
                .iter()
                .map(|(o, r)| format!("{}={r}", o.name()))
                .collect();
            report.err(
                &first.src.path,
                Some(first.line()),
                format!(
                    "{total} consumers in the group ({}) but xuncha.postings has {partitions} partitions (config/kafka.toml): the rest would idle",
                    members.join(", ")
                ),
            );
        }
    }
}

fn show(entries: &[(Node, Node)]) -> String {
    let pairs: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}: {}", k.text(), v.text()))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}
