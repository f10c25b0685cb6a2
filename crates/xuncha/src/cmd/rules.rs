//! `xuncha rules check|test|explain|anchors|gates|fit`, and `stats` and `demotion`
//! (rules_from_verdicts.rs), what the analysts' verdicts say of them.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use xuncha_matcher::PrefilterKind;
use xuncha_rules::{RuleBody, RuleSet};

use crate::RulesArg;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Validate every pack (regexes, categories, legal basis, examples present, each
    /// pattern's compiled size), naming file:line, and time every rule on a fixed probe
    /// text: a rule over the budget is refused.
    Check {
        #[command(flatten)]
        rules: RulesArg,
        /// Most milliseconds one rule's patterns may take over the probe text (64 KiB of
        /// posting-like text), on this machine. Generous, so that an unoptimised build
        /// passes the shipped rules; the compiled-size limit is the first guard.
        #[arg(long, default_value_t = 1000)]
        budget_ms: u64,
    },
    /// Run every rule's `match` and `no_match` examples; non-zero exit on any failure.
    Test(RulesArg),
    /// Print the literals the prefilter searches for, one a line (normalised, as matched);
    /// `-v` adds the rules each one makes candidates.
    Anchors {
        #[command(flatten)]
        rules: RulesArg,
        #[arg(short, long)]
        verbose: bool,
    },
    /// Measure each prefilter literal on real postings: the share of postings it occurs in
    /// and the rules it gates, busiest first. A literal in more than `--max-share` of them
    /// gates nothing in practice and makes every posting a candidate; exit status 1 if any.
    Gates {
        /// JSONL files of postings (a sample of real ones).
        files: Vec<std::path::PathBuf>,
        #[command(flatten)]
        rules: RulesArg,
        /// Largest share of postings one literal may occur in.
        #[arg(long, default_value_t = 0.03)]
        max_share: f64,
        /// Lines printed.
        #[arg(long, default_value_t = 30)]
        top: usize,
    },
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
    /// Per rule, from the case store: leads first seen in the window, confirmed, false
    /// positives, undecided, precision = confirmed / (confirmed + false positives) with
    /// its Wilson 95% interval, and whether the rule is demoted.
    Stats {
        #[command(flatten)]
        args: super::rules_from_verdicts::StatsArgs,
        #[command(flatten)]
        db: super::leads::Db,
        #[command(flatten)]
        settings: super::SettingsArg,
    },
    /// Rule demotions: lift one (`lift RULE --actor NAME --note TEXT`), or list them.
    Demotion {
        #[command(subcommand)]
        command: super::rules_from_verdicts::DemotionCommand,
        #[command(flatten)]
        db: super::leads::Db,
        #[command(flatten)]
        settings: super::SettingsArg,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { rules, budget_ms } => check(&rules, budget_ms),
        Command::Test(r) => test(&r),
        Command::Explain { id, rules } => explain(&rules, &id),
        Command::Anchors { rules, verbose } => anchors(&rules, verbose),
        Command::Gates {
            files,
            rules,
            max_share,
            top,
        } => gates(&rules, &files, max_share, top),
        Command::Fit(args) => super::fit::run(args),
        Command::Stats { args, db, settings } => {
            super::rules_from_verdicts::stats(&db.open()?.demotion(settings.demotion()?), &args)
        }
        Command::Demotion {
            command,
            db,
            settings,
        } => super::rules_from_verdicts::demotion(
            &db.open()?.demotion(settings.demotion()?),
            command,
        ),
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

fn check(r: &RulesArg, budget_ms: u64) -> anyhow::Result<ExitCode> {
    let set = match load(r) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let n = set.rules.len();
    let version = set.version.clone();
    let costs = rule_costs(&set);
    let matcher = xuncha_matcher::Matcher::with_prefilter(
        std::sync::Arc::new(set),
        PrefilterKind::default(),
    )?;
    let over: Vec<&(String, String, f64)> = costs
        .iter()
        .filter(|(_, _, ms)| *ms > budget_ms as f64)
        .collect();
    for (id, origin, ms) in &over {
        eprintln!(
            "{origin}: {id}: its patterns take {ms:.0} ms over the {} KiB probe text, over the budget of {budget_ms} ms",
            PROBE_BYTES / 1024
        );
    }
    if let Some((id, _, ms)) = costs.first() {
        println!("slowest rule on the probe text: {id} {ms:.1} ms");
    }
    if !over.is_empty() {
        eprintln!("{} rule(s) over the cost budget", over.len());
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "{n} rules, {} anchors, rules version {version}: ok",
        matcher.literals().len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Size of the probe text rules are timed on.
const PROBE_BYTES: usize = 64 * 1024;

/// Posting-like text of every kind of character rules meet: Han, digits, ASCII words,
/// punctuation and spaces. Fixed, so the figures compare from run to run.
fn probe_text() -> String {
    const PIECE: &str =
        "岗位职责：1. 负责仓库货物的收发与盘点，男女不限，18-45周岁；2. 月薪6000-8000元，\
        包吃住，五险一金 Contact HR Li 138 0013 8000 vx: hr_li2024 email hr@example.com ！\n\
        任职要求：身体健康，能吃苦耐劳，有叉车证者优先？待遇：底薪+提成，年底双薪。   ";
    let mut s = String::with_capacity(PROBE_BYTES + PIECE.len());
    while s.len() < PROBE_BYTES {
        s.push_str(PIECE);
    }
    s
}

/// Each rule's patterns (and its signals' patterns) timed over the probe text, slowest
/// first: (rule id, origin, milliseconds).
fn rule_costs(set: &RuleSet) -> Vec<(String, String, f64)> {
    let probe = probe_text();
    let mut out: Vec<(String, String, f64)> = set
        .rules
        .iter()
        .map(|rule| {
            let phrases: Vec<&xuncha_rules::Phrase> = match &rule.body {
                RuleBody::Phrase(p) => vec![p],
                RuleBody::Signature(sig) => sig
                    .signals
                    .iter()
                    .filter_map(|s| s.phrase.as_ref())
                    .collect(),
            };
            let started = std::time::Instant::now();
            for p in phrases {
                for re in p.patterns.iter().chain(&p.negations).chain(&p.exceptions) {
                    std::hint::black_box(re.find_iter(&probe).count());
                }
            }
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            (rule.id.clone(), rule.origin.to_string(), ms)
        })
        .collect();
    out.sort_by(|a, b| b.2.total_cmp(&a.2));
    out
}

fn anchors(r: &RulesArg, verbose: bool) -> anyhow::Result<ExitCode> {
    let m = super::load_matcher(&r.dir, PrefilterKind::default())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (i, lit) in m.literals().iter().enumerate() {
        if verbose {
            writeln!(out, "{lit}\t{}", m.rules_gated_by(i).join(" "))?;
        } else {
            writeln!(out, "{lit}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn gates(
    r: &RulesArg,
    files: &[std::path::PathBuf],
    max_share: f64,
    top: usize,
) -> anyhow::Result<ExitCode> {
    let m = super::load_matcher(&r.dir, PrefilterKind::default())?;
    let mut hits = vec![0u64; m.literals().len()];
    let mut postings = 0u64;
    let mut seen = vec![false; m.literals().len()];
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(p) = serde_json::from_str::<xuncha_core::Posting>(line) else {
                continue;
            };
            postings += 1;
            seen.iter_mut().for_each(|s| *s = false);
            for (_, field) in p.text_fields() {
                let norm = m.normalizer().normalize_owned(field);
                m.prefilter()
                    .for_each(norm.as_str(), |lit, _, _| seen[lit] = true);
            }
            for (h, s) in hits.iter_mut().zip(&seen) {
                *h += u64::from(*s);
            }
        }
    }
    anyhow::ensure!(postings > 0, "no postings read");
    let mut order: Vec<usize> = (0..hits.len()).collect();
    order.sort_by(|&a, &b| hits[b].cmp(&hits[a]));
    println!("{postings} postings; share of postings each literal occurs in:");
    for &i in order.iter().take(top) {
        println!(
            "{:>7.3}%  {}\t{}",
            100.0 * hits[i] as f64 / postings as f64,
            m.literals()[i],
            m.rules_gated_by(i).join(" ")
        );
    }
    let over = order
        .iter()
        .filter(|&&i| hits[i] as f64 / postings as f64 > max_share)
        .count();
    if over > 0 {
        eprintln!(
            "{over} literal(s) occur in more than {:.1}% of the postings",
            100.0 * max_share
        );
        return Ok(ExitCode::FAILURE);
    }
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
