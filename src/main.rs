//! The `leakscope` binary: arguments in, [`leakscope::cli`] does the rest.

fn main() -> std::process::ExitCode {
    leakscope::cli::main()
}
