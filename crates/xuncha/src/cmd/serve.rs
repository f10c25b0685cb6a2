//! `xuncha serve`: the analysts' web console on the case store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::web::laws::RuleLaws;
use crate::web::proxy::TrustedProxy;
use crate::web::recheck::RecheckSettings;
use crate::web::routes::ROUTES;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on. The console has no TLS of its own: serve it behind a proxy
    /// that has, or on loopback.
    #[arg(long, default_value = "127.0.0.1:8080", env = "XUNCHA_CONSOLE_ADDR")]
    pub addr: String,
    /// Send cookies without `Secure`, for a console reached over plain HTTP on another
    /// host than localhost (browsers drop Secure cookies there).
    #[arg(long)]
    pub insecure_cookies: bool,
    /// Print every route (method, path, and whether it needs a session) and exit.
    #[arg(long)]
    pub routes: bool,
    #[command(flatten)]
    pub pages: super::PageArgs,
    /// Let "recheck now" fetch private and loopback addresses on hosts no site profile
    /// covers. Only for one's own test sites.
    #[arg(long)]
    pub allow_private_addresses: bool,
    /// The rules folder: the division names the region filter takes, and the provisions
    /// each rule cites.
    #[arg(long, env = "XUNCHA_RULES", default_value = "rules")]
    pub rules: PathBuf,
    #[command(flatten)]
    pub db: super::leads::Db,
    #[command(flatten)]
    pub settings: super::SettingsArg,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.routes {
        for r in ROUTES {
            let access = if r.anonymous { "anonymous" } else { "session" };
            println!("{} {} {access}", r.method, r.path);
        }
        return Ok(ExitCode::SUCCESS);
    }
    crate::telemetry::init_logs(crate::config::LogFormat::Human);
    // One settings file: its `[console]` (single sign-on) and its `[demotion]`, by which
    // verdicts given here demote rules as `xuncha leads mark`'s do.
    let settings = crate::config::Config::load(args.settings.file.as_deref())?;
    settings.demotion.validate()?;
    let proxy = TrustedProxy::from_settings(
        settings.console.trusted_proxy_header.as_deref(),
        &settings.console.trusted_proxies,
    )?;
    // A convenience: without the rules folder, the region filter takes codes and a lead
    // shows its legal basis as a whole, not per finding.
    let (divisions, rule_laws) = match xuncha_rules::RuleSet::load(&args.rules) {
        Ok(rules) => (rules.divisions, RuleLaws::of(&rules.rules)),
        Err(e) => {
            tracing::warn!(rules = %args.rules.display(), error = %e, "no rules: region filter by division code only, no legal basis per finding");
            (Vec::new(), RuleLaws::default())
        }
    };
    // Opened before the runtime starts: opening migrates, which blocks.
    let queue = Arc::new(args.db.open()?.demotion(settings.demotion.clone()));
    let options = crate::web::Options {
        secure_cookies: !args.insecure_cookies,
        recheck: RecheckSettings {
            sites_dir: args.pages.sites_dir,
            evidence_dir: args.pages.evidence,
            allow_private_addresses: args.allow_private_addresses,
        },
        proxy,
        divisions,
        rule_laws,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let bound = crate::web::serve(&args.addr, queue, options).await?;
        eprintln!("console listening on http://{bound}");
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
