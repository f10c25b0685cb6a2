//! Settings of `xuncha run`: a TOML file (`config/default.toml`, `config/kafka.toml`)
//! overridden by `XUNCHA_*` environment variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use xuncha_cases::Location;
use xuncha_pipeline::jsonl::InboxConfig;
use xuncha_pipeline::kafka::KafkaConfig;
use xuncha_pipeline::webhook::WebhookConfig;

/// Which sources and sinks `run` wires up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Inbox folder in, SQLite case queue out; no Kafka.
    Embedded,
    /// Kafka topics in and out.
    Kafka,
}

/// HTTP endpoint settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Http {
    /// Address of `/metrics`, `/healthz`, `/readyz`.
    pub addr: String,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            addr: "127.0.0.1:9898".into(),
        }
    }
}

/// Scan loop settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scan {
    /// Records scanned together.
    pub batch_size: usize,
    /// Largest record scanned; larger ones are dead-lettered.
    pub max_record_bytes: usize,
    /// Longest one record may take to scan, in milliseconds; a slower one is
    /// dead-lettered (`over_budget`) instead of holding a worker.
    pub record_budget_ms: u64,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            batch_size: 2048,
            max_record_bytes: 1024 * 1024,
            record_budget_ms: 10_000,
        }
    }
}

/// Log output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// `human` or `json`.
    pub format: LogFormat,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            format: LogFormat::Human,
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// For a terminal.
    Human,
    /// One JSON object a line, for a log collector.
    Json,
}

/// Crawling the site profiles as part of `run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Crawl {
    /// Crawl while monitoring (off by default: the shipped profiles are examples).
    pub enabled: bool,
    /// Site profiles, one TOML file per site.
    pub sites_dir: PathBuf,
    /// Crawl state (SQLite).
    pub state: PathBuf,
    /// Evidence store.
    pub evidence: PathBuf,
    /// Requests in flight at once, over all sites.
    pub concurrency: usize,
    /// Where the frontier lives: in the crawl state (`local`, one crawler process) or in
    /// the topic `kafka.topics.frontier` (`kafka`), shared by every crawler process of the
    /// group `<kafka.group>-crawler`, each host crawled by exactly one of them.
    pub frontier: FrontierKind,
    /// Kafka frontier: how long a pass of a site waits with nothing queued, in flight or
    /// arriving before it ends (`"10s"`, `"500ms"`).
    pub frontier_idle: String,
}

/// Which frontier the crawler uses (`[crawl] frontier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrontierKind {
    /// In this process, kept in the crawl state.
    Local,
    /// The Kafka topic, shared by several crawler processes.
    Kafka,
}

impl Default for Crawl {
    fn default() -> Self {
        Crawl {
            enabled: false,
            sites_dir: "config/sites".into(),
            state: "data/crawl.db".into(),
            evidence: "data/evidence".into(),
            concurrency: 16,
            frontier: FrontierKind::Local,
            frontier_idle: "10s".into(),
        }
    }
}

/// The licensed-agency registry (名录) that `license.missing` leads are judged against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrySettings {
    /// A registry database made by `xuncha registry import`, or a published list (CSV or
    /// JSON) read directly. None: only what postings say about their own licence counts.
    pub path: Option<PathBuf>,
}

/// Rule reload while running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reload {
    /// Reload when a file in the rules directory changes (SIGHUP always reloads).
    pub watch: bool,
    /// How often the rules directory is looked at, in milliseconds.
    pub interval_ms: u64,
}

impl Default for Reload {
    fn default() -> Self {
        Reload {
            watch: true,
            interval_ms: 2000,
        }
    }
}

/// Where serious leads are pushed, besides the case queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Webhooks (企业微信 and 钉钉 group robots, plain JSON), each with its own severity
    /// floor and throttling.
    pub webhook: Vec<WebhookConfig>,
}

/// Everything `run` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Embedded or Kafka.
    pub mode: Mode,
    /// Rule pack directory.
    pub rules: PathBuf,
    /// Rule reload.
    pub reload: Reload,
    /// The case store: a SQLite file (a path or `sqlite://path`, the embedded default) or a
    /// `postgres://user@host:port/db` URL (a team's queue).
    pub db: String,
    /// Telemetry endpoint.
    pub http: Http,
    /// Inbox folder (embedded mode).
    pub inbox: InboxConfig,
    /// Kafka (distributed mode).
    pub kafka: KafkaConfig,
    /// Scan loop.
    pub scan: Scan,
    /// Crawling.
    pub crawl: Crawl,
    /// Licence registry.
    pub registry: RegistrySettings,
    /// Alerts.
    pub alerts: AlertSettings,
    /// Rechecks of open leads' pages (embedded mode).
    pub recheck: RecheckConfig,
    /// Grouping leads into campaigns as they are filed.
    pub campaigns: CampaignSettings,
    /// When verdicts demote a rule (read by every command that records verdicts).
    pub demotion: xuncha_cases::DemotionPolicy,
    /// The web console (`xuncha serve`).
    pub console: ConsoleSettings,
    /// Logs.
    pub log: Log,
}

