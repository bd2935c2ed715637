//! `stillframe grab`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use clap::{Args, ValueEnum};
use serde::Serialize;
use stillframe::{
    ApertureMode, Asset, DynamicRangePolicy, Error, GeneratorOptions, ImageGenerator, MaximumSize,
    OutputFormat, PixelAspect, Time, Tolerance,
};

use crate::inputs::{self, Input, Shard};
use crate::output;
use crate::progress::Progress;
use crate::time_arg::{
    parse_duration, parse_positive_duration, parse_size, parse_time_arg, TimeArg,
};
use crate::y4m;

/// Arguments of `stillframe grab`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    stillframe grab clip.mp4 --at 2.5\n  \
    stillframe grab clip.mp4 --at 10% -o poster.jpg\n  \
    stillframe grab clip.mp4 --at 0,10,20 --max-size 320x0 -o thumb-{i}.jpg\n  \
    stillframe grab clip.mp4 --at 00:01:02.500 --exact --json\n  \
    stillframe grab videos/ --at 50% --jobs 4 -o thumbs/{stem}.jpg\n  \
    stillframe grab videos/ --at 50% --shard 3/8 -o out/{stem}.jpg\n  \
    stillframe grab - --at 1 -o - --format png < clip.mp4 > frame.png\n  \
    stillframe grab clip.mkv --at 5 --exact -o frame.y4m\n  \
    stillframe grab hdr.mkv --at 5 --dynamic-range source --pixels rgb16 -o hdr.png")]
pub struct GrabArgs {
    /// Video files, folders (searched for video files, recursively, in path order)
    /// or `-` for standard input (read into memory).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Time(s) to grab: seconds (12.5), MM:SS.mmm, HH:MM:SS.mmm, value/timescale, or
    /// N% of the way through the video (0% is the first frame, 100% the last);
    /// comma-separated and/or repeated. Requests are numbered from 0 in this order.
    #[arg(long = "at", value_name = "T[,T...]", required_unless_present = "every", value_delimiter = ',', value_parser = parse_time_arg)]
    at: Vec<TimeArg>,
    /// One image per interval over the whole video (0, DUR, 2·DUR, ...), after any
    /// --at times: the seek-bar thumbnail job. Uses the default (infinite) tolerance
    /// unless --exact or --before/--after say otherwise.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    every: Option<Time>,
    /// Decoding threads for each input (default: one per core, shared out among --jobs).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Inputs processed at the same time.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Only part K of N of the inputs (K from 0): every N-th input from the K-th, so N
    /// machines given 0/N .. (N-1)/N share a library with no coordinator.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
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
    /// Output path, or `-` for standard output. {i} becomes the request's index,
    /// {n} the frame's number, {t} its time in seconds, {stem} the input's file name
    /// without extension. The extension picks the format unless --format does:
    /// .png (8 or 16 bits), .jpg/.jpeg (8 bits, lossy: see --quality), .webp (8 bits,
    /// lossless) or .y4m (the decoded planes, unconverted; frames sharing a path
    /// form one stream). Default: frame-{i}.png, or {stem}-{i}.png for several inputs.
    #[arg(short = 'o', long = "output", value_name = "PATTERN")]
    output: Option<String>,
    /// The output format, for `-o -` or to override the extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
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
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// No progress line and no line per image; failures are still reported.
    #[arg(short, long)]
    quiet: bool,
}

/// Image and frame formats `grab` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// PNG, 8 or 16 bits.
    Png,
    /// JPEG, 8 bits.
    #[value(alias = "jpeg")]
    Jpg,
    /// Lossless WebP, 8 bits.
    Webp,
    /// YUV4MPEG2: the decoder's planes.
    Y4m,
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
struct RequestJson<'a> {
    input: &'a str,
    index: Option<usize>,
    requested: Option<f64>,
    actual: Option<f64>,
    frame: Option<u64>,
    status: &'static str,
    path: Option<String>,
    error: Option<String>,
}

/// What every input of one `grab` shares.
struct Job<'a> {
    args: &'a GrabArgs,
    pattern: String,
    format: Format,
    to_stdout: bool,
    threads: usize,
    several_inputs: bool,
    progress: Progress,
}

