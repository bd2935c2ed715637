//! `stillframe probe`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use stillframe::{
    ApertureMode, Asset, AssetInfo, ChromaFormat, ColourDescription, GeneratorOptions,
    RenderSettings, TrackInfo, TrackKind, TrackSummary,
};

/// Arguments of `stillframe probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The video file to describe.
    input: PathBuf,
    /// Print one JSON object instead of text: container, duration and per track
    /// index, kind, codec, width/height (decoded, before rotation and pixel aspect),
    /// frames, keyframes, rotation, pixel_aspect, bit_depth, mirrored, chroma_format,
    /// colour (H.273 primaries/transfer/matrix codes and range), dynamic_range
    /// (sdr/pq/hlg) and display_size (the upright image size in each aperture mode:
    /// clean, production, encoded).
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ProbeJson {
    container: &'static str,
    duration: Option<f64>,
    tracks: Vec<TrackJson>,
}

/// One track. The keys up to `bit_depth` are the contract of issue 2; the rest were
/// added after it and are `null` (or absent from text output) for non-video tracks.
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
    /// Whether the picture is mirrored (left-right, before `rotation`).
    mirrored: Option<bool>,
    /// `4:2:0`, `4:2:2`, `4:4:4` or `4:0:0` (monochrome), from the codec configuration.
    chroma_format: Option<&'static str>,
    /// H.273 code points, the bitstream's over the container's.
    colour: Option<ColourJson>,
    /// `sdr`, `pq` or `hlg`, from the transfer.
    dynamic_range: Option<&'static str>,
    /// The size `grab` makes in each aperture mode, upright (rotation applied).
    display_size: Option<DisplaySizes>,
    /// The nominal frame rate `[numerator, denominator]` where the file states one its
    /// timestamps were made by (raw streams).
    frame_rate: Option<[u32; 2]>,
    /// Where `frame_rate` came from: `bitstream`, `container` or `default` (25 fps).
    frame_rate_source: Option<&'static str>,
    /// Why this track cannot be decoded here, when it cannot.
    unsupported: Option<String>,
}

/// A colour description (ITU-T H.273 code points; 2 = unspecified).
#[derive(Serialize)]
struct ColourJson {
    primaries: u8,
    transfer: u8,
    matrix: u8,
    /// `limited`, `full`, or `null` when unstated (then treated as limited).
    range: Option<&'static str>,
}

#[derive(Serialize)]
struct DisplaySizes {
    clean: [u32; 2],
    production: [u32; 2],
    encoded: [u32; 2],
}

fn chroma_name(chroma: ChromaFormat) -> &'static str {
    match chroma {
        ChromaFormat::Yuv420 => "4:2:0",
        ChromaFormat::Yuv422 => "4:2:2",
        ChromaFormat::Yuv444 => "4:4:4",
        ChromaFormat::Monochrome => "4:0:0",
    }
}

fn colour_json(colour: &ColourDescription) -> ColourJson {
    ColourJson {
        primaries: colour.primaries,
        transfer: colour.transfer,
        matrix: colour.matrix,
        range: colour
            .full_range
            .map(|full| if full { "full" } else { "limited" }),
    }
}

impl TrackJson {
    fn new(track: &TrackSummary, info: Option<&TrackInfo>) -> Self {
        let mut json = TrackJson::from(track);
        if track.kind != TrackKind::Video {
            return json;
        }
        let video = info.and_then(|t| t.video.as_ref());
        let format = track.format.as_ref();
        let settings = |aperture_mode| {
            let options = GeneratorOptions {
                aperture_mode,
                applies_preferred_track_transform: true,
                ..GeneratorOptions::default()
            };
            RenderSettings::for_track(video, format, &options)
        };
        let colour = settings(ApertureMode::Clean).colour;
        json.mirrored = Some(track.orientation.mirrored);
        json.chroma_format = format.map(|f| chroma_name(f.chroma));
        json.colour = Some(colour_json(&colour));
        json.dynamic_range = Some(match colour.transfer {
            16 => "pq",
            18 => "hlg",
            _ => "sdr",
        });
        json.display_size = track.size.map(|(width, height)| {
            let size = |mode| {
                let (w, h) = settings(mode).output_size(width, height);
                [w, h]
            };
            DisplaySizes {
                clean: size(ApertureMode::Clean),
                production: size(ApertureMode::Production),
                encoded: size(ApertureMode::Encoded),
            }
        });
        json
    }
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
            mirrored: None,
            chroma_format: None,
            colour: None,
            dynamic_range: None,
            display_size: None,
            frame_rate: track
                .frame_rate
                .map(|rate| [rate.numerator, rate.denominator]),
            frame_rate_source: track.frame_rate.map(|rate| rate.source.name()),
            unsupported: track.unsupported.clone(),
        }
    }
}

