//! The `chatlake` binary: parse the command line, run the subcommand, report errors plainly.

use clap::Parser;

use chatlake::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A server with passwords logs every connection attempt by default (`chatlake::connections`
    // at info); CHATLAKE_LOG replaces the whole default. delta-rs warns on every MERGE (each
    // dimension upsert of an import) that a metric of its own is missing: not the user's
    // concern, so only its errors are shown.
    const QUIET_MERGE: &str = "deltalake_core::operations::merge=error";
    let default_filter = match &cli.command {
        Command::Serve(args) if args.security.auth_file.is_some() => {
            format!("warn,{QUIET_MERGE},chatlake::connections=info")
        }
        _ => format!("warn,{QUIET_MERGE}"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHATLAKE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&default_filter)),
        )
        .with_writer(std::io::stderr)
        // Colours on a terminal only: a log file or journal gets plain `key=value` lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(chatlake::app::run(cli.command)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", chatlake::error::report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