/// The `[console]` settings of `xuncha serve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Single sign-on: the request header in which the department's reverse proxy names
    /// the logged-in user (`X-Remote-User`). The named account must exist and be enabled;
    /// its role is the store's. Unset: every user logs in with a password.
    pub trusted_proxy_header: Option<String>,
    /// The addresses (`10.0.0.5`) or networks (`10.0.0.0/24`) the header is believed
    /// from; from any other address it is ignored.
    pub trusted_proxies: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Embedded,
            rules: "rules".into(),
            reload: Reload::default(),
            db: "data/xuncha.db".into(),
            http: Http::default(),
            inbox: InboxConfig::default(),
            kafka: KafkaConfig::default(),
            scan: Scan::default(),
            crawl: Crawl::default(),
            registry: RegistrySettings::default(),
            alerts: AlertSettings::default(),
            recheck: RecheckConfig::default(),
            campaigns: CampaignSettings::default(),
            demotion: xuncha_cases::DemotionPolicy::default(),
            console: ConsoleSettings::default(),
            log: Log::default(),
        }
    }
}

/// The default config file, used when it exists and no other is named.
pub const DEFAULT_FILE: &str = "config/default.toml";

/// Environment variables with a name of their own; any other key is reachable as
/// `XUNCHA_<SECTION>__<KEY>`.
fn env_key(key: &str) -> String {
    match key.to_ascii_lowercase().as_str() {
        "kafka_brokers" => "kafka.brokers".into(),
        "kafka_group" => "kafka.group".into(),
        "http_addr" => "http.addr".into(),
        "inbox" => "inbox.dir".into(),
        // The same variable names the database of `xuncha registry`.
        "registry" | "registry_db" => "registry.path".into(),
        // `xuncha crawl`'s own variables name the same files as `[crawl]`.
        "crawl_db" => "crawl.state".into(),
        other => other.replace("__", "."),
    }
}

