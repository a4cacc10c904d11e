//! `tintype`: the command line (subcommands); the window comes with no arguments later.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
