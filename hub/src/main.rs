fn main() -> std::process::ExitCode {
    grove_hub::cli::main()
}
