//! Site profiles: one TOML file per site in `config/sites/`, so a new site needs no code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scraper::Selector;
use serde::Deserialize;
use url::Url;

/// A site profile as written in `config/sites/NAME.toml`.
///
/// ```
/// let profile = xuncha_crawler::SiteProfile::from_toml_str(r#"
///     name = "demo"
///     start_urls = ["https://jobs.example/list?page=1"]
///     allow_hosts = ["jobs.example"]
///     link_selector = "ul.job-list a.job-name"
///     next_selector = "a.next"
///     rate_per_sec = 1.0
///     max_pages = 500
///     recrawl_after = "24h"
///     [fields]
///     title = "h1.job-title"
///     company = ".company-name"
///     salary = ".salary"
///     location = ".job-address"
///     description = ".job-detail"
/// "#, "demo.toml").unwrap();
/// assert_eq!(profile.recrawl_after.as_secs(), 86_400);
/// assert!(!profile.allow_private_addresses);
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteProfile {
    /// Site key: the `source` of every posting and the prefix of its id. Lower-case ASCII
    /// letters, digits, `-` and `_`.
    pub name: String,
    /// List pages a pass starts from.
    pub start_urls: Vec<String>,
    /// Hosts the crawler may follow links to: an exact host (`jobs.example`), or
    /// `*.jobs.example` for any subdomain.
    pub allow_hosts: Vec<String>,
    /// CSS selector of the links on a list page that lead to posting pages.
    pub link_selector: String,
    /// CSS selector of the "next page" link on a list page.
    #[serde(default)]
    pub next_selector: Option<String>,
    /// Where each field of a posting page is.
    pub fields: FieldSelectors,
    /// Requests per second to each host of the site; `0` means no delay (benchmarks,
    /// one's own test sites).
    #[serde(default = "default_rate")]
    pub rate_per_sec: f64,
    /// Most pages (list and posting) fetched in one pass.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// A posting page fetched less than this long ago is not fetched again; older ones are
    /// re-fetched with a conditional GET.
    #[serde(
        default = "default_recrawl",
        deserialize_with = "xuncha_core::deserialize_duration"
    )]
    pub recrawl_after: Duration,
    /// In continuous mode, how long after one pass ends the next starts (list pages are
    /// read again to find new postings).
    #[serde(
        default = "default_pass_interval",
        deserialize_with = "xuncha_core::deserialize_duration"
    )]
    pub pass_interval: Duration,
    /// Allow private, loopback and link-local addresses. Only for test sites.
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// The operator's homepage, read for its licence display; default: the root of the
    /// first start URL.
    #[serde(default)]
    pub homepage: Option<String>,
    /// Further pages where the operator shows its licences (关于我们, 资质证照 …).
    #[serde(default)]
    pub about_urls: Vec<String>,
}

/// A profile with its selectors compiled, as the crawler and the rechecker use it.
pub(crate) struct Site {
    pub profile: SiteProfile,
    pub selectors: CompiledSelectors,
}

impl Site {
    /// Compiles `profile`'s selectors, or says which site's are wrong.
    pub fn new(profile: SiteProfile) -> Result<Site, ProfileError> {
        let selectors = profile.compile().map_err(|message| ProfileError {
            path: format!("site {:?}", profile.name).into(),
            message,
        })?;
        Ok(Site { profile, selectors })
    }
}

/// CSS selectors of a posting page's fields.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSelectors {
    /// Job title.
    pub title: FieldSpec,
    /// Employer.
    pub company: FieldSpec,
    /// Pay as written.
    pub salary: FieldSpec,
    /// Work location.
    pub location: FieldSpec,
    /// Body text; every match is kept, in document order.
    pub description: FieldSpec,
    /// Who published the posting.
    #[serde(default)]
    pub publisher: Option<FieldSpec>,
    /// The 人力资源服务许可证 number the publisher shows.
    #[serde(default)]
    pub licence_no: Option<FieldSpec>,
    /// Contact line.
    #[serde(default)]
    pub contact: Option<FieldSpec>,
    /// The site's own id of the posting; without it the id is a hash of the canonical URL.
    #[serde(default)]
    pub id: Option<FieldSpec>,
}

