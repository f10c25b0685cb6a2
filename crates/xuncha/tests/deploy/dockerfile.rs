//! A Dockerfile read the way BuildKit reads it, for the mistakes a build only shows after
//! minutes: an unpinned base image, a `--from` stage that does not exist, a COPY source
//! missing from the build context or filtered out by the .dockerignore, an ENTRYPOINT that
//! names a file nothing copied, a `cargo build -p` of a package that is not in the workspace.

use std::collections::BTreeSet;

use regex::Regex;

use super::code::Code;
use super::commands::{check_command, check_env};
use super::{pinned, wildcard, Repo, Report, Source};

/// A .dockerignore file's rules, in order, for the ones after to override the ones before.
pub struct Ignore {
    pub file: String,
    /// Whether the rule re-includes (`!`), and its pattern.
    rules: Vec<(bool, Regex)>,
}

impl Ignore {
    /// `<Dockerfile>.dockerignore` beside the Dockerfile, which BuildKit prefers, else the
    /// context root's `.dockerignore`.
    pub fn find(repo: &Repo, dockerfile: &str) -> Option<Ignore> {
        [
            format!("{dockerfile}.dockerignore"),
            ".dockerignore".to_string(),
        ]
        .into_iter()
        .find_map(|f| Some(Ignore::parse(&f, &repo.read(&f)?)))
    }

    pub fn parse(file: &str, text: &str) -> Ignore {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (neg, pat) = match l.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, l),
                };
                (neg, wildcard(pat.trim_matches('/')))
            })
            .collect();
        Ignore {
            file: file.to_string(),
            rules,
        }
    }

    /// The last rule that matches `rel` or one of its parent directories decides.
    pub fn excludes(&self, rel: &str) -> bool {
        let parts: Vec<&str> = rel.trim_matches('/').split('/').collect();
        let mut out = false;
        for (neg, rx) in &self.rules {
            if (1..=parts.len()).any(|n| rx.is_match(&parts[..n].join("/"))) {
                out = !neg;
            }
        }
        out
    }
}

/// Logical instructions: continuation lines joined, comments dropped, each with the line
/// it starts on.
fn instructions(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut start = None;
    for (i, raw) in text.lines().enumerate() {
        let s = raw.trim();
        if s.starts_with('#') || (buf.is_empty() && s.is_empty()) {
            continue;
        }
        let n = *start.get_or_insert(i + 1);
        match s.strip_suffix('\\') {
            Some(head) => {
                buf.push_str(head);
                buf.push(' ');
            }
            None => {
                buf.push_str(s);
                out.push((n, std::mem::take(&mut buf)));
                start = None;
            }
        }
    }
    out
}

fn basename(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    p.rsplit('/').next().unwrap_or(p)
}

