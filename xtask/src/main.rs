//! The project's chores, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! - `cargo xtask test [--accept]`: every check CI runs, step by step.
//! - `cargo xtask fixtures [--check]`: regenerate `fixtures/`, or check it is up to date.

#![allow(clippy::print_stdout)]

mod fixtures;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const HELP: &str = "\
usage: cargo xtask <command>

commands:
  test [--accept]      run every check: fmt, clippy, tests (unit, integration, snapshot, doc),
                       the fault soak (with its report), rustdoc without warnings, the
                       packaging of every published crate, fixtures --check, and the
                       published-schema check of fixtures/.
                       --accept writes changed insta snapshots instead of failing on them.
  fixtures [--check]   regenerate every generated file under fixtures/; with --check, change
                       nothing and fail naming each stale, missing or unexpected file.
  bench                build in release and run the benchmarks (decode, fetch, sync,
                       webhook, workers); each prints
                       `<name>: ratio=<X> (target <T>)` and the figures behind it.
  fuzz [--cases N]     the hostile-input property tests (decoders, normalizer, the CLI's
                       normalize path) in release with N cases each (default 100000).
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["test"] => test(false),
        ["test", "--accept"] => test(true),
        ["fixtures"] => fixtures::write(&root()),
        ["fixtures", "--check"] => fixtures::check(&root()),
        ["bench"] => bench(),
        ["fuzz"] => fuzz("100000"),
        ["fuzz", "--cases", n] if n.parse::<u32>().is_ok_and(|n| n > 0) => fuzz(n),
        [] | ["help" | "--help" | "-h"] => {
            print!("{HELP}");
            Ok(())
        }
        _ => Err(format!("unknown command `{}`\n\n{HELP}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs one named step, failing with the step's name.
fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    println!("==> {name}");
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("step `{name}`: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("step `{name}` failed ({status})"))
    }
}

/// The fault soak's test name prefix (crates/inbox-aggregator/tests/it/soak.rs).
const SOAK: &str = "soak::";

fn test(accept: bool) -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step("fmt: cargo fmt --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    step("clippy: warnings denied on all targets", clippy)?;

    let mut tests = cargo();
    // The fault soak runs as its own step below, where its report is shown.
    tests.args(["test", "--workspace", "--locked", "--", "--skip", SOAK]);
    if accept {
        tests.env("INSTA_UPDATE", "always").env_remove("CI");
    }
    step("tests: unit, integration, snapshot and doc tests", tests)?;

    let mut soak = cargo();
    soak.args([
        "test",
        "--locked",
        "-p",
        "inbox-aggregator",
        "--test",
        "it",
        SOAK,
        "--",
        "--nocapture",
    ]);
    step(
        "soak: every message exactly once under injected faults",
        soak,
    )?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps", "--locked"])
        .env("RUSTDOCFLAGS", "-D warnings");
    step("doc: cargo doc --workspace without warnings", doc)?;

    package()?;

    println!("==> fixtures: cargo xtask fixtures --check");
    fixtures::check(&root()).map_err(|e| format!("step `fixtures` failed: {e}"))?;

    spec_check()
}

/// The crates that are not published (`publish = false`).
const UNPUBLISHED: [&str; 3] = ["xtask", "inbox-bench", "inbox-testkit"];

/// Packages every published crate, failing on an error or any warning cargo gives about a
/// manifest (missing metadata, a path dependency without a version...). Not built again
/// (`--no-verify`): the steps before built and tested the same sources.
fn package() -> Result<(), String> {
    println!("==> package: every published crate packages, without a warning");
    let mut package = cargo();
    package.args([
        "package",
        "--workspace",
        "--no-verify",
        "--allow-dirty",
        "--locked",
    ]);
    for name in UNPUBLISHED {
        package.args(["--exclude", name]);
    }
    let output = package
        .current_dir(root())
        .output()
        .map_err(|e| format!("step `package`: cannot start: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("warning:"))
        .collect();
    if !output.status.success() || !warnings.is_empty() {
        eprint!("{stderr}");
        return Err(format!(
            "step `package` failed ({}, {} warnings)",
            output.status,
            warnings.len()
        ));
    }
    let packaged = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Packaged"))
        .count();
    println!("packaged {packaged} crates");
    Ok(())
}

/// Builds the benchmarks in release and runs them; fails when a target is missed.
fn bench() -> Result<(), String> {
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--locked",
        "-p",
        "inbox-bench",
        "-p",
        "inbox-cli",
    ]);
    step("bench: build (release)", build)?;
    let exe = root().join("target/release/inbox-bench");
    let target_dir = env::var_os("CARGO_TARGET_DIR").map(PathBuf::from);
    let exe = target_dir.map_or(exe, |dir| dir.join("release/inbox-bench"));
    step(
        "bench: decode, fetch, sync, webhook and workers",
        Command::new(exe),
    )
}

/// The property tests that feed hostile input to every decoding path, with many cases.
/// Stable Rust has no coverage-guided fuzzer built in; proptest's generators (arbitrary JSON,
/// mutated fixtures, truncated and bit-flipped bytes) run here at scale instead.
fn fuzz(cases: &str) -> Result<(), String> {
    let suites: [(&str, &[&str]); 2] = [
        (
            "decoders and normalizer",
            &["-p", "inbox-normalize", "--test", "hostile"],
        ),
        (
            "the CLI's normalize path",
            &["-p", "inbox-cli", "--bin", "inbox", "hostile"],
        ),
    ];
    for (what, args) in suites {
        let mut cmd = cargo();
        cmd.args(["test", "--release", "--locked"])
            .args(args)
            .env("PROPTEST_CASES", cases);
        step(&format!("fuzz: {what}, {cases} cases per property"), cmd)?;
    }
    Ok(())
}

/// Validates `fixtures/` against the providers' published OpenAPI schemas with the shared
/// validator that sits beside the checkout (`../shared/tools/validate-fixtures`).
fn spec_check() -> Result<(), String> {
    let root = root();
    let Some(tool) = root
        .parent()
        .map(|p| p.join("shared/tools/validate-fixtures"))
    else {
        return Err("step `spec`: the workspace has no parent folder".into());
    };
    if !tool.exists() {
        if env::var_os("CI").is_some() {
            return Err(format!("step `spec`: {} is missing", tool.display()));
        }
        println!(
            "==> spec: skipped ({} not found; CI runs it)",
            tool.display()
        );
        return Ok(());
    }
    for provider in ["partoo", "bird"] {
        let dir = root.join("fixtures").join(provider);
        if !dir.exists() {
            continue;
        }
        let mut cmd = Command::new(&tool);
        cmd.arg(provider).arg(&dir);
        step(
            &format!("spec: fixtures/{provider} valid under the published schema"),
            cmd,
        )?;
    }
    Ok(())
}
