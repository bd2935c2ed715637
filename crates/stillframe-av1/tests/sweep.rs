//! A developer sweep over the AV1 files of the shared corpus (ignored by default).
//!
//! `STILLFRAME_AV1_SWEEP=../shared/corpus cargo test -p stillframe-av1 --release --test sweep -- --ignored --nocapture`
//!
//! Every AV1 file of `MANIFEST.tsv` is read by container (MP4 through
//! stillframe-mp4; Matroska/WebM, IVF, low-overhead OBU and Annex B streams with the
//! small readers of `tests/common`) and decoded packet by packet from the first
//! random access point, resetting after an error; the frames are compared in
//! order with `reference/<file>.json` (ffmpeg's md5 of every frame).
//!
//! Where a stream changes size, the corpus reference hashes ffmpeg's frames scaled
//! back to the first size (ffmpeg's automatic scaling); compare those files with
//! `ffmpeg -i F -autoscale 0 -f framemd5 -` and `STILLFRAME_AV1_SWEEP_ONLY=F`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{frame_md5, open};
use stillframe_av1::{Av1Decoder, Av1Inspector};
use stillframe_core::{ErrorKind, Frame, Limits, Packet, PacketInspector, VideoDecoder};

fn decode(
    decoder: &mut Av1Decoder,
    inspector: &Av1Inspector,
    packets: &[Packet],
) -> (Vec<Frame>, Vec<String>) {
    let (mut frames, mut errors, mut started) = (Vec::new(), Vec::new(), false);
    for packet in packets {
        if !started {
            if !inspector.inspect(packet).random_access {
                continue;
            }
            started = true;
        }
        if let Err(error) = decoder.send_packet(packet) {
            errors.push(format!("{}: {error}", error.kind().name()));
            decoder.reset().unwrap();
            started = false;
        }
        while let Some(frame) = decoder.receive_frame().unwrap() {
            frames.push(frame);
        }
    }
    if let Err(error) = decoder.finish() {
        errors.push(format!("{}: {error}", error.kind().name()));
    }
    while let Some(frame) = decoder.receive_frame().unwrap() {
        frames.push(frame);
    }
    (frames, errors)
}

#[test]
#[ignore = "needs STILLFRAME_AV1_SWEEP, the shared corpus folder"]
fn sweep() {
    let folder = std::env::var("STILLFRAME_AV1_SWEEP").expect("STILLFRAME_AV1_SWEEP");
    let folder = Path::new(&folder);
    let manifest = std::fs::read_to_string(folder.join("MANIFEST.tsv")).unwrap();
    // STILLFRAME_AV1_SWEEP_ONLY=name sweeps that file and prints each frame's md5.
    let only = std::env::var("STILLFRAME_AV1_SWEEP_ONLY").ok();
    let names: Vec<&str> = manifest
        .lines()
        .skip(1)
        .filter(|line| {
            line.split('\t')
                .nth(5)
                .is_some_and(|c| c.starts_with("av1"))
        })
        .filter_map(|line| line.split('\t').next())
        .filter(|name| only.as_deref().is_none_or(|only| only == *name))
        .collect();
    let (mut files, mut exact_files, mut frames_total, mut frames_exact) = (0, 0, 0, 0);
    for name in names {
        let path = folder.join(name);
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(folder.join(format!("reference/{name}.json"))).unwrap(),
        )
        .unwrap();
        let reference: Vec<String> = json["frames"]
            .as_array()
            .map(|frames| {
                frames
                    .iter()
                    .map(|f| f["md5"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        files += 1;
        frames_total += reference.len();
        let started = std::time::Instant::now();
        let read = std::panic::catch_unwind(|| open(&path));
        let Ok((track, packets)) = read else {
            println!("{name:48} not read by the test's container readers");
            continue;
        };
        let mut decoder = match Av1Decoder::new(&track, &Limits::default()) {
            Ok(decoder) => decoder,
            Err(error) => {
                println!(
                    "{name:48} {}/{}: {}: {error}",
                    0,
                    reference.len(),
                    error.kind().name()
                );
                continue;
            }
        };
        let Ok(inspector) = Av1Inspector::new(&track) else {
            println!("{name:48} av1C unreadable");
            continue;
        };
        let (frames, errors) = decode(&mut decoder, &inspector, &packets);
        let exact = frames
            .iter()
            .zip(&reference)
            .filter(|(frame, md5)| frame_md5(frame) == **md5)
            .count();
        frames_exact += exact;
        if only.is_some() {
            for (index, frame) in frames.iter().enumerate() {
                let (width, height) = (frame.width, frame.height);
                println!("  #{index:4} {width}x{height} {}", frame_md5(frame));
            }
        }
        let all = exact == reference.len() && frames.len() == reference.len();
        exact_files += usize::from(all);
        let unsupported = errors
            .iter()
            .any(|e| e.starts_with(ErrorKind::Unsupported.name()));
        println!(
            "{name:48} {exact:4}/{:4} exact, {:4} out, {:5.2}s{}{}",
            reference.len(),
            frames.len(),
            started.elapsed().as_secs_f64(),
            if unsupported { " [unsupported]" } else { "" },
            errors
                .first()
                .map(|e| format!(", {} errors: {e}", errors.len()))
                .unwrap_or_default()
        );
    }
    println!(
        "{files} AV1 files, {exact_files} with every frame exact; {frames_exact}/{frames_total} frames exact"
    );
}