/// Where one field is: a CSS selector (its text), or a selector and an attribute.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum FieldSpec {
    /// The whitespace-normalised text of the selected element.
    Css(String),
    /// An attribute of the selected element, e.g. `{ css = "div.job", attr = "data-id" }`.
    Attr {
        /// CSS selector.
        css: String,
        /// Attribute name.
        attr: String,
    },
}

impl FieldSpec {
    fn css(&self) -> &str {
        match self {
            FieldSpec::Css(css) | FieldSpec::Attr { css, .. } => css,
        }
    }
}

fn default_rate() -> f64 {
    1.0
}
fn default_max_pages() -> usize {
    10_000
}
fn default_recrawl() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_pass_interval() -> Duration {
    Duration::from_secs(30 * 60)
}

/// A profile that cannot be used, naming its file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ProfileError {
    /// The profile file (or the origin given to [`SiteProfile::from_toml_str`]).
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl SiteProfile {
    /// Reads every `*.toml` in `dir`, in file-name order, and checks each one.
    pub fn load_dir(dir: &Path) -> Result<Vec<SiteProfile>, ProfileError> {
        let err = |message: String| ProfileError {
            path: dir.to_owned(),
            message,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| err(format!("cannot read the site profile directory: {e}")))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut profiles: Vec<SiteProfile> = Vec::with_capacity(paths.len());
        for path in paths {
            let profile = SiteProfile::load(&path)?;
            if profiles.iter().any(|p| p.name == profile.name) {
                return Err(ProfileError {
                    path,
                    message: format!("site name {:?} is used by another profile", profile.name),
                });
            }
            profiles.push(profile);
        }
        Ok(profiles)
    }

    /// Reads and checks one profile file.
    pub fn load(path: &Path) -> Result<SiteProfile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            path: path.to_owned(),
            message: format!("cannot read: {e}"),
        })?;
        SiteProfile::from_toml_str(&text, path)
    }

    /// Parses and checks a profile; `origin` names it in errors.
    pub fn from_toml_str(
        text: &str,
        origin: impl AsRef<Path>,
    ) -> Result<SiteProfile, ProfileError> {
        let origin = origin.as_ref();
        let profile: SiteProfile = toml::from_str(text).map_err(|e| ProfileError {
            path: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        profile.validate().map_err(|message| ProfileError {
            path: origin.to_owned(),
            message,
        })?;
        Ok(profile)
    }

    /// Checks everything a crawl would otherwise trip over later: the name, the URLs,
    /// every selector, the rate.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "name {:?}: use lower-case ASCII letters, digits, '-' and '_'",
                self.name
            ));
        }
        if self.start_urls.is_empty() {
            return Err("start_urls is empty".into());
        }
        if self.allow_hosts.is_empty() {
            return Err("allow_hosts is empty".into());
        }
        for (key, url) in self
            .start_urls
            .iter()
            .map(|u| ("start_urls", u))
            .chain(self.homepage.iter().map(|u| ("homepage", u)))
            .chain(self.about_urls.iter().map(|u| ("about_urls", u)))
        {
            let parsed = Url::parse(url).map_err(|e| format!("{key}: {url:?}: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("{key}: {url:?}: only http and https are crawled"));
            }
            if key == "start_urls" && !self.allows_host(parsed.host_str().unwrap_or("")) {
                return Err(format!(
                    "start_urls: {url:?}: its host is not in allow_hosts"
                ));
            }
        }
        if !(self.rate_per_sec.is_finite() && self.rate_per_sec >= 0.0) {
            return Err(format!(
                "rate_per_sec = {}: must be 0 (no delay) or a positive number",
                self.rate_per_sec
            ));
        }
        if self.max_pages == 0 {
            return Err("max_pages = 0: nothing would be fetched".into());
        }
        self.compile().map(|_| ())
    }

    /// Whether links to `host` may be followed.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allow_hosts.iter().any(|allowed| {
            let allowed = allowed.to_ascii_lowercase();
            match allowed.strip_prefix("*.") {
                Some(suffix) => host == suffix || host.ends_with(&format!(".{suffix}")),
                None => host == allowed,
            }
        })
    }

    /// The operator pages to read: the homepage (given or derived) and `about_urls`.
    pub fn operator_urls(&self) -> Vec<String> {
        let home = self.homepage.clone().or_else(|| {
            let first = Url::parse(self.start_urls.first()?).ok()?;
            first.join("/").ok().map(String::from)
        });
        home.into_iter()
            .chain(self.about_urls.iter().cloned())
            .collect()
    }

    pub(crate) fn compile(&self) -> Result<CompiledSelectors, String> {
        let sel = |key: &str, css: &str| {
            Selector::parse(css).map_err(|e| format!("{key} = {css:?}: not a CSS selector: {e}"))
        };
        let field = |key: &str, spec: &FieldSpec| -> Result<CompiledField, String> {
            Ok(CompiledField {
                selector: sel(&format!("fields.{key}"), spec.css())?,
                attr: match spec {
                    FieldSpec::Attr { attr, .. } => Some(attr.clone()),
                    FieldSpec::Css(_) => None,
                },
            })
        };
        let opt =
            |key: &str, spec: &Option<FieldSpec>| spec.as_ref().map(|s| field(key, s)).transpose();
        let f = &self.fields;
        Ok(CompiledSelectors {
            links: sel("link_selector", &self.link_selector)?,
            next: self
                .next_selector
                .as_deref()
                .map(|css| sel("next_selector", css))
                .transpose()?,
            title: field("title", &f.title)?,
            company: field("company", &f.company)?,
            salary: field("salary", &f.salary)?,
            location: field("location", &f.location)?,
            description: field("description", &f.description)?,
            publisher: opt("publisher", &f.publisher)?,
            licence_no: opt("licence_no", &f.licence_no)?,
            contact: opt("contact", &f.contact)?,
            id: opt("id", &f.id)?,
        })
    }
}

