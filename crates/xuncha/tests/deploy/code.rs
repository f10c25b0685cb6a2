//! What xuncha defines, for the deploy files to be checked against. The command tree and the
//! flags' variables come from the built binary's own help, so a renamed subcommand or flag
//! is seen as clap sees it. What the binary cannot be asked without starting a service (the
//! metric names, the settings sections, the HTTP routes) is read from the source.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use regex::Regex;

use super::{Repo, Report};

#[derive(Debug, Default)]
pub struct Code {
    /// Metric name → the file that names it.
    pub metrics: BTreeMap<String, String>,
    pub histograms: BTreeSet<String>,
    /// Top-level subcommands of `xuncha`.
    pub subcommands: BTreeSet<String>,
    /// The top-level keys of `Config`: `XUNCHA_<KEY>…` belongs to the settings.
    pub env_sections: Vec<String>,
    /// Variables with a name of their own (`config.rs`'s `env_key`): lowercase → key.
    pub env_special: BTreeMap<String, String>,
    /// Variables some command-line flag reads (clap's `env`).
    pub flag_envs: BTreeSet<String>,
    /// Every key the shipped settings files set or show commented out, dotted.
    pub settings_keys: BTreeSet<String>,
    /// Tables whose keys are free (quoted dotted keys passed through as they are).
    pub free_tables: BTreeSet<String>,
    pub routes: BTreeSet<String>,
    /// Package names of the workspace members under crates/.
    pub packages: BTreeSet<String>,
}

const MAIN: &str = "crates/xuncha/src/main.rs";
const CONFIG_RS: &str = "crates/xuncha/src/config.rs";
const TELEMETRY_RS: &str = "crates/xuncha/src/telemetry.rs";
const SETTINGS: [&str; 2] = ["config/default.toml", "config/kafka.toml"];

impl Code {
    pub fn load(repo: &Repo, report: &mut Report) -> Code {
        let mut code = Code::default();
        code.read_metrics(repo);
        if code.metrics.is_empty() {
            report.err(
                "crates",
                None,
                "no metric names (\"xuncha_…\" literals in files using prometheus) found",
            );
        }
        code.ask_binary(report);
        let config_rs = repo.read(CONFIG_RS).unwrap_or_default();
        code.read_settings_env(&config_rs);
        if code.env_sections.is_empty() {
            report.err(
                CONFIG_RS,
                None,
                "cannot find which XUNCHA_* variables are settings (`pub struct Config`)",
            );
        }
        for path in SETTINGS {
            match repo.read(path) {
                Some(text) => code.read_settings_keys(&text),
                None => report.err(path, None, "cannot be read"),
            }
        }
        let route = Regex::new(r#"\.route\("([^"]+)""#).unwrap();
        let telemetry = repo.read(TELEMETRY_RS).unwrap_or_default();
        code.routes = route
            .captures_iter(&telemetry)
            .map(|c| c[1].to_string())
            .collect();
        let name = Regex::new(r#"(?m)^name\s*=\s*"([^"]+)""#).unwrap();
        for manifest in repo.glob("crates/*/Cargo.toml") {
            if let Some(c) = repo
                .read(&manifest)
                .and_then(|t| name.captures(&t).map(|c| c[1].to_string()))
            {
                code.packages.insert(c);
            }
        }
        code
    }

    /// Names registered with prometheus are string literals in the files that use it; the
    /// binary's own metrics live in a crate with no library, out of a test's reach.
    fn read_metrics(&mut self, repo: &Repo) {
        let literal = Regex::new(r#""(xuncha_[a-z0-9_]+)""#).unwrap();
        let histogram = Regex::new(r#"HistogramOpts::new\(\s*"(xuncha_[a-z0-9_]+)""#).unwrap();
        for path in repo.glob("crates/*/src/**/*.rs") {
            let Some(text) = repo.read(&path) else {
                continue;
            };
            if !text.contains("prometheus") {
                continue;
            }
            for c in literal.captures_iter(&text) {
                self.metrics
                    .entry(c[1].to_string())
                    .or_insert_with(|| path.clone());
            }
            self.histograms
                .extend(histogram.captures_iter(&text).map(|c| c[1].to_string()));
        }
    }

    /// Walks `xuncha --help` and every subcommand's help: the subcommands at the top, and
    /// every `[env: XUNCHA_…]` a flag anywhere in the tree shows.
    fn ask_binary(&mut self, report: &mut Report) {
        let env = Regex::new(r"\[env: (XUNCHA_[A-Z0-9_]+)=").unwrap();
        let mut queue: Vec<Vec<String>> = vec![Vec::new()];
        while let Some(path) = queue.pop() {
            let help = match help(&path) {
                Ok(h) => h,
                Err(e) => {
                    report.err(MAIN, None, format!("xuncha {} --help: {e}", path.join(" ")));
                    continue;
                }
            };
            self.flag_envs
                .extend(env.captures_iter(&help).map(|c| c[1].to_string()));
            for sub in subcommands(&help) {
                if path.is_empty() {
                    self.subcommands.insert(sub.clone());
                }
                let mut deeper = path.clone();
                deeper.push(sub);
                queue.push(deeper);
            }
        }
        if self.subcommands.is_empty() {
            report.err(
                MAIN,
                None,
                "`xuncha --help` lists no subcommands to check command lines against",
            );
        }
    }

    /// `pub struct Config`'s fields and `env_key`'s named variables.
    pub fn read_settings_env(&mut self, config_rs: &str) {
        let body = Regex::new(r"(?s)pub struct Config \{(.*?)\n\}").unwrap();
        let field = Regex::new(r"pub ([a-z_]+):").unwrap();
        if let Some(b) = body.captures(config_rs) {
            self.env_sections = field
                .captures_iter(&b[1])
                .map(|c| c[1].to_string())
                .collect();
        }
        let arm = Regex::new(r#"((?:"[a-z_]+"\s*\|\s*)*"[a-z_]+")\s*=>\s*"([a-z_.]+)"\.into\(\)"#)
            .unwrap();
        for c in arm.captures_iter(config_rs) {
            for name in c[1].split('|') {
                let name = name.trim().trim_matches('"');
                self.env_special.insert(name.to_string(), c[2].to_string());
            }
        }
    }

    /// Every assignment, commented out or not: a commented one documents a key that exists.
    pub fn read_settings_keys(&mut self, toml: &str) {
        let header = Regex::new(r"^\s*\[([a-z_.]+)\]").unwrap();
        let assign = Regex::new(r#"^\s*#?\s*("?)([a-z_.]+)"?\s*="#).unwrap();
        let mut section = String::new();
        for line in toml.lines() {
            if let Some(h) = header.captures(line) {
                section = h[1].to_string();
                self.settings_keys.insert(section.clone());
                continue;
            }
            if let Some(a) = assign.captures(line) {
                let key = &a[2];
                if !a[1].is_empty() && key.contains('.') {
                    // A quoted dotted key: the table is a pass-through map.
                    self.free_tables.insert(section.clone());
                }
                self.settings_keys.insert(if section.is_empty() {
                    key.to_string()
                } else {
                    format!("{section}.{key}")
                });
            }
        }
    }
}

fn help(path: &[String]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(path)
        .arg("--help")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The names under clap's `Commands:` heading, less its own `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}
