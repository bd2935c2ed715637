//! `stillframe sheet`: thumbnails at even times tiled into one image, and the
//! WebVTT thumbnail track players' seek bars read (`sheet.jpg#xywh=x,y,w,h`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use image::{DynamicImage, RgbImage};
use serde::Serialize;
use stillframe::{Error, GeneratorOptions, ImageGenerator, MaximumSize, Time};

use crate::grab::{format_of, save};
use crate::label;
use crate::output;
use crate::time_arg::{parse_positive_duration, parse_size};

/// Arguments of `stillframe sheet`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    stillframe sheet clip.mp4 -o sheet.jpg\n  \
    stillframe sheet clip.mp4 --every 10 --columns 10 --max-size 160x90 -o sprite.jpg --vtt thumbs.vtt\n  \
    stillframe sheet clip.mp4 --count 12 --columns 4 --timestamps -o overview.png")]
pub struct SheetArgs {
    /// The video file.
    input: PathBuf,
    /// Thumbnails at this many even times over the video (default 16).
    #[arg(long, value_name = "N", conflicts_with = "every",
          value_parser = clap::value_parser!(u32).range(1..=MAX_TILES as i64))]
    count: Option<u32>,
    /// A thumbnail every DUR seconds instead (a seek-bar sprite: one cue per interval).
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    every: Option<Time>,
    /// Tiles per row (default: the square root of the count, rounded up).
    #[arg(long, value_name = "C", value_parser = clap::value_parser!(u32).range(1..))]
    columns: Option<u32>,
    /// Fit each thumbnail inside WxH, keeping the display aspect.
    #[arg(long, value_name = "WxH", value_parser = parse_size, default_value = "160x90")]
    max_size: MaximumSize,
    /// Label each tile with its frame's time.
    #[arg(long)]
    timestamps: bool,
    /// The sheet image: .jpg, .png or .webp.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// JPEG quality, 1 to 100.
    #[arg(long, value_name = "1-100", default_value_t = 85,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Also write a WebVTT thumbnail track: one cue per tile, covering the timeline
    /// from the tile's time to the next one's, pointing at the tile in the sheet.
    #[arg(long, value_name = "FILE")]
    vtt: Option<PathBuf>,
    /// Describe the sheet and its tiles as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// A bound on tiles, so a short interval over a long video is an error, not a
/// sheet of a million thumbnails.
const MAX_TILES: u32 = 10_000;

#[derive(Serialize)]
struct SheetJson {
    input: String,
    sheet: String,
    vtt: Option<String>,
    columns: u32,
    rows: u32,
    tile_width: u32,
    tile_height: u32,
    tiles: Vec<TileJson>,
}

#[derive(Serialize)]
struct TileJson {
    index: usize,
    start: f64,
    end: f64,
    actual: Option<f64>,
    frame: Option<u64>,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    error: Option<String>,
}

/// One tile's place on the timeline: its cue runs from `start` to `end`.
struct Slot {
    start: Time,
    end: Time,
}

