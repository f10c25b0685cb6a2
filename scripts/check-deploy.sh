#!/usr/bin/env bash
# Checks the files under deploy/ without a container engine or a cluster, in a few seconds:
#
#   - every YAML file parses (duplicate keys are errors), every JSON file parses, every shell
#     script passes `bash -n`;
#   - the Dockerfile: FROM images pinned to a tag, `--from=` names a stage defined above it,
#     every COPY source exists in the build context (the repository root) and is not
#     excluded by its .dockerignore, ENTRYPOINT names a file the image receives;
#   - every metric the Grafana dashboards and the Prometheus rules query is registered in
#     crates/*/src;
#   - every `xuncha` command line (compose `command`, Kubernetes `args`, Dockerfile `CMD`)
#     starts with a subcommand of crates/xuncha/src/main.rs, and its `--config` file exists
#     under config/;
#   - every XUNCHA_* variable set is one xuncha reads (config.rs names and the settings keys
#     of config/*.toml, or a command-line flag's `env`);
#   - cross-references: compose services, volumes and bind mounts, Prometheus targets and
#     rule files, Grafana data sources and dashboard paths, Kubernetes ConfigMaps (as
#     deploy/k8s/configmaps.sh makes them), claims, ports, probes and selectors; scanner
#     replicas within the partitions of the postings topic.
#
# Run from anywhere: bash scripts/check-deploy.sh. Exit status 1 lists every problem as
# file:line: message.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "check-deploy: PyYAML is missing; installing it for this user (pip install --user pyyaml)" >&2
  python3 -m pip install --user --quiet pyyaml
fi

exec python3 - <<'PY'
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

ROOT = os.getcwd()
DEPLOY = "deploy"
errors = []


def err(path, line, msg):
    errors.append((path, line, msg))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def line_of(path, needle, start=1):
    """First line (1-based) at or after `start` that contains `needle`, or None."""
    try:
        for i, text in enumerate(read(path).splitlines(), 1):
            if i >= start and needle in text:
                return i
    except (OSError, UnicodeDecodeError):
        pass
    return None


# --- YAML with duplicate keys refused ------------------------------------------------------

class StrictLoader(yaml.SafeLoader):
    pass


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key]})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

files = sorted(
    os.path.join(d, f) for d, _, fs in os.walk(DEPLOY) for f in fs)
docs = {}  # path -> list of documents
for path in files:
    if path.endswith((".yml", ".yaml")):
        try:
            with open(path, encoding="utf-8") as f:
                docs[path] = [d for d in yaml.load_all(f, Loader=StrictLoader) if d is not None]
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            err(path, mark.line + 1 if mark else None, f"YAML does not parse: {e}".replace("\n", " "))
        except UnicodeDecodeError as e:
            err(path, None, f"not UTF-8: {e}")
    elif path.endswith(".json"):
        try:
            docs[path] = [json.loads(read(path))]
        except json.JSONDecodeError as e:
            err(path, e.lineno, f"JSON does not parse: {e.msg} (column {e.colno})")
    elif path.endswith(".sh"):
        r = subprocess.run(["bash", "-n", path], capture_output=True, text=True)
        if r.returncode:
            err(path, None, "bash -n: " + r.stderr.strip().replace("\n", "; "))

# --- what the code defines ------------------------------------------------------------------

rust = {}
for path in glob.glob("crates/*/src/**/*.rs", recursive=True):
    rust[path] = read(path)

registered, histograms = {}, set()
for path, text in rust.items():
    if "prometheus" not in text:
        continue
    for m in re.finditer(r'"(xuncha_[a-z0-9_]+)"', text):
        registered.setdefault(m.group(1), path)
    histograms.update(re.findall(r'HistogramOpts::new\(\s*"(xuncha_[a-z0-9_]+)"', text))
if not registered:
    err("crates", None, "no metric names (\"xuncha_…\" literals in files using prometheus) found")

