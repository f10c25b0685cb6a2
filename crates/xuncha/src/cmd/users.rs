//! `xuncha users add|list|disable`: the console's accounts, in the case store.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use xuncha_cases::Role;

use crate::neutralise::terminal;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Add an account. The password is read from standard input (one line), never from
    /// the command line, where other users of the machine could read it.
    Add {
        /// Login name; also the actor name in the leads' timelines.
        name: String,
        /// analyst (read, verdicts, notes, close), supervisor (also assign and reopen) or
        /// admin.
        #[arg(long)]
        role: Role,
    },
    /// Every account: name, role, whether disabled, when added.
    List,
    /// Disable an account and end its sessions (it stays named in the events it wrote).
    Disable {
        /// Login name.
        name: String,
    },
}

pub fn run(db: super::leads::Db, cmd: Command) -> anyhow::Result<ExitCode> {
    let q = db.open()?;
    match cmd {
        Command::Add { name, role } => {
            let password = read_password()?;
            q.add_user(&name, role, &password)?;
            eprintln!("added {} ({role})", terminal(&name));
        }
        Command::List => {
            let mut w = io::BufWriter::new(io::stdout().lock());
            writeln!(
                w,
                "{:<24} {:<10} {:<9} created_at",
                "name", "role", "disabled"
            )?;
            for u in q.users()? {
                writeln!(
                    w,
                    "{:<24} {:<10} {:<9} {}",
                    terminal(&u.name),
                    u.role.as_str(),
                    if u.disabled { "yes" } else { "no" },
                    u.created_at
                )?;
            }
            w.flush()?;
        }
        Command::Disable { name } => {
            if !q.disable_user(&name)? {
                eprintln!("no user {} in {}", terminal(&name), q.location());
                return Ok(ExitCode::FAILURE);
            }
            eprintln!("disabled {}; its sessions are ended", terminal(&name));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of standard input; at a terminal, asked for twice without echo.
fn read_password() -> anyhow::Result<String> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let _echo = EchoOff::new();
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        eprintln!();
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let first = ask("password: ")?;
    anyhow::ensure!(ask("again: ")? == first, "the two passwords differ");
    Ok(first)
}

/// Terminal echo off while it lives (`stty`, on the terminal that is standard input).
struct EchoOff;

impl EchoOff {
    fn new() -> EchoOff {
        let _ = std::process::Command::new("stty").arg("-echo").status();
        EchoOff
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = std::process::Command::new("stty").arg("echo").status();
    }
}
