use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;
use xuncha_core::Severity;

xuncha_core::str_enum! {
    /// What the receiving end of a webhook understands.
    #[derive(serde::Deserialize)]
    pub enum Format("webhook format") {
        /// 企业微信 group robot: `{"msgtype":"markdown","markdown":{"content":…}}`.
        Wecom => "wecom",
        /// 钉钉 group robot: `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`, signed
        /// when the webhook has a `secret`.
        Dingtalk => "dingtalk",
        /// The lead itself (docs/data-contracts.md), or an `xuncha.alert_summary/1` object.
        Json => "json",
    }
}

impl Format {
    /// Whether the receiver is a chat robot that answers HTTP 200 with `{"errcode":N}`.
    pub fn is_robot(self) -> bool {
        matches!(self, Format::Wecom | Format::Dingtalk)
    }
}

/// At most `count` individual alerts per `window` for one key (a publisher, or a rule).
///
/// In TOML: `per_publisher = { count = 5, window = "10m" }`. The window is a humane
/// duration (`"90s"`, `"10m"`, `"1h 30m"`). A `count` of 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Individual alerts allowed per window and key; 0 means no limit.
    pub count: u32,
    /// Length of a window, counted from the first lead of the key.
    #[serde(with = "humane")]
    pub window: Duration,
}

impl Limit {
    /// A limit of `count` per `window`.
    pub fn new(count: u32, window: Duration) -> Limit {
        Limit { count, window }
    }

    /// No limit.
    pub fn off() -> Limit {
        Limit {
            count: 0,
            window: Duration::from_secs(600),
        }
    }

    /// Whether the limit applies at all.
    pub fn is_on(&self) -> bool {
        self.count > 0
    }
}

/// One webhook (`[[alerts.webhook]]` in the config file).
///
/// ```toml
/// [[alerts.webhook]]
/// name = "wecom-duty"
/// url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
/// format = "wecom"
/// min_severity = "illegal"
/// per_publisher = { count = 5, window = "10m" }
/// per_rule = { count = 20, window = "10m" }
/// ```
///
/// Only `name`, `url` and `format` are required; everything else has the default shown by
/// [`WebhookConfig::new`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Short name for logs and the `webhook` label of the metrics; unique among webhooks.
    pub name: String,
    /// Where to POST. Robots carry their token in the query (`?key=…`,
    /// `?access_token=…`), so logs print it with query values masked.
    pub url: String,
    /// What the receiver understands.
    pub format: Format,
    /// 钉钉 signing secret (`SEC…`): the URL then gets `&timestamp=…&sign=…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Leads below this severity are not alerted (they still reach the case queue).
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// Individual alerts per publisher (posting publisher, else company, else source).
    #[serde(default = "default_per_publisher")]
    pub per_publisher: Limit,
    /// Individual alerts per rule id.
    #[serde(default = "default_per_rule")]
    pub per_rule: Limit,
    /// Retries after a failed attempt (connect error, timeout, 429, 5xx, robot rate limit).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Wait before the first retry; doubled at each further one (with jitter), at most 60 s,
    /// unless the receiver's `Retry-After` says otherwise.
    #[serde(default = "default_backoff", with = "humane")]
    pub backoff: Duration,
    /// Time limit of one HTTP attempt.
    #[serde(default = "default_timeout", with = "humane")]
    pub timeout: Duration,
    /// Leads waiting for this webhook; when full, further leads are dropped (and counted)
    /// rather than slow the scan.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Lead ids remembered so that a rescan of an unchanged posting is not alerted again;
    /// 0 turns this off.
    #[serde(default = "default_dedupe")]
    pub dedupe: usize,
}

fn default_min_severity() -> Severity {
    Severity::Illegal
}
fn default_per_publisher() -> Limit {
    Limit::new(5, Duration::from_secs(600))
}
fn default_per_rule() -> Limit {
    Limit::new(20, Duration::from_secs(600))
}
fn default_retries() -> u32 {
    5
}
fn default_backoff() -> Duration {
    Duration::from_secs(1)
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_queue() -> usize {
    10_000
}
fn default_dedupe() -> usize {
    100_000
}

impl WebhookConfig {
    /// A webhook with every optional setting at its default: `min_severity` illegal, 5
    /// alerts per publisher and 20 per rule in 10 minutes, 5 retries from 1 s, 10 s
    /// timeout, a queue of 10,000 leads, the last 100,000 lead ids remembered.
    pub fn new(name: impl Into<String>, url: impl Into<String>, format: Format) -> WebhookConfig {
        WebhookConfig {
            name: name.into(),
            url: url.into(),
            format,
            secret: None,
            min_severity: default_min_severity(),
            per_publisher: default_per_publisher(),
            per_rule: default_per_rule(),
            retries: default_retries(),
            backoff: default_backoff(),
            timeout: default_timeout(),
            queue: default_queue(),
            dedupe: default_dedupe(),
        }
    }

    /// Checks what serde cannot, and returns the parsed URL. Errors name the webhook.
    pub fn validate(&self) -> anyhow::Result<Url> {
        let ctx = |what: &str| format!("alerts.webhook `{}`: {what}", self.name);
        anyhow::ensure!(!self.name.trim().is_empty(), ctx("`name` is empty"));
        let url = Url::parse(&self.url)
            .map_err(|e| anyhow::anyhow!(ctx(&format!("url `{}`: {e}", redact(&self.url)))))?;
        anyhow::ensure!(
            matches!(url.scheme(), "http" | "https"),
            ctx(&format!("url `{}` is not http(s)", redact(&self.url)))
        );
        anyhow::ensure!(self.queue > 0, ctx("`queue` must be at least 1"));
        anyhow::ensure!(!self.timeout.is_zero(), ctx("`timeout` must not be 0"));
        for (key, limit) in [
            ("per_publisher", self.per_publisher),
            ("per_rule", self.per_rule),
        ] {
            anyhow::ensure!(
                !limit.is_on() || !limit.window.is_zero(),
                ctx(&format!("`{key}.window` must not be 0"))
            );
        }
        if self.secret.is_some() && self.format != Format::Dingtalk {
            anyhow::bail!(ctx("`secret` is only used by format = \"dingtalk\""));
        }
        Ok(url)
    }
}

// The URL and the secret are credentials: keep them out of `{:?}` in logs and panics.
impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("name", &self.name)
            .field("url", &redact(&self.url))
            .field("format", &self.format)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("min_severity", &self.min_severity)
            .field("per_publisher", &self.per_publisher)
            .field("per_rule", &self.per_rule)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("timeout", &self.timeout)
            .field("queue", &self.queue)
            .field("dedupe", &self.dedupe)
            .finish()
    }
}

