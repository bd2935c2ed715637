//! Writes seed inputs for every fuzz target from media files.
//!
//! `seed OUT DIR...` walks each DIR (recursively) and writes into `OUT/<target>/`:
//! - `mp4_demux`, `mkv_demux`, `raw_demux`: the MP4/MOV, Matroska/WebM and raw
//!   elementary stream (`.264`, `.265`, `.ivf`, `.obu`) files themselves (up to 1 MiB
//!   each);
//! - `grab_any`: the same files behind a few sets of generator settings;
//! - `h264_packets`, `hevc_packets`, `vp9_packets`, `av1_packets`: the first packets
//!   of each file's video track, in the packet-stream layout with the file's
//!   `avcC`/`hvcC`/`vpcC`/`av1C` (and raw `.h264` Annex B and `.ivf` AV1/VP9 streams,
//!   configuration in-band);
//! - `planner`: each video track's sample table with requests around it;
//! - `time_parse`: the documented time forms and a few edge cases.
//!
//! Files that fail to open are still copied for the container targets (broken input
//! is what fuzzing wants) and skipped for the others.

use std::ffi::OsStr;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use stillframe_core::{Codec, Demuxer, Limits, TrackKind};
use stillframe_fuzz_input::{
    write_grab, write_packets, write_planner, write_time, Config, GrabParameters, PlannerInput,
    RawPacket, RawPosition, RawRequest, RawSample, RawTime, TimeInput, FINISH_AFTER, RESET_BEFORE,
    SYNC,
};

/// Container files larger than this are not copied whole.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Packets taken from one file.
const MAX_SEED_PACKETS: usize = 24;
/// Packet bytes taken from one file.
const MAX_SEED_PACKET_BYTES: usize = 256 << 10;

const TARGETS: [&str; 10] = [
    "mp4_demux",
    "mkv_demux",
    "raw_demux",
    "h264_packets",
    "hevc_packets",
    "vp9_packets",
    "av1_packets",
    "planner",
    "time_parse",
    "grab_any",
];

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: seed OUT_DIR INPUT_DIR...");
        return ExitCode::from(2);
    };
    let mut seeds = Seeds { out, written: 0 };
    for target in TARGETS {
        if let Err(error) = std::fs::create_dir_all(seeds.out.join(target)) {
            eprintln!("{}: {error}", seeds.out.join(target).display());
            return ExitCode::FAILURE;
        }
    }
    let mut files = Vec::new();
    for dir in args {
        collect(Path::new(&dir), &mut files);
    }
    files.sort();
    for file in &files {
        seeds.file(file);
    }
    seeds.times();
    println!(
        "{} seed inputs from {} files in {}",
        seeds.written,
        files.len(),
        seeds.out.display()
    );
    ExitCode::SUCCESS
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("{}: not a readable folder; skipped", dir.display());
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect(&path, files),
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
}

struct Seeds {
    out: PathBuf,
    written: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mp4,
    Mkv,
    AnnexB,
    Ivf,
    /// Raw streams only the raw demuxer and the pipeline take whole (HEVC, AV1 OBU).
    Raw,
}

