//! The `stratbox` command line: see `stratbox --help`.

fn main() -> std::process::ExitCode {
    stratbox::cli::main()
}
