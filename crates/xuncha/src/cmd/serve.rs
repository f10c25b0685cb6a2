//! `xuncha serve`: the analysts' web console on the case store.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

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
    // Opened before the runtime starts: opening migrates, which blocks. Verdicts given
    // here demote rules by the same `[demotion]` as `xuncha leads mark`.
    let queue = Arc::new(args.db.open()?.demotion(args.settings.demotion()?));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let bound = crate::web::serve(&args.addr, queue, !args.insecure_cookies).await?;
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
