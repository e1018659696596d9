//! Start-up only: parse the command line and settings, start logging, hand over to `cli`.

use std::process::ExitCode;

use beacon::cli::{self, Cli, Command};
use beacon::config::Settings;
use clap::Parser;

#[actix_web::main]
async fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    // The spec needs neither settings nor a database, and its stdout must hold nothing else.
    if matches!(command, Command::Openapi) {
        return report(cli::print_openapi());
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("beacon: {error}");
            return ExitCode::from(2);
        }
    };
    beacon::telemetry::init(settings.log_format);
    report(cli::run(command, settings).await)
}

fn report(result: Result<(), cli::CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("beacon: {error}");
            ExitCode::FAILURE
        }
    }
}
