//! Futures and streams over the generator's worker threads: no async runtime needed,
//! any executor (or none, via `futures::executor::block_on`) can drive them.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::channel::{mpsc, oneshot};
use futures::Stream;
use stillframe_core::{Error, Result, Time};

use crate::{BatchItem, GeneratedImage, ImageGenerator};

/// The image for one time, from [`ImageGenerator::image_at_async`].
///
/// Dropping it before it completes cancels the request.
#[derive(Debug)]
#[must_use = "a future does nothing unless polled, and dropping it cancels the request"]
pub struct ImageFuture {
    receiver: oneshot::Receiver<Result<GeneratedImage>>,
    cancel: Arc<AtomicBool>,
}

impl ImageFuture {
    pub(crate) fn start(generator: &ImageGenerator, requested: Time) -> ImageFuture {
        let (sender, receiver) = oneshot::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        generator.spawn_single(requested, Arc::clone(&cancel), move |outcome| {
            // The receiver may be gone: the caller no longer wants the image.
            let _ = sender.send(outcome);
        });
        ImageFuture { receiver, cancel }
    }
}

impl Future for ImageFuture {
    type Output = Result<GeneratedImage>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.receiver).poll(context) {
            Poll::Ready(Ok(outcome)) => Poll::Ready(outcome),
            // The worker ended without answering (it could not start): report it.
            Poll::Ready(Err(oneshot::Canceled)) => Poll::Ready(Err(Error::Cancelled)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for ImageFuture {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Release);
    }
}

/// Images for many times, in completion order, from [`ImageGenerator::images`].
///
/// Each item carries its request's index and time. The stream ends after the last
/// request is answered. Dropping it cancels every request not yet answered.
#[derive(Debug)]
#[must_use = "a stream does nothing unless polled, and dropping it cancels the requests"]
pub struct ImageStream {
    receiver: mpsc::UnboundedReceiver<BatchItem>,
    cancel: Arc<AtomicBool>,
}

impl ImageStream {
    pub(crate) fn start(
        generator: &ImageGenerator,
        times: impl IntoIterator<Item = Time>,
    ) -> ImageStream {
        let (sender, receiver) = mpsc::unbounded();
        let handle = generator.generate_images(times, move |item| {
            // A closed stream was dropped; its batch is being cancelled.
            let _ = sender.unbounded_send(item);
        });
        ImageStream {
            receiver,
            cancel: handle.cancel_flag(),
        }
    }

    /// Cancels every request not yet answered; the stream then yields them as cancelled.
    pub fn cancel_all(&self) {
        self.cancel.store(true, Ordering::Release);
    }
}

impl Stream for ImageStream {
    type Item = BatchItem;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<BatchItem>> {
        Pin::new(&mut self.receiver).poll_next(context)
    }
}

impl Drop for ImageStream {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Release);
    }
}
