//! `xuncha rules fit`: the weights of signature rules learned from labelled postings.
//!
//! A signature rule fires when the weights of the signals present reach its threshold and
//! one phrase signal is present. That is a linear classifier over the rule's own signals,
//! so its weights are fitted as a logistic regression: logit = b + Σ cᵢ·xᵢ, with xᵢ = 1
//! when signal i is present, fitted on the records where some phrase signal is present
//! (elsewhere the rule cannot fire whatever its weights). The hand-set weights are the
//! prior: the penalty pulls each coefficient towards `SCALE × weight` (and b towards
//! `−SCALE × threshold`) rather than towards zero, so a signal the data says little
//! about keeps the weight its author gave it. The fitted rule fires where logit ≥ 0,
//! that is where Σ (cᵢ/SCALE)·xᵢ ≥ −b/SCALE: those are the weights and threshold written
//! back, on the scale the author used.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use xuncha_core::Category;
use xuncha_matcher::PrefilterKind;
use xuncha_rules::{Fit, RuleBody};

use crate::RulesArg;

/// Logit units per unit of rule weight: a posting at threshold + 0.5 has logit +2.
const SCALE: f64 = 4.0;
/// Gradient steps of each fit; the problems have a handful of binary features.
const STEPS: usize = 3000;
const LEARNING_RATE: f64 = 0.5;
/// Smallest threshold written: the loader refuses a threshold that is not positive.
const MIN_THRESHOLD: f64 = 0.05;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Labelled JSONL files to fit on (the development corpus, never the blind batches).
    #[arg(required = true)]
    pub files: Vec<String>,
    #[command(flatten)]
    pub rules: RulesArg,
    /// Folds of the cross-validation that estimates each fitted rule's precision and recall.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=20))]
    pub folds: u16,
    /// Strength of the pull towards the hand-set weights.
    #[arg(long, default_value_t = 0.05)]
    pub prior: f64,
    /// Only this rule.
    #[arg(long, value_name = "ID")]
    pub rule: Option<String>,
    /// Write the fitted weights, threshold and fit record into the rule packs.
    #[arg(long)]
    pub write: bool,
}

/// One record as a signature rule sees it.
struct Example {
    x: Vec<f64>,
    /// Some phrase signal is present: the rule could fire.
    eligible: bool,
    y: bool,
}

/// How many labelled records one of the rule's own examples counts for: a handful of
/// examples must weigh against thousands of records, since a fit that breaks them is not
/// written.
const EXAMPLE_WEIGHT: usize = 5;

#[derive(Default, Clone, Copy)]
struct Tally {
    tp: usize,
    fp: usize,
    positives: usize,
}