MAIN = "crates/xuncha/src/main.rs"
subcommands = set()
m = re.search(r"enum Command \{(.*?)\n\}", rust.get(MAIN, ""), re.S)
if m:
    renamed = None
    for line in m.group(1).splitlines():
        r = re.match(r'\s*#\[command\(.*\bname\s*=\s*"([^"]+)"', line)
        if r:
            renamed = r.group(1)
        v = re.match(r"    ([A-Z][A-Za-z0-9]*)\b", line)
        if v:
            subcommands.add(renamed or re.sub(r"(?<!^)([A-Z])", r"-\1", v.group(1)).lower())
            renamed = None
if not subcommands:
    err(MAIN, None, "cannot find the subcommands (enum Command) to check command lines against")

CONFIG_RS = "crates/xuncha/src/config.rs"
cfg_text = rust.get(CONFIG_RS, "")
# The settings' XUNCHA_* variables are the top-level keys of `Config`: its fields.
m = re.search(r"pub struct Config \{(.*?)\n\}", cfg_text, re.S)
env_sections = re.findall(r"pub ([a-z_]+):", m.group(1)) if m else []
env_special = dict(re.findall(r'"([a-z_]+)"\s*=>\s*"([a-z_.]+)"\.into\(\)', cfg_text))
if not env_sections:
    err(CONFIG_RS, None, "cannot find which XUNCHA_* variables are settings (`pub struct Config`)")

flag_envs = set()
for path, text in rust.items():
    if path.startswith("crates/xuncha/"):
        flag_envs.update(re.findall(r'env\s*=\s*"(XUNCHA_[A-Z0-9_]+)"', text))

# Settings keys: every assignment, commented out or not, in the shipped settings files.
settings_keys, free_tables = set(), set()
for path in ("config/default.toml", "config/kafka.toml"):
    section = ""
    for line in read(path).splitlines():
        h = re.match(r"\s*\[([a-z_.]+)\]", line)
        if h:
            section = h.group(1)
            settings_keys.add(section)
            continue
        a = re.match(r'\s*#?\s*("?)([a-z_.]+)\1\s*=', line)
        if a:
            if a.group(1) and "." in a.group(2):
                free_tables.add(section)  # quoted dotted keys: a pass-through map
            settings_keys.add(f"{section}.{a.group(2)}" if section else a.group(2))

routes = set(re.findall(r'\.route\("([^"]+)"', rust.get("crates/xuncha/src/telemetry.rs", "")))


def check_env(path, name, where=None):
    if not name.startswith("XUNCHA_"):
        return
    line = where or line_of(path, name)
    k = name[len("XUNCHA_"):].lower()
    ours = any(k == s or k.startswith(s + "_") for s in env_sections)
    if not ours:
        if name not in flag_envs:
            err(path, line, f"{name} is read by nothing in xuncha (neither a setting nor a flag's env)")
        return
    key = env_special.get(k, k.replace("__", "."))
    if key in settings_keys or any(key.startswith(t + ".") for t in free_tables):
        return
    hint = " (a flag's variable, but `xuncha run` reads it as a setting and refuses it)" \
        if name in flag_envs else ""
    err(path, line, f"{name} sets `{key}`, which is no key of config/default.toml or config/kafka.toml{hint}")


def check_command(path, argv, what, start=1):
    """argv: the arguments after the xuncha binary; `start`: where to look for them."""
    line = (line_of(path, argv[0], start) if argv else None) or start
    if not argv or argv[0] not in subcommands:
        err(path, line, f"{what}: `xuncha {' '.join(argv)}` does not start with a subcommand "
                        f"({', '.join(sorted(subcommands))})")
    for i, a in enumerate(argv):
        value = None
        if a == "--config" and i + 1 < len(argv):
            value = argv[i + 1]
        elif a.startswith("--config="):
            value = a.split("=", 1)[1]
        if value is None:
            continue
        repo = value[len("/etc/xuncha/"):] if value.startswith("/etc/xuncha/") else value
        if not repo.startswith("config/") or not os.path.isfile(repo):
            err(path, line_of(path, value, start) or line,
                f"{what}: --config {value} is not a file under config/ (looked for {repo})")