/// A field selector, compiled.
pub(crate) struct CompiledField {
    pub selector: Selector,
    pub attr: Option<String>,
}

/// Every selector of a profile, compiled once per crawler.
pub(crate) struct CompiledSelectors {
    pub links: Selector,
    pub next: Option<Selector>,
    pub title: CompiledField,
    pub company: CompiledField,
    pub salary: CompiledField,
    pub location: CompiledField,
    pub description: CompiledField,
    pub publisher: Option<CompiledField>,
    pub licence_no: Option<CompiledField>,
    pub contact: Option<CompiledField>,
    pub id: Option<CompiledField>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        name = "demo"
        start_urls = ["https://jobs.example/list"]
        allow_hosts = ["*.jobs.example"]
        link_selector = "a.job"
        [fields]
        title = "h1"
        company = ".co"
        salary = ".pay"
        location = ".addr"
        description = ".desc"
        id = { css = "div.job", attr = "data-id" }
    "#;

    #[test]
    fn minimal_profile_loads_with_defaults() {
        let p = SiteProfile::from_toml_str(MINIMAL, "demo.toml").unwrap();
        assert_eq!(p.rate_per_sec, 1.0);
        assert!(p.allows_host("www.jobs.example"));
        assert!(p.allows_host("JOBS.example"));
        assert!(!p.allows_host("evil-jobs.example"));
        assert_eq!(p.operator_urls(), vec!["https://jobs.example/".to_string()]);
        assert!(matches!(p.fields.id, Some(FieldSpec::Attr { .. })));
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let bad = MINIMAL.replace(r#"title = "h1""#, r#"title = "h1[[""#);
        let e = SiteProfile::from_toml_str(&bad, "sites/demo.toml").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("sites/demo.toml: fields.title"), "{msg}");

        let bad = MINIMAL.replace("jobs.example/list", "other.example/list");
        let msg = SiteProfile::from_toml_str(&bad, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not in allow_hosts"), "{msg}");

        let bad = MINIMAL.replace("link_selector", "link_selectr");
        let msg = SiteProfile::from_toml_str(&bad, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("link_selectr"), "{msg}");
    }

    #[test]
    fn shipped_profiles_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sites");
        let profiles = SiteProfile::load_dir(&dir).unwrap();
        assert!(!profiles.is_empty());
        for p in &profiles {
            for host in &p.allow_hosts {
                assert!(host.ends_with(".example"), "{}: {host}", p.name);
            }
        }
    }
}
