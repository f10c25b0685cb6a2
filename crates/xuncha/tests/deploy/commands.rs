//! Command lines and variables the deploy files hand to xuncha: a command line must start
//! with a subcommand and name a settings file the image has; a XUNCHA_* variable must be one
//! xuncha reads, since an unread one is a setting silently left at its default.

use super::code::Code;
use super::{Repo, Report, Source};

const IMAGE_CONFIG: &str = "/etc/xuncha/";

/// `argv`: the arguments after the binary; `start`: the line to look for them from.
pub fn check_command(
    report: &mut Report,
    repo: &Repo,
    code: &Code,
    src: &Source,
    argv: &[String],
    what: &str,
    start: usize,
) {
    let line = argv
        .first()
        .and_then(|a| src.line_of(a, start))
        .unwrap_or(start);
    if argv.first().is_none_or(|a| !code.subcommands.contains(a)) {
        report.err(
            &src.path,
            Some(line),
            format!(
                "{what}: `xuncha {}` does not start with a subcommand ({})",
                argv.join(" "),
                code.subcommands
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    for (i, a) in argv.iter().enumerate() {
        let value = match a.strip_prefix("--config=") {
            Some(v) => v,
            None if a == "--config" => match argv.get(i + 1) {
                Some(v) => v,
                None => continue,
            },
            None => continue,
        };
        // The image copies config/ to /etc/xuncha/config.
        let in_repo = value.strip_prefix(IMAGE_CONFIG).unwrap_or(value);
        if !in_repo.starts_with("config/") || !repo.is_file(in_repo) {
            report.err(
                &src.path,
                Some(src.line_of(value, start).unwrap_or(line)),
                format!(
                    "{what}: --config {value} is not a file under config/ (looked for {in_repo})"
                ),
            );
        }
    }
}

/// `name` as set at `line` of `src`; names without the XUNCHA_ prefix are other programs'.
pub fn check_env(report: &mut Report, code: &Code, src: &Source, name: &str, line: Option<usize>) {
    let Some(rest) = name.strip_prefix("XUNCHA_") else {
        return;
    };
    let line = line.or_else(|| src.line_of(name, 1));
    let k = rest.to_ascii_lowercase();
    let ours = code
        .env_sections
        .iter()
        .any(|s| k == *s || k.starts_with(&format!("{s}_")));
    if !ours {
        if !code.flag_envs.contains(name) {
            report.err(
                &src.path,
                line,
                format!("{name} is read by nothing in xuncha (neither a setting nor a flag's env)"),
            );
        }
        return;
    }
    let key = code
        .env_special
        .get(&k)
        .cloned()
        .unwrap_or_else(|| k.replace("__", "."));
    if code.settings_keys.contains(&key)
        || code
            .free_tables
            .iter()
            .any(|t| key.starts_with(&format!("{t}.")))
    {
        return;
    }
    let hint = if code.flag_envs.contains(name) {
        " (a flag's variable, but `xuncha run` reads it as a setting and refuses it)"
    } else {
        ""
    };
    report.err(
        &src.path,
        line,
        format!("{name} sets `{key}`, which is no key of config/default.toml or config/kafka.toml{hint}"),
    );
}
