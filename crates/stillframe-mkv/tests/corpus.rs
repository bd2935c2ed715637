//! The ffmpeg oracle: opens every Matroska/WebM file of the shared corpus, indexes it
//! completely, and compares the presented frames of the first video track with
//! ffmpeg 5.1's decoded frames, and rotation and pixel aspect with ffprobe's
//! (`tests/support/demuxer_oracle.rs` at the repository root does the comparing).
//!
//! Ignored by default (the corpus is not part of the repository). Run with
//!
//! ```text
//! CARGO_TARGET_DIR=target-mkv cargo test --release -p stillframe-mkv --test corpus -- --ignored --nocapture
//! ```

use std::fs::File;
use std::io::BufReader;

use stillframe_core::{Demuxer, Limits, Time};
use stillframe_mkv::MkvDemuxer;

#[path = "../../../tests/support/demuxer_oracle.rs"]
mod demuxer_oracle;

fn open(file: File) -> stillframe_core::Result<Box<dyn Demuxer>> {
    let mut demuxer = MkvDemuxer::open(BufReader::new(file), Limits::default())?;
    // Index everything: cut-off files keep what survived, damaged ones fail here.
    for track in 0..demuxer.tracks().len() {
        demuxer.index_until(track, Time::POSITIVE_INFINITY)?;
    }
    Ok(Box::new(demuxer))
}

#[test]
#[ignore = "needs the shared corpus; run with --ignored"]
fn corpus_matches_ffmpeg() {
    demuxer_oracle::compare_with_ffmpeg(&demuxer_oracle::Container {
        extensions: &[".mkv", ".mka", ".webm", ".mk3d"],
        manifest_names: &["Matroska", "WebM"],
        open,
    });
}
