//! `ImageGenerator`: the right frame for each requested time, decoded as cheaply as
//! possible, one at a time or in batches, synchronously, with callbacks, or async.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use stillframe_core::{ColourDescription, Error, Frame, Result, Time, TrackInfo};

use crate::asynchronous::{ImageFuture, ImageStream};
use crate::batch::run_batch;
use crate::render::{render, RenderSettings};
use crate::session::Session;
use crate::{Asset, AssetInfo, GeneratorOptions};

/// An image made for a requested time.
#[derive(Debug, Clone)]
pub struct GeneratedImage {
    /// The picture, ready to save or display, in the
    /// [`crate::GeneratorOptions::output_format`] asked for (8-bit RGB by default).
    pub image: image::DynamicImage,
    /// What the pixels are: primaries and transfer (the source's, or BT.709 after
    /// tone mapping), matrix 0 for RGB (or the luma weights' matrix for luma
    /// images), full range.
    pub colour: ColourDescription,
    /// The time that was asked for.
    pub requested: Time,
    /// The presentation time of the frame the image shows (`actualTime` in AVFoundation).
    pub actual: Time,
    /// Samples the decoder was fed for this request (0 when a frame already decoded,
    /// or decoded for an earlier request of the same batch, served it).
    pub frames_decoded: u64,
}

/// A decoded frame made for a requested time, without conversion to RGB.
///
/// `frame` is the decoder's picture as it is, codec cropping applied:
/// - `frame.format`: chroma subsampling (4:2:0, 4:2:2, 4:4:4 or monochrome) and bit
///   depth; planes are Y, U, V (Y alone for monochrome), 8-bit samples as bytes,
///   9–12-bit samples as little-endian `u16` (the value in the low bits, not scaled);
/// - each [`stillframe_core::Plane`] has its own `stride` in bytes (row padding is
///   not picture), `width` in samples and `height` in rows — chroma planes are
///   `ceil(width / 2)` wide for 4:2:0 and 4:2:2, `ceil(height / 2)` tall for 4:2:0;
/// - `frame.pts` is in the track's timescale ([`ImageGenerator::track`]), `actual`
///   the same instant as a [`Time`];
/// - `frame.colour` is what the bitstream says; `settings.colour` adds what the codec
///   configuration and the container say, and the rest of `settings` the aperture,
///   pixel aspect and transform, so [`crate::convert`]`(&frame, &settings)` makes the
///   image [`ImageGenerator::image_at`] would.
#[derive(Debug, Clone)]
pub struct GeneratedFrame {
    /// The decoded planes, codec cropping applied.
    pub frame: Frame,
    /// How the generator would render this frame with its current options.
    pub settings: RenderSettings,
    /// The time that was asked for.
    pub requested: Time,
    /// The presentation time of the frame.
    pub actual: Time,
    /// Samples the decoder was fed for this request.
    pub frames_decoded: u64,
}

/// How one request of a batch ended (`AVAssetImageGenerator.Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenerationResult {
    /// An image was made.
    Succeeded,
    /// The request failed; the error says why.
    Failed,
    /// The request was cancelled before it produced an image.
    Cancelled,
}

/// The outcome of one request of a batch, as handed to a callback or yielded by a stream.
#[derive(Debug)]
pub struct BatchItem {
    /// Position of the request in the batch, from 0.
    pub index: usize,
    /// The time that was asked for.
    pub requested: Time,
    /// The image, or why there is none ([`Error::Cancelled`] when cancelled).
    pub outcome: Result<GeneratedImage>,
}

impl BatchItem {
    /// Succeeded, failed or cancelled.
    pub fn result(&self) -> GenerationResult {
        match &self.outcome {
            Ok(_) => GenerationResult::Succeeded,
            Err(Error::Cancelled) => GenerationResult::Cancelled,
            Err(_) => GenerationResult::Failed,
        }
    }

    /// The presentation time of the frame the image shows, when one was made.
    pub fn actual(&self) -> Option<Time> {
        self.outcome.as_ref().ok().map(|made| made.actual)
    }
}

/// What every clone of a generator shares.
pub(crate) struct Shared {
    session: Mutex<Session>,
    options: Mutex<GeneratorOptions>,
    /// Bumped by `cancel_all`: work started under an older epoch stops.
    epoch: AtomicU64,
    track: TrackInfo,
    info: AssetInfo,
}