/// Grabs every requested time of every input; exit 0 when all succeeded, 1 when any
/// request or input failed, 2 when a lone input cannot be opened or on usage errors.
pub fn run(args: &GrabArgs) -> Result<ExitCode, Error> {
    let mut inputs = inputs::expand(&args.inputs)?;
    if let Some(shard) = args.shard {
        inputs = shard.select(inputs);
    }
    if inputs.is_empty() {
        if args.shard.is_some() {
            // A part of a small library may well be empty.
            return Ok(ExitCode::SUCCESS);
        }
        return Err(Error::unsupported("no video files among the inputs"));
    }
    let job = Job::new(args, &inputs)?;
    let all_succeeded = if inputs.len() == 1 {
        let succeeded = job.grab(&inputs[0])?;
        job.progress.input_done();
        succeeded
    } else {
        job.grab_all(&inputs)
    };
    job.progress.finish();
    Ok(if all_succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

impl<'a> Job<'a> {
    fn new(args: &'a GrabArgs, inputs: &[Input]) -> Result<Job<'a>, Error> {
        let several = inputs.len() > 1;
        let pattern = args.output.clone().unwrap_or_else(|| {
            if several {
                "{stem}-{i}.png".to_owned()
            } else {
                "frame-{i}.png".to_owned()
            }
        });
        let to_stdout = pattern == "-";
        let format = match args.format {
            Some(format) => format,
            None if to_stdout => Format::Png,
            None => format_of(&pattern)?,
        };
        if to_stdout && args.json {
            return Err(Error::unsupported(
                "--json and -o - would both write to standard output",
            ));
        }
        if several {
            if to_stdout && format != Format::Y4m {
                return Err(Error::unsupported(
                    "-o - writes one image; several inputs need an output pattern with {stem}",
                ));
            }
            if !to_stdout {
                check_stems(&pattern, inputs)?;
            }
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = match args.threads {
            0 => (cores / usize::from(args.jobs)).max(1),
            n => n,
        };
        Ok(Job {
            args,
            pattern,
            format,
            to_stdout,
            threads,
            several_inputs: several,
            progress: Progress::new(!args.quiet && !args.json, inputs.len()),
        })
    }

    /// Several inputs, `--jobs` at a time; one that cannot be opened is reported
    /// and the others go on.
    fn grab_all(&self, inputs: &[Input]) -> bool {
        let next = AtomicUsize::new(0);
        let all_succeeded = AtomicBool::new(true);
        let workers = usize::from(self.args.jobs).min(inputs.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while let Some(input) = inputs.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let succeeded = self.grab(input).unwrap_or_else(|error| {
                            self.report_input_failure(input, &error);
                            false
                        });
                        if !succeeded {
                            all_succeeded.store(false, Ordering::Relaxed);
                        }
                        self.progress.input_done();
                    }
                });
            }
        });
        all_succeeded.load(Ordering::Relaxed)
    }

    /// One input's requests; `Ok(false)` when any failed, `Err` when the input
    /// cannot be opened or the requests cannot be made.
    fn grab(&self, input: &Input) -> Result<bool, Error> {
        let options = options(self.args, self.threads);
        let mut asset = match input {
            Input::Stdin => {
                Asset::from_unseekable_with_limits(std::io::stdin().lock(), options.limits)?
            }
            Input::File(path) => Asset::open_with_limits(path, options.limits)?,
        };
        if self.pattern.contains("{n}") {
            // Frame numbers of a container read only where requests need it
            // (Matroska Cues) are known once all of it is indexed.
            asset.index_fully()?;
        }
        let generator = ImageGenerator::new(asset, options)?;
        let times = requested_times(self.args, &generator)?;
        let per_request = ["{i}", "{n}", "{t}"]
            .iter()
            .any(|placeholder| self.pattern.contains(placeholder));
        if times.len() > 1 && !per_request && self.format != Format::Y4m {
            return Err(Error::unsupported(if self.to_stdout {
                "-o - writes one image; ask for one time, or use y4m for a stream".to_owned()
            } else {
                format!(
                    "output pattern {:?} has no {{i}}, {{n}} or {{t}}, so several times would \
                     overwrite one file",
                    self.pattern
                )
            }));
        }
        let name = input.name();
        let target = Target {
            job: self,
            input: &name,
            stem: input.stem(),
        };
        Ok(match self.format {
            Format::Y4m => target.frames(&generator, &times),
            _ => target.images(&generator, &times),
        })
    }

    fn report_input_failure(&self, input: &Input, error: &Error) {
        let message = crate::one_line(&error.to_string());
        let name = input.name();
        if self.args.json {
            let line = RequestJson {
                input: &name,
                index: None,
                requested: None,
                actual: None,
                frame: None,
                status: "failed",
                path: None,
                error: Some(message.clone()),
            };
            if let Ok(text) = serde_json::to_string(&line) {
                output::line(&text);
            }
        }
        self.progress
            .around(|| eprintln!("stillframe: {name}: {message}"));
    }
}

