//! Start-up only: parse the command line and settings, start logging, hand over to `cli`.

use beacon::cli::{self, Cli, Command};
use beacon::config::Settings;
use clap::Parser;

fn main() {
    let system = actix_web::rt::System::new();
    let code = system.block_on(serve());
    // Exit here rather than by dropping the runtime, which would wait for any blocking task
    // still stuck past the shutdown timeout (PostgreSQL rolls back its transaction).
    std::process::exit(code)
}

async fn serve() -> i32 {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    // The spec needs neither settings nor a database, and its stdout must hold nothing else.
    if matches!(command, Command::Openapi) {
        return report(cli::print_openapi());
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("beacon: {error}");
            return 2;
        }
    };
    beacon::telemetry::init(settings.log_format);
    report(cli::run(command, settings).await)
}

fn report(result: Result<(), cli::CliError>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("beacon: {error}");
            1
        }
    }
}