/// Makes the sheet (and the VTT); exit 0 when every tile was made, 1 when some were
/// left black, 2 when nothing could be made.
pub fn run(args: &SheetArgs) -> Result<ExitCode, Error> {
    let format = format_of(&args.output.display().to_string())?;
    let options = GeneratorOptions {
        maximum_size: args.max_size,
        ..GeneratorOptions::default()
    };
    let limits = options.limits;
    let generator = ImageGenerator::open(&args.input, options)?;
    let Some((start, end)) = generator.presentation_span()? else {
        return Err(Error::unsupported("the video has no frames"));
    };
    let slots = slots(args, start, end)?;
    let times: Vec<Time> = slots.iter().map(|slot| slot.start).collect();
    let images = generator.images_at(&times);
    let (tile_width, tile_height) = images
        .iter()
        .flatten()
        .map(|made| (made.image.width(), made.image.height()))
        .fold((0, 0), |(w, h), (iw, ih)| (w.max(iw), h.max(ih)));
    if tile_width == 0 {
        let reason = images
            .into_iter()
            .find_map(Result::err)
            .map_or_else(|| "no thumbnail".to_owned(), |e| e.to_string());
        return Err(Error::unsupported(format!(
            "no thumbnail could be made: {reason}"
        )));
    }
    let count = u32::try_from(slots.len()).unwrap_or(MAX_TILES);
    let columns = args
        .columns
        .unwrap_or_else(|| (f64::from(count).sqrt().ceil()) as u32)
        .clamp(1, count);
    let rows = count.div_ceil(columns);
    let (sheet_width, sheet_height) = (columns * tile_width, rows * tile_height);
    limits.check_output_pixels(u64::from(sheet_width), u64::from(sheet_height))?;
    let mut sheet = RgbImage::new(sheet_width, sheet_height);
    let mut tiles = Vec::with_capacity(slots.len());
    let mut all_made = true;
    for (index, (slot, made)) in slots.iter().zip(images).enumerate() {
        let position = u32::try_from(index).unwrap_or(0);
        let (x, y) = (
            (position % columns) * tile_width,
            (position / columns) * tile_height,
        );
        let mut tile = TileJson {
            index,
            start: slot.start.as_secs_f64(),
            end: slot.end.as_secs_f64(),
            actual: None,
            frame: None,
            x,
            y,
            width: tile_width,
            height: tile_height,
            error: None,
        };
        match made {
            Ok(made) => {
                let image = made.image.to_rgb8();
                // Centred in its cell when the video changes size along the way.
                let dx = (tile_width - image.width()) / 2;
                let dy = (tile_height - image.height()) / 2;
                image::imageops::replace(&mut sheet, &image, i64::from(x + dx), i64::from(y + dy));
                if args.timestamps {
                    let text = label::clock(made.actual.as_secs_f64());
                    label::draw(&mut sheet, (x, y, tile_width, tile_height), &text);
                }
                tile.actual = Some(made.actual.as_secs_f64());
                tile.frame = made.frame_number;
            }
            Err(error) => {
                all_made = false;
                let message = crate::one_line(&error.to_string());
                eprintln!(
                    "stillframe: tile {index} at {:.3} s failed: {message}",
                    slot.start.as_secs_f64()
                );
                tile.error = Some(message);
            }
        }
        tiles.push(tile);
    }
    save(
        &DynamicImage::ImageRgb8(sheet),
        &args.output,
        format,
        args.quality,
    )?;
    if let Some(vtt) = &args.vtt {
        let text = webvtt(&tiles, &image_reference(&args.output, vtt));
        std::fs::write(vtt, text)
            .map_err(|e| Error::io(format!("writing {}", vtt.display()), e))?;
    }
    let described = SheetJson {
        input: args.input.display().to_string(),
        sheet: args.output.display().to_string(),
        vtt: args.vtt.as_ref().map(|p| p.display().to_string()),
        columns,
        rows,
        tile_width,
        tile_height,
        tiles,
    };
    if args.json {
        if let Ok(text) = serde_json::to_string(&described) {
            output::line(&text);
        }
    } else {
        output::line(&format!(
            "{}: {} tiles of {tile_width}x{tile_height} in {columns}x{rows}",
            described.sheet,
            described.tiles.len()
        ));
    }
    Ok(if all_made {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Even slots over `start..end`: `--count` equal parts, or one per `--every`
/// interval (the last one ends with the video).
fn slots(args: &SheetArgs, start: Time, end: Time) -> Result<Vec<Slot>, Error> {
    if let Some(step) = args.every {
        let mut slots = Vec::new();
        let mut at = start;
        while at < end {
            let next = at.saturating_add(step).min(end);
            slots.push(Slot {
                start: at,
                end: next,
            });
            at = next;
            if slots.len() > MAX_TILES as usize {
                return Err(Error::unsupported(format!(
                    "--every would make more than {MAX_TILES} tiles; choose a longer interval"
                )));
            }
        }
        return Ok(slots);
    }
    let count = i128::from(args.count.unwrap_or(16));
    let nanos = |t: Time| {
        t.to_ticks(1_000_000_000, stillframe::Rounding::Floor)
            .map(i128::from)
            .ok_or_else(|| Error::unsupported("the video's timeline is not finite"))
    };
    let (first, last) = (nanos(start)?, nanos(end)?);
    let boundary = |k: i128| {
        let at = first + (last - first) * k / count;
        Time::new(i64::try_from(at).unwrap_or(i64::MAX), 1_000_000_000).unwrap_or(end)
    };
    Ok((0..count)
        .map(|k| Slot {
            start: boundary(k),
            end: boundary(k + 1),
        })
        .collect())
}

/// How the VTT names the sheet: its file name when both sit in one folder (so the
/// pair can be moved together), else its path as given.
fn image_reference(sheet: &Path, vtt: &Path) -> String {
    let folder = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    match sheet.file_name() {
        Some(name) if folder(sheet) == folder(vtt) => name.to_string_lossy().into_owned(),
        _ => sheet.display().to_string(),
    }
}

fn webvtt(tiles: &[TileJson], image: &str) -> String {
    let mut text = String::from("WEBVTT\n");
    for tile in tiles {
        let _ = write!(
            text,
            "\n{} --> {}\n{image}#xywh={},{},{},{}\n",
            cue_time(tile.start),
            cue_time(tile.end),
            tile.x,
            tile.y,
            tile.width,
            tile.height
        );
    }
    text
}

/// `HH:MM:SS.mmm`, as WebVTT cue timings are written.
fn cue_time(seconds: f64) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cue_times_and_references() {
        assert_eq!(cue_time(3725.5), "01:02:05.500");
        assert_eq!(
            image_reference(Path::new("out/sheet.jpg"), Path::new("out/thumbs.vtt")),
            "sheet.jpg"
        );
        assert_eq!(
            image_reference(Path::new("img/sheet.jpg"), Path::new("thumbs.vtt")),
            "img/sheet.jpg"
        );
    }
}