/// Checks `src` against the build context `repo` (the repository root, as the Dockerfile's
/// header says).
pub fn check(report: &mut Report, repo: &Repo, code: &Code, src: &Source, ignore: Option<&Ignore>) {
    let flag = Regex::new(r"--([a-z-]+)(?:=(\S+))?").unwrap();
    let env = Regex::new(r#"([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)"#).unwrap();
    let cargo = Regex::new(r"cargo build[^&;]*?(?:-p|--package)\s+(\S+)").unwrap();
    let remote = Regex::new(r"^(https?://|git@)").unwrap();
    let mut stages: Vec<String> = Vec::new();
    let mut copied: BTreeSet<String> = BTreeSet::new();
    let err = |report: &mut Report, n: usize, msg: String| report.err(&src.path, Some(n), msg);
    for (n, ins) in instructions(&src.text) {
        let (word, rest) = ins.split_once(' ').unwrap_or((&ins, ""));
        let word = word.to_ascii_uppercase();
        let rest = rest.trim();
        match word.as_str() {
            "FROM" => {
                let toks: Vec<&str> = rest
                    .split_whitespace()
                    .filter(|t| !t.starts_with("--"))
                    .collect();
                let image = toks.first().copied().unwrap_or("");
                if !stages.iter().any(|s| s == image) && !pinned(image) {
                    err(
                        report,
                        n,
                        format!("FROM {image}: pin the image to a tag (not latest) or a digest"),
                    );
                }
                if toks.len() >= 3 && toks[1].eq_ignore_ascii_case("AS") {
                    stages.push(toks[2].to_string());
                } else {
                    stages.push(format!("#{}", stages.len()));
                }
                copied.clear();
            }
            "COPY" | "ADD" => {
                let from = flag
                    .captures_iter(rest)
                    .find(|c| &c[1] == "from")
                    .and_then(|c| c.get(2).map(|m| m.as_str().to_string()));
                let mut args = rest;
                while args.starts_with("--") {
                    args = args
                        .split_once(char::is_whitespace)
                        .map_or("", |(_, r)| r.trim_start());
                }
                let argv: Vec<String> = if args.starts_with('[') {
                    match serde_json::from_str(args) {
                        Ok(v) => v,
                        Err(_) => {
                            err(report, n, format!("{word}: JSON form does not parse"));
                            continue;
                        }
                    }
                } else {
                    args.split_whitespace().map(str::to_string).collect()
                };
                let Some((dest, srcs)) = argv.split_last().filter(|(_, s)| !s.is_empty()) else {
                    err(
                        report,
                        n,
                        format!("{word} needs a source and a destination"),
                    );
                    continue;
                };
                for s in srcs {
                    copied.insert(match dest.strip_suffix('/') {
                        Some(dir) => format!("{}/{}", dir.trim_end_matches('/'), basename(s)),
                        None => dest.clone(),
                    });
                }
                if let Some(stage) = from {
                    let defined = &stages[..stages.len().saturating_sub(1)];
                    let known = defined.contains(&stage)
                        || stage.parse::<usize>().is_ok_and(|i| i < defined.len());
                    if !known {
                        if stage.contains(':') || stage.contains('/') {
                            if !pinned(&stage) {
                                err(report, n, format!("--from={stage}: pin the image to a tag"));
                            }
                        } else {
                            let named: Vec<&str> = defined
                                .iter()
                                .filter(|s| !s.starts_with('#'))
                                .map(String::as_str)
                                .collect();
                            let named = if named.is_empty() {
                                "none".to_string()
                            } else {
                                named.join(", ")
                            };
                            err(
                                report,
                                n,
                                format!("--from={stage}: no stage of that name above this line (stages: {named})"),
                            );
                        }
                    }
                    continue;
                }
                for s in srcs {
                    if word == "ADD" && remote.is_match(s) {
                        continue;
                    }
                    let matches = if s.contains(['*', '?', '[']) {
                        repo.glob(s)
                    } else if repo.exists(s) {
                        vec![super::normalize(s)]
                    } else {
                        Vec::new()
                    };
                    if matches.is_empty() {
                        err(report, n, format!("{word} {s}: no such path in the build context (the repository root)"));
                    }
                    if let Some(ignore) = ignore {
                        if matches.iter().any(|m| ignore.excludes(m)) {
                            err(
                                report,
                                n,
                                format!(
                                    "{word} {s}: excluded from the build context by {}",
                                    ignore.file
                                ),
                            );
                        }
                    }
                }
            }
            "ENV" => {
                for c in env.captures_iter(rest) {
                    check_env(report, code, src, &c[1], Some(n));
                }
            }
            "ENTRYPOINT" if rest.starts_with('[') => {
                match serde_json::from_str::<Vec<String>>(rest) {
                    Ok(ep) => {
                        if let Some(bin) = ep.first().filter(|b| b.starts_with('/')) {
                            if !copied.contains(bin) {
                                err(
                                    report,
                                    n,
                                    format!(
                                        "ENTRYPOINT {bin}: no COPY in this stage puts a file there"
                                    ),
                                );
                            }
                        }
                    }
                    Err(_) => err(report, n, "ENTRYPOINT: JSON form does not parse".into()),
                }
            }
            "CMD" if rest.starts_with('[') => match serde_json::from_str::<Vec<String>>(rest) {
                Ok(argv) => check_command(report, repo, code, src, &argv, "CMD", n),
                Err(_) => err(report, n, "CMD: JSON form does not parse".into()),
            },
            "RUN" => {
                for c in cargo.captures_iter(rest) {
                    if !code.packages.contains(&c[1]) {
                        err(
                            report,
                            n,
                            format!("cargo build -p {}: no such package under crates/", &c[1]),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}