/// With several inputs, their files must not overwrite each other.
fn check_stems(pattern: &str, inputs: &[Input]) -> Result<(), Error> {
    if !pattern.contains("{stem}") {
        return Err(Error::unsupported(format!(
            "output pattern {pattern:?} has no {{stem}}, so several inputs would overwrite \
             each other's files"
        )));
    }
    let mut seen = HashSet::new();
    for input in inputs {
        if !seen.insert(input.stem()) {
            return Err(Error::unsupported(format!(
                "two inputs are named {:?} ({}); {{stem}} would give them the same files",
                input.stem(),
                input.name()
            )));
        }
    }
    Ok(())
}

/// One input being grabbed.
struct Target<'a> {
    job: &'a Job<'a>,
    input: &'a str,
    stem: String,
}

impl Target<'_> {
    fn path(&self, index: usize, frame_number: Option<u64>, actual: Time) -> String {
        let number = frame_number.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
        self.job
            .pattern
            .replace("{i}", &index.to_string())
            .replace("{n}", &number)
            .replace("{t}", &format!("{:.3}", actual.as_secs_f64()))
            .replace("{stem}", &self.stem)
    }

    /// PNG/JPEG/WebP: one batch, each group of pictures decoded once. Each image is
    /// written as it arrives, so memory stays flat however many are asked for; the
    /// workers wait when the writer falls behind. Lines come in request order.
    fn images(&self, generator: &ImageGenerator, times: &[Time]) -> bool {
        let (sender, arrivals) = std::sync::mpsc::sync_channel(IMAGES_IN_FLIGHT);
        let batch = generator.generate_images(times.iter().copied(), move |item| {
            // The receiver lives until the batch ends.
            let _ = sender.send(item);
        });
        let mut all_succeeded = true;
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for item in arrivals {
            let outcome = item.outcome.and_then(|made| {
                let path = self.path(item.index, made.frame_number, made.actual);
                self.save_image(&made.image, &path)?;
                Ok(Done {
                    actual: made.actual,
                    frame_number: made.frame_number,
                    path,
                })
            });
            all_succeeded &= outcome.is_ok();
            waiting.insert(item.index, (item.requested, outcome));
            while let Some((requested, outcome)) = waiting.remove(&next) {
                self.report(next, requested, outcome);
                next += 1;
            }
        }
        batch.wait();
        all_succeeded
    }

    fn save_image(&self, image: &image::DynamicImage, path: &str) -> Result<(), Error> {
        if self.job.to_stdout {
            let mut encoded = Vec::new();
            encode(image, self.job.format, self.job.args.quality, &mut encoded)
                .map_err(|e| Error::io("encoding the image", std::io::Error::other(e)))?;
            return output::bytes(&encoded).map_err(|e| output::stop(&e));
        }
        save(
            image,
            Path::new(path),
            self.job.format,
            self.job.args.quality,
        )
    }

    /// y4m: the decoded frames, a few requests at a time (each group decoded once);
    /// consecutive frames with the same path form one stream.
    fn frames(&self, generator: &ImageGenerator, times: &[Time]) -> bool {
        let summary = generator.asset_info().tracks.get(generator.track().index);
        let rate = summary.and_then(|track| track.frame_rate);
        let aspect = summary.map_or(PixelAspect::SQUARE, |track| track.pixel_aspect);
        let mut stream: Option<Y4mStream> = None;
        let mut all_succeeded = true;
        for (chunk, group) in times.chunks(FRAMES_PER_GROUP).enumerate() {
            for (offset, outcome) in generator.frames_at(group).into_iter().enumerate() {
                let index = chunk * FRAMES_PER_GROUP + offset;
                let outcome = outcome.and_then(|made| {
                    let path = self.path(index, made.frame_number, made.actual);
                    let header = y4m::StreamHeader::for_frame(&made.frame, rate, aspect);
                    let open = match stream.take() {
                        Some(open) if open.path == path => open,
                        other => {
                            if let Some(done) = other {
                                done.close()?;
                            }
                            Y4mStream::create(&path, header, self.job.to_stdout)?
                        }
                    };
                    let open = stream.insert(open);
                    open.append(&made.frame, header)?;
                    Ok(Done {
                        actual: made.actual,
                        frame_number: made.frame_number,
                        path,
                    })
                });
                all_succeeded &= outcome.is_ok();
                self.report(index, group[offset], outcome);
            }
        }
        if let Some(open) = stream {
            if let Err(error) = open.close() {
                self.job
                    .progress
                    .around(|| eprintln!("stillframe: {}: {error}", self.input));
                all_succeeded = false;
            }
        }
        all_succeeded
    }

    fn report(&self, index: usize, requested: Time, outcome: Result<Done, Error>) {
        let job = self.job;
        if outcome.is_ok() {
            job.progress.image();
        }
        if job.args.json {
            let line = RequestJson {
                input: self.input,
                index: Some(index),
                requested: Some(requested.as_secs_f64()),
                actual: outcome.as_ref().ok().map(|done| done.actual.as_secs_f64()),
                frame: outcome.as_ref().ok().and_then(|done| done.frame_number),
                status: match &outcome {
                    Ok(_) => "succeeded",
                    Err(Error::Cancelled) => "cancelled",
                    Err(_) => "failed",
                },
                path: outcome.as_ref().ok().map(|done| done.path.clone()),
                error: outcome
                    .as_ref()
                    .err()
                    .map(|e| crate::one_line(&e.to_string())),
            };
            if let Ok(text) = serde_json::to_string(&line) {
                output::line(&text);
            }
            return;
        }
        let prefix = if job.several_inputs {
            format!("{}: ", self.input)
        } else {
            String::new()
        };
        match outcome {
            Ok(done) if !job.args.quiet => {
                let number = done
                    .frame_number
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                let text = format!(
                    "{}: requested {:.6} s, frame{number} at {:.6} s",
                    if job.to_stdout { "-" } else { &done.path },
                    requested.as_secs_f64(),
                    done.actual.as_secs_f64()
                );
                // With the image on stdout, the line goes to stderr.
                job.progress.around(|| {
                    if job.to_stdout {
                        eprintln!("{text}");
                    } else {
                        output::line(&text);
                    }
                });
            }
            Ok(_) => {}
            Err(error) => job.progress.around(|| {
                eprintln!(
                    "stillframe: {prefix}request {index} at {:.6} s failed: {}",
                    requested.as_secs_f64(),
                    crate::one_line(&error.to_string())
                )
            }),
        }
    }
}

