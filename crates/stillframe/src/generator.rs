//! `ImageGenerator`: the right frame for each request, decoded as cheaply as the
//! file allows, one at a time or in batches, synchronously, with callbacks, or async.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use stillframe_core::{Error, Result, Time, TrackInfo, TrackKind};
use stillframe_seek::Target;

use crate::asynchronous::{ImageFuture, ImageStream};
use crate::engine::{Engine, Job, Output, Request, Sink, Want};
use crate::source::Source;
use crate::{Asset, AssetInfo, BatchItem, GeneratedFrame, GeneratedImage, GeneratorOptions};

/// What every clone of a generator shares; the last one gone closes the engine.
pub(crate) struct Handle {
    pub(crate) engine: Arc<Engine>,
    options: Mutex<GeneratorOptions>,
    info: AssetInfo,
    track: TrackInfo,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.engine.close();
    }
}

/// Makes still images of a video track at requested times.
///
/// The counterpart of `AVAssetImageGenerator`; see [`GeneratorOptions`] for the
/// settings and their AVFoundation names. A generator is a cheap handle: clones
/// share one file, one index and one pool of worker threads (with a decoder each),
/// and every method takes `&self`, so it can be used from several threads.
///
/// | stillframe | AVFoundation |
/// |---|---|
/// | [`ImageGenerator::image_at`] | `copyCGImage(at:actualTime:)`, `image(at:)` |
/// | [`ImageGenerator::images_at`] | — (a batch, answered in request order) |
/// | [`ImageGenerator::generate_image`] | `generateCGImageAsynchronously(for:completionHandler:)` |
/// | [`ImageGenerator::generate_images`] | `generateCGImagesAsynchronously(forTimes:completionHandler:)` |
/// | [`ImageGenerator::cancel_all`] | `cancelAllCGImageGeneration()` |
/// | [`ImageGenerator::image_at_async`] | `image(at:) async` |
/// | [`ImageGenerator::images`] | `images(for:)` (an `AsyncSequence`) |
///
/// # Which frame, and what it costs
/// The frame a request gets depends only on the file, the time and the tolerance —
/// never on what was asked before, on which thread, or in which form (the rule is
/// on [`crate::Tolerance`]). Every form is a batch: a request alone is a batch of
/// one. A batch is planned as a whole: each group of pictures some request needs is
/// decoded once, on the generator's workers ([`GeneratorOptions::threads`]),
/// skipping frames no other frame refers to, and each result is handed over as soon
/// as it exists. A decoder left standing where a request ended (and the frames it
/// made on the way) makes the next request in the same group of pictures cheaper.
///
/// # Memory
/// One decoder per worker, one decode run's packet at a time, and the results not
/// yet handed over: a callback or stream consumer that writes each image as it
/// arrives holds memory flat however many requests it makes. A request whose data
/// is gone (a truncated file) or whose image would be too large fails alone.
///
/// ```
/// use stillframe::{GeneratorOptions, ImageGenerator, Time, Tolerance};
///
/// # let clip = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/high_bframes.mp4");
/// let options = GeneratorOptions { tolerance: Tolerance::ZERO, ..Default::default() };
/// let generator = ImageGenerator::open(clip, options)?;
/// let image = generator.image_at("2.5".parse::<Time>()?)?;
/// // 25 frames a second: the frame on screen at 2.5 s shows from 2.48 s.
/// assert_eq!(image.actual, Time::new(62, 25).unwrap());
/// println!("asked for {}, got the frame at {:.3} s", image.requested, image.actual.as_secs_f64());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ImageGenerator {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for ImageGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageGenerator")
            .field("track", &self.handle.track.index)
            .field("options", &self.options())
            .finish_non_exhaustive()
    }
}

impl ImageGenerator {
    /// Opens `path` and makes a generator for its video track (the first, or the
    /// one [`GeneratorOptions::track`] names).
    pub fn open(path: impl AsRef<Path>, options: GeneratorOptions) -> Result<ImageGenerator> {
        ImageGenerator::new(Asset::open_with_limits(path, options.limits)?, options)
    }

    /// A generator for the video track of `asset` that [`GeneratorOptions::track`]
    /// names, or its first video track.
    ///
    /// Fails when there is no such video track. A track whose codec cannot be
    /// decoded still gives a generator, whose every request fails with that reason
    /// ([`Error::Unsupported`]), so batch callers get one result per request.
    pub fn new(asset: Asset, options: GeneratorOptions) -> Result<ImageGenerator> {
        let info = asset.info().clone();
        let track = match options.track {
            Some(index) => asset
                .tracks()
                .get(index)
                .filter(|track| track.kind == TrackKind::Video)
                .cloned()
                .ok_or_else(|| {
                    Error::unsupported(format!("track {index} is not a video track of the file"))
                })?,
            None => asset
                .first_video_track()
                .cloned()
                .ok_or_else(|| Error::unsupported("no video track in the file"))?,
        };
        let source = Source::new(asset.demuxer, track.clone(), options.limits)?;
        let engine = Engine::new(source, options.worker_threads());
        Ok(ImageGenerator {
            handle: Arc::new(Handle {
                engine,
                options: Mutex::new(options),
                info,
                track,
            }),
        })
    }

