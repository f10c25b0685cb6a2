use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::sha256_hex;

/// The `schema` value of a posting record.
pub const POSTING_SCHEMA: &str = "xuncha.posting/1";

/// Who published a posting, as far as the page shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Publisher {
    /// Display name of the account or organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What kind of publisher it is.
    #[serde(default)]
    pub kind: PublisherKind,
    /// The 人力资源服务许可证 number it displays, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<String>,
}

/// Kind of publisher.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PublisherKind {
    /// Recruits for itself.
    Employer,
    /// Recruits for others (职业中介).
    Agency,
    /// The recruitment platform itself.
    Platform,
    /// Not known.
    #[default]
    Unknown,
}

/// A job posting (docs/data-contracts.md). Input may omit everything but `id` and one text field;
/// `text` is accepted as an alias of `description`. Fields this type does not know are
/// kept in `extra` and written back out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Posting {
    /// Stable id: site key + native id, or a hash of the canonical URL.
    pub id: String,
    /// Site key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Address of the posting page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Capture time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Employer named in the posting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Who published it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Publisher>,
    /// Work location as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Pay as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary: Option<String>,
    /// Body text.
    #[serde(default, alias = "text", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Contact line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// SHA-256 over the canonical text fields; filled by [`Posting::ensure_content_hash`]
    /// when the source did not give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
    /// Fields this type does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Posting {
    /// A posting with only an id and a description (examples, tests, ad hoc text).
    pub fn from_text(id: impl Into<String>, text: impl Into<String>) -> Posting {
        Posting {
            id: id.into(),
            description: Some(text.into()),
            ..Posting::default()
        }
    }

    /// The text fields the matcher scans, with their names, in a fixed order.
    pub fn text_fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let publisher = self.publisher.as_ref();
        [
            ("title", self.title.as_deref()),
            ("company", self.company.as_deref()),
            ("publisher.name", publisher.and_then(|p| p.name.as_deref())),
            ("salary", self.salary.as_deref()),
            ("description", self.description.as_deref()),
            ("contact", self.contact.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
    }

    /// Whether the posting has any text to scan.
    pub fn has_text(&self) -> bool {
        self.text_fields().next().is_some()
    }

    /// SHA-256 over the canonical text fields (title, company, location, salary,
    /// description, contact), each length-prefixed, so that any edit changes it.
    pub fn compute_content_sha256(&self) -> String {
        let mut buf = Vec::new();
        for field in [
            &self.title,
            &self.company,
            &self.location,
            &self.salary,
            &self.description,
            &self.contact,
        ] {
            let s = field.as_deref().unwrap_or("");
            buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        sha256_hex(&buf)
    }

    /// Sets `content_sha256` to the hash of the text, whatever the input said; returns the
    /// value it replaced when that differed.
    pub fn recompute_content_hash(&mut self) -> Option<String> {
        let computed = self.compute_content_sha256();
        match self.content_sha256.replace(computed) {
            Some(old) if Some(&old) != self.content_sha256.as_ref() => Some(old),
            _ => None,
        }
    }

    /// Fills `content_sha256` unless the source (the crawler) already set it, and returns it.
    pub fn ensure_content_hash(&mut self) -> &str {
        if self.content_sha256.is_none() {
            self.content_sha256 = Some(self.compute_content_sha256());
        }
        self.content_sha256.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_an_alias_of_description_and_unknown_fields_survive() {
        let p: Posting =
            serde_json::from_str(r#"{"id":"a","text":"押金500","labels":["fee.deposit"]}"#)
                .unwrap();
        assert_eq!(p.description.as_deref(), Some("押金500"));
        assert!(p.extra.contains_key("labels"));
        let out = serde_json::to_string(&p).unwrap();
        assert!(out.contains("\"labels\""), "{out}");
    }

    #[test]
    fn content_hash_changes_with_any_field() {
        let mut a = Posting::from_text("x", "招聘文员");
        let h1 = a.compute_content_sha256();
        a.title = Some("文员".into());
        assert_ne!(h1, a.compute_content_sha256());
        let mut b = Posting::from_text("x", "招聘文员");
        b.content_sha256 = Some("given".into());
        assert_eq!(b.ensure_content_hash(), "given");
    }

    #[test]
    fn empty_fields_are_not_text() {
        let p: Posting = serde_json::from_str(r#"{"id":"a","title":""}"#).unwrap();
        assert!(!p.has_text());
    }
}
