//! `xuncha eval`: precision and recall against labelled postings.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::ExitCode;

use anyhow::Context;
use rayon::prelude::*;
use serde::Serialize;
use xuncha_core::{Category, Family, Lead, Posting};
use xuncha_matcher::{Explanation, Matcher, PrefilterKind, Stage};
use xuncha_rules::RuleBody;

use crate::RulesArg;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// JSONL files of postings, each with gold `labels` (categories; `[]` means lawful).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Embed each record, as one line, in a real full-length posting from the JSONL files
    /// of this directory (one on which the rules raise nothing), to measure the records in
    /// the company of thirty ordinary lines. For evaluation only: the hosts are not copied.
    #[arg(long, value_name = "DIR")]
    pub embed: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub rules: RulesArg,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// List every false positive and miss.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print the records of this label that were missed, each with the rules of the label
    /// that came nearest to firing and what stopped them.
    #[arg(long, value_name = "LABEL")]
    pub misses: Option<Category>,
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
    /// Lawful records (`labels: []`) that raised any lead, over all lawful records.
    lawful_flagged: Share,
    /// Records marked `lookalike: true` that raised any lead.
    lookalikes_flagged: Share,
    per_family: BTreeMap<String, Score>,
    per_label: BTreeMap<String, Score>,
    /// Micro scores by the records' `style`, `batch` and `origin.kind` fields, where given.
    per_style: BTreeMap<String, Score>,
    per_batch: BTreeMap<String, Score>,
    per_source: BTreeMap<String, Score>,
    /// Per rule: leads it took part in that were right (tp) or wrong (fp).
    per_rule: BTreeMap<String, RuleCounts>,
}

#[derive(Default, Clone, Copy, Serialize)]
struct Share {
    flagged: usize,
    of: usize,
    rate: f64,
}

#[derive(Default, Clone, Copy, Serialize)]
struct RuleCounts {
    hits: usize,
    tp: usize,
    fp: usize,
}

struct Outcome {
    id: String,
    text: String,
    gold: BTreeSet<Category>,
    leads: Vec<Lead>,
    posting: Posting,
}

impl Outcome {
    /// A provenance field of the record (`style`, `batch`, or `origin.kind`).
    fn tag(&self, key: &str) -> Option<String> {
        let extra = &self.posting.extra;
        let v = match key.split_once('.') {
            Some((a, b)) => extra.get(a)?.get(b)?,
            None => extra.get(key)?,
        };
        v.as_str().map(str::to_string)
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let matcher = super::load_matcher(&args.rules.dir, PrefilterKind::default())?;
    let mut records = load_labelled(&args.files)?;
    if let Some(dir) = &args.embed {
        let hosts = hosts(dir, &matcher)?;
        eprintln!(
            "embedding each record in one of {} clean real postings from {}",
            hosts.len(),
            dir.display()
        );
        for (p, _) in &mut records {
            *p = embed(p, &hosts);
        }
    }
    let now = xuncha_core::now_rfc3339();
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
            posting: p,
        })
        .collect();

    let mut per_label: BTreeMap<Category, Counts> = BTreeMap::new();
    for c in Category::ALL.iter().filter(|c| c.is_posting_level()) {
        per_label.insert(*c, Counts::default());
    }
    let mut fps = Vec::new();
    let mut misses = Vec::new();
    let mut groups: [BTreeMap<String, Counts>; 3] = Default::default();
    let mut per_rule: BTreeMap<String, RuleCounts> = BTreeMap::new();
    let (mut lawful, mut lookalikes) = (Share::default(), Share::default());
    for o in &outcomes {
        let predicted: BTreeSet<Category> = o.leads.iter().map(|l| l.category).collect();
        let mut mine = Counts::default();
        for c in predicted.union(&o.gold) {
            let e = per_label.entry(*c).or_default();
            match (predicted.contains(c), o.gold.contains(c)) {
                (true, true) => {
                    e.tp += 1;
                    mine.tp += 1;
                }
                (true, false) => {
                    e.fp += 1;
                    mine.fp += 1;
                    fps.push((o, *c));
                }
                (false, true) => {
                    e.fn_ += 1;
                    mine.fn_ += 1;
                    misses.push((o, *c));
                }
                (false, false) => {}
            }
        }
        for (group, key) in groups.iter_mut().zip(["style", "batch", "origin.kind"]) {
            if let Some(tag) = o.tag(key) {
                group.entry(tag).or_default().add(mine);
            }
        }
        for lead in &o.leads {
            let rules: BTreeSet<&str> = lead.findings.iter().map(|f| f.rule_id.as_str()).collect();
            for r in rules {
                let e = per_rule.entry(r.to_string()).or_default();
                e.hits += 1;
                if o.gold.contains(&lead.category) {
                    e.tp += 1;
                } else {
                    e.fp += 1;
                }
            }
        }
        let flagged = !o.leads.is_empty() as usize;
        if o.gold.is_empty() {
            lawful.of += 1;
            lawful.flagged += flagged;
        }
        if o.posting.extra.get("lookalike").and_then(|v| v.as_bool()) == Some(true) {
            lookalikes.of += 1;
            lookalikes.flagged += flagged;
        }
    }
    for s in [&mut lawful, &mut lookalikes] {
        s.rate = if s.of == 0 {
            0.0
        } else {
            s.flagged as f64 / s.of as f64
        };
    }
    let [per_style, per_batch, per_source] =
        groups.map(|g| g.into_iter().map(|(k, n)| (k, n.score())).collect());
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
        lawful_flagged: lawful,
        lookalikes_flagged: lookalikes,
        per_style,
        per_batch,
        per_source,
        per_rule,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if args.verbose && !args.json {
        println!("\n{:<36} {:>5} {:>5} {:>5}", "rule", "hits", "tp", "fp");
        for (id, n) in &report.per_rule {
            println!("{id:<36} {:>5} {:>5} {:>5}", n.hits, n.tp, n.fp);
        }
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
    if let Some(label) = args.misses {
        print_misses(&matcher, &misses, label);
    }
    Ok(ExitCode::SUCCESS)
}

