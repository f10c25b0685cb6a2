//! Every metric a Grafana panel or a Prometheus rule queries is one xuncha registers: a
//! renamed metric otherwise leaves an empty panel and an alert that can never fire.

use regex::Regex;
use serde_json::Value as Json;

use super::code::Code;
use super::yaml::Node;
use super::{Report, Source};

pub fn check_expr(report: &mut Report, code: &Code, src: &Source, expr: &str, place: &str) {
    // Label values are not metric names: `{job=~"xuncha_x"}` names none.
    let quoted = Regex::new(r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"#).unwrap();
    let bare = quoted.replace_all(expr, "\"\"");
    let name = Regex::new(r"\bxuncha_[a-zA-Z0-9_]+\b").unwrap();
    let suffix = Regex::new(r"_(bucket|sum|count)$").unwrap();
    let mut names: Vec<&str> = name.find_iter(&bare).map(|m| m.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if code.metrics.contains_key(name) {
            continue;
        }
        let stem = suffix.replace(name, "");
        let line = src.line_of(name, 1);
        if stem != name && code.histograms.contains(stem.as_ref()) {
            continue;
        }
        if stem != name && code.metrics.contains_key(stem.as_ref()) {
            report.err(
                &src.path,
                line,
                format!("{place}: {name}: {stem} is not a histogram"),
            );
            continue;
        }
        report.err(
            &src.path,
            line,
            format!("{place}: metric {name} is registered nowhere in crates/*/src"),
        );
    }
}

/// Every `expr` of a dashboard, with the title of the panel it sits in.
pub fn check_dashboard(report: &mut Report, code: &Code, src: &Source, dash: &Json) {
    fn walk(node: &Json, title: &str, out: &mut Vec<(String, String)>) {
        match node {
            Json::Object(m) => {
                let title = m.get("title").and_then(Json::as_str).unwrap_or(title);
                for (k, v) in m {
                    match v {
                        Json::String(e) if k == "expr" => out.push((title.to_string(), e.clone())),
                        _ => walk(v, title, out),
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|v| walk(v, title, out)),
            _ => {}
        }
    }
    let mut exprs = Vec::new();
    walk(dash, "dashboard", &mut exprs);
    for (title, expr) in exprs {
        check_expr(report, code, src, &expr, &format!("panel {title:?}"));
    }
}

/// A Prometheus rule file: every rule has an expression, over metrics that exist.
pub fn check_rules(report: &mut Report, code: &Code, src: &Source, doc: &Node) {
    for group in doc.seq("groups") {
        for rule in group.seq("rules") {
            let name = rule
                .get("alert")
                .or_else(|| rule.get("record"))
                .map(Node::text)
                .unwrap_or("?");
            match rule.get("expr").and_then(Node::scalar) {
                Some(expr) => check_expr(report, code, src, expr, &format!("rule {name}")),
                None => report.err(
                    &src.path,
                    Some(rule.line),
                    format!("rule {name} has no expr"),
                ),
            }
        }
    }
}