/// A request that made its file.
struct Done {
    actual: Time,
    frame_number: Option<u64>,
    path: String,
}

/// An open y4m stream: its header is written with its first frame, and every
/// later frame must match it.
struct Y4mStream {
    path: String,
    header: y4m::StreamHeader,
    writer: Box<dyn Write>,
}

impl Y4mStream {
    fn create(path: &str, header: y4m::StreamHeader, to_stdout: bool) -> Result<Y4mStream, Error> {
        let line = header.line().map_err(Error::unsupported)?;
        let mut writer: Box<dyn Write> = if to_stdout {
            Box::new(StdoutSink)
        } else {
            let file = std::fs::File::create(path)
                .map_err(|e| Error::io(format!("creating {path}"), e))?;
            Box::new(std::io::BufWriter::new(file))
        };
        writer
            .write_all(line.as_bytes())
            .map_err(|e| Error::io(format!("writing {path}"), e))?;
        Ok(Y4mStream {
            path: path.to_owned(),
            header,
            writer,
        })
    }

    fn append(
        &mut self,
        frame: &stillframe::Frame,
        header: y4m::StreamHeader,
    ) -> Result<(), Error> {
        if header != self.header {
            return Err(Error::unsupported(format!(
                "this frame's size or format differs from the first frame of the y4m stream \
                 {}; put {{i}} in the output pattern for a file per frame",
                self.path
            )));
        }
        y4m::write_frame(frame, &mut self.writer)
            .map_err(|e| Error::io(format!("writing {}", self.path), e))
    }