# --- Dockerfile -----------------------------------------------------------------------------

def dockerignore_rules(dockerfile):
    for cand in (dockerfile + ".dockerignore", ".dockerignore"):
        if os.path.isfile(cand):
            rules = []
            for line in read(cand).splitlines():
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                neg = line.startswith("!")
                pat = line[1:] if neg else line
                pat = pat.strip("/")
                rx = ""
                i = 0
                while i < len(pat):
                    if pat.startswith("**/", i):
                        rx += "(?:.*/)?"
                        i += 3
                    elif pat.startswith("**", i):
                        rx += ".*"
                        i += 2
                    elif pat[i] == "*":
                        rx += "[^/]*"
                        i += 1
                    elif pat[i] == "?":
                        rx += "[^/]"
                        i += 1
                    else:
                        rx += re.escape(pat[i])
                        i += 1
                rules.append((neg, re.compile(rx + r"\Z")))
            return cand, rules
    return None, []


def ignored(rules, rel):
    parts = rel.strip("/").split("/")
    result = False
    for neg, rx in rules:
        # A pattern that matches a parent directory matches everything below it.
        if any(rx.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            result = not neg
    return result


def pinned(image):
    if image == "scratch" or "@sha256:" in image:
        return True
    tail = image.rsplit("/", 1)[-1]
    return ":" in tail and not tail.endswith(":latest")


dockerfile_stages = {}
for path in files:
    base = os.path.basename(path)
    if not (base == "Dockerfile" or base.endswith(".Dockerfile")):
        continue
    ignore_file, ignore = dockerignore_rules(path)
    # Logical instructions: continuation lines joined, comments dropped.
    instrs, buf, start = [], "", None
    for n, raw in enumerate(read(path).splitlines(), 1):
        s = raw.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if start is None:
            start = n
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        instrs.append((start, buf))
        buf, start = "", None
    stages, copied, final_env = [], set(), {}
    for n, ins in instrs:
        word, _, rest = ins.partition(" ")
        word = word.upper()
        if word == "FROM":
            toks = [t for t in rest.split() if not t.startswith("--")]
            image = toks[0] if toks else ""
            if image not in stages and not pinned(image):
                err(path, n, f"FROM {image}: pin the image to a tag (not latest) or a digest")
            if len(toks) >= 3 and toks[1].upper() == "AS":
                stages.append(toks[2])
            else:
                stages.append(f"#{len(stages)}")
            copied = set()
            final_env = {}
        elif word in ("COPY", "ADD"):
            flags = re.findall(r"--([a-z-]+)(?:=(\S+))?", rest)
            args = rest
            while args.startswith("--"):
                args = args.split(None, 1)[1] if " " in args else ""
            if args.startswith("["):
                try:
                    argv = json.loads(args)
                except json.JSONDecodeError:
                    err(path, n, f"{word}: JSON form does not parse")
                    continue
            else:
                argv = args.split()
            if len(argv) < 2:
                err(path, n, f"{word} needs a source and a destination")
                continue
            srcs, dest = argv[:-1], argv[-1]
            for s in srcs:
                copied.add(dest.rstrip("/") + "/" + os.path.basename(s.rstrip("/"))
                           if dest.endswith("/") else dest)
            src_stage = dict(flags).get("from")
            if src_stage is not None:
                defined = stages[:-1]
                if src_stage not in defined and not (src_stage.isdigit() and int(src_stage) < len(defined)):
                    if ":" in src_stage or "/" in src_stage:
                        if not pinned(src_stage):
                            err(path, n, f"--from={src_stage}: pin the image to a tag")
                    else:
                        err(path, n, f"--from={src_stage}: no stage of that name above this line "
                                     f"(stages: {', '.join(s for s in defined if not s.startswith('#')) or 'none'})")
                continue
            for s in srcs:
                if word == "ADD" and re.match(r"https?://|git@", s):
                    continue
                matches = glob.glob(s) if any(c in s for c in "*?[") else ([s] if os.path.exists(s) else [])
                if not matches:
                    err(path, n, f"{word} {s}: no such path in the build context (the repository root)")
                for mpath in matches:
                    if ignore and ignored(ignore, os.path.normpath(mpath)):
                        err(path, n, f"{word} {s}: excluded from the build context by {ignore_file}")
        elif word == "ENV":
            for k, _ in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S+)", rest):
                final_env[k] = n
                check_env(path, k, n)
        elif word == "ENTRYPOINT" and rest.startswith("["):
            try:
                ep = json.loads(rest)
            except json.JSONDecodeError:
                err(path, n, "ENTRYPOINT: JSON form does not parse")
                continue
            if ep and ep[0].startswith("/") and ep[0] not in copied:
                err(path, n, f"ENTRYPOINT {ep[0]}: no COPY in this stage puts a file there")
        elif word == "CMD" and rest.startswith("["):
            try:
                check_command(path, json.loads(rest), "CMD", n)
            except json.JSONDecodeError:
                err(path, n, "CMD: JSON form does not parse")
        elif word == "RUN":
            for pkg in re.findall(r"cargo build[^&;]*?(?:-p|--package)\s+(\S+)", rest):
                if not os.path.isfile(f"crates/{pkg}/Cargo.toml") and \
                        not any(f'name = "{pkg}"' in read(c) for c in glob.glob("crates/*/Cargo.toml")):
                    err(path, n, f"cargo build -p {pkg}: no such package under crates/")
    dockerfile_stages[path] = stages