/// Labelled postings from JSONL files: each with its gold categories (`labels`).
pub(crate) fn load_labelled(
    files: &[String],
) -> anyhow::Result<Vec<(Posting, BTreeSet<Category>)>> {
    let mut records = Vec::new();
    for file in files {
        let text = fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let p: Posting =
                serde_json::from_str(line).with_context(|| format!("{file}:{}", i + 1))?;
            let labels = p
                .extra
                .get("labels")
                .and_then(|v| v.as_array())
                .with_context(|| format!("{file}:{}: no `labels` array", i + 1))?;
            let mut gold = BTreeSet::new();
            for l in labels {
                let name = l.as_str().unwrap_or_default();
                let c: Category = name.parse().with_context(|| format!("{file}:{}", i + 1))?;
                gold.insert(c);
            }
            records.push((p, gold));
        }
    }
    Ok(records)
}

/// Most host postings read from `--embed`: enough for variety, bounded in memory.
const MAX_HOSTS: usize = 5000;
/// Shortest description, in characters, of a host posting: a full-length posting.
const MIN_HOST_CHARS: usize = 400;

/// Real postings with a full-length description on which the rules raise nothing.
fn hosts(dir: &std::path::Path, matcher: &Matcher) -> anyhow::Result<Vec<Posting>> {
    use std::io::BufRead;
    let mut files: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("--embed: cannot read {} (it is only for evaluation; the shared corpus may be missing)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let f = fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        for line in std::io::BufReader::new(f).lines() {
            let Ok(line) = line else { break };
            let Ok(p) = serde_json::from_str::<Posting>(&line) else {
                continue;
            };
            let long = p
                .description
                .as_deref()
                .is_some_and(|d| d.chars().count() >= MIN_HOST_CHARS && d.lines().count() >= 5);
            if long && matcher.scan(&p).is_empty() {
                out.push(p);
                if out.len() >= MAX_HOSTS {
                    return Ok(out);
                }
            }
        }
    }
    anyhow::ensure!(
        !out.is_empty(),
        "--embed: no full-length clean posting in {}",
        dir.display()
    );
    Ok(out)
}

/// `record` written as one line into the description of a host chosen by its id, at a
/// line also chosen by its id, so a run is repeatable.
fn embed(record: &Posting, hosts: &[Posting]) -> Posting {
    let h = record.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let host = &hosts[(h % hosts.len() as u64) as usize];
    let mut line: String = record
        .text_fields()
        .filter(|(name, _)| *name == "title" || *name == "description")
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("：");
    line = line.replace(['\n', '\r'], " ");
    let mut lines: Vec<&str> = host.description.as_deref().unwrap_or("").lines().collect();
    let at = ((h >> 32) % (lines.len() as u64 + 1)) as usize;
    lines.insert(at, &line);
    Posting {
        id: record.id.clone(),
        description: Some(lines.join("\n")),
        content_sha256: None,
        extra: record.extra.clone(),
        ..host.clone()
    }
}

/// Each missed record of `label` with the rules of that label that got furthest, and what
/// stopped them.
fn print_misses(matcher: &Matcher, misses: &[(&Outcome, Category)], label: Category) {
    let rules = matcher.rules();
    let of_label: Vec<&(&Outcome, Category)> = misses.iter().filter(|(_, c)| *c == label).collect();
    println!("\nmisses of {label} ({}):", of_label.len());
    for (o, _) in of_label {
        println!("  {}: {}", o.id, o.text);
        let mut near: Vec<Explanation> = matcher
            .explain(&o.posting)
            .into_iter()
            .filter(|e| rules.rules[e.rule].category == label)
            .collect();
        near.sort_by_key(|e| std::cmp::Reverse(e.stage));
        let best = near.first().map(|e| e.stage).unwrap_or(Stage::NoAnchor);
        for e in near.iter().filter(|e| e.stage == best).take(3) {
            let rule = &rules.rules[e.rule];
            if e.signals.is_empty() {
                println!("      {}: {}", rule.id, e.stage);
            } else {
                let threshold = match &rule.body {
                    RuleBody::Signature(s) => s.threshold,
                    RuleBody::Phrase(_) => 0.0,
                };
                println!(
                    "      {}: {} ({} = {:.2} of {:.2})",
                    rule.id,
                    e.stage,
                    e.signals.join(" + "),
                    e.sum,
                    threshold
                );
            }
        }
    }
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
    for (title, group) in [
        ("style", &r.per_style),
        ("batch", &r.per_batch),
        ("source", &r.per_source),
    ] {
        if group.is_empty() {
            continue;
        }
        println!();
        for (name, s) in group {
            row(&format!("{title}: {name}"), s);
        }
    }
    let share = |name: &str, s: &Share| {
        if s.of > 0 {
            println!("{name:<36} {:>5} of {:>5} {:>9.3}", s.flagged, s.of, s.rate);
        }
    };
    println!();
    share("lawful records flagged", &r.lawful_flagged);
    share("look-alikes flagged", &r.lookalikes_flagged);
}
