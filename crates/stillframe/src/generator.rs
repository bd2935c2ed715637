//! `ImageGenerator`: the right frame for a requested time, decoded as cheaply as possible.

use std::num::NonZeroU32;
use std::path::Path;

use stillframe_core::{Error, Frame, Result, Time, Tolerance, TrackInfo, VideoDecoder};
use stillframe_seek::{plan, DecoderPosition, FrameIndex, Plan, Start};

use crate::render::{render, RenderSettings};
use crate::{codecs, Asset, GeneratorOptions};

/// An image made for a requested time.
#[derive(Debug, Clone)]
pub struct GeneratedImage {
    /// The picture, ready to save or display.
    pub image: image::RgbImage,
    /// The time that was asked for.
    pub requested: Time,
    /// The presentation time of the frame the image shows (`actualTime` in AVFoundation).
    pub actual: Time,
}

/// A decoded frame made for a requested time, without conversion to RGB.
#[derive(Debug, Clone)]
pub struct GeneratedFrame {
    /// The decoded planes, codec cropping applied.
    pub frame: Frame,
    /// The time that was asked for.
    pub requested: Time,
    /// The presentation time of the frame.
    pub actual: Time,
}

/// Makes still images of a video track at requested times.
///
/// The counterpart of `AVAssetImageGenerator`; see [`GeneratorOptions`] for the settings
/// and their AVFoundation names. Requests are independent: one that fails (a frame
/// lost to truncation, a time past the end) leaves the generator ready for the next.
///
/// Between requests the generator keeps its decoder running: a request that lies
/// ahead in the same group of pictures continues from where the last one stopped
/// instead of decoding again from the keyframe.
///
/// ```no_run
/// use stillframe::{GeneratorOptions, ImageGenerator, Time, Tolerance};
///
/// let options = GeneratorOptions { tolerance: Tolerance::ZERO, ..Default::default() };
/// let mut generator = ImageGenerator::open("clip.mp4", options)?;
/// let image = generator.image_at("2.5".parse::<Time>()?)?;
/// println!("asked for {}, got the frame at {:.3} s", image.requested, image.actual.as_secs_f64());
/// image.image.save("frame.png")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ImageGenerator {
    asset: Asset,
    options: GeneratorOptions,
    track: TrackInfo,
    timescale: NonZeroU32,
    index: FrameIndex,
    decoder: std::result::Result<Box<dyn VideoDecoder>, Error>,
    /// Random access points whose bitstream has been checked.
    verified_random_access: Vec<u32>,
    /// Sync samples the bitstream showed are not random access points.
    demoted: Vec<u32>,
    /// False while a lazily indexed container has more to index.
    fully_indexed: bool,
    position: Option<DecoderPosition>,
    /// The last frame decoded, so asking for the same time twice decodes nothing.
    last_frame: Option<Frame>,
    frames_decoded: u64,
}