# --- metrics in dashboards and Prometheus rules ---------------------------------------------

def check_expr(path, expr, where):
    bare = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    for name in sorted(set(re.findall(r"\bxuncha_[a-zA-Z0-9_]+\b", bare))):
        if name in registered:
            continue
        stem = re.sub(r"_(bucket|sum|count)$", "", name)
        if stem != name and stem in histograms:
            continue
        if stem != name and stem in registered:
            err(path, line_of(path, name), f"{where}: {name}: {stem} is not a histogram")
            continue
        err(path, line_of(path, name), f"{where}: metric {name} is registered nowhere in crates/*/src")


def walk_exprs(node, title="dashboard"):
    if isinstance(node, dict):
        t = node.get("title", title) if isinstance(node.get("title"), str) else title
        for k, v in node.items():
            if k == "expr" and isinstance(v, str):
                yield t, v
            else:
                yield from walk_exprs(v, t)
    elif isinstance(node, list):
        for v in node:
            yield from walk_exprs(v, title)


dashboards = {p: d[0] for p, d in docs.items() if p.endswith(".json") and d and isinstance(d[0], dict) and "panels" in d[0]}
for path, dash in dashboards.items():
    for title, expr in walk_exprs(dash):
        check_expr(path, expr, f"panel {title!r}")

rule_files = {}
for path, ds in docs.items():
    for d in ds:
        if isinstance(d, dict) and isinstance(d.get("groups"), list):
            rule_files[path] = d
            for g in d["groups"]:
                for r in g.get("rules", []) or []:
                    if not isinstance(r.get("expr"), str):
                        err(path, line_of(path, str(r.get("alert") or r.get("record"))), "rule without expr")
                        continue
                    check_expr(path, r["expr"], f"rule {r.get('alert') or r.get('record')}")

# --- docker compose -------------------------------------------------------------------------

def as_list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return v.split()
    return [str(x) for x in v]


def env_names(env):
    if isinstance(env, dict):
        return list(env.items())
    out = []
    for e in env or []:
        k, _, v = str(e).partition("=")
        out.append((k, v))
    return out