fn to_json(info: &AssetInfo, tracks: &[TrackInfo]) -> ProbeJson {
    ProbeJson {
        container: info.container.name(),
        duration: info.duration.map(|d| d.as_secs_f64()),
        tracks: info
            .tracks
            .iter()
            .map(|t| TrackJson::new(t, tracks.iter().find(|i| i.index == t.index)))
            .collect(),
    }
}

/// Prints what the file holds.
pub fn run(args: &ProbeArgs) -> Result<ExitCode, stillframe::Error> {
    let mut asset = Asset::open(&args.input)?;
    asset.index_fully()?;
    let info = asset.info();
    if args.json {
        let text = serde_json::to_string(&to_json(info, asset.tracks()))
            .map_err(|e| stillframe::Error::codec(format!("JSON output failed: {e}")))?;
        crate::output::line(&text);
        return Ok(ExitCode::SUCCESS);
    }
    let duration = info.duration.map_or_else(
        || "unknown".to_owned(),
        |d| format!("{:.3} s", d.as_secs_f64()),
    );
    crate::output::line(&format!(
        "{}: {} container, duration {duration}",
        args.input.display(),
        info.container.name()
    ));
    for track in &info.tracks {
        let json = TrackJson::new(
            track,
            asset.tracks().iter().find(|i| i.index == track.index),
        );
        let mut line = format!("  track {}: {} {}", json.index, json.kind, json.codec);
        if let (Some(w), Some(h)) = (json.width, json.height) {
            line += &format!(", {w}x{h}");
        }
        if let Some(format) = &track.format {
            line += &format!(", {} {}-bit", format.profile, format.bit_depth);
        }
        line += &format!(", {} frames ({} keyframes)", json.frames, json.keyframes);
        if let Some(rate) = track.frame_rate {
            line += &format!(
                ", {}/{} fps ({})",
                rate.numerator,
                rate.denominator,
                rate.source.name()
            );
        }
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
            if let Some(chroma) = json.chroma_format {
                line += &format!(", {chroma}");
            }
            if let Some(colour) = &json.colour {
                line += &format!(
                    ", colour {}/{}/{} {}",
                    colour.primaries,
                    colour.transfer,
                    colour.matrix,
                    colour.range.unwrap_or("range unstated")
                );
            }
            if let Some(range @ ("pq" | "hlg")) = json.dynamic_range {
                line += &format!(" ({})", range.to_uppercase());
            }
            if let Some(sizes) = &json.display_size {
                line += &format!(", shown {}x{}", sizes.clean[0], sizes.clean[1]);
            }
        }
        if let Some(reason) = &track.unsupported {
            line += &format!(" — cannot be decoded here: {reason}");
        }
        crate::output::line(&line);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn probe(name: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/render")
            .join(name);
        let mut asset = Asset::open(path).unwrap();
        asset.index_fully().unwrap();
        serde_json::to_value(to_json(asset.info(), asset.tracks())).unwrap()
    }

    #[test]
    fn display_sizes_follow_each_aperture_upright() {
        let clap = probe("clap.mp4");
        let video = &clap["tracks"][0];
        // The contract's keys keep their meaning: coded size, the container's aspect.
        assert_eq!(
            (video["width"].as_u64(), video["height"].as_u64()),
            (Some(256), Some(176))
        );
        assert_eq!(video["pixel_aspect"], serde_json::json!([32, 27]));
        assert_eq!(
            video["display_size"],
            serde_json::json!({"clean": [274, 150], "production": [303, 176], "encoded": [256, 176]})
        );
        let turned = probe("rotate90.mp4");
        let video = &turned["tracks"][0];
        assert_eq!(video["rotation"], 90);
        assert_eq!(video["mirrored"], false);
        assert_eq!(
            video["display_size"]["clean"],
            serde_json::json!([176, 256])
        );
        assert_eq!(probe("transpose.mp4")["tracks"][0]["mirrored"], true);
    }

    #[test]
    fn colour_chroma_and_dynamic_range_are_reported() {
        let sdr = probe("colour_bt601_pc.mp4");
        let video = &sdr["tracks"][0];
        assert_eq!(video["chroma_format"], "4:2:0");
        assert_eq!(
            video["colour"],
            serde_json::json!({"primaries": 6, "transfer": 6, "matrix": 6, "range": "full"})
        );
        assert_eq!(video["dynamic_range"], "sdr");
        let pq = probe("av1_pq.mp4");
        let video = &pq["tracks"][0];
        assert_eq!(video["bit_depth"], 10);
        assert_eq!(video["dynamic_range"], "pq");
        assert_eq!(video["colour"]["matrix"], 9);
        assert_eq!(
            probe("av1_10bit_444.mp4")["tracks"][0]["chroma_format"],
            "4:4:4"
        );
    }
}
