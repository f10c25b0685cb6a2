//! The provisions each rule cites, read from the rules at start, so the lead page can set
//! each finding beside the articles it breaches and the article that sanctions it. The
//! texts shown are the lead's own (as filed with it); a rule the current rules do not
//! have any more is said to be unknown rather than guessed at.

use std::collections::HashMap;

use maud::{html, Markup};
use xuncha_core::{Lead, LegalRef};

/// A provision as a lead and a rule both name it: the instrument and the article.
type Provision = (String, String);

/// What one rule cites.
#[derive(Debug, Clone, Default)]
struct Cites {
    basis: Vec<Provision>,
    penalty: Option<Provision>,
}

/// The provisions of every rule, by rule id.
#[derive(Debug, Clone, Default)]
pub struct RuleLaws(HashMap<String, Cites>);

fn provision(l: &LegalRef) -> Provision {
    (l.law.clone(), l.article.clone())
}

impl RuleLaws {
    /// From the rules loaded at start.
    pub fn of(rules: &[xuncha_rules::Rule]) -> RuleLaws {
        RuleLaws(
            rules
                .iter()
                .map(|r| {
                    let cites = Cites {
                        basis: r.legal_basis.iter().map(provision).collect(),
                        penalty: r.penalty.as_ref().map(provision),
                    };
                    (r.id.clone(), cites)
                })
                .collect(),
        )
    }

    /// One row a finding: its rule, where it is, what it matched, the articles its rule
    /// cites and the sanctioning one, each with the lead's own text when it has it.
    pub fn per_finding(&self, lead: &Lead) -> Markup {
        let filed = |p: &Provision| -> Markup {
            let text = lead
                .legal_basis
                .iter()
                .chain(lead.penalty.as_ref())
                .find(|l| l.law == p.0 && l.article == p.1)
                .map(|l| l.text.as_str())
                .filter(|t| !t.is_empty());
            html! {
                b { (p.0) (p.1) }
                @if let Some(t) = text { "：" q { (t) } }
            }
        };
        html! {
            table.queue.per-finding {
                thead { tr { th { "规则 Rule" } th { "位置 Where" } th { "证据 Matched" } th { "法律依据 Legal basis" } th { "罚则 Penalty" } } }
                tbody {
                    @for f in &lead.findings {
                        tr {
                            td { code { (f.rule_id) } }
                            td { code { (f.field) } " [" (f.span.start()) ".." (f.span.end()) "]" }
                            td { mark { (f.matched) } }
                            @match self.0.get(&f.rule_id) {
                                Some(c) => {
                                    td { ul.law { @for p in &c.basis { li { (filed(p)) } } } }
                                    td { @if let Some(p) = &c.penalty { (filed(p)) } @else { "—" } }
                                }
                                None => {
                                    td colspan="2" { "现行规则中无此规则，见本线索的法律依据 Not in the current rules: see the lead's legal basis" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_finding_stands_beside_the_provisions_its_rule_cites() {
        let rules =
            xuncha_rules::RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules"))
                .unwrap();
        let rule = rules.rule("FEE-DEPOSIT-001").unwrap();
        let cited = rule.legal_basis[0].clone();
        let mut lead: Lead = serde_json::from_value(serde_json::json!({
            "schema": "xuncha.lead/1", "lead_id": "l", "category": "fee.deposit",
            "severity": "illegal", "score": 1.0, "legal_basis": [],
            "findings": [
                {"rule_id": "FEE-DEPOSIT-001", "field": "description", "start": 3, "end": 9,
                 "matched": "押金<b>", "context": "交押金<b>"},
                {"rule_id": "GONE-RULE-9", "field": "title", "start": 0, "end": 3,
                 "matched": "x", "context": "x"}
            ],
            "posting": {"id": "p", "content_sha256": "00"},
            "detected_at": "t", "rules_version": "v", "scanner_version": "s"
        }))
        .unwrap();
        lead.legal_basis = vec![LegalRef {
            text: "as filed <i>".into(),
            ..cited.clone()
        }];
        let html = RuleLaws::of(&rules.rules).per_finding(&lead).into_string();
        assert!(
            html.contains(&format!(
                "<b>{}{}</b>：<q>as filed &lt;i&gt;</q>",
                cited.law, cited.article
            )),
            "{html}"
        );
        if let Some(p) = &rule.penalty {
            assert!(
                html.contains(&format!("<b>{}{}</b>", p.law, p.article)),
                "{html}"
            );
        }
        assert!(html.contains("<mark>押金&lt;b&gt;</mark>"), "{html}");
        assert!(html.contains("Not in the current rules"), "{html}");
    }
}