# The service keys of the Compose Specification (schema/compose-spec.json).
COMPOSE_SERVICE_KEYS = set("""
    annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs
    container_name cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime
    cpu_shares cpus cpuset credential_spec depends_on deploy develop device_cgroup_rules devices
    dns dns_opt dns_search domainname entrypoint env_file environment expose extends
    external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation
    labels label_file links logging mac_address mem_limit mem_reservation mem_swappiness
    memswap_limit models network_mode networks oom_kill_disable oom_score_adj pid pids_limit
    platform ports post_start pre_stop privileged profiles provider pull_policy pull_refresh_after read_only
    restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period
    stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts
    volumes volumes_from working_dir""".split())

compose_files = {p: d[0] for p, d in docs.items()
                 if d and isinstance(d[0], dict) and isinstance(d[0].get("services"), dict)}
compose_mounts = {}  # (compose file, service) -> [(container path, host path)]
for path, comp in compose_files.items():
    here = os.path.dirname(path)
    services = comp["services"]
    volumes = comp.get("volumes") or {}
    for name, svc in services.items():
        svc = svc or {}
        line = line_of(path, f"  {name}:")
        deps = svc.get("depends_on") or []
        for dep in (deps if isinstance(deps, list) else deps.keys()):
            if dep not in services:
                err(path, line_of(path, dep, line or 1) or line, f"service {name}: depends_on {dep}, which is no service")
        for key in svc:
            if key not in COMPOSE_SERVICE_KEYS and not str(key).startswith("x-"):
                err(path, line_of(path, f"{key}:", line or 1) or line, f"service {name}: {key} is no compose service key")
        build = svc.get("build")
        if build:
            ctx = build if isinstance(build, str) else build.get("context", ".")
            ctx = os.path.normpath(os.path.join(here, ctx))
            dockerfile = os.path.normpath(os.path.join(ctx, "Dockerfile" if isinstance(build, str)
                                                       else build.get("dockerfile", "Dockerfile")))
            if not os.path.isdir(ctx):
                err(path, line, f"service {name}: build context {ctx} does not exist")
            if not os.path.isfile(dockerfile):
                err(path, line, f"service {name}: dockerfile {dockerfile} does not exist")
            elif ctx != "." and dockerfile in dockerfile_stages:
                err(path, line, f"service {name}: {dockerfile} expects the repository root as its context, not {ctx}")
        elif not pinned(str(svc.get("image", ""))):
            err(path, line_of(path, str(svc.get("image")), line or 1) or line,
                f"service {name}: image {svc.get('image')} is not pinned to a tag")
        mounts = []
        for v in svc.get("volumes") or []:
            if isinstance(v, dict):
                src, dst = v.get("source"), v.get("target")
            else:
                parts = str(v).split(":")
                src, dst = (parts[0], parts[1]) if len(parts) > 1 else (None, parts[0])
            if src and (src.startswith(".") or src.startswith("/")):
                host = os.path.normpath(os.path.join(here, src))
                if not os.path.exists(host):
                    err(path, line_of(path, src, line or 1), f"service {name}: bind mount source {src} ({host}) does not exist")
                mounts.append((dst, host))
            elif src and src not in volumes:
                err(path, line_of(path, src, line or 1), f"service {name}: volume {src} is not declared under volumes:")
        compose_mounts[(path, name)] = mounts
        for k, _ in env_names(svc.get("environment")):
            check_env(path, k, line_of(path, k, line or 1))
        runs_xuncha = bool(build) or str(svc.get("image", "")).split(":")[0].endswith("xuncha")
        if runs_xuncha and "entrypoint" not in svc:
            cmd = as_list(svc.get("command"))
            if cmd:
                check_command(path, cmd, f"service {name}", line or 1)


def host_path(compose_path, service, container_path):
    best = None
    for dst, host in compose_mounts.get((compose_path, service), []):
        if container_path == dst or container_path.startswith(dst.rstrip("/") + "/"):
            if best is None or len(dst) > len(best[0]):
                best = (dst, host)
    if best is None:
        return None
    return os.path.normpath(best[1] + container_path[len(best[0]):])


