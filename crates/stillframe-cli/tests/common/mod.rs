//! Shared by the command-line tests: fixture paths, running the binary, reading JSON.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// A file under the repository's `tests/fixtures`, as a string argument.
pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Runs the `stillframe` binary built for these tests.
pub fn stillframe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stillframe"))
        .args(args)
        .output()
        .unwrap()
}

/// Every stdout line parsed as JSON, whatever the exit status.
pub fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

/// Like [`json_lines`], for a run that must have succeeded.
pub fn successful_json_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_lines(output)
}