impl Tally {
    fn precision(self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(self) -> f64 {
        if self.positives == 0 {
            0.0
        } else {
            self.tp as f64 / self.positives as f64
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let matcher = super::load_matcher(&args.rules.dir, PrefilterKind::default())?;
    let records = super::eval::load_labelled(&args.files)?;
    let explained: Vec<(Vec<xuncha_matcher::Explanation>, BTreeSet<Category>)> = records
        .into_par_iter()
        .map(|(p, gold)| (matcher.explain(&p), gold))
        .collect();
    let rules = matcher.rules();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    println!(
        "{:<24} {:>5} {:>5} {:>7} {:>7} {:>7} {:>7}",
        "rule", "n", "pos", "hand P", "hand R", "cv P", "cv R"
    );
    for (ri, rule) in rules.rules.iter().enumerate() {
        let RuleBody::Signature(sig) = &rule.body else {
            continue;
        };
        if args.rule.as_deref().is_some_and(|id| id != rule.id) {
            continue;
        }
        let phrase: Vec<bool> = sig.signals.iter().map(|s| s.phrase.is_some()).collect();
        let data: Vec<Example> = explained
            .iter()
            .map(|(ex, gold)| {
                let present = &ex[ri].present;
                Example {
                    x: present.iter().map(|&p| p as u8 as f64).collect(),
                    eligible: present.iter().zip(&phrase).any(|(p, ph)| *p && *ph),
                    y: gold.contains(&rule.category),
                }
            })
            .collect();
        // The rule's own examples are labelled data too, and they must still pass.
        let examples: Vec<Example> = rule
            .examples
            .must_match
            .iter()
            .map(|t| (t, true))
            .chain(rule.examples.no_match.iter().map(|t| (t, false)))
            .map(|(t, y)| {
                let present = &matcher.explain(&xuncha_matcher::example_posting(t))[ri].present;
                Example {
                    x: present.iter().map(|&p| p as u8 as f64).collect(),
                    eligible: present.iter().zip(&phrase).any(|(p, ph)| *p && *ph),
                    y,
                }
            })
            .collect();
        let prior: Vec<f64> = std::iter::once(-SCALE * sig.threshold)
            .chain(sig.signals.iter().map(|s| SCALE * s.weight))
            .collect();
        let hand = tally(&data, &prior, 0..data.len());
        let mut cv = Tally::default();
        let k = args.folds as usize;
        // Records `keep` picks, with the rule's examples, each counted EXAMPLE_WEIGHT times.
        let training = |keep: &dyn Fn(usize) -> bool| -> Vec<&Example> {
            data.iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, e)| e)
                .chain(
                    examples
                        .iter()
                        .flat_map(|e| std::iter::repeat_n(e, EXAMPLE_WEIGHT)),
                )
                .collect()
        };
        for fold in 0..k {
            let theta = fit(&training(&|i| i % k != fold), &prior, args.prior);
            let t = tally(&data, &theta, (0..data.len()).filter(|i| i % k == fold));
            cv.tp += t.tp;
            cv.fp += t.fp;
            cv.positives += t.positives;
        }
        println!(
            "{:<24} {:>5} {:>5} {:>7.3} {:>7.3} {:>7.3} {:>7.3}",
            rule.id,
            data.len(),
            hand.positives,
            hand.precision(),
            hand.recall(),
            cv.precision(),
            cv.recall()
        );
        let theta = fit(&training(&|_| true), &prior, args.prior);
        let broken = examples
            .iter()
            .filter(|e| (e.eligible && logit(&theta, e) >= 0.0) != e.y)
            .count();
        let threshold = (-theta[0] / SCALE).max(MIN_THRESHOLD);
        let weights: Vec<(String, f64)> = sig
            .signals
            .iter()
            .zip(&theta[1..])
            .map(|(s, c)| (s.name.clone(), c / SCALE))
            .collect();
        for (name, w) in &weights {
            println!("    {name:<22} {w:>7.3}");
        }
        println!("    {:<22} {threshold:>7.3}", "threshold");
        if broken > 0 {
            println!(
                "    not written: the fitted weights fail {broken} of the rule's own examples"
            );
        }
        if args.write && broken == 0 {
            let record = Fit {
                date: today.clone(),
                records: data.len(),
                positives: hand.positives,
                folds: k,
                cv_precision: cv.precision(),
                cv_recall: cv.recall(),
                data: args.files.clone(),
            };
            let file: PathBuf = rule.origin.file.clone();
            xuncha_rules::write_fit(&file, &rule.id, threshold, &weights, &record)
                .map_err(|e| anyhow::anyhow!(e))?;
        }
    }
    if args.write {
        println!("written; run `xuncha rules test` before committing the packs");
    }
    Ok(ExitCode::SUCCESS)
}

/// The logit of `e` under `theta` (intercept first).
fn logit(theta: &[f64], e: &Example) -> f64 {
    theta[0] + theta[1..].iter().zip(&e.x).map(|(c, x)| c * x).sum::<f64>()
}

/// How the rule with `theta` does on the records `idx` of `data`.
fn tally(data: &[Example], theta: &[f64], idx: impl Iterator<Item = usize>) -> Tally {
    let mut t = Tally::default();
    for i in idx {
        let e = &data[i];
        let fires = e.eligible && logit(theta, e) >= 0.0;
        t.positives += e.y as usize;
        match (fires, e.y) {
            (true, true) => t.tp += 1,
            (true, false) => t.fp += 1,
            _ => {}
        }
    }
    t
}

/// Logistic regression on the eligible records by full-batch gradient descent, with an
/// L2 pull of strength `lambda` towards `prior`.
fn fit(data: &[&Example], prior: &[f64], lambda: f64) -> Vec<f64> {
    let eligible: Vec<&&Example> = data.iter().filter(|e| e.eligible).collect();
    let mut theta = prior.to_vec();
    if eligible.is_empty() {
        return theta;
    }
    let n = eligible.len() as f64;
    let mut grad = vec![0.0; theta.len()];
    for _ in 0..STEPS {
        grad.iter_mut().for_each(|g| *g = 0.0);
        for e in &eligible {
            let p = 1.0 / (1.0 + (-logit(&theta, e)).exp());
            let err = p - e.y as u8 as f64;
            grad[0] += err;
            for (g, x) in grad[1..].iter_mut().zip(&e.x) {
                *g += err * x;
            }
        }
        for ((t, g), p) in theta.iter_mut().zip(&grad).zip(prior) {
            *t -= LEARNING_RATE * (g / n + 2.0 * lambda * (*t - p));
        }
    }
    theta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(x: &[f64], y: bool) -> Example {
        Example {
            x: x.to_vec(),
            eligible: true,
            y,
        }
    }

    #[test]
    fn a_signal_that_predicts_the_label_gains_weight_and_a_noisy_one_loses_it() {
        // Signal 0 is present on every positive and no negative; signal 1 on both alike.
        let mut data = Vec::new();
        for i in 0..200 {
            let y = i % 2 == 0;
            data.push(ex(&[y as u8 as f64, (i % 4 < 2) as u8 as f64], y));
        }
        let refs: Vec<&Example> = data.iter().collect();
        let prior = [-4.0, 2.0, 2.0];
        let theta = fit(&refs, &prior, 0.01);
        assert!(theta[1] > prior[1], "{theta:?}");
        assert!(theta[2] < prior[2], "{theta:?}");
        let t = tally(&data, &theta, 0..data.len());
        assert_eq!((t.tp, t.fp, t.positives), (100, 0, 100));
    }

    #[test]
    fn with_no_data_the_hand_weights_stand() {
        let prior = [-4.0, 2.0];
        assert_eq!(fit(&[], &prior, 0.05), prior.to_vec());
    }
}
