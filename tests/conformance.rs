//! The ITU-T H.264 conformance bitstreams (`../shared/conformance/h264`) through the
//! product, as a user would run them: each raw Annex B stream opened by content,
//! every frame asked for by number in presentation order, and the md5 of the whole
//! output (frames packed Y, U, V, cropped, 16-bit little-endian above 8 bits)
//! compared with the manifest's. A stream the decoder cannot decode must say so
//! with a typed `Unsupported` error, and is counted apart.
//!
//! The folder sits beside the repository, not in it: without it the test says it
//! was skipped (`STILLFRAME_CONFORMANCE` names another folder).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use stillframe::{ErrorKind, GeneratorOptions, ImageGenerator, Tolerance};

/// Frames asked for in one batch: one decode pass, bounded memory.
const BATCH: u64 = 16;

fn conformance_dir() -> PathBuf {
    std::env::var_os("STILLFRAME_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"))
        .join("h264")
}

/// (vector name, file, expected md5) from the manifest.
fn manifest(dir: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            Some((
                (*fields.get(1)?).to_owned(),
                (*fields.get(2)?).to_owned(),
                (*fields.get(5)?).to_owned(),
            ))
        })
        .collect()
}

enum Outcome {
    Md5(String, usize),
    Unsupported(String),
    Failed(String),
}

/// Decodes every frame of `file` through the generator; the md5 of all of them.
fn decode_whole(file: &Path) -> Outcome {
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    let generator = match ImageGenerator::open(file, options) {
        Ok(generator) => generator,
        Err(error) if error.kind() == ErrorKind::Unsupported => {
            return Outcome::Unsupported(error.to_string())
        }
        Err(error) => return Outcome::Failed(format!("open: {error}")),
    };
    let count = match generator.frame_count() {
        Ok(count) => count as u64,
        Err(error) => return Outcome::Failed(format!("indexing: {error}")),
    };
    let mut hasher = Md5::new();
    let mut start = 0;
    while start < count {
        let numbers: Vec<u64> = (start..count.min(start + BATCH)).collect();
        for (number, result) in numbers.iter().zip(generator.frames_at_frames(&numbers)) {
            match result {
                Ok(made) => made.frame.packed_rows().for_each(|row| hasher.update(row)),
                Err(error) if error.kind() == ErrorKind::Unsupported => {
                    return Outcome::Unsupported(error.to_string())
                }
                Err(error) => return Outcome::Failed(format!("frame {number}: {error}")),
            }
        }
        start += BATCH;
    }
    Outcome::Md5(format!("{:x}", hasher.finalize()), count as usize)
}

#[test]
fn every_conformance_stream_decodes_to_the_manifest_md5() {
    let dir = conformance_dir();
    if !dir.join("MANIFEST.tsv").is_file() {
        println!(
            "SKIPPED: no conformance streams at {} (they sit beside the repository, in ../shared)",
            dir.display()
        );
        return;
    }
    let vectors = manifest(&dir);
    assert!(vectors.len() >= 75, "the manifest lists {}", vectors.len());
    let (mut exact, mut refused) = (0, Vec::new());
    let mut wrong = Vec::new();
    for (name, file, expected) in &vectors {
        match decode_whole(&dir.join(file)) {
            Outcome::Md5(md5, frames) if &md5 == expected => {
                println!("{name}: {frames} frames, md5 matches");
                exact += 1;
            }
            Outcome::Md5(md5, frames) => wrong.push(format!(
                "{name}: {frames} frames, md5 {md5}, expected {expected}"
            )),
            Outcome::Unsupported(why) => refused.push(format!("{name}: {why}")),
            Outcome::Failed(why) => wrong.push(format!("{name}: {why}")),
        }
    }
    println!(
        "conformance: {exact} of {} streams bit-exact, {} refused as unsupported, {} wrong",
        vectors.len(),
        refused.len(),
        wrong.len()
    );
    for line in &refused {
        println!("  refused: {line}");
    }
    // Every vector here is one rust_h264 decodes (4:4:4 and lossless are not among them).
    assert!(
        wrong.is_empty() && refused.is_empty(),
        "streams that did not decode to the manifest's md5:\n{}\nrefused:\n{}",
        wrong.join("\n"),
        refused.join("\n")
    );
}
