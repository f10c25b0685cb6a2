//! docker compose files and what they mount: services, their builds, images, volumes, bind
//! mounts, variables and command lines; then the Prometheus and Grafana configuration those
//! services are given, followed through the mounts to the files in the checkout.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value as Json;

use super::code::Code;
use super::commands::{check_command, check_env};
use super::yaml::Node;
use super::{normalize, pinned, Repo, Report, Source};

/// The service keys of the Compose Specification (schema/compose-spec.json).
const SERVICE_KEYS: &str = "
    annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs
    container_name cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime
    cpu_shares cpus cpuset credential_spec depends_on deploy develop device_cgroup_rules devices
    dns dns_opt dns_search domainname entrypoint env_file environment expose extends
    external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation
    labels label_file links logging mac_address mem_limit mem_reservation mem_swappiness
    memswap_limit models network_mode networks oom_kill_disable oom_score_adj pid pids_limit
    platform ports post_start pre_stop privileged profiles provider pull_policy pull_refresh_after
    read_only restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period
    stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts
    volumes volumes_from working_dir";

/// A service's mounts: (path in the container, path in the checkout).
pub type Mounts = BTreeMap<String, Vec<(String, String)>>;

/// The parsed files under deploy/, by path, for following mounts into them.
pub struct Parsed<'a> {
    pub yaml: &'a BTreeMap<String, Vec<Node>>,
    pub json: &'a BTreeMap<String, Json>,
}

pub fn is_compose(doc: &Node) -> bool {
    doc.get("services").is_some_and(Node::is_map)
}

/// A service's variables as (name, value, line), from either of compose's two spellings.
pub fn env_names(env: Option<&Node>) -> Vec<(String, String, usize)> {
    let Some(env) = env else { return Vec::new() };
    if env.is_map() {
        return env
            .entries()
            .iter()
            .map(|(k, v)| (k.text().to_string(), v.text().to_string(), k.line))
            .collect();
    }
    env.items()
        .iter()
        .map(|e| {
            let (k, v) = e.text().split_once('=').unwrap_or((e.text(), ""));
            (k.to_string(), v.to_string(), e.line)
        })
        .collect()
}

fn as_list(v: Option<&Node>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(n) if n.is_seq() => n.items().iter().map(|x| x.text().to_string()).collect(),
        Some(n) => n.text().split_whitespace().map(str::to_string).collect(),
    }
}

fn dirname(path: &str) -> &str {
    path.rsplit_once('/').map_or(".", |(d, _)| d)
}

/// Checks every service of one compose file; returns their mounts for [`cross_check`].
pub fn check(
    report: &mut Report,
    repo: &Repo,
    code: &Code,
    src: &Source,
    doc: &Node,
    dockerfiles: &BTreeSet<String>,
) -> Mounts {
    let keys: BTreeSet<&str> = SERVICE_KEYS.split_whitespace().collect();
    let here = dirname(&src.path);
    let services = doc.map("services");
    let is_service = |n: &str| services.iter().any(|(k, _)| k.text() == n);
    let declared = doc.map("volumes");
    let mut mounts = Mounts::new();
    for (name_node, svc) in services {
        let name = name_node.text();
        let line = name_node.line;
        let err = |report: &mut Report, at: usize, msg: String| {
            report.err(&src.path, Some(at), format!("service {name}: {msg}"))
        };
        let deps: Vec<&Node> = match svc.get("depends_on") {
            Some(d) if d.is_map() => d.entries().iter().map(|(k, _)| k).collect(),
            Some(d) => d.items().iter().collect(),
            None => Vec::new(),
        };
        for dep in deps {
            if !is_service(dep.text()) {
                err(
                    report,
                    dep.line,
                    format!("depends_on {}, which is no service", dep.text()),
                );
            }
        }
        for (key, _) in svc.entries() {
            if !keys.contains(key.text()) && !key.text().starts_with("x-") {
                err(
                    report,
                    key.line,
                    format!("{} is no compose service key", key.text()),
                );
            }
        }
        if let Some(build) = svc.get("build") {
            let (ctx, file) = match build.scalar() {
                Some(ctx) => (ctx, "Dockerfile"),
                None => (
                    build.get("context").map_or(".", Node::text),
                    build.get("dockerfile").map_or("Dockerfile", Node::text),
                ),
            };
            let ctx = normalize(&format!("{here}/{ctx}"));
            let dockerfile = normalize(&format!("{ctx}/{file}"));
            if !repo.is_dir(&ctx) {
                err(
                    report,
                    build.line,
                    format!("build context {ctx} does not exist"),
                );
            }
            if !repo.is_file(&dockerfile) {
                err(
                    report,
                    build.line,
                    format!("dockerfile {dockerfile} does not exist"),
                );
            } else if ctx != "." && dockerfiles.contains(&dockerfile) {
                err(
                    report,
                    build.line,
                    format!("{dockerfile} expects the repository root as its context, not {ctx}"),
                );
            }
        } else {
            let image = svc.get("image").map_or("", Node::text);
            if !pinned(image) {
                let at = svc.get("image").map_or(line, |n| n.line);
                err(report, at, format!("image {image} is not pinned to a tag"));
            }
        }
        let mut own = Vec::new();
        for v in svc.seq("volumes") {
            let (source, target) = if v.is_map() {
                (
                    v.get("source").map(Node::text),
                    v.get("target").map_or("", Node::text),
                )
            } else {
                let parts: Vec<&str> = v.text().split(':').collect();
                match parts.as_slice() {
                    [only] => (None, *only),
                    [s, t, ..] => (Some(*s), *t),
                    [] => (None, ""),
                }
            };
            let Some(source) = source.filter(|s| !s.is_empty()) else {
                continue;
            };
            if source.starts_with('.') || source.starts_with('/') {
                let host = normalize(&format!("{here}/{source}"));
                if !repo.exists(&host) {
                    err(
                        report,
                        v.line,
                        format!("bind mount source {source} ({host}) does not exist"),
                    );
                }
                own.push((target.to_string(), host));
            } else if !declared.iter().any(|(k, _)| k.text() == source) {
                err(
                    report,
                    v.line,
                    format!("volume {source} is not declared under volumes:"),
                );
            }
        }
        mounts.insert(name.to_string(), own);
        for (k, _, at) in env_names(svc.get("environment")) {
            check_env(report, code, src, &k, Some(at));
        }
        let image = svc.get("image").map_or("", Node::text);
        let runs_xuncha =
            svc.get("build").is_some() || image.split(':').next().unwrap_or("").ends_with("xuncha");
        if runs_xuncha && svc.get("entrypoint").is_none() {
            let cmd = as_list(svc.get("command"));
            if !cmd.is_empty() {
                let at = svc.get("command").map_or(line, |c| c.line);
                check_command(
                    report,
                    repo,
                    code,
                    src,
                    &cmd,
                    &format!("service {name}"),
                    at,
                );
            }
        }
    }
    mounts
}

