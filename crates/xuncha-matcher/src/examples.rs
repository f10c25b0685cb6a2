//! Running every rule's own examples (`xuncha rules test`).

use xuncha_core::Posting;

use crate::Matcher;

/// An example that did not behave as its rule says.
#[derive(Debug, Clone)]
pub struct ExampleFailure {
    /// The rule.
    pub rule_id: String,
    /// Where the rule is written.
    pub origin: String,
    /// The example text.
    pub text: String,
    /// Whether it was listed under `match` (true) or `no_match`.
    pub should_match: bool,
    /// What the rule matched in it, if anything.
    pub matched: Vec<String>,
}

/// Outcome of running all examples.
#[derive(Debug, Clone, Default)]
pub struct ExampleReport {
    /// Examples run.
    pub run: usize,
    /// Those that failed.
    pub failures: Vec<ExampleFailure>,
}

/// The posting an example stands for: its text as the description, and the location given
/// by a leading `[location=…] `.
pub fn example_posting(text: &str) -> Posting {
    let mut p = Posting::from_text("example", text);
    if let Some(rest) = text.strip_prefix("[location=") {
        if let Some((loc, body)) = rest.split_once(']') {
            p.location = Some(loc.to_string());
            p.description = Some(body.trim_start().to_string());
        }
    }
    p
}

impl Matcher {
    /// Runs every rule's `match` and `no_match` examples against this matcher.
    pub fn test_examples(&self) -> ExampleReport {
        let mut report = ExampleReport::default();
        for (ri, rule) in self.rules().rules.iter().enumerate() {
            let cases = rule
                .examples
                .must_match
                .iter()
                .map(|t| (t, true))
                .chain(rule.examples.no_match.iter().map(|t| (t, false)));
            for (text, should_match) in cases {
                report.run += 1;
                let hits = self.scan(&example_posting(text));
                let mine: Vec<String> = hits
                    .iter()
                    .filter(|h| h.rule == ri)
                    .flat_map(|h| h.findings.iter().map(|f| f.matched.clone()))
                    .collect();
                let fired = hits.iter().any(|h| h.rule == ri);
                if fired != should_match {
                    report.failures.push(ExampleFailure {
                        rule_id: rule.id.clone(),
                        origin: rule.origin.to_string(),
                        text: text.clone(),
                        should_match,
                        matched: mine,
                    });
                }
            }
        }
        report
    }
}
