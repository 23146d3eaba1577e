//! Tests that need a program the machine may lack (`jackd`, `tmux`, JACK's example
//! clients). Rust's test harness has no "skipped": a test that cannot run says so by name
//! and returns, and under `CI=true`, where `make test` has installed every tool, it fails
//! instead. `#[path]`-included by the test binaries that need it.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// True when one of `programs` is not on `PATH`: the caller returns at once. The skip is
/// written to the real stderr, which the harness does not capture, as
/// `SKIPPED <test name>: no <program> on PATH`. Under `CI=true` it panics instead.
pub fn skipped_without(programs: &[&str]) -> bool {
    let Some(missing) = programs.iter().find(|program| !on_path(program)) else {
        return false;
    };
    // The harness names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{test}: no {missing} on PATH; under CI=true a missing tool is a failure (scripts/setup installs it)"
        );
    }
    // One write, so that the line is not cut by other tests' output.
    let line = format!("SKIPPED {test}: no {missing} on PATH (scripts/setup installs it)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    true
}

/// Whether `program` is an executable file in one of `PATH`'s directories.
pub fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
}

#[cfg(unix)]
fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(file: &Path) -> bool {
    file.is_file() || file.with_extension("exe").is_file()
}