/// Where `container_path` of `service` comes from in the checkout, by its longest mount.
fn host_path(mounts: &Mounts, service: &str, container_path: &str) -> Option<String> {
    mounts
        .get(service)?
        .iter()
        .filter(|(dst, _)| {
            container_path == dst
                || container_path.starts_with(&format!("{}/", dst.trim_end_matches('/')))
        })
        .max_by_key(|(dst, _)| dst.len())
        .map(|(dst, host)| normalize(&format!("{host}{}", &container_path[dst.len()..])))
}

/// The files of `dir` in the checkout whose names match `pattern`.
fn files_in(repo: &Repo, dir: &str, pattern: &str) -> Vec<String> {
    repo.glob(&format!("{dir}/{pattern}"))
}

/// Follows each service's mounts into Prometheus and Grafana configuration and checks what
/// that configuration names against the services and files of this compose file.
pub fn cross_check(
    report: &mut Report,
    repo: &Repo,
    src: &Source,
    doc: &Node,
    mounts: &Mounts,
    parsed: &Parsed,
) {
    let services = doc.map("services");
    let service = |n: &str| services.iter().find(|(k, _)| k.text() == n).map(|(_, v)| v);
    let url_host = Regex::new(r"^https?://([^:/]+)").unwrap();
    for (sname, svc) in services {
        let sname = sname.text();
        for (dst, host) in mounts.get(sname).into_iter().flatten() {
            let prom = if host.ends_with(".yml") || host.ends_with(".yaml") {
                host.clone()
            } else {
                format!("{host}/prometheus.yml")
            };
            if !dst.starts_with("/etc/prometheus") || !repo.is_file(&prom) {
                continue;
            }
            let Some(cfg) = parsed.yaml.get(&prom).and_then(|d| d.first()) else {
                continue;
            };
            let psrc = Source::read(repo, &prom);
            for rf in cfg.seq("rule_files") {
                let found = host_path(mounts, sname, rf.text()).filter(|h| repo.is_file(h));
                if found.is_none() {
                    report.err(
                        &prom,
                        Some(rf.line),
                        format!(
                            "rule file {} is not mounted from a file in {}",
                            rf.text(),
                            src.path
                        ),
                    );
                }
            }
            for job in cfg.seq("scrape_configs") {
                let jname = job.get("job_name").map_or("", Node::text);
                let mut targets: Vec<(&Node, Option<String>)> = Vec::new();
                for sd in job.seq("dns_sd_configs") {
                    let port = sd.get("port").map(|p| p.text().to_string());
                    targets.extend(sd.seq("names").iter().map(|n| (n, port.clone())));
                }
                for sc in job.seq("static_configs") {
                    for t in sc.seq("targets") {
                        let port = t.text().rsplit_once(':').map(|(_, p)| p.to_string());
                        targets.push((t, port.filter(|p| p.parse::<u16>().is_ok())));
                    }
                }
                for (target, port) in targets {
                    let host = match target.text().rsplit_once(':') {
                        Some((h, p)) if p.parse::<u16>().is_ok() => h,
                        _ => target.text(),
                    };
                    let Some(svc) = service(host) else {
                        report.err(
                            &prom,
                            Some(target.line),
                            format!("job {jname}: target {host} is no service of {}", src.path),
                        );
                        continue;
                    };
                    let addr = env_names(svc.get("environment"))
                        .into_iter()
                        .find(|(k, _, _)| k == "XUNCHA_HTTP_ADDR")
                        .map(|(_, v, _)| v);
                    if let (Some(addr), Some(port)) = (addr, port) {
                        if !addr.ends_with(&format!(":{port}")) {
                            report.err(
                                &prom,
                                psrc.line_of(&port, target.line),
                                format!("job {jname}: port {port}, but {host} serves on {addr}"),
                            );
                        }
                    }
                }
            }
        }
        let Some(prov) = host_path(mounts, sname, "/etc/grafana/provisioning") else {
            continue;
        };
        let mut uids: BTreeSet<String> = ["-- Grafana --", "grafana"].map(String::from).into();
        for p in files_in(repo, &format!("{prov}/datasources"), "*.y*ml") {
            for d in parsed.yaml.get(&p).into_iter().flatten() {
                for ds in d.seq("datasources") {
                    let name = ds.get("name").map_or("", Node::text);
                    uids.insert(ds.get("uid").map_or(name, Node::text).to_string());
                    let Some(url) = ds.get("url") else { continue };
                    if let Some(h) = url_host.captures(url.text()) {
                        let h = &h[1];
                        if service(h).is_none() && h != "localhost" && h != "127.0.0.1" {
                            report.err(
                                &p,
                                Some(url.line),
                                format!(
                                    "data source {name}: host {h} is no service of {}",
                                    src.path
                                ),
                            );
                        }
                    }
                }
            }
        }
        for p in files_in(repo, &format!("{prov}/dashboards"), "*.y*ml") {
            for d in parsed.yaml.get(&p).into_iter().flatten() {
                for provider in d.seq("providers") {
                    let pname = provider.get("name").map_or("", Node::text);
                    let cp = provider.at(&["options", "path"]);
                    let at = cp.map_or(provider.line, |n| n.line);
                    let cp = cp.map_or("", Node::text);
                    let jsons = host_path(mounts, sname, cp)
                        .map(|h| files_in(repo, &h, "*.json"))
                        .unwrap_or_default();
                    if jsons.is_empty() {
                        report.err(
                            &p,
                            Some(at),
                            format!(
                                "provider {pname}: {cp} is not mounted from a folder of dashboards in {}",
                                src.path
                            ),
                        );
                        continue;
                    }
                    for dj in jsons {
                        if let Some(dash) = parsed.json.get(&dj) {
                            check_panels(report, &Source::read(repo, &dj), dash, &uids);
                        }
                    }
                }
            }
        }
        let home = env_names(svc.get("environment"))
            .into_iter()
            .find(|(k, _, _)| k == "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH");
        if let Some((_, home, at)) = home {
            if host_path(mounts, sname, &home).is_none_or(|h| !repo.is_file(&h)) {
                report.err(
                    &src.path,
                    Some(at),
                    format!("service {sname}: home dashboard {home} is not mounted from a file"),
                );
            }
        }
    }
}

