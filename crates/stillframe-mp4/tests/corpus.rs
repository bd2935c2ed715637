//! The ffmpeg oracle: opens every MP4/MOV file of the shared corpus and compares the
//! presented frames of the first video track with ffmpeg 5.1's decoded frames
//! (`tests/support/demuxer_oracle.rs` at the repository root does the comparing).
//!
//! Ignored by default (the corpus is not part of the repository). Run with
//!
//! ```text
//! CARGO_TARGET_DIR=target-mp4 cargo test --release -p stillframe-mp4 --test corpus -- --ignored --nocapture
//! ```

use std::fs::File;
use std::io::BufReader;

use stillframe_core::{Demuxer, Limits};
use stillframe_mp4::Mp4Demuxer;

#[path = "../../../tests/support/demuxer_oracle.rs"]
mod demuxer_oracle;

fn open(file: File) -> stillframe_core::Result<Box<dyn Demuxer>> {
    let demuxer = Mp4Demuxer::open(BufReader::new(file), Limits::default())?;
    Ok(Box::new(demuxer))
}

#[test]
#[ignore = "needs the shared corpus; run with --ignored"]
fn corpus_matches_ffmpeg() {
    demuxer_oracle::compare_with_ffmpeg(&demuxer_oracle::Container {
        extensions: &[".mp4", ".mov", ".m4v", ".3gp", ".m4s"],
        manifest_names: &["MP4", "MOV"],
        open,
    });
}
