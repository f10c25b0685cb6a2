//! `xuncha schema`: the JSON Schema of each record on the wire, from the types themselves.

use std::process::ExitCode;

/// Which record.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Record {
    /// `xuncha.posting/1`
    Posting,
    /// `xuncha.lead/1`
    Lead,
    /// `xuncha.dlq/1`
    Dlq,
    /// `xuncha.operator/1`
    Operator,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// posting, lead, dlq or operator.
    #[arg(value_enum)]
    pub record: Record,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let schema = match args.record {
        Record::Posting => schemars::schema_for!(xuncha_core::Posting),
        Record::Lead => schemars::schema_for!(xuncha_core::Lead),
        Record::Dlq => schemars::schema_for!(xuncha_pipeline::DeadLetter),
        Record::Operator => schemars::schema_for!(xuncha_crawler::OperatorRecord),
    };
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
