//! The binary's command line: `--help`, `--version`, and an unknown argument refused.

#[test]
fn the_command_line_answers_help_and_version_and_refuses_what_it_does_not_know() {
    test_support::assert_command_line(
        env!("CARGO_BIN_EXE_standalone"),
        env!("CARGO_PKG_VERSION"),
        &[],
    );
}
