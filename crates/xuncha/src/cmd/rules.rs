//! `xuncha rules check|test|explain`.

use std::process::ExitCode;

use xuncha_matcher::PrefilterKind;
use xuncha_rules::{RuleBody, RuleSet};

use crate::RulesArg;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Validate every pack (regexes, categories, legal basis, examples present), naming file:line.
    Check(RulesArg),
    /// Run every rule's `match` and `no_match` examples; non-zero exit on any failure.
    Test(RulesArg),
    /// Print one rule with its legal basis.
    Explain {
        /// Rule id.
        id: String,
        #[command(flatten)]
        rules: RulesArg,
    },
    /// Fit the weights of signature rules on labelled postings (logistic regression, the
    /// hand weights as prior), print cross-validated precision and recall, and with
    /// `--write` write the weights and the fit's record into the packs.
    Fit(super::fit::Args),
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check(r) => check(&r),
        Command::Test(r) => test(&r),
        Command::Explain { id, rules } => explain(&rules, &id),
        Command::Fit(args) => super::fit::run(args),
    }
}

fn load(r: &RulesArg) -> Result<RuleSet, ExitCode> {
    RuleSet::load(&r.dir).map_err(|errs| {
        for e in &errs.0 {
            eprintln!("{e}");
        }
        eprintln!("{} problem(s); the rule set does not load", errs.0.len());
        ExitCode::FAILURE
    })
}

fn check(r: &RulesArg) -> anyhow::Result<ExitCode> {
    let set = match load(r) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let n = set.rules.len();
    let version = set.version.clone();
    let matcher = xuncha_matcher::Matcher::with_prefilter(
        std::sync::Arc::new(set),
        PrefilterKind::default(),
    )?;
    println!(
        "{n} rules, {} anchors, rules version {version}: ok",
        matcher.literals().len()
    );
    Ok(ExitCode::SUCCESS)
}

fn test(r: &RulesArg) -> anyhow::Result<ExitCode> {
    let matcher = super::load_matcher(&r.dir, PrefilterKind::default())?;
    let report = matcher.test_examples();
    for f in &report.failures {
        if f.should_match {
            println!(
                "{}: {}: should match but did not: {}",
                f.origin, f.rule_id, f.text
            );
        } else {
            println!(
                "{}: {}: should not match but matched {:?}: {}",
                f.origin, f.rule_id, f.matched, f.text
            );
        }
    }
    println!(
        "{} rules, {} examples, {} failed",
        matcher.rules().rules.len(),
        report.run,
        report.failures.len()
    );
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn explain(r: &RulesArg, id: &str) -> anyhow::Result<ExitCode> {
    let set = match load(r) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let Some(rule) = set.rule(id) else {
        eprintln!("no rule `{id}` in {}", r.dir.display());
        return Ok(ExitCode::FAILURE);
    };
    println!("{}  {}", rule.id, rule.title);
    println!("  category   {}", rule.category);
    println!("  severity   {}", rule.severity);
    println!("  defined at {}", rule.origin);
    if let Some(d) = &rule.description {
        println!("  {d}");
    }
    for l in &rule.legal_basis {
        println!("  依据 {}{}：{}", l.law, l.article, l.text);
    }
    if let Some(p) = &rule.penalty {
        println!("  罚则 {}{}：{}", p.law, p.article, p.text);
    }
    if !rule.jurisdictions.is_empty() {
        println!("  applies only in {}", rule.jurisdictions.join(", "));
    }
    for l in &rule.local {
        println!("  in {}: {}", l.jurisdictions.join(", "), l.severity);
        for b in &l.legal_basis {
            println!("    依据 {}{}：{}", b.law, b.article, b.text);
        }
    }
    match &rule.body {
        RuleBody::Phrase(p) => {
            println!("  anchors    {}", p.anchors.join(" "));
            for re in &p.patterns {
                println!("  pattern    {re}");
            }
            for re in &p.negations {
                println!("  negation   {re}");
            }
            for re in &p.exceptions {
                println!("  exception  {re}");
            }
        }
        RuleBody::Signature(s) => {
            println!("  threshold  {}", s.threshold);
            for sig in &s.signals {
                let what = match (&sig.phrase, sig.salary_monthly_min) {
                    (Some(p), _) => p
                        .patterns
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(" | "),
                    (None, Some(m)) => format!("pay ≥ {m} yuan/month"),
                    (None, None) => String::new(),
                };
                println!("  signal     {} ({}): {what}", sig.name, sig.weight);
            }
        }
    }
    for e in &rule.examples.must_match {
        println!("  flags      {e}");
    }
    for e in &rule.examples.no_match {
        println!("  passes     {e}");
    }
    Ok(ExitCode::SUCCESS)
}