/// `url` with every query value masked (`?key=***`): robot tokens live there.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            if u.query().is_some() {
                let keys: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
                u.query_pairs_mut()
                    .clear()
                    .extend_pairs(keys.iter().map(|k| (k.as_str(), "***")));
            }
            u.to_string()
        }
        // Not a URL: show only what precedes a query.
        Err(_) => url.split('?').next().unwrap_or_default().to_string(),
    }
}

/// Durations as humane strings (`"10m"`, `"1h 30m"`, `"500ms"`), read and written by the
/// one duration reader of every setting.
mod humane {
    pub use xuncha_core::deserialize_duration as deserialize;
    pub use xuncha_core::serialize_duration as serialize;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        alerts: Alerts,
    }
    #[derive(Deserialize)]
    struct Alerts {
        webhook: Vec<WebhookConfig>,
    }

    #[test]
    fn reads_webhook_tables_from_toml_with_defaults() {
        let f: File = toml::from_str(
            r#"
            [[alerts.webhook]]
            name = "wecom-duty"
            url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
            format = "wecom"
            per_publisher = { count = 3, window = "90s" }

            [[alerts.webhook]]
            name = "dingtalk"
            url = "https://oapi.dingtalk.com/robot/send?access_token=t"
            format = "dingtalk"
            secret = "SECxyz"
            min_severity = "locally_illegal"
            timeout = "2s"
            "#,
        )
        .unwrap();
        let [w, d] = &f.alerts.webhook[..] else {
            panic!("two webhooks expected")
        };
        assert_eq!(w.format, Format::Wecom);
        assert_eq!(w.per_publisher, Limit::new(3, Duration::from_secs(90)));
        assert_eq!(w.per_rule, default_per_rule());
        assert_eq!(w.min_severity, Severity::Illegal);
        assert_eq!((w.retries, w.queue), (5, 10_000));
        assert_eq!(d.secret.as_deref(), Some("SECxyz"));
        assert_eq!(d.min_severity, Severity::LocallyIllegal);
        assert_eq!(d.timeout, Duration::from_secs(2));
        assert!(w.validate().is_ok() && d.validate().is_ok());
    }

    #[test]
    fn serialises_back_to_the_same_config() {
        let mut c = WebhookConfig::new("j", "http://127.0.0.1:1/x", Format::Json);
        c.per_rule = Limit::new(7, Duration::from_millis(1500));
        let text = toml::to_string(&c).unwrap();
        let back: WebhookConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, c, "{text}");
    }

    #[test]
    fn refuses_unknown_fields_and_bad_durations() {
        let err = toml::from_str::<WebhookConfig>(
            "name='a'\nurl='http://127.0.0.1/'\nformat='json'\nmin_severty='illegal'",
        )
        .unwrap_err();
        assert!(err.to_string().contains("min_severty"), "{err}");
        let err = toml::from_str::<WebhookConfig>(
            "name='a'\nurl='http://127.0.0.1/'\nformat='json'\ntimeout='soon'",
        )
        .unwrap_err();
        assert!(err.to_string().contains("duration \"soon\""), "{err}");
        let err =
            toml::from_str::<WebhookConfig>("name='a'\nurl='http://127.0.0.1/'\nformat='slack'")
                .unwrap_err();
        assert!(err.to_string().contains("slack"), "{err}");
    }

    #[test]
    fn validation_names_the_webhook_and_hides_the_token() {
        let c = WebhookConfig::new("duty", "ftp://h/send?key=SECRET", Format::Wecom);
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("alerts.webhook `duty`"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
        let mut c = WebhookConfig::new("duty", "https://h/send?key=k", Format::Wecom);
        c.secret = Some("s".into());
        assert!(c.validate().unwrap_err().to_string().contains("secret"));
    }

    #[test]
    fn debug_and_redact_mask_credentials() {
        let mut c = WebhookConfig::new(
            "d",
            "https://oapi.dingtalk.com/robot/send?access_token=TOKEN",
            Format::Dingtalk,
        );
        c.secret = Some("SECRET".into());
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("TOKEN") && !dbg.contains("SECRET"), "{dbg}");
        assert_eq!(
            redact(&c.url),
            "https://oapi.dingtalk.com/robot/send?access_token=***"
        );
    }
}