impl Seeds {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let path = self.out.join(target).join(name);
        match std::fs::write(&path, bytes) {
            Ok(()) => self.written += 1,
            Err(error) => eprintln!("{}: {error}", path.display()),
        }
    }

    fn file(&mut self, path: &Path) {
        let extension = path
            .extension()
            .and_then(OsStr::to_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let kind = match extension.as_str() {
            "mp4" | "mov" | "m4v" | "m4s" | "m4a" | "3gp" => Kind::Mp4,
            "mkv" | "webm" | "mka" => Kind::Mkv,
            "h264" | "264" | "jsv" => Kind::AnnexB,
            "ivf" => Kind::Ivf,
            "h265" | "265" | "hevc" | "obu" => Kind::Raw,
            _ => return,
        };
        let Ok(metadata) = std::fs::metadata(path) else {
            return;
        };
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("{}: unreadable; skipped", path.display());
            return;
        };
        let stem = path
            .file_name()
            .and_then(OsStr::to_str)
            .unwrap_or("file")
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "_");
        if matches!(kind, Kind::AnnexB | Kind::Ivf | Kind::Raw) && metadata.len() <= MAX_FILE_BYTES {
            self.write("raw_demux", &stem, &bytes);
            for (variant, parameters) in grab_variants().iter().enumerate() {
                self.write(
                    "grab_any",
                    &format!("{stem}.{variant}"),
                    &write_grab(parameters, &bytes),
                );
            }
        }
        match kind {
            Kind::Raw => return,
            Kind::AnnexB => {
                let packets = annex_b_packets(&bytes);
                self.write(
                    "h264_packets",
                    &format!("{stem}.inband"),
                    &write_packets(Config::Custom(&[]), &packets),
                );
                return;
            }
            Kind::Ivf => {
                let packets = ivf_packets(&bytes);
                // The IVF header's fourcc (bytes 8..12) names the codec.
                let target = match bytes.get(8..12) {
                    Some(b"VP90") => "vp9_packets",
                    _ => "av1_packets",
                };
                if !packets.is_empty() {
                    self.write(
                        target,
                        &format!("{stem}.inband"),
                        &write_packets(Config::Custom(&[]), &packets),
                    );
                }
                return;
            }
            Kind::Mp4 | Kind::Mkv => {}
        }
        if metadata.len() <= MAX_FILE_BYTES {
            let target = if kind == Kind::Mp4 {
                "mp4_demux"
            } else {
                "mkv_demux"
            };
            self.write(target, &stem, &bytes);
            for (variant, parameters) in grab_variants().iter().enumerate() {
                self.write(
                    "grab_any",
                    &format!("{stem}.{variant}"),
                    &write_grab(parameters, &bytes),
                );
            }
        }
        let demuxer: Box<dyn Demuxer> = match kind {
            Kind::Mp4 => {
                match stillframe_mp4::Mp4Demuxer::open(Cursor::new(bytes), Limits::default()) {
                    Ok(demuxer) => Box::new(demuxer),
                    Err(_) => return,
                }
            }
            _ => match stillframe_mkv::MkvDemuxer::open(Cursor::new(bytes), Limits::default()) {
                Ok(demuxer) => Box::new(demuxer),
                Err(_) => return,
            },
        };
        self.track_seeds(demuxer, &stem);
    }

    /// Packet and planner seeds from the first video track.
    fn track_seeds(&mut self, mut demuxer: Box<dyn Demuxer>, stem: &str) {
        let Some(track) = demuxer
            .tracks()
            .iter()
            .find(|t| t.kind == TrackKind::Video)
            .cloned()
        else {
            return;
        };
        if demuxer
            .index_until(track.index, stillframe_core::Time::POSITIVE_INFINITY)
            .is_err()
        {
            return;
        }
        let samples = match demuxer.samples(track.index) {
            Ok(samples) => samples.to_vec(),
            Err(_) => return,
        };
        self.planner_seed(&samples, track.timescale.get(), stem);

        let target = match track.codec {
            Codec::H264 => "h264_packets",
            Codec::Hevc => "hevc_packets",
            Codec::Vp9 => "vp9_packets",
            Codec::Av1 => "av1_packets",
            Codec::Other(_) => return,
        };
        let mut data = Vec::new();
        let mut bytes = 0usize;
        for sample in 0..samples.len().min(MAX_SEED_PACKETS) {
            let Ok(packet) = demuxer.read_sample(track.index, sample as u32) else {
                break;
            };
            bytes += packet.data.len();
            if bytes > MAX_SEED_PACKET_BYTES {
                break;
            }
            data.push(packet);
        }
        if data.is_empty() {
            return;
        }
        let plain: Vec<RawPacket<'_>> = data
            .iter()
            .map(|p| RawPacket {
                flags: if p.sync { SYNC } else { 0 },
                pts: p.pts,
                data: &p.data,
            })
            .collect();
        let config = Config::Custom(&track.codec_config);
        self.write(target, stem, &write_packets(config, &plain));
        // The same packets with a reset half-way and a flush at the end of each half.
        let mut restarted = plain.clone();
        let half = restarted.len() / 2;
        if let Some(last) = restarted.get_mut(half.saturating_sub(1)) {
            last.flags |= FINISH_AFTER;
        }
        if let Some(middle) = restarted.get_mut(half) {
            middle.flags |= RESET_BEFORE;
        }
        self.write(
            target,
            &format!("{stem}.reset"),
            &write_packets(config, &restarted),
        );
    }

    fn planner_seed(
        &mut self,
        samples: &[stillframe_core::SampleInfo],
        timescale: u32,
        stem: &str,
    ) {
        let samples: Vec<RawSample> = samples
            .iter()
            .take(stillframe_fuzz_input::MAX_SAMPLES)
            .map(RawSample::from_sample_info)
            .collect();
        let first = samples.iter().map(|s| s.pts).min().unwrap_or(0);
        let last = samples.iter().map(|s| s.pts).max().unwrap_or(0);
        let frame = samples.first().map_or(1, |s| i64::from(s.duration.max(1)));
        let exact = RawTime::finite(0, 1);
        let one_frame = RawTime::finite(frame, timescale);
        let mut requests = Vec::new();
        for ticks in [
            first,
            (first + last) / 2,
            last,
            last + frame,
            last + 10 * frame,
            -frame,
        ] {
            for (before, after) in [
                (exact, exact),
                (RawTime::INFINITE, RawTime::INFINITE),
                (one_frame, one_frame),
                (exact, one_frame),
            ] {
                requests.push(RawRequest {
                    time: RawTime::finite(ticks, timescale),
                    before,
                    after,
                });
            }
        }
        requests.truncate(stillframe_fuzz_input::MAX_REQUESTS);
        let input = PlannerInput {
            timescale,
            demote: Vec::new(),
            position: None,
            requests,
            samples,
        };
        self.write("planner", stem, &write_planner(&input));
        let mid = u32::try_from(input.samples.len() / 2).unwrap_or(0);
        let running = PlannerInput {
            demote: vec![0],
            position: Some(RawPosition {
                started_at: 0,
                next_sample: mid,
                last_output_pts: Some((first + last) / 3),
            }),
            ..input
        };
        self.write(
            "planner",
            &format!("{stem}.running"),
            &write_planner(&running),
        );
    }

    fn times(&mut self) {
        let texts: [&[u8]; 14] = [
            b"12.5",
            b"0.1",
            b".5",
            b"01:02.250",
            b"1:00:00.5",
            b"1001/30000",
            b"-0.5",
            b"+inf",
            b"-infinity",
            b"99999999999999999999",
            b"9223372036854775807/1",
            b"-9223372036854775808/4294967295",
            b"59:59.999999999",
            b"0.123456789",
        ];
        let numbers = [
            (1001, 30000, 1, 25, 90_000),
            (i64::MAX, 1, 1, 1, 1000),
            (i64::MIN, 3, -1, u32::MAX, 7),
            (-5, 2, 5, 2, 0),
        ];
        for (i, text) in texts.iter().enumerate() {
            let (a_value, a_timescale, b_value, b_timescale, scale) = numbers[i % numbers.len()];
            let input = TimeInput {
                a_value,
                a_timescale,
                b_value,
                b_timescale,
                scale,
                text,
            };
            self.write("time_parse", &format!("time{i}"), &write_time(&input));
        }
    }
}