    /// What the file holds.
    pub fn asset_info(&self) -> &AssetInfo {
        &self.handle.info
    }

    /// The video track images come from.
    pub fn track(&self) -> &TrackInfo {
        &self.handle.track
    }

    /// The settings in force.
    pub fn options(&self) -> GeneratorOptions {
        *self
            .handle
            .options
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the settings for requests made from now on. The worker count and the
    /// track are fixed when the generator is made.
    pub fn set_options(&self, options: GeneratorOptions) {
        *self
            .handle
            .options
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = options;
    }

    /// Samples fed to decoders since the generator was made: the work done.
    pub fn frames_decoded(&self) -> u64 {
        self.handle.engine.frames_decoded()
    }

    /// The presentation span of the track: from its first frame's time to the end of
    /// its last frame. Reads a lazily indexed container (Matroska without Cues) to
    /// its end. Thumbnail schedules use this, whatever duration a container claims.
    pub fn presentation_span(&self) -> Result<Option<(Time, Time)>> {
        self.handle.engine.source().span(true)
    }

    /// Frames the track shows, counted over the whole index (which it completes).
    pub fn frame_count(&self) -> Result<usize> {
        self.handle.engine.source().frame_count(true)
    }

    /// The image for `requested`, within the tolerance of the options.
    pub fn image_at(&self, requested: Time) -> Result<GeneratedImage> {
        self.images_at(&[requested])
            .pop()
            .unwrap_or_else(|| Err(Error::internal("a request was left unanswered")))
    }

    /// The image of frame number `number` (in presentation order, from 0, as ffmpeg
    /// numbers frames with `select=eq(n,N)`).
    pub fn image_at_frame(&self, number: u64) -> Result<GeneratedImage> {
        self.images_at_frames(&[number])
            .pop()
            .unwrap_or_else(|| Err(Error::internal("a request was left unanswered")))
    }

    /// The decoded frame for `requested`, planes as the decoder gave them (layout,
    /// strides, timestamp and colour: [`GeneratedFrame`]), with the settings that
    /// [`crate::convert`] needs to make the image [`ImageGenerator::image_at`] would.
    pub fn frame_at(&self, requested: Time) -> Result<GeneratedFrame> {
        self.frames_at(&[requested])
            .pop()
            .unwrap_or_else(|| Err(Error::internal("a request was left unanswered")))
    }

    /// Images for many times at once, in request order (see the type's docs for how
    /// a batch is planned and decoded).
    pub fn images_at(&self, times: &[Time]) -> Vec<Result<GeneratedImage>> {
        let requests = times.iter().map(|&time| self.time_request(time)).collect();
        self.collect(requests, Want::Image)
            .into_iter()
            .map(|outcome| outcome.and_then(into_image))
            .collect()
    }

    /// Images of many frame numbers at once, in request order.
    pub fn images_at_frames(&self, numbers: &[u64]) -> Vec<Result<GeneratedImage>> {
        let requests = numbers.iter().map(|&n| frame_request(n)).collect();
        self.collect(requests, Want::Image)
            .into_iter()
            .map(|outcome| outcome.and_then(into_image))
            .collect()
    }

    /// Decoded frames for many times at once, in request order.
    pub fn frames_at(&self, times: &[Time]) -> Vec<Result<GeneratedFrame>> {
        let requests = times.iter().map(|&time| self.time_request(time)).collect();
        self.collect(requests, Want::Frame)
            .into_iter()
            .map(|outcome| outcome.and_then(into_frame))
            .collect()
    }

    /// Decoded frames of many frame numbers at once, in request order.
    pub fn frames_at_frames(&self, numbers: &[u64]) -> Vec<Result<GeneratedFrame>> {
        let requests = numbers.iter().map(|&n| frame_request(n)).collect();
        self.collect(requests, Want::Frame)
            .into_iter()
            .map(|outcome| outcome.and_then(into_frame))
            .collect()
    }

    /// Makes the image for `requested` on a worker and hands it to `handler`.
    ///
    /// `handler` runs exactly once, on a worker, with the image (whose `actual` is
    /// the frame's time) or the error; [`Error::Cancelled`] after
    /// [`ImageGenerator::cancel_all`]. Handlers should return quickly and must not
    /// wait for other requests of the same generator.
    pub fn generate_image<H>(&self, requested: Time, handler: H)
    where
        H: FnOnce(Result<GeneratedImage>) + Send + 'static,
    {
        let mut handler = Some(handler);
        let sink: Sink = Box::new(move |_, outcome| {
            if let Some(handler) = handler.take() {
                handler(outcome.and_then(into_image));
            }
        });
        let job = self.job(vec![self.time_request(requested)], Want::Image, None, sink);
        self.handle.engine.submit(job);
    }

    /// Makes images for `times` on the workers, calling `handler` once per requested
    /// time, in completion order, with the request's index, time and outcome.
    ///
    /// Returns at once; the handle cancels this batch or waits for it. Every request
    /// is answered exactly once, cancelled ones with
    /// [`crate::GenerationResult::Cancelled`]. Calls to `handler` never overlap.
    pub fn generate_images<H>(
        &self,
        times: impl IntoIterator<Item = Time>,
        mut handler: H,
    ) -> BatchHandle
    where
        H: FnMut(BatchItem) + Send + 'static,
    {
        let times: Vec<Time> = times.into_iter().collect();
        let requests = times.iter().map(|&time| self.time_request(time)).collect();
        let sink: Sink = Box::new(move |index, outcome| {
            let requested = times.get(index).copied().unwrap_or(Time::ZERO);
            handler(BatchItem {
                index,
                requested,
                outcome: outcome.and_then(into_image),
            });
        });
        let job = self.job(requests, Want::Image, None, sink);
        self.handle.engine.submit(Arc::clone(&job));
        BatchHandle {
            job,
            _generator: self.clone(),
        }
    }

    /// Cancels every request not yet answered, from any thread: each completes with
    /// [`crate::GenerationResult::Cancelled`] (exactly once). Later requests are not
    /// affected.
    pub fn cancel_all(&self) {
        self.handle.engine.cancel_all();
    }

    /// The image for `requested`, as a future. No runtime is needed: the work runs on
    /// the generator's workers and wakes the future. Nothing happens until the
    /// future is first polled; dropping it cancels the request.
    pub fn image_at_async(&self, requested: Time) -> ImageFuture {
        ImageFuture::new(self.clone(), self.time_request(requested))
    }

    /// Images for `times` as a stream, in completion order, each item carrying its
    /// request's index and time. Nothing happens until the stream is first polled;
    /// it then makes at most [`crate::STREAM_LOOKAHEAD`] results ahead of its
    /// consumer (or one decode run's, when a run serves more), and dropping it
    /// cancels the requests not yet made.
    pub fn images(&self, times: impl IntoIterator<Item = Time>) -> ImageStream {
        let times: Vec<Time> = times.into_iter().collect();
        ImageStream::new(self.clone(), times)
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.handle.engine
    }

    pub(crate) fn time_request(&self, time: Time) -> Request {
        Request {
            target: Target::Time(time, self.options().tolerance),
            requested: Some(time),
        }
    }

    pub(crate) fn job(
        &self,
        requests: Vec<Request>,
        want: Want,
        lookahead: Option<usize>,
        sink: Sink,
    ) -> Arc<Job> {
        Arc::new(Job::new(
            requests,
            want,
            self.options(),
            lookahead,
            self.handle.engine.epoch(),
            sink,
        ))
    }

    /// Runs `requests` as one job and waits for every answer.
    fn collect(&self, requests: Vec<Request>, want: Want) -> Vec<Result<Output>> {
        let count = requests.len();
        let slots: Arc<Mutex<Vec<Option<Result<Output>>>>> =
            Arc::new(Mutex::new((0..count).map(|_| None).collect()));
        let sink_slots = Arc::clone(&slots);
        let sink: Sink = Box::new(move |index, outcome| {
            let mut slots = sink_slots.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(outcome);
            }
        });
        let job = self.job(requests, want, None, sink);
        self.handle.engine.submit(Arc::clone(&job));
        job.wait();
        let mut slots = slots.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *slots)
            .into_iter()
            .map(|slot| {
                slot.unwrap_or_else(|| Err(Error::internal("a request was left unanswered")))
            })
            .collect()
    }
}

