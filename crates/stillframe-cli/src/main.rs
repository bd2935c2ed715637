//! `stillframe`: probe video files and grab still images at given times.

mod grab;
mod inputs;
mod label;
mod output;
mod probe;
mod progress;
mod sheet;
mod sweep;
mod time_arg;
mod y4m;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Pull still images out of video files (MP4/MOV, Matroska/WebM, raw H.264/HEVC/AV1
/// streams; H.264, HEVC, VP9 and AV1) at the times you ask for.
///
/// Times are on the file's presentation timeline, in seconds ("12.5"), clock form
/// ("01:02.500", "1:00:02.5"), as a fraction of a second ("1001/30000") or, for grab,
/// as a share of the video ("10%").
#[derive(Debug, Parser)]
#[command(name = "stillframe", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe a file: container, duration, and each track's codec, size, frame count.
    Probe(probe::ProbeArgs),
    /// Save the frame at each requested time as an image.
    Grab(grab::GrabArgs),
    /// Tile thumbnails at even times into one image, with an optional WebVTT track
    /// for a web player's seek bar.
    Sheet(sheet::SheetArgs),
    /// Check every file of a folder against ffmpeg's reference and print a summary.
    Sweep(sweep::SweepArgs),
    /// Check one file for `sweep` (run in a child process).
    #[command(hide = true)]
    SweepOne(sweep::SweepOneArgs),
}

/// Exit status for usage errors and inputs that cannot be opened.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let is_usage = error.use_stderr();
            // clap prints help and version itself, and formats usage errors.
            let _ = error.print();
            return if is_usage {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let outcome = match cli.command {
        Command::Probe(args) => probe::run(&args),
        Command::Grab(args) => grab::run(&args),
        Command::Sheet(args) => sheet::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::SweepOne(args) => Ok(sweep::run_one(&args)),
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("stillframe: {}", one_line(&failure.to_string()));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Error messages go to stderr on a single line, whatever the source said.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
