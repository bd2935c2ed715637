//! Results on standard output. A reader that goes away (`| head -1`) ends the
//! process quietly, as coreutils do, instead of a panic in `println!`.

use std::io::{ErrorKind, Write};

/// Exit status after the reader of standard output went away: 128 + SIGPIPE, what a
/// shell reports for coreutils killed by the signal.
pub const EXIT_BROKEN_PIPE: i32 = 141;

/// Writes `text` and a newline to standard output.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "{text}").and_then(|()| out.flush());
    if let Err(error) = written {
        stop(&error);
    }
}

/// Writes raw bytes (an image, a y4m stream) to standard output.
pub fn bytes(data: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(data).and_then(|()| out.flush())
}

/// Ends the process after standard output failed: quietly with
/// [`EXIT_BROKEN_PIPE`] when its reader is gone, else with the reason and status 1.
pub fn stop(error: &std::io::Error) -> ! {
    if error.kind() == ErrorKind::BrokenPipe {
        std::process::exit(EXIT_BROKEN_PIPE);
    }
    eprintln!("stillframe: writing to standard output: {error}");
    std::process::exit(1);
}