/// Panel ids are unique (Grafana keys panel state by them) and every data source a panel or
/// its queries name is provisioned.
pub fn check_panels(report: &mut Report, src: &Source, dash: &Json, uids: &BTreeSet<String>) {
    fn panels<'a>(list: Option<&'a Json>, out: &mut Vec<&'a Json>) {
        for p in list.and_then(Json::as_array).into_iter().flatten() {
            out.push(p);
            panels(p.get("panels"), out);
        }
    }
    let mut all = Vec::new();
    panels(dash.get("panels"), &mut all);
    let mut ids = BTreeSet::new();
    let mut unknown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in all {
        let id = p.get("id").map(Json::to_string).unwrap_or_default();
        if !ids.insert(id.clone()) {
            report.err(
                &src.path,
                src.line_of(&format!("\"id\": {id},"), 1),
                format!("panel id {id} is used twice"),
            );
        }
        let title = p
            .get("title")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        let targets = p
            .get("targets")
            .and_then(Json::as_array)
            .into_iter()
            .flatten();
        for node in std::iter::once(p).chain(targets) {
            if let Some(ds) = node.get("datasource").filter(|d| d.is_object()) {
                let uid = ds.get("uid").and_then(Json::as_str).unwrap_or("null");
                if !uids.contains(uid) {
                    unknown
                        .entry(uid.to_string())
                        .or_default()
                        .insert(title.clone());
                }
            }
        }
    }
    for (uid, titles) in unknown {
        let known: Vec<&str> = uids.iter().map(String::as_str).collect();
        report.err(
            &src.path,
            src.line_of(&format!("\"uid\": \"{uid}\""), 1),
            format!(
                "data source uid {uid} (in {} panels, e.g. {:?}) is not provisioned ({})",
                titles.len(),
                titles.first().map_or("", String::as_str),
                known.join(", ")
            ),
        );
    }
}