impl Config {
    /// Loads `file` (or `config/default.toml` if it exists), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                anyhow::ensure!(f.exists(), "config file {} does not exist", f.display());
                fig = fig.merge(Toml::file_exact(f));
            }
            None if Path::new(DEFAULT_FILE).exists() => {
                fig = fig.merge(Toml::file_exact(DEFAULT_FILE))
            }
            None => {}
        }
        // XUNCHA_RULES is also the `--rules` flag of the other commands.
        // Other tools' XUNCHA_* variables (XUNCHA_CORPUS, XUNCHA_CACHE) are not settings.
        // Ours are the top-level keys of `Config`, read off its own serialisation so that a
        // new section needs no second list here.
        let keys: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(m)) => m.into_iter().map(|(k, _)| k).collect(),
            _ => Vec::new(),
        };
        let ours = move |k: &str| {
            let k = k.to_ascii_lowercase();
            keys.iter()
                .any(|s| k == *s || k.starts_with(&format!("{s}_")))
        };
        // `XUNCHA_<SECTION>__<KEY>` is a setting's shape: a section nobody has is a typo,
        // and a typo'd setting silently ignored is a setting silently at its default.
        for (name, _) in std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .filter(|(k, _)| k.starts_with("XUNCHA_") && k.contains("__"))
        {
            let key = &name["XUNCHA_".len()..];
            anyhow::ensure!(
                ours(key),
                "{name}: no settings section `{}` (sections: {})",
                key.split("__")
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                Config::sections().join(", ")
            );
        }
        fig = fig.merge(
            Env::prefixed("XUNCHA_")
                .filter(move |k| ours(k.as_str()))
                .map(|k| env_key(k.as_str()).into()),
        );
        fig.extract().with_context(|| match file {
            Some(f) => format!(
                "reading settings from {} and XUNCHA_* variables",
                f.display()
            ),
            None => "reading settings from XUNCHA_* variables".to_string(),
        })
    }

    fn sections() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(m)) => m
                .into_iter()
                .filter(|(_, v)| v.is_object())
                .map(|(k, _)| k)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Refuses values that would make `run` spin, drop everything or write where nobody
    /// meant it to, naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        // (setting, its variable, value, least value that works, why smaller fails)
        let minima: [(&str, &str, u64, u64, &str); 5] = [
            (
                "campaigns.max_publishers_per_key",
                "XUNCHA_CAMPAIGNS__MAX_PUBLISHERS_PER_KEY",
                self.campaigns.max_publishers_per_key as u64,
                1,
                ": every key would be too common",
            ),
            (
                "scan.batch_size",
                "XUNCHA_SCAN__BATCH_SIZE",
                self.scan.batch_size as u64,
                1,
                "",
            ),
            (
                "scan.max_record_bytes",
                "XUNCHA_SCAN__MAX_RECORD_BYTES",
                self.scan.max_record_bytes as u64,
                1024,
                ": every posting would be dead-lettered",
            ),
            (
                "scan.record_budget_ms",
                "XUNCHA_SCAN__RECORD_BUDGET_MS",
                self.scan.record_budget_ms,
                100,
                "",
            ),
            (
                "inbox.poll_ms",
                "XUNCHA_INBOX__POLL_MS",
                self.inbox.poll_ms,
                10,
                "",
            ),
        ];
        for (key, var, value, least, why) in minima {
            anyhow::ensure!(
                value >= least,
                "{key} ({var}) must be at least {least}, not {value}{why}"
            );
        }
        self.demotion.validate()?;
        if self.mode == Mode::Embedded {
            // The shipped default folder is made on first run; any other is the operator's
            // and must exist, so a mistyped path is an error, not a new empty queue.
            if let Location::Sqlite(db) = Location::parse(&self.db) {
                let parent = db.parent().filter(|p| !p.as_os_str().is_empty());
                let default_dir = match Location::parse(&Config::default().db) {
                    Location::Sqlite(d) => d.parent().map(Path::to_path_buf),
                    Location::Postgres(_) => None,
                };
                if let Some(dir) = parent {
                    anyhow::ensure!(
                        dir.is_dir() || Some(dir.to_path_buf()) == default_dir,
                        "db (XUNCHA_DB) is {}, but the folder {} does not exist: create it, or check the path",
                        db.display(),
                        dir.display()
                    );
                }
                anyhow::ensure!(
                    !db.is_dir(),
                    "db (XUNCHA_DB) is {}, a folder: name the database file in it",
                    db.display()
                );
            }
        }
        Ok(())
    }
}

/// The `[recheck]` settings of `xuncha run` (embedded mode: the case queue is the SQLite
/// file). Durations are written as in site profiles (`"3d"`, `"1h"`, `"90m"`) and read when
/// the settings are, so a mistyped one stops the start, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecheckConfig {
    /// Recheck open leads while monitoring. Off by default: it fetches the pages of
    /// every posting with a URL, wherever it came from.
    pub enabled: bool,
    /// A lead is due when its page was not rechecked for this long.
    #[serde(
        deserialize_with = "xuncha_core::deserialize_duration",
        serialize_with = "xuncha_core::serialize_duration"
    )]
    pub after: Duration,
    /// How often a round looks for due leads.
    #[serde(
        deserialize_with = "xuncha_core::deserialize_duration",
        serialize_with = "xuncha_core::serialize_duration"
    )]
    pub every: Duration,
    /// Most leads rechecked in one round; the rest wait for the next.
    pub max_per_round: usize,
    /// A posting is recorded gone only when rechecks this far apart both find it gone.
    #[serde(
        deserialize_with = "xuncha_core::deserialize_duration",
        serialize_with = "xuncha_core::serialize_duration"
    )]
    pub confirm_gone_after: Duration,
}

impl Default for RecheckConfig {
    fn default() -> Self {
        RecheckConfig {
            enabled: false,
            after: Duration::from_secs(3 * 86_400),
            every: Duration::from_secs(3600),
            max_per_round: 1000,
            confirm_gone_after: Duration::from_secs(3600),
        }
    }
}

/// The `[campaigns]` settings: how leads are grouped as they are filed (docs/campaigns.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignSettings {
    /// A key (a phone number, an address, a company) seen with more distinct publishers
    /// than this is too common to tie postings together: a site's hotline, a platform's
    /// own address. It is then ignored, and the campaign it glued is split again.
    pub max_publishers_per_key: usize,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        CampaignSettings {
            max_publishers_per_key: xuncha_cases::DEFAULT_MAX_PUBLISHERS_PER_KEY,
        }
    }
}

