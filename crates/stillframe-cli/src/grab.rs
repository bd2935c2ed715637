//! `stillframe grab`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use image::ImageFormat;
use serde::Serialize;
use stillframe::{
    ApertureMode, DynamicRangePolicy, Error, GeneratorOptions, ImageGenerator, MaximumSize,
    OutputFormat, Time, Tolerance,
};

use crate::time_arg::{parse_duration, parse_positive_duration, parse_size, parse_time};

/// Arguments of `stillframe grab`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    stillframe grab clip.mp4 --at 2.5\n  \
    stillframe grab clip.mp4 --at 0,10,20 --max-size 320x0 -o thumb-{i}.jpg\n  \
    stillframe grab clip.mp4 --at 00:01:02.500 --exact --json\n  \
    stillframe grab clip.mp4 --at 5 --quality 75 -o shot.jpg\n  \
    stillframe grab hdr.mkv --at 5 --dynamic-range source --pixels rgb16 -o hdr.png")]
pub struct GrabArgs {
    /// The video file to read.
    input: PathBuf,
    /// Time(s) to grab: seconds (12.5), MM:SS.mmm, HH:MM:SS.mmm or value/timescale;
    /// comma-separated and/or repeated. Requests are numbered from 0 in this order.
    #[arg(long = "at", value_name = "T[,T...]", required_unless_present = "every", value_delimiter = ',', value_parser = parse_time)]
    at: Vec<Time>,
    /// One image per interval over the whole file (0, DUR, 2·DUR, ...), after any --at
    /// times: the seek-bar thumbnail job. Uses the default (infinite) tolerance unless
    /// --exact or --before/--after say otherwise.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    every: Option<Time>,
    /// Worker threads for decoding several times (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// The exact frame on screen at each time (same as --before 0 --after 0).
    #[arg(long, conflicts_with_all = ["before", "after"])]
    exact: bool,
    /// How much earlier than T the frame may be (default: unlimited).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    before: Option<Time>,
    /// How much later than T the frame may be (default: unlimited).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    after: Option<Time>,
    /// Fit images inside WxH keeping the display aspect; 0 = unbounded on that side.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    max_size: Option<MaximumSize>,
    /// Do not apply the track's rotation and mirroring.
    #[arg(long)]
    no_transform: bool,
    /// Which aperture: clean (pixel aspect + clean-aperture crop), production (pixel
    /// aspect only) or encoded (pixels as decoded).
    #[arg(long, value_enum, default_value_t = Aperture::Clean)]
    aperture: Aperture,
    /// Output path; {i} becomes the request's index. The extension picks the format:
    /// .png (8 or 16 bits), .jpg/.jpeg (8 bits, lossy: see --quality) or .webp
    /// (8 bits, always lossless).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "PATTERN",
        default_value = "frame-{i}.png"
    )]
    output: String,
    /// JPEG quality, 1 (smallest) to 100 (best); ignored for PNG and WebP.
    #[arg(long, value_name = "1-100", default_value_t = 90,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Pixel type of the images: rgb8, rgba8 (opaque alpha), rgb16, rgba16, gray8 or
    /// gray16 (the picture's luma). 16-bit types need .png; JPEG and WebP round to 8 bits.
    #[arg(long, value_enum, value_name = "TYPE", default_value_t = Pixels::Rgb8)]
    pixels: Pixels,
    /// HDR (PQ/HLG) pictures: sdr tone-maps them to SDR BT.709; source keeps their
    /// transfer and primaries in 16 bits (use a .png output). SDR pictures are the
    /// same either way.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = DynamicRange::Sdr)]
    dynamic_range: DynamicRange,
    /// Print one JSON object per request on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Pixels {
    Rgb8,
    Rgba8,
    Rgb16,
    Rgba16,
    Gray8,
    Gray16,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DynamicRange {
    Sdr,
    Source,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Aperture {
    Clean,
    Production,
    Encoded,
}

#[derive(Serialize)]
struct RequestJson {
    index: usize,
    requested: f64,
    actual: Option<f64>,
    status: &'static str,
    path: Option<String>,
    error: Option<String>,
}

/// Grabs every requested time; exit 0 when all succeeded, 1 when any failed.
pub fn run(args: &GrabArgs) -> Result<ExitCode, Error> {
    let format = output_format(&args.output)?;
    let generator = ImageGenerator::open(&args.input, options(args))?;
    let times = requested_times(args, &generator)?;
    if times.len() > 1 && !args.output.contains("{i}") {
        return Err(Error::unsupported(format!(
            "output pattern {:?} has no {{i}}, so several times would overwrite one file",
            args.output
        )));
    }
    // One batch: each group of pictures decoded once. Each image is written as it
    // arrives, so memory stays flat however many are asked for; the workers wait
    // when the writer falls behind. Lines are printed in request order.
    let (sender, arrivals) = std::sync::mpsc::sync_channel(IMAGES_IN_FLIGHT);
    let batch = generator.generate_images(times.iter().copied(), move |item| {
        // The receiver lives until the batch ends.
        let _ = sender.send(item);
    });
    let mut all_succeeded = true;
    let mut waiting: BTreeMap<usize, (Time, String, Result<Time, Error>)> = BTreeMap::new();
    let mut next = 0;
    for item in arrivals {
        let path = args.output.replace("{i}", &item.index.to_string());
        let outcome = item.outcome.and_then(|made| {
            save(&made.image, Path::new(&path), format, args.quality).map(|()| made.actual)
        });
        all_succeeded &= outcome.is_ok();
        waiting.insert(item.index, (item.requested, path, outcome));
        while let Some((requested, path, outcome)) = waiting.remove(&next) {
            report(args.json, next, requested, &path, outcome);
            next += 1;
        }
    }
    batch.wait();
    Ok(if all_succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Images decoded but not yet written: the workers wait beyond this.
const IMAGES_IN_FLIGHT: usize = 4;

/// The --at times, then one per --every interval over the track's presentation span
/// (its first frame to the end of its last): what the frames say, not a duration a
/// container may state wrongly (0, or "unknown" read as 27 hours).
fn requested_times(args: &GrabArgs, generator: &ImageGenerator) -> Result<Vec<Time>, Error> {
    let mut times = args.at.clone();
    if let Some(step) = args.every {
        let Some((start, end)) = generator.presentation_span()? else {
            return Ok(times);
        };
        let mut at = start;
        while at < end {
            times.push(at);
            at = at
                .checked_add(step)
                .ok_or_else(|| Error::unsupported("--every interval overflows"))?;
            if times.len() > MAX_EVERY_IMAGES {
                return Err(Error::unsupported(format!(
                    "--every would make more than {MAX_EVERY_IMAGES} images; choose a longer interval"
                )));
            }
        }
    }
    Ok(times)
}

/// A bound on `--every`, so a tiny interval on a long file is a clear error, not a flood.
const MAX_EVERY_IMAGES: usize = 100_000;

fn options(args: &GrabArgs) -> GeneratorOptions {
    let tolerance = if args.exact {
        Tolerance::ZERO
    } else {
        let before = args.before.unwrap_or(Time::POSITIVE_INFINITY);
        let after = args.after.unwrap_or(Time::POSITIVE_INFINITY);
        // Both were checked non-negative while parsing.
        Tolerance::new(before, after).unwrap_or_default()
    };
    GeneratorOptions {
        tolerance,
        maximum_size: args.max_size.unwrap_or_default(),
        applies_preferred_track_transform: !args.no_transform,
        aperture_mode: match args.aperture {
            Aperture::Clean => ApertureMode::Clean,
            Aperture::Production => ApertureMode::Production,
            Aperture::Encoded => ApertureMode::Encoded,
        },
        output_format: match args.pixels {
            Pixels::Rgb8 => OutputFormat::Rgb8,
            Pixels::Rgba8 => OutputFormat::Rgba8,
            Pixels::Rgb16 => OutputFormat::Rgb16,
            Pixels::Rgba16 => OutputFormat::Rgba16,
            Pixels::Gray8 => OutputFormat::Luma8,
            Pixels::Gray16 => OutputFormat::Luma16,
        },
        dynamic_range_policy: match args.dynamic_range {
            DynamicRange::Sdr => DynamicRangePolicy::ForceSdr,
            DynamicRange::Source => DynamicRangePolicy::MatchSource,
        },
        threads: args.threads,
        ..GeneratorOptions::default()
    }
}

fn output_format(pattern: &str) -> Result<ImageFormat, Error> {
    let extension = Path::new(pattern)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("png") => Ok(ImageFormat::Png),
        Some("jpg" | "jpeg") => Ok(ImageFormat::Jpeg),
        Some("webp") => Ok(ImageFormat::WebP),
        _ => Err(Error::unsupported(format!(
            "output {pattern:?}: the extension must be .png, .jpg, .jpeg or .webp"
        ))),
    }
}

/// Writes `image` as PNG (any pixel type), JPEG at `quality` or lossless WebP (both
/// 8-bit: deeper images are rounded, alpha is dropped for JPEG).
fn save(
    image: &image::DynamicImage,
    path: &Path,
    format: ImageFormat,
    quality: u8,
) -> Result<(), Error> {
    use image::DynamicImage;
    let file = std::fs::File::create(path)?;
    let mut writer = std::io::BufWriter::new(file);
    let encoded = match format {
        ImageFormat::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut writer, quality);
            match image {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageLuma16(_) => {
                    DynamicImage::ImageLuma8(image.to_luma8()).write_with_encoder(encoder)
                }
                _ => DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder),
            }
        }
        ImageFormat::WebP => {
            let encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut writer);
            if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8()).write_with_encoder(encoder)
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)
            }
        }
        _ => image.write_with_encoder(image::codecs::png::PngEncoder::new(&mut writer)),
    };
    let writing = format!("writing {}", path.display());
    encoded.map_err(|e| Error::io(writing.clone(), std::io::Error::other(e)))?;
    writer.flush().map_err(|e| Error::io(writing, e))?;
    Ok(())
}

