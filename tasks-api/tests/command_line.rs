//! The binary's command line: `--help`, `--version`, `--env-vars`, and an unknown argument
//! refused.

#[test]
fn the_command_line_answers_help_and_version_and_refuses_what_it_does_not_know() {
    test_support::assert_command_line(
        env!("CARGO_BIN_EXE_tasks-api"),
        env!("CARGO_PKG_VERSION"),
        &[],
    );
}

#[test]
fn env_vars_lists_the_variables_tasks_api_reads() {
    test_support::assert_env_vars(
        env!("CARGO_BIN_EXE_tasks-api"),
        &[
            "DATABASE_URL",
            "BETTER_AUTH_SECRET",
            "JWKS_URL",
            "SESSION_FEED_URL",
            "LIST_CACHE_BYTES",
            "RUST_LOG",
        ],
        &["ARGON2_MEMORY_KIB", "JWT_PRIVATE_KEY_FILE"],
    );
}
