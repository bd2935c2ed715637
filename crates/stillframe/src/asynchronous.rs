//! Futures and streams over the generator's workers, following Rust's conventions:
//! nothing happens until the first poll, a stream works only a little ahead of its
//! consumer, and dropping either stops the work. No async runtime is needed: any
//! executor (or none, via `futures::executor::block_on`) can drive them.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::channel::{mpsc, oneshot};
use futures::Stream;
use stillframe_core::{Error, Result, Time};

use crate::engine::{Job, Request, Sink, Want};
use crate::generator::into_image;
use crate::{BatchItem, GeneratedImage, ImageGenerator};

/// Most results an [`ImageStream`] makes ahead of its consumer (or one decode
/// run's results, when a run serves more requests than this).
pub const STREAM_LOOKAHEAD: usize = 8;

/// The image for one time, from [`ImageGenerator::image_at_async`].
///
/// Lazy: the request starts at the first poll. Dropping the future before it
/// completes cancels the request.
#[must_use = "a future does nothing unless polled, and dropping it cancels the request"]
pub struct ImageFuture {
    generator: ImageGenerator,
    request: Option<Request>,
    started: Option<(oneshot::Receiver<Result<GeneratedImage>>, Arc<Job>)>,
}

impl std::fmt::Debug for ImageFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageFuture")
            .field("started", &self.started.is_some())
            .finish_non_exhaustive()
    }
}

impl ImageFuture {
    pub(crate) fn new(generator: ImageGenerator, request: Request) -> ImageFuture {
        ImageFuture {
            generator,
            request: Some(request),
            started: None,
        }
    }
}

impl Future for ImageFuture {
    type Output = Result<GeneratedImage>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(request) = this.request.take() {
            let (sender, receiver) = oneshot::channel();
            let mut sender = Some(sender);
            let sink: Sink = Box::new(move |_, outcome| {
                if let Some(sender) = sender.take() {
                    // The receiver may be gone: the caller no longer wants the image.
                    let _ = sender.send(outcome.and_then(into_image));
                }
            });
            let job = this.generator.job(vec![request], Want::Image, None, sink);
            this.generator.engine().submit(Arc::clone(&job));
            this.started = Some((receiver, job));
        }
        let Some((receiver, _)) = this.started.as_mut() else {
            return Poll::Ready(Err(Error::internal("a future was polled after completing")));
        };
        match Pin::new(receiver).poll(context) {
            Poll::Ready(Ok(outcome)) => Poll::Ready(outcome),
            // The job ended without answering: report it rather than hang.
            Poll::Ready(Err(oneshot::Canceled)) => Poll::Ready(Err(Error::Cancelled)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for ImageFuture {
    fn drop(&mut self) {
        if let Some((_, job)) = &self.started {
            job.cancelled.store(true, Ordering::Release);
        }
    }
}

/// Images for many times, in completion order, from [`ImageGenerator::images`].
///
/// Each item carries its request's index and time. Lazy: planning starts at the
/// first poll; after that at most [`STREAM_LOOKAHEAD`] results are made ahead of
/// the consumer. The stream ends after the last request is answered. Dropping it
/// cancels every request not yet answered.
#[must_use = "a stream does nothing unless polled, and dropping it cancels the requests"]
pub struct ImageStream {
    generator: ImageGenerator,
    times: Option<Vec<Time>>,
    started: Option<(mpsc::UnboundedReceiver<BatchItem>, Arc<Job>)>,
}

impl std::fmt::Debug for ImageStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageStream")
            .field("started", &self.started.is_some())
            .finish_non_exhaustive()
    }
}

impl ImageStream {
    pub(crate) fn new(generator: ImageGenerator, times: Vec<Time>) -> ImageStream {
        ImageStream {
            generator,
            times: Some(times),
            started: None,
        }
    }

    /// Cancels every request not yet answered; the stream then yields them as
    /// cancelled.
    pub fn cancel_all(&self) {
        if let Some((_, job)) = &self.started {
            job.cancelled.store(true, Ordering::Release);
            // What was never released to the workers is answered now.
            self.generator.engine().pump(job);
        }
    }

    /// Requests answered so far and requests in all: `(done, total)`.
    pub fn progress(&self) -> (usize, usize) {
        match (&self.started, &self.times) {
            (Some((_, job)), _) => job.progress(),
            (None, Some(times)) => (0, times.len()),
            (None, None) => (0, 0),
        }
    }

    fn start(&mut self, times: Vec<Time>) {
        let requests = times
            .iter()
            .map(|&time| self.generator.time_request(time))
            .collect();
        let (sender, receiver) = mpsc::unbounded();
        let sink: Sink = Box::new(move |index, outcome| {
            let item = BatchItem {
                index,
                requested: times.get(index).copied().unwrap_or(Time::ZERO),
                outcome: outcome.and_then(into_image),
            };
            // A closed channel means the stream was dropped; its job is cancelled.
            let _ = sender.unbounded_send(item);
        });
        let job = self
            .generator
            .job(requests, Want::Image, Some(STREAM_LOOKAHEAD), sink);
        self.generator.engine().submit(Arc::clone(&job));
        self.started = Some((receiver, job));
    }
}

impl Stream for ImageStream {
    type Item = BatchItem;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<BatchItem>> {
        let this = &mut *self;
        if let Some(times) = this.times.take() {
            this.start(times);
        }
        let Some((receiver, job)) = this.started.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(receiver).poll_next(context);
        if let Poll::Ready(Some(_)) = &polled {
            job.consumed();
            let job = Arc::clone(job);
            this.generator.engine().pump(&job);
        }
        polled
    }
}

impl Drop for ImageStream {
    fn drop(&mut self) {
        if let Some((_, job)) = &self.started {
            job.cancelled.store(true, Ordering::Release);
        }
    }
}