for cpath, comp in compose_files.items():
    services = comp["services"]
    for sname, svc in services.items():
        svc = svc or {}
        mounts = compose_mounts.get((cpath, sname), [])
        # Prometheus: its config file, its rule files, its targets.
        for dst, host in mounts:
            prom = host if host.endswith((".yml", ".yaml")) else os.path.join(host, "prometheus.yml")
            if not (dst.startswith("/etc/prometheus") and os.path.isfile(prom) and prom in docs):
                continue
            cfg = docs[prom][0] if docs[prom] else {}
            for rf in cfg.get("rule_files", []) or []:
                hp = host_path(cpath, sname, rf)
                if not hp or not os.path.isfile(hp):
                    err(prom, line_of(prom, rf), f"rule file {rf} is not mounted from a file in {cpath}")
            for job in cfg.get("scrape_configs", []) or []:
                jline = line_of(prom, str(job.get("job_name")))
                targets = []
                for sd in job.get("dns_sd_configs", []) or []:
                    targets += [(n, sd.get("port")) for n in sd.get("names", [])]
                for sc in job.get("static_configs", []) or []:
                    for t in sc.get("targets", []):
                        h, _, p = str(t).rpartition(":")
                        targets.append((h, int(p) if p.isdigit() else None))
                for host, port in targets:
                    if host not in services:
                        err(prom, line_of(prom, host, jline or 1), f"job {job.get('job_name')}: target {host} is no service of {cpath}")
                        continue
                    addr = dict(env_names((services[host] or {}).get("environment"))).get("XUNCHA_HTTP_ADDR")
                    if addr and port and not str(addr).endswith(f":{port}"):
                        err(prom, line_of(prom, str(port), jline or 1),
                            f"job {job.get('job_name')}: port {port}, but {host} serves on {addr}")
        # Grafana: provisioned data sources and dashboard folders.
        prov = host_path(cpath, sname, "/etc/grafana/provisioning")
        if not prov:
            continue
        uids = {"-- Grafana --", "grafana"}
        for p in glob.glob(os.path.join(prov, "datasources", "*.y*ml")):
            for d in docs.get(p, []):
                for ds in d.get("datasources", []) or []:
                    uids.add(ds.get("uid") or ds.get("name"))
                    url = str(ds.get("url", ""))
                    h = re.match(r"https?://([^:/]+)", url)
                    if h and h.group(1) not in services and h.group(1) not in ("localhost", "127.0.0.1"):
                        err(p, line_of(p, url), f"data source {ds.get('name')}: host {h.group(1)} is no service of {cpath}")
        for p in glob.glob(os.path.join(prov, "dashboards", "*.y*ml")):
            for d in docs.get(p, []):
                for prv in d.get("providers", []) or []:
                    cp = (prv.get("options") or {}).get("path", "")
                    hp = host_path(cpath, sname, cp)
                    if not hp or not glob.glob(os.path.join(hp, "*.json")):
                        err(p, line_of(p, cp), f"provider {prv.get('name')}: {cp} is not mounted from a folder of dashboards in {cpath}")
                        continue
                    for dj in glob.glob(os.path.join(hp, "*.json")):
                        dash = dashboards.get(dj)
                        if dash is None:
                            continue
                        ids, unknown = set(), {}

                        def panels(ps):
                            for pn in ps or []:
                                yield pn
                                yield from panels(pn.get("panels"))
                        for pn in panels(dash.get("panels")):
                            if pn.get("id") in ids:
                                err(dj, line_of(dj, f'"id": {pn.get("id")},'), f"panel id {pn.get('id')} is used twice")
                            ids.add(pn.get("id"))
                            for node in [pn] + list(pn.get("targets") or []):
                                ds = node.get("datasource")
                                if isinstance(ds, dict) and ds.get("uid") not in uids:
                                    unknown.setdefault(ds.get("uid"), set()).add(pn.get("title"))
                        for uid, titles in unknown.items():
                            err(dj, line_of(dj, f'"uid": "{uid}"'),
                                f"data source uid {uid} (in {len(titles)} panels, e.g. {sorted(titles)[0]!r}) "
                                f"is not provisioned ({', '.join(sorted(map(str, uids)))})")
        home = dict(env_names(svc.get("environment"))).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
        if home:
            hp = host_path(cpath, sname, home)
            if not hp or not os.path.isfile(hp):
                err(cpath, line_of(cpath, home), f"service {sname}: home dashboard {home} is not mounted from a file")