fn report(json: bool, index: usize, requested: Time, path: &str, outcome: Result<Time, Error>) {
    if json {
        let line = RequestJson {
            index,
            requested: requested.as_secs_f64(),
            actual: outcome.as_ref().ok().map(|t| t.as_secs_f64()),
            status: match &outcome {
                Ok(_) => "succeeded",
                Err(Error::Cancelled) => "cancelled",
                Err(_) => "failed",
            },
            path: outcome.as_ref().ok().map(|_| path.to_owned()),
            error: outcome
                .as_ref()
                .err()
                .map(|e| crate::one_line(&e.to_string())),
        };
        if let Ok(text) = serde_json::to_string(&line) {
            println!("{text}");
        }
        return;
    }
    match outcome {
        Ok(actual) => println!(
            "{path}: requested {:.6} s, frame at {:.6} s",
            requested.as_secs_f64(),
            actual.as_secs_f64()
        ),
        Err(error) => eprintln!(
            "stillframe: request {index} at {:.6} s failed: {}",
            requested.as_secs_f64(),
            crate::one_line(&error.to_string())
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageBuffer, Luma, Rgb};

    fn gradient() -> DynamicImage {
        DynamicImage::ImageRgb16(ImageBuffer::from_fn(64, 48, |x, y| {
            Rgb([(x * 1000) as u16, (y * 1300) as u16, ((x + y) * 600) as u16])
        }))
    }

    #[test]
    fn png_keeps_sixteen_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep.png");
        save(&gradient(), &path, ImageFormat::Png, 90).unwrap();
        let back = image::open(&path).unwrap();
        assert_eq!(back, gradient());
    }

    #[test]
    fn jpeg_quality_is_applied_and_deep_images_are_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let low = dir.path().join("low.jpg");
        let high = dir.path().join("high.jpg");
        save(&gradient(), &low, ImageFormat::Jpeg, 10).unwrap();
        save(&gradient(), &high, ImageFormat::Jpeg, 100).unwrap();
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(
            size(&low) < size(&high),
            "{} vs {}",
            size(&low),
            size(&high)
        );
        let back = image::open(&high).unwrap();
        assert_eq!(back.color(), image::ColorType::Rgb8);
        let gray = DynamicImage::ImageLuma8(ImageBuffer::from_fn(16, 16, |x, _| Luma([x as u8])));
        let path = dir.path().join("gray.jpg");
        save(&gray, &path, ImageFormat::Jpeg, 90).unwrap();
        assert_eq!(image::open(&path).unwrap().color(), image::ColorType::L8);
    }

    #[test]
    fn webp_is_lossless_at_eight_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frame.webp");
        let rgba = DynamicImage::ImageRgba8(gradient().to_rgba8());
        save(&rgba, &path, ImageFormat::WebP, 1).unwrap();
        assert_eq!(image::open(&path).unwrap().to_rgba8(), rgba.to_rgba8());
    }

    #[test]
    fn quality_outside_one_to_a_hundred_is_a_usage_error() {
        use clap::Parser;
        #[derive(Debug, clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            grab: GrabArgs,
        }
        for bad in ["0", "101"] {
            let parsed = Wrapper::try_parse_from(["x", "in.mp4", "--at", "1", "--quality", bad]);
            assert!(parsed.is_err(), "--quality {bad} accepted");
        }
        let ok = Wrapper::try_parse_from(["x", "in.mp4", "--at", "1", "--quality", "55"]).unwrap();
        assert_eq!(ok.grab.quality, 55);
        assert_eq!(
            Wrapper::try_parse_from(["x", "in.mp4", "--at", "1"])
                .unwrap()
                .grab
                .quality,
            90
        );
    }
}
