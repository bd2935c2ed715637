//! `stillframe probe`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use stillframe::{Asset, AssetInfo, TrackKind, TrackSummary};

/// Arguments of `stillframe probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The video file to describe.
    input: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ProbeJson {
    container: &'static str,
    duration: Option<f64>,
    tracks: Vec<TrackJson>,
}

#[derive(Serialize)]
struct TrackJson {
    index: usize,
    kind: &'static str,
    codec: String,
    width: Option<u32>,
    height: Option<u32>,
    frames: usize,
    keyframes: usize,
    rotation: Option<u16>,
    pixel_aspect: Option<[u32; 2]>,
    bit_depth: Option<u8>,
}

impl From<&TrackSummary> for TrackJson {
    fn from(track: &TrackSummary) -> Self {
        let video = track.kind == TrackKind::Video;
        TrackJson {
            index: track.index,
            kind: track.kind.name(),
            codec: track.codec.name().to_owned(),
            width: track.size.map(|s| s.0),
            height: track.size.map(|s| s.1),
            frames: track.frames,
            keyframes: track.keyframes,
            rotation: video.then_some(track.orientation.rotation),
            pixel_aspect: video
                .then_some([track.pixel_aspect.horizontal, track.pixel_aspect.vertical]),
            bit_depth: track.format.as_ref().map(|f| f.bit_depth),
        }
    }
}

fn to_json(info: &AssetInfo) -> ProbeJson {
    ProbeJson {
        container: info.container.name(),
        duration: info.duration.map(|d| d.as_secs_f64()),
        tracks: info.tracks.iter().map(TrackJson::from).collect(),
    }
}

/// Prints what the file holds.
pub fn run(args: &ProbeArgs) -> Result<ExitCode, stillframe::Error> {
    let mut asset = Asset::open(&args.input)?;
    asset.index_fully()?;
    let info = asset.info();
    if args.json {
        let text = serde_json::to_string(&to_json(info))
            .map_err(|e| stillframe::Error::codec(format!("JSON output failed: {e}")))?;
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let duration = info.duration.map_or_else(
        || "unknown".to_owned(),
        |d| format!("{:.3} s", d.as_secs_f64()),
    );
    println!(
        "{}: {} container, duration {duration}",
        args.input.display(),
        info.container.name()
    );
    for track in &info.tracks {
        let json = TrackJson::from(track);
        let mut line = format!("  track {}: {} {}", json.index, json.kind, json.codec);
        if let (Some(w), Some(h)) = (json.width, json.height) {
            line += &format!(", {w}x{h}");
        }
        if let Some(format) = &track.format {
            line += &format!(", {} {}-bit", format.profile, format.bit_depth);
        }
        line += &format!(", {} frames ({} keyframes)", json.frames, json.keyframes);
        if track.kind == TrackKind::Video {
            if track.orientation.rotation != 0 || track.orientation.mirrored {
                line += &format!(
                    ", rotate {}°{}",
                    track.orientation.rotation,
                    if track.orientation.mirrored {
                        " mirrored"
                    } else {
                        ""
                    }
                );
            }
            if !track.pixel_aspect.is_square() {
                line += &format!(
                    ", pixel aspect {}:{}",
                    track.pixel_aspect.horizontal, track.pixel_aspect.vertical
                );
            }
        }
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