# --- Kubernetes -----------------------------------------------------------------------------

K8S = os.path.join(DEPLOY, "k8s")
k8s_docs = [(p, d) for p, ds in docs.items() if p.startswith(K8S + os.sep) for d in ds
            if isinstance(d, dict) and "kind" in d and d.get("kind") != "Kustomization"]
for p, d in k8s_docs:
    for field in ("apiVersion", "metadata"):
        if field not in d:
            err(p, line_of(p, f"kind: {d.get('kind')}"), f"{d.get('kind')} has no {field}")
    if not (d.get("metadata") or {}).get("name"):
        err(p, line_of(p, f"kind: {d.get('kind')}"), f"{d.get('kind')} has no metadata.name")

kust = os.path.join(K8S, "kustomization.yaml")
for d in docs.get(kust, []):
    for r in d.get("resources", []) or []:
        if not os.path.exists(os.path.join(K8S, r)):
            err(kust, line_of(kust, r), f"resource {r} does not exist")

# ConfigMaps: those defined in manifests, and those configmaps.sh makes (with their keys).
configmaps = {(d.get("metadata") or {}).get("name"): set((d.get("data") or {}).keys()) | set((d.get("binaryData") or {}).keys())
              for p, d in k8s_docs if d.get("kind") == "ConfigMap"}
script = os.path.join(K8S, "configmaps.sh")
if os.path.isfile(script):
    text = read(script)
    for m in re.finditer(r"^\s*(?:kubectl create configmap|configmap)\s+([a-z0-9.-]+)(.*)$", text, re.M):
        name, keys = m.group(1), set()
        for src in re.findall(r"--from-file=(\S+)", m.group(2)):
            key, _, fpath = src.rpartition("=") if "=" in src else ("", "", src)
            line = line_of(script, src)
            if not os.path.exists(fpath):
                err(script, line, f"configmap {name}: {fpath} does not exist")
            elif os.path.isdir(fpath):
                keys |= {f for f in os.listdir(fpath) if os.path.isfile(os.path.join(fpath, f))}
            else:
                keys.add(key or os.path.basename(fpath))
        configmaps[name] = keys

claims = {(d.get("metadata") or {}).get("name") for p, d in k8s_docs if d.get("kind") == "PersistentVolumeClaim"}
partitions = None
m = re.search(r"^partitions\s*=\s*(\d+)", read("config/kafka.toml"), re.M)
if m:
    partitions = int(m.group(1))