    fn close(mut self) -> Result<(), Error> {
        self.writer
            .flush()
            .map_err(|e| Error::io(format!("writing {}", self.path), e))
    }
}

/// Standard output as a `Write` whose reader going away ends the process quietly.
struct StdoutSink;

impl Write for StdoutSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Err(error) = output::bytes(data) {
            output::stop(&error);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Images decoded but not yet written: the workers wait beyond this.
const IMAGES_IN_FLIGHT: usize = 4;

/// Frames asked for at once for y4m (each group decoded once; memory is this many
/// decoded frames).
const FRAMES_PER_GROUP: usize = 8;

/// The --at times, then one per --every interval over the track's presentation span
/// (its first frame to the end of its last): what the frames say, not a duration a
/// container may state wrongly (0, or "unknown" read as 27 hours).
fn requested_times(args: &GrabArgs, generator: &ImageGenerator) -> Result<Vec<Time>, Error> {
    let needs_span =
        args.every.is_some() || args.at.iter().any(|at| matches!(at, TimeArg::Share(_)));
    let span = if needs_span {
        generator.presentation_span()?
    } else {
        None
    };
    let mut times: Vec<Time> = args.at.iter().map(|at| at.resolve(span)).collect();
    if let (Some(step), Some((start, end))) = (args.every, span) {
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

fn options(args: &GrabArgs, threads: usize) -> GeneratorOptions {
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
        threads,
        ..GeneratorOptions::default()
    }
}

pub(crate) fn format_of(pattern: &str) -> Result<Format, Error> {
    let extension = Path::new(pattern)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("png") => Ok(Format::Png),
        Some("jpg" | "jpeg") => Ok(Format::Jpg),
        Some("webp") => Ok(Format::Webp),
        Some("y4m") => Ok(Format::Y4m),
        _ => Err(Error::unsupported(format!(
            "output {pattern:?}: the extension must be .png, .jpg, .jpeg, .webp or .y4m \
             (or say --format)"
        ))),
    }
}

/// Writes `image` to `path` (see [`encode`]).
pub(crate) fn save(
    image: &image::DynamicImage,
    path: &Path,
    format: Format,
    quality: u8,
) -> Result<(), Error> {
    let file = std::fs::File::create(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    let mut writer = std::io::BufWriter::new(file);
    let writing = format!("writing {}", path.display());
    encode(image, format, quality, &mut writer)
        .map_err(|e| Error::io(writing.clone(), std::io::Error::other(e)))?;
    writer.flush().map_err(|e| Error::io(writing, e))?;
    Ok(())
}

/// Encodes `image` as PNG (any pixel type), JPEG at `quality` or lossless WebP (both
/// 8-bit: deeper images are rounded, alpha is dropped for JPEG).
fn encode(
    image: &image::DynamicImage,
    format: Format,
    quality: u8,
    writer: &mut impl Write,
) -> image::ImageResult<()> {
    use image::DynamicImage;
    match format {
        Format::Jpg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(writer, quality);
            match image {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageLuma16(_) => {
                    DynamicImage::ImageLuma8(image.to_luma8()).write_with_encoder(encoder)
                }
                _ => DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder),
            }
        }
        Format::Webp => {
            let encoder = image::codecs::webp::WebPEncoder::new_lossless(writer);
            if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8()).write_with_encoder(encoder)
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)
            }
        }
        Format::Png | Format::Y4m => {
            image.write_with_encoder(image::codecs::png::PngEncoder::new(writer))
        }
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
        save(&gradient(), &path, Format::Png, 90).unwrap();
        let back = image::open(&path).unwrap();
        assert_eq!(back, gradient());
    }

    #[test]
    fn jpeg_quality_is_applied_and_deep_images_are_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let low = dir.path().join("low.jpg");
        let high = dir.path().join("high.jpg");
        save(&gradient(), &low, Format::Jpg, 10).unwrap();
        save(&gradient(), &high, Format::Jpg, 100).unwrap();
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
        save(&gray, &path, Format::Jpg, 90).unwrap();
        assert_eq!(image::open(&path).unwrap().color(), image::ColorType::L8);
    }

    #[test]
    fn webp_is_lossless_at_eight_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frame.webp");
        let rgba = DynamicImage::ImageRgba8(gradient().to_rgba8());
        save(&rgba, &path, Format::Webp, 1).unwrap();
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
