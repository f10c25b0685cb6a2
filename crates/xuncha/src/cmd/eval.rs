//! `xuncha eval`: precision and recall against labelled postings.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::ExitCode;

use anyhow::Context;
use rayon::prelude::*;
use serde::Serialize;
use xuncha_core::{Category, Family, Lead, Posting};
use xuncha_matcher::PrefilterKind;

use crate::RulesArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// JSONL of postings, each with gold `labels` (categories; `[]` means lawful).
    pub file: String,
    #[command(flatten)]
    pub rules: RulesArg,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// List every false positive and miss.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Default, Clone, Copy, Serialize)]
struct Counts {
    tp: usize,
    fp: usize,
    #[serde(rename = "fn")]
    fn_: usize,
}

#[derive(Serialize)]
struct Score {
    tp: usize,
    fp: usize,
    #[serde(rename = "fn")]
    fn_: usize,
    precision: f64,
    recall: f64,
    f1: f64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }

    fn score(self) -> Score {
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        Score {
            tp: self.tp,
            fp: self.fp,
            fn_: self.fn_,
            precision: p,
            recall: r,
            f1,
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

#[derive(Serialize)]
struct Report {
    records: usize,
    rules_version: String,
    micro: Score,
    per_family: BTreeMap<String, Score>,
    per_label: BTreeMap<String, Score>,
}

struct Outcome {
    id: String,
    text: String,
    gold: BTreeSet<Category>,
    leads: Vec<Lead>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let matcher = super::load_matcher(&args.rules.dir, PrefilterKind::default())?;
    let text =
        fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file))?;
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let p: Posting =
            serde_json::from_str(line).with_context(|| format!("{}:{}", args.file, i + 1))?;
        let labels = p
            .extra
            .get("labels")
            .and_then(|v| v.as_array())
            .with_context(|| format!("{}:{}: no `labels` array", args.file, i + 1))?;
        let mut gold = BTreeSet::new();
        for l in labels {
            let name = l.as_str().unwrap_or_default();
            let c: Category = name
                .parse()
                .with_context(|| format!("{}:{}", args.file, i + 1))?;
            gold.insert(c);
        }
        records.push((p, gold));
    }
    let now = super::now_rfc3339();
    let outcomes: Vec<Outcome> = records
        .into_par_iter()
        .map(|(p, gold)| Outcome {
            id: p.id.clone(),
            text: p
                .text_fields()
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
                .join(" / "),
            leads: matcher.leads(&p, &now),
            gold,
        })
        .collect();

    let mut per_label: BTreeMap<Category, Counts> = BTreeMap::new();
    for c in Category::ALL.iter().filter(|c| c.is_posting_level()) {
        per_label.insert(*c, Counts::default());
    }
    let mut fps = Vec::new();
    let mut misses = Vec::new();
    for o in &outcomes {
        let predicted: BTreeSet<Category> = o.leads.iter().map(|l| l.category).collect();
        for c in predicted.union(&o.gold) {
            let e = per_label.entry(*c).or_default();
            match (predicted.contains(c), o.gold.contains(c)) {
                (true, true) => e.tp += 1,
                (true, false) => {
                    e.fp += 1;
                    fps.push((o, *c));
                }
                (false, true) => {
                    e.fn_ += 1;
                    misses.push((o, *c));
                }
                (false, false) => {}
            }
        }
    }
    let mut per_family: BTreeMap<Family, Counts> = BTreeMap::new();
    let mut micro = Counts::default();
    for (c, n) in &per_label {
        per_family.entry(c.family()).or_default().add(*n);
        micro.add(*n);
    }
    let report = Report {
        records: outcomes.len(),
        rules_version: matcher.rules().version.clone(),
        micro: micro.score(),
        per_family: per_family
            .into_iter()
            .map(|(f, n)| (f.to_string(), n.score()))
            .collect(),
        per_label: per_label
            .into_iter()
            .map(|(c, n)| (c.to_string(), n.score()))
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if args.verbose {
        println!("\nfalse positives ({}):", fps.len());
        for (o, c) in &fps {
            let matched: Vec<String> = o
                .leads
                .iter()
                .filter(|l| l.category == *c)
                .flat_map(|l| {
                    l.findings
                        .iter()
                        .map(|f| format!("{}「{}」", f.rule_id, f.matched))
                })
                .collect();
            println!("  {} {c}: {} ⟵ {}", o.id, matched.join(" "), o.text);
        }
        println!("\nmisses ({}):", misses.len());
        for (o, c) in &misses {
            println!("  {} {c}: {}", o.id, o.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &Report) {
    println!("{} records, rules {}", r.records, r.rules_version);
    println!(
        "{:<36} {:>5} {:>5} {:>5} {:>9} {:>7} {:>6}",
        "label", "tp", "fp", "fn", "precision", "recall", "f1"
    );
    let row = |name: &str, s: &Score| {
        println!(
            "{:<36} {:>5} {:>5} {:>5} {:>9.3} {:>7.3} {:>6.3}",
            name, s.tp, s.fp, s.fn_, s.precision, s.recall, s.f1
        );
    };
    for (name, s) in &r.per_label {
        row(name, s);
    }
    println!();
    for (name, s) in &r.per_family {
        row(name, s);
    }
    println!();
    row("micro", &r.micro);
}