fn frame_request(number: u64) -> Request {
    Request {
        target: Target::Frame(number),
        requested: None,
    }
}

pub(crate) fn into_image(output: Output) -> Result<GeneratedImage> {
    match output {
        Output::Image(image) => Ok(image),
        Output::Frame(_) => Err(Error::internal("a frame was made where an image was asked")),
    }
}

fn into_frame(output: Output) -> Result<GeneratedFrame> {
    match output {
        Output::Frame(frame) => Ok(frame),
        Output::Image(_) => Err(Error::internal("an image was made where a frame was asked")),
    }
}

/// A batch started by [`ImageGenerator::generate_images`].
///
/// Dropping the handle lets the batch run on; [`BatchHandle::cancel_all`] stops it.
pub struct BatchHandle {
    job: Arc<Job>,
    _generator: ImageGenerator,
}

impl std::fmt::Debug for BatchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

impl BatchHandle {
    /// Cancels every request of this batch not yet answered; callable from any thread.
    pub fn cancel_all(&self) {
        self.job.cancelled.store(true, Ordering::Release);
    }

    /// True once every request has been answered.
    pub fn is_finished(&self) -> bool {
        self.job.is_done()
    }

    /// Blocks until every request has been answered.
    pub fn wait(self) {
        self.job.wait();
    }
}