impl std::fmt::Debug for ImageGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageGenerator")
            .field("track", &self.track.index)
            .field("options", &self.options)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl ImageGenerator {
    /// Opens `path` and makes a generator for its first video track.
    pub fn open(path: impl AsRef<Path>, options: GeneratorOptions) -> Result<ImageGenerator> {
        ImageGenerator::new(Asset::open_with_limits(path, options.limits)?, options)
    }

    /// A generator for the first video track of `asset`.
    ///
    /// Fails when there is no video track. A track whose codec cannot be decoded still
    /// gives a generator, whose every request fails with that reason
    /// ([`Error::Unsupported`]), so batch callers get one result per request.
    pub fn new(asset: Asset, options: GeneratorOptions) -> Result<ImageGenerator> {
        let track = asset
            .first_video_track()
            .cloned()
            .ok_or_else(|| Error::unsupported("no video track in the file"))?;
        let index = FrameIndex::new(asset.demuxer.samples(track.index)?);
        let decoder = codecs::create_decoder(&track, &asset.limits);
        Ok(ImageGenerator {
            timescale: track.timescale,
            options,
            index,
            decoder,
            verified_random_access: Vec::new(),
            demoted: Vec::new(),
            fully_indexed: false,
            position: None,
            last_frame: None,
            frames_decoded: 0,
            track,
            asset,
        })
    }

    /// The asset this generator reads.
    pub fn asset(&self) -> &Asset {
        &self.asset
    }

    /// The settings in force.
    pub fn options(&self) -> &GeneratorOptions {
        &self.options
    }

    /// Changes the settings for later requests.
    pub fn set_options(&mut self, options: GeneratorOptions) {
        self.options = options;
    }

    /// Samples sent to the decoder since the generator was made: the work done.
    pub fn frames_decoded(&self) -> u64 {
        self.frames_decoded
    }

    /// The image for `requested`, within the tolerance of the options.
    ///
    /// `copyCGImage(at:actualTime:)` / `image(at:)` in AVFoundation.
    pub fn image_at(&mut self, requested: Time) -> Result<GeneratedImage> {
        let GeneratedFrame { frame, actual, .. } = self.frame_at(requested)?;
        let video = self
            .track
            .video
            .clone()
            .unwrap_or_else(|| default_video(&frame));
        let format = self.decoder.as_ref().map(|d| d.format().clone()).ok();
        let settings = RenderSettings::new(&video, format.as_ref(), &frame, &self.options);
        let image = render(&frame, &settings)?;
        Ok(GeneratedImage {
            image,
            requested,
            actual,
        })
    }

    /// The decoded frame for `requested`, planes as the decoder gave them.
    pub fn frame_at(&mut self, requested: Time) -> Result<GeneratedFrame> {
        let chosen = self.plan(requested)?;
        let frame = match &self.last_frame {
            Some(frame) if frame.pts == chosen.target.pts => frame.clone(),
            _ => self.decode(chosen)?,
        };
        Ok(GeneratedFrame {
            actual: Time::from_ticks(frame.pts, self.timescale),
            frame,
            requested,
        })
    }

    /// Plans `requested`, demoting sync samples the bitstream says are not entry points.
    fn plan(&mut self, requested: Time) -> Result<Plan> {
        self.extend_index(requested)?;
        loop {
            let cached = self.last_frame.as_ref().map(|f| f.pts);
            let mut chosen = plan(
                &self.index,
                self.timescale.get(),
                requested,
                self.options.tolerance,
                self.position.as_ref(),
            )?;
            if let Some(pts) = cached {
                chosen = self.prefer_cached(chosen, pts, requested)?;
            }
            let Start::Restart { from } = chosen.start else {
                return Ok(chosen);
            };
            if self.verified_random_access.contains(&from) || !self.index.is_random_access(from) {
                return Ok(chosen);
            }
            let decoder = self.decoder.as_ref().map_err(Error::duplicate)?;
            let packet = self.asset.demuxer.read_sample(self.track.index, from)?;
            if decoder.is_random_access_point(&packet) {
                self.verified_random_access.push(from);
                return Ok(chosen);
            }
            log::debug!("sample {from} is marked sync but is not a random access point");
            self.index.demote(from);
            self.demoted.push(from);
        }
    }

    /// Lets a lazily indexed container read as far as `requested` needs.
    fn extend_index(&mut self, requested: Time) -> Result<()> {
        if self.fully_indexed {
            return Ok(());
        }
        let track = self.track.index;
        self.fully_indexed = self.asset.demuxer.index_until(track, requested)?;
        let samples = self.asset.demuxer.samples(track)?;
        if samples.len() != self.index.sample_count() {
            self.index = FrameIndex::new(samples);
            for &sample in &self.demoted {
                self.index.demote(sample);
            }
        }
        Ok(())
    }

    /// A frame already in hand costs nothing: when the request accepts it, it beats
    /// any plan that would decode.
    fn prefer_cached(&self, chosen: Plan, cached_pts: i64, requested: Time) -> Result<Plan> {
        if chosen.cost == 0 || chosen.target.pts == cached_pts {
            return Ok(chosen);
        }
        let (low, high) = self.options.tolerance.window(requested);
        let cached = self.actual_time(cached_pts);
        let in_window = low <= cached && cached <= high;
        let exact = plan(
            &self.index,
            self.timescale.get(),
            requested,
            Tolerance::ZERO,
            None,
        );
        let on_screen = exact.is_ok_and(|p| p.target.pts == cached_pts);
        let target = self
            .index
            .frame(self.index.positions_between(cached_pts, cached_pts).start);
        match target {
            Some(target) if in_window || on_screen => Ok(Plan {
                target,
                start: Start::Continue,
                cost: 0,
            }),
            _ => Ok(chosen),
        }
    }

    /// Runs the decoder until the planned frame comes out.
    fn decode(&mut self, chosen: Plan) -> Result<Frame> {
        let result = self.decode_inner(chosen);
        if result.is_err() {
            // The decoder's state after a failure is unknown: start afresh next time.
            self.position = None;
        }
        result
    }

    fn decode_inner(&mut self, chosen: Plan) -> Result<Frame> {
        let track = self.track.index;
        let sample_count = u32::try_from(self.index.sample_count()).unwrap_or(u32::MAX);
        let decoder = self.decoder.as_mut().map_err(|e| e.duplicate())?;
        let mut position = match (chosen.start, self.position) {
            (Start::Continue, Some(position)) => position,
            (start, _) => {
                // A plan continues only a running decoder; without one, start over.
                let from = match start {
                    Start::Restart { from } => from,
                    Start::Continue => 0,
                };
                decoder.reset()?;
                DecoderPosition {
                    started_at: from,
                    next_sample: from,
                    last_output_pts: None,
                }
            }
        };
        let target = chosen.target;
        let mut finished = false;
        loop {
            while let Some(frame) = decoder.receive_frame()? {
                position.last_output_pts = Some(frame.pts);
                if frame.pts == target.pts {
                    // After an early stop, the decoder cannot take the samples that follow.
                    let stopped_early = finished && position.next_sample < sample_count;
                    self.position = (!stopped_early).then_some(position);
                    self.last_frame = Some(frame.clone());
                    return Ok(frame);
                }
                if frame.pts > target.pts && position.next_sample > target.sample {
                    return Err(Error::codec(format!(
                        "the decoder skipped the frame at {} (sample {})",
                        self.actual_time(target.pts),
                        target.sample
                    )));
                }
            }
            if finished {
                return Err(Error::codec(format!(
                    "the decoder gave no picture for the frame at {} (sample {})",
                    self.actual_time(target.pts),
                    target.sample
                )));
            }
            if position.next_sample >= sample_count {
                decoder.finish()?;
                finished = true;
                continue;
            }
            let packet = match self.asset.demuxer.read_sample(track, position.next_sample) {
                Ok(packet) => packet,
                Err(error) if position.next_sample > target.sample => {
                    // The target is already in the decoder; a later sample being lost
                    // (a truncated file) only means flushing early.
                    log::debug!("stopping early at sample {}: {error}", position.next_sample);
                    decoder.finish()?;
                    finished = true;
                    continue;
                }
                Err(error) => return Err(error),
            };
            position.next_sample += 1;
            self.frames_decoded += 1;
            decoder.send_packet(&packet)?;
        }
    }

    fn actual_time(&self, pts: i64) -> Time {
        Time::from_ticks(pts, self.timescale)
    }
}

/// Picture properties for a track whose container said nothing about them.
fn default_video(frame: &Frame) -> stillframe_core::VideoInfo {
    stillframe_core::VideoInfo {
        width: frame.width,
        height: frame.height,
        orientation: Default::default(),
        pixel_aspect: None,
        clean_aperture: None,
        colour: Default::default(),
    }
}