impl Shared {
    pub(crate) fn lock_session(&self) -> MutexGuard<'_, Session> {
        // A panic elsewhere cannot leave the session inconsistent in a way that matters
        // more than answering: every request re-plans from the index.
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn options(&self) -> GeneratorOptions {
        *self.options.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether the work of one request or batch should stop.
pub(crate) struct Cancel {
    own: Arc<AtomicBool>,
    shared: Arc<Shared>,
    epoch: u64,
}

impl Cancel {
    fn new(shared: &Arc<Shared>, own: Arc<AtomicBool>) -> Cancel {
        Cancel {
            own,
            epoch: shared.epoch.load(Ordering::Acquire),
            shared: Arc::clone(shared),
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.own.load(Ordering::Acquire) || self.shared.epoch.load(Ordering::Acquire) != self.epoch
    }
}

/// Makes still images of a video track at requested times.
///
/// The counterpart of `AVAssetImageGenerator`; see [`GeneratorOptions`] for the settings
/// and their AVFoundation names. A generator is a cheap handle: clones share one file,
/// one index and one decoder, and every method takes `&self`, so it can be used from
/// several threads. Requests are independent: one that fails (a frame lost to
/// truncation, a time past the end) leaves the generator ready for the next.
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
/// Single requests keep a decoder running between calls, so a request that lies ahead
/// in the same group of pictures continues where the last one stopped. Batches plan
/// all their times first and decode each needed group of pictures once, on
/// [`GeneratorOptions::threads`] workers, skipping frames no other frame refers to.
///
/// ```no_run
/// use stillframe::{GeneratorOptions, ImageGenerator, Time, Tolerance};
///
/// let options = GeneratorOptions { tolerance: Tolerance::ZERO, ..Default::default() };
/// let generator = ImageGenerator::open("clip.mp4", options)?;
/// let image = generator.image_at("2.5".parse::<Time>()?)?;
/// println!("asked for {}, got the frame at {:.3} s", image.requested, image.actual.as_secs_f64());
/// image.image.save("frame.png")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ImageGenerator {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ImageGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageGenerator")
            .field("track", &self.shared.track.index)
            .field("options", &self.shared.options())
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
        let info = asset.info().clone();
        let session = Session::new(asset)?;
        Ok(ImageGenerator {
            shared: Arc::new(Shared {
                track: session.track().clone(),
                session: Mutex::new(session),
                options: Mutex::new(options),
                epoch: AtomicU64::new(0),
                info,
            }),
        })
    }

    /// What the file holds.
    pub fn asset_info(&self) -> &AssetInfo {
        &self.shared.info
    }

    /// The video track images come from.
    pub fn track(&self) -> &TrackInfo {
        &self.shared.track
    }

    /// The settings in force.
    pub fn options(&self) -> GeneratorOptions {
        self.shared.options()
    }

    /// Changes the settings for requests made from now on.
    pub fn set_options(&self, options: GeneratorOptions) {
        *self
            .shared
            .options
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = options;
    }

    /// Samples sent to decoders since the generator was made: the work done.
    pub fn frames_decoded(&self) -> u64 {
        self.shared.lock_session().frames_decoded()
    }

    /// The image for `requested`, within the tolerance of the options.
    pub fn image_at(&self, requested: Time) -> Result<GeneratedImage> {
        let never = || false;
        self.image_with(requested, &never)
    }

    /// The decoded frame for `requested`, planes as the decoder gave them (layout,
    /// strides, timestamp and colour: [`GeneratedFrame`]), with the settings that
    /// [`crate::convert`] needs to make the image [`ImageGenerator::image_at`] would.
    pub fn frame_at(&self, requested: Time) -> Result<GeneratedFrame> {
        let options = self.shared.options();
        let mut session = self.shared.lock_session();
        let decoded = session.frame_for(requested, options.tolerance, &|| false)?;
        Ok(GeneratedFrame {
            actual: session.time(decoded.frame.pts),
            settings: session.render_settings(&decoded.frame, &options),
            frame: decoded.frame,
            requested,
            frames_decoded: decoded.frames_decoded,
        })
    }

    fn image_with(&self, requested: Time, cancelled: &dyn Fn() -> bool) -> Result<GeneratedImage> {
        let options = self.shared.options();
        let (decoded, settings, actual) = {
            let mut session = self.shared.lock_session();
            let decoded = session.frame_for(requested, options.tolerance, cancelled)?;
            let settings = session.render_settings(&decoded.frame, &options);
            let actual = session.time(decoded.frame.pts);
            (decoded, settings, actual)
        };
        // Rendering needs no lock: other requests may decode meanwhile.
        let rendered = render(&decoded.frame, &settings)?;
        Ok(GeneratedImage {
            image: rendered.image,
            colour: rendered.colour,
            requested,
            actual,
            frames_decoded: decoded.frames_decoded,
        })
    }

    /// Images for many times at once, in request order.
    ///
    /// The whole set is planned first: each group of pictures some request needs is
    /// decoded once, groups nobody needs are skipped, duplicate times share a frame, and
    /// non-reference frames that are not themselves wanted are never decoded.
    pub fn images_at(&self, times: &[Time]) -> Vec<Result<GeneratedImage>> {
        let options = self.shared.options();
        let cancel = Cancel::new(&self.shared, Arc::new(AtomicBool::new(false)));
        let slots: Vec<Mutex<Option<Result<GeneratedImage>>>> =
            times.iter().map(|_| Mutex::new(None)).collect();
        run_batch(&self.shared, times, &options, &cancel, &|index, outcome| {
            if let Some(slot) = slots.get(index) {
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
            }
        });
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(PoisonError::into_inner)
                    .unwrap_or_else(|| Err(Error::codec("request left unanswered")))
            })
            .collect()
    }

    /// Makes the image for `requested` on a worker thread and hands it to `handler`.
    ///
    /// `handler` runs exactly once, on that worker, with the image (whose `actual` is the
    /// frame's time) or the error; [`Error::Cancelled`] after [`ImageGenerator::cancel_all`].
    pub fn generate_image<H>(&self, requested: Time, handler: H)
    where
        H: FnOnce(Result<GeneratedImage>) + Send + 'static,
    {
        self.spawn_single(requested, Arc::new(AtomicBool::new(false)), handler);
    }

    pub(crate) fn spawn_single<H>(&self, requested: Time, own: Arc<AtomicBool>, handler: H)
    where
        H: FnOnce(Result<GeneratedImage>) + Send + 'static,
    {
        let generator = self.clone();
        let cancel = Cancel::new(&self.shared, own);
        let spawned = std::thread::Builder::new()
            .name("stillframe-image".into())
            .spawn(move || {
                let outcome = if cancel.is_cancelled() {
                    Err(Error::Cancelled)
                } else {
                    generator.image_with(requested, &|| cancel.is_cancelled())
                };
                handler(outcome);
            });
        if let Err(error) = spawned {
            log::error!("could not start a worker thread: {error}");
        }
    }

    /// Makes images for `times` on worker threads, calling `handler` once per requested
    /// time, in completion order, with the request's index, time and outcome.
    ///
    /// Returns at once; the handle cancels this batch or waits for it. Every request is
    /// answered exactly once, cancelled ones with [`GenerationResult::Cancelled`].
    pub fn generate_images<H>(
        &self,
        times: impl IntoIterator<Item = Time>,
        mut handler: H,
    ) -> BatchHandle
    where
        H: FnMut(BatchItem) + Send + 'static,
    {
        let times: Vec<Time> = times.into_iter().collect();
        let own = Arc::new(AtomicBool::new(false));
        let cancel = Cancel::new(&self.shared, Arc::clone(&own));
        let shared = Arc::clone(&self.shared);
        let options = self.shared.options();
        let spawned = std::thread::Builder::new()
            .name("stillframe-batch".into())
            .spawn(move || {
                let handler = Mutex::new(&mut handler);
                run_batch(&shared, &times, &options, &cancel, &|index, outcome| {
                    let item = BatchItem {
                        index,
                        requested: times.get(index).copied().unwrap_or(Time::ZERO),
                        outcome,
                    };
                    let mut handler = handler.lock().unwrap_or_else(PoisonError::into_inner);
                    (*handler)(item);
                });
            });
        let thread = spawned
            .map_err(|error| log::error!("could not start a batch thread: {error}"))
            .ok();
        BatchHandle { own, thread }
    }

    /// Cancels every request not yet answered, from any thread: each completes with
    /// [`GenerationResult::Cancelled`] (exactly once). Later requests are not affected.
    pub fn cancel_all(&self) {
        self.shared.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The image for `requested`, as a future. No runtime is needed: the work runs on a
    /// thread of ours and wakes the future. Dropping the future cancels the request.
    pub fn image_at_async(&self, requested: Time) -> ImageFuture {
        ImageFuture::start(self, requested)
    }

    /// Images for `times` as a stream, in completion order, each item carrying its
    /// request's index and time. Dropping the stream cancels the requests not yet made.
    pub fn images(&self, times: impl IntoIterator<Item = Time>) -> ImageStream {
        ImageStream::start(self, times)
    }
}

/// A batch started by [`ImageGenerator::generate_images`].
///
/// Dropping the handle lets the batch run on; [`BatchHandle::cancel_all`] stops it.
#[derive(Debug)]
pub struct BatchHandle {
    own: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BatchHandle {
    /// Cancels every request of this batch not yet answered; callable from any thread.
    pub fn cancel_all(&self) {
        self.own.store(true, Ordering::Release);
    }

    /// True once every request has been answered.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Blocks until every request has been answered.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("a batch thread panicked");
            }
        }
    }

    pub(crate) fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.own)
    }
}
