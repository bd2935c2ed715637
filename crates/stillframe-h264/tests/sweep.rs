//! A developer sweep over H.264 streams outside the repository (ignored by default).
//!
//! Prepare a folder with ffmpeg, for each video file F (MP4, MOV, MKV or raw):
//! ```sh
//! ffmpeg -i F -map 0:v:0 -c copy -bsf:v h264_mp4toannexb -f tee "[f=h264]N.h264|[f=framemd5]N.packets"
//! ffmpeg -i N.h264 -fps_mode passthrough -f framemd5 N.framemd5
//! ffmpeg -i N.h264 -fps_mode passthrough -frames:v 40 -vf extractplanes=y -f rawvideo N.y   # optional
//! ```
//! then run
//! `STILLFRAME_H264_SWEEP=folder cargo test -p stillframe-h264 --test sweep -- --ignored --nocapture`.
//! Each stream is fed as Annex B samples behind an empty avcC; the output is
//! compared frame by frame with ffmpeg's (md5, and luma PSNR where `N.y` exists).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{frame_md5, luma_psnr, track};
use stillframe_core::{Frame, Limits, Packet, VideoDecoder};
use stillframe_h264::H264Decoder;

fn packets(folder: &Path, name: &str) -> Option<Vec<Packet>> {
    let stream = std::fs::read(folder.join(format!("{name}.h264"))).ok()?;
    let listing = std::fs::read_to_string(folder.join(format!("{name}.packets"))).ok()?;
    let mut packets = Vec::new();
    let mut offset = 0usize;
    for (index, line) in listing
        .lines()
        .filter(|line| !line.starts_with('#'))
        .enumerate()
    {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let size: usize = fields.get(4)?.parse().ok()?;
        let pts = fields[2].parse().unwrap_or(index as i64);
        let data = stream.get(offset..offset + size)?.to_vec();
        packets.push(Packet {
            data,
            sample: index as u32,
            pts,
            dts: index as i64,
            sync: false,
        });
        offset += size;
    }
    Some(packets)
}

fn decode(packets: &[Packet]) -> (Vec<Frame>, Vec<String>) {
    let mut decoder = match H264Decoder::new(&track(Vec::new(), 0, 0), &Limits::default()) {
        Ok(decoder) => decoder,
        Err(error) => return (Vec::new(), vec![error.to_string()]),
    };
    let mut frames = Vec::new();
    let mut errors = Vec::new();
    let mut started = false;
    for packet in packets {
        // Like the generator: start at an IDR, and reset after an error.
        if !started {
            if !decoder.is_random_access_point(packet) {
                continue;
            }
            started = true;
        }
        if let Err(error) = decoder.send_packet(packet) {
            errors.push(error.to_string());
            if matches!(error.kind(), stillframe_core::ErrorKind::Unsupported) {
                break;
            }
            decoder.reset().unwrap();
            started = false;
        }
        while let Some(frame) = decoder.receive_frame().unwrap() {
            frames.push(frame);
        }
    }
    if let Err(error) = decoder.finish() {
        errors.push(error.to_string());
    }
    while let Some(frame) = decoder.receive_frame().unwrap() {
        frames.push(frame);
    }
    (frames, errors)
}

#[test]
#[ignore = "needs STILLFRAME_H264_SWEEP, a folder prepared with ffmpeg"]
fn sweep() {
    let folder = std::env::var("STILLFRAME_H264_SWEEP").expect("STILLFRAME_H264_SWEEP");
    let folder = Path::new(&folder);
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".h264").map(str::to_owned)
        })
        .collect();
    names.sort();
    // STILLFRAME_H264_SWEEP_ONLY=name prints every frame of that stream.
    let only = std::env::var("STILLFRAME_H264_SWEEP_ONLY").ok();
    if let Some(only) = &only {
        names.retain(|name| name == only);
    }
    let (mut files, mut all_exact, mut total_frames, mut total_exact) = (0, 0, 0, 0);
    for name in names {
        let Some(packets) = packets(folder, &name) else {
            println!("{name:60} no packets");
            continue;
        };
        let reference: Vec<String> =
            std::fs::read_to_string(folder.join(format!("{name}.framemd5")))
                .unwrap_or_default()
                .lines()
                .filter(|line| !line.starts_with('#'))
                .map(|line| line.rsplit(',').next().unwrap().trim().to_owned())
                .collect();
        let luma = std::fs::read(folder.join(format!("{name}.y"))).unwrap_or_default();
        let started = std::time::Instant::now();
        let (frames, errors) = decode(&packets);
        let elapsed = started.elapsed().as_secs_f64();
        let exact = frames
            .iter()
            .zip(&reference)
            .filter(|(frame, md5)| frame_md5(frame) == **md5)
            .count();
        let ordered = frames.windows(2).all(|pair| pair[0].pts < pair[1].pts);
        let mut min_psnr = f64::INFINITY;
        if let Some(first) = frames.first() {
            let size = (first.width * first.height) as usize;
            for (index, frame) in frames.iter().enumerate().take(luma.len() / size.max(1)) {
                if (frame.width * frame.height) as usize == size {
                    min_psnr = min_psnr.min(luma_psnr(frame, &luma[index * size..][..size]));
                }
            }
        }
        if only.is_some() {
            let size = frames.first().map_or(0, |f| (f.width * f.height) as usize);
            for (index, frame) in frames.iter().enumerate() {
                let psnr = luma
                    .get(index * size..(index + 1) * size)
                    .map(|luma| luma_psnr(frame, luma));
                let same = reference
                    .get(index)
                    .is_some_and(|md5| *md5 == frame_md5(frame));
                println!(
                    "  #{index:4} pts {:8} {}x{} exact {same:5} luma PSNR {psnr:?}",
                    frame.pts, frame.width, frame.height
                );
            }
            for error in &errors {
                println!("  error: {error}");
            }
        }
        files += 1;
        total_frames += reference.len();
        total_exact += exact;
        all_exact += usize::from(exact == reference.len() && frames.len() == reference.len());
        println!(
            "{name:60} {exact:4}/{:4} exact, {:4} out, ordered {ordered:5}, min luma PSNR {min_psnr:6.1} dB, {elapsed:5.2}s, {} errors{}",
            reference.len(),
            frames.len(),
            errors.len(),
            errors.first().map(|error| format!(": {error}")).unwrap_or_default()
        );
    }
    println!(
        "{files} files, {all_exact} all frames exact; {total_exact}/{total_frames} frames exact"
    );
}