/// Generator settings each container file is seeded with: exact requests at a few
/// times; default (infinite) tolerance with a small maximum size and a batch; a
/// window with the transform applied and the production aperture.
fn grab_variants() -> [GrabParameters; 3] {
    [
        GrabParameters {
            tolerance: 0,
            times_ms: [0, 500, 1500],
            ..GrabParameters::default()
        },
        GrabParameters {
            options: 0x80,
            tolerance: 1,
            max_width: 64,
            times_ms: [2500, 0, 100_000],
            ..GrabParameters::default()
        },
        GrabParameters {
            options: 0x01 | 0x02,
            tolerance: 2,
            before_ms: 100,
            after_ms: 40,
            max_width: 32,
            max_height: 32,
            times_ms: [1000, 1000, -40],
        },
    ]
}

/// An Annex B stream cut into packets: each VCL NAL unit with the units before it.
fn annex_b_packets(stream: &[u8]) -> Vec<RawPacket<'_>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream.get(i..i + 3) == Some(&[0, 0, 1]) {
            starts.push(i);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut packets = Vec::new();
    let mut packet_start = 0;
    for (n, &start) in starts.iter().enumerate() {
        let nal_type = stream.get(start + 3).map_or(0, |b| b & 0x1F);
        if !(1..=5).contains(&nal_type) {
            continue;
        }
        let end = starts.get(n + 1).copied().unwrap_or(stream.len());
        if let Some(data) = stream.get(packet_start..end) {
            packets.push(RawPacket {
                flags: if nal_type == 5 { SYNC } else { 0 },
                pts: packets.len() as i64,
                data,
            });
        }
        packet_start = end;
        if packets.len() >= MAX_SEED_PACKETS {
            break;
        }
    }
    packets
}

/// The frames of an IVF file (32-byte header, then size `u32`, pts `u64`, data).
fn ivf_packets(file: &[u8]) -> Vec<RawPacket<'_>> {
    let mut packets = Vec::new();
    let mut at = 32usize;
    let mut total = 0usize;
    while let Some(header) = file.get(at..at + 12) {
        let size = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let mut pts = [0u8; 8];
        pts.copy_from_slice(&header[4..12]);
        let Some(data) = file.get(at + 12..at + 12 + size) else {
            break;
        };
        total += size;
        if total > MAX_SEED_PACKET_BYTES || packets.len() >= MAX_SEED_PACKETS {
            break;
        }
        packets.push(RawPacket {
            flags: 0,
            pts: i64::from_le_bytes(pts),
            data,
        });
        at += 12 + size;
    }
    packets
}