kafka_members, pod_labels = [], []
for p, d in k8s_docs:
    kind = d.get("kind")
    name = (d.get("metadata") or {}).get("name")
    if kind not in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        continue
    line = line_of(p, f"name: {name}")
    spec = d.get("spec") or {}
    tmpl = spec.get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    pod_labels.append(labels)
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in sel.items()):
        err(p, line, f"{kind} {name}: selector {sel} does not match the pod labels {labels}")
    pspec = tmpl.get("spec") or {}
    vols = {v.get("name"): v for v in pspec.get("volumes") or []}
    for vname, v in vols.items():
        cm = (v.get("configMap") or {}).get("name")
        if cm and cm not in configmaps:
            err(p, line_of(p, cm, line or 1), f"{kind} {name}: ConfigMap {cm} is neither in deploy/k8s nor made by configmaps.sh")
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and claim not in claims:
            err(p, line_of(p, claim, line or 1), f"{kind} {name}: claim {claim} is defined nowhere in deploy/k8s")
    for c in pspec.get("containers") or []:
        image = str(c.get("image", ""))
        if not pinned(image):
            err(p, line_of(p, image, line or 1), f"{kind} {name}: image {image} is not pinned to a tag")
        ports = {pt.get("name") for pt in c.get("ports") or []} | {pt.get("containerPort") for pt in c.get("ports") or []}
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            hg = (c.get(probe) or {}).get("httpGet")
            if not hg:
                continue
            if hg.get("port") not in ports:
                err(p, line_of(p, probe, line or 1), f"{kind} {name}: {probe} port {hg.get('port')} is no port of the container")
            if routes and hg.get("path") not in routes:
                err(p, line_of(p, probe, line or 1), f"{kind} {name}: {probe} path {hg.get('path')} is not served (routes: {', '.join(sorted(routes))})")
        for mnt in c.get("volumeMounts") or []:
            v = vols.get(mnt.get("name"))
            if v is None:
                err(p, line_of(p, f"name: {mnt.get('name')}", line or 1), f"{kind} {name}: mount {mnt.get('name')} names no volume")
                continue
            cm = (v.get("configMap") or {}).get("name")
            if cm in configmaps and mnt.get("subPath") and mnt["subPath"] not in configmaps[cm]:
                err(p, line_of(p, f"subPath: {mnt['subPath']}", line or 1), f"{kind} {name}: ConfigMap {cm} has no key {mnt['subPath']}")
        for e in c.get("env") or []:
            check_env(p, e.get("name", ""), line_of(p, f"name: {e.get('name')}", line or 1))
        if image.split("@")[0].split(":")[0].rsplit("/", 1)[-1] == "xuncha":
            cmd = [str(x) for x in (c.get("command") or [])]
            if cmd and os.path.basename(cmd[0]) != "xuncha":
                continue
            argv = cmd[1:] + [str(x) for x in (c.get("args") or [])]
            check_command(p, argv, f"{kind} {name}", line or 1)
            if argv and argv[0] == "run" and any("kafka" in a for a in argv):
                kafka_members.append((p, line, name, int(spec.get("replicas", 1))))
for p, d in k8s_docs:
    if d.get("kind") != "Service":
        continue
    sel = (d.get("spec") or {}).get("selector") or {}
    if sel and not any(all(l.get(k) == v for k, v in sel.items()) for l in pod_labels):
        err(p, line_of(p, "selector:"), f"Service {d['metadata'].get('name')}: selector {sel} matches no pod template")
if partitions and kafka_members:
    total = sum(r for *_, r in kafka_members)
    if total > partitions:
        p, line, _, _ = kafka_members[0]
        err(p, line, f"{total} consumers in the group ({', '.join(f'{n}={r}' for _, _, n, r in kafka_members)}) "
                     f"but xuncha.postings has {partitions} partitions (config/kafka.toml): the rest would idle")

# The engines' own validators, where this machine has them (they need no daemon or cluster).
if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
    for cpath in compose_files:
        r = subprocess.run(["docker", "compose", "-f", cpath, "config", "--quiet"], capture_output=True, text=True, timeout=60)
        if r.returncode:
            err(cpath, None, "docker compose config: " + r.stderr.strip().replace("\n", "; "))
if shutil.which("kubectl") and os.path.isfile(kust):
    r = subprocess.run(["kubectl", "kustomize", K8S], capture_output=True, text=True, timeout=60)
    if r.returncode:
        err(kust, None, "kubectl kustomize: " + r.stderr.strip().replace("\n", "; "))

# --- report ---------------------------------------------------------------------------------

if errors:
    for path, line, msg in errors:
        print(f"{path}:{line}: {msg}" if line else f"{path}: {msg}", file=sys.stderr)
    print(f"check-deploy: {len(errors)} problem(s) in deploy/", file=sys.stderr)
    sys.exit(1)
checked = sum(1 for p in files if p.endswith((".yml", ".yaml", ".json", ".sh")) or os.path.basename(p) == "Dockerfile")
print(f"check-deploy: {checked} files under deploy/ OK ({len(registered)} metrics known, "
      f"subcommands: {', '.join(sorted(subcommands))})")
PY