#[cfg(test)]
// figment::Jail fixes the error type of its closures.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn files_and_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "mode = \"kafka\"\n[kafka]\nbrokers = \"a:1\"\n[scan]\nbatch_size = 7\n",
            )?;
            jail.set_env("XUNCHA_KAFKA_GROUP", "g2");
            jail.set_env("XUNCHA_DB", "/tmp/x.db");
            jail.set_env("XUNCHA_KAFKA__TOPICS__LEADS", "other.leads");
            jail.set_env("XUNCHA_CRAWL_DB", "/tmp/crawl.db");
            jail.set_env("XUNCHA_REGISTRY_DB", "/tmp/registry.db");
            jail.set_env("XUNCHA_CRAWL__FRONTIER", "kafka");
            let c = Config::load(Some(Path::new("k.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.mode, Mode::Kafka);
            assert_eq!(c.kafka.brokers, "a:1");
            assert_eq!(c.kafka.group, "g2");
            assert_eq!(c.db, PathBuf::from("/tmp/x.db"));
            assert_eq!(c.kafka.topics.leads, "other.leads");
            assert_eq!(c.kafka.topics.postings, "xuncha.postings");
            assert_eq!(c.scan.batch_size, 7);
            assert_eq!(c.crawl.state, PathBuf::from("/tmp/crawl.db"));
            assert_eq!(c.registry.path, Some(PathBuf::from("/tmp/registry.db")));
            assert_eq!(c.crawl.frontier, FrontierKind::Kafka);
            jail.set_env("XUNCHA_KAFKA_BROKERS", "b:2");
            let c = Config::load(Some(Path::new("k.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.kafka.brokers, "b:2");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[kafka]\nbrokerz = \"x\"\n")?;
            let e = Config::load(Some(Path::new("bad.toml"))).unwrap_err();
            assert!(format!("{e:#}").contains("brokerz"), "{e:#}");
            assert!(Config::load(Some(Path::new("nope.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn settings_that_would_spin_drop_or_misplace_are_refused_by_name() {
        figment::Jail::expect_with(|jail| {
            let e = |jail: &mut figment::Jail, var: &str, value: &str| {
                jail.set_env(var, value);
                let r = Config::load(None).and_then(|c| c.validate());
                jail.clear_env();
                format!("{:#}", r.unwrap_err())
            };
            assert!(e(jail, "XUNCHA_SCAN__BATCH_SIZE", "0").contains("scan.batch_size"));
            assert!(e(jail, "XUNCHA_SCAN__MAX_RECORD_BYTES", "0").contains("max_record_bytes"));
            assert!(e(jail, "XUNCHA_INBOX__POLL_MS", "0").contains("inbox.poll_ms"));
            assert!(e(jail, "XUNCHA_DB", "/nonexistent/typo/x.db").contains("/nonexistent/typo"));
            assert!(e(jail, "XUNCHA_DEMOTION__FLOOR", "2").contains("demotion.floor"));
            let unknown = e(jail, "XUNCHA_SCAM__BATCH_SIZE", "5");
            assert!(
                unknown.contains("XUNCHA_SCAM__BATCH_SIZE") && unknown.contains("scan"),
                "{unknown}"
            );
            // The defaults pass, other tools' variables are left alone.
            jail.set_env("XUNCHA_CORPUS", "/somewhere");
            Config::load(None).unwrap().validate().unwrap();
            Ok(())
        });
    }

    #[test]
    fn console_single_sign_on_is_read_from_the_file_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[console]\ntrusted_proxy_header = \"X-Remote-User\"\ntrusted_proxies = [\"10.0.0.0/24\"]\n",
            )?;
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(
                c.console.trusted_proxy_header.as_deref(),
                Some("X-Remote-User")
            );
            assert_eq!(c.console.trusted_proxies, ["10.0.0.0/24"]);
            jail.set_env(
                "XUNCHA_CONSOLE__TRUSTED_PROXIES",
                "[\"127.0.0.1/32\", \"::1\"]",
            );
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.console.trusted_proxies, ["127.0.0.1/32", "::1"]);
            jail.create_file("typo.toml", "[console]\ntrusted_proxy = \"x\"\n")?;
            let e = Config::load(Some(Path::new("typo.toml"))).unwrap_err();
            assert!(format!("{e:#}").contains("trusted_proxy"), "{e:#}");
            Ok(())
        });
    }

    #[test]
    fn shipped_config_files_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let c = Config::load(Some(&root.join("default.toml"))).unwrap();
        assert_eq!(c.mode, Mode::Embedded);
        assert_eq!(c.demotion, xuncha_cases::DemotionPolicy::default());
        let c = Config::load(Some(&root.join("kafka.toml"))).unwrap();
        assert_eq!(c.mode, Mode::Kafka);
        assert_eq!(c.crawl.frontier, FrontierKind::Kafka);
    }
}
