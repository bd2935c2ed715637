//! Concurrency stress: generators shared across threads, requests cancelled half-way,
//! streams, futures and generators dropped while their work is in flight.
//!
//! Every scenario checks three things:
//! - **no deadlock**: it runs on a thread of its own and must finish within
//!   [`DEADLINE`], or the test fails instead of hanging;
//! - **no lost completion**: every request is answered exactly once (callbacks are
//!   counted per request index; streams and futures yield one outcome each);
//! - **no leak**: once everything is dropped and the work has ended,
//!   [`stillframe::live_decoders`] is back to zero.
//!
//! The scenarios share a process-wide decoder count, so they run one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::executor::block_on;
use futures::StreamExt;
use stillframe::{
    live_decoders, Error, ErrorKind, GenerationResult, GeneratorOptions, ImageGenerator,
    MaximumSize, Time, Tolerance,
};

/// How long one scenario may take before it counts as deadlocked.
const DEADLINE: Duration = Duration::from_secs(120);

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `scenario` on its own thread; fails if it panics or outlives [`DEADLINE`],
/// then waits for every decoder to be dropped.
fn run(name: &str, scenario: impl FnOnce() + Send + 'static) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(
        live_decoders(),
        0,
        "{name}: decoders alive before it started"
    );
    let start = Instant::now();
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        scenario();
        let _ = done.send(());
    });
    match finished.recv_timeout(DEADLINE) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The scenario panicked; surface its message.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
            panic!("{name}: the scenario ended without finishing");
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: deadlocked (over {DEADLINE:?})"),
    }
    worker.join().unwrap();
    // Detached workers (single requests, futures) may still be unwinding their last
    // request; each drops its decoder handle when it returns.
    let settled = Instant::now();
    while live_decoders() != 0 {
        assert!(
            settled.elapsed() < DEADLINE,
            "{name}: {} decoders leaked",
            live_decoders()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("{name}: {:.2} s", start.elapsed().as_secs_f64());
}

/// A 60-second, 1500-frame H.264 Matroska file (keyframes every 10 s), so batches run
/// long enough to be cancelled and dropped mid-flight.
fn long_file() -> std::path::PathBuf {
    common::fixture("mkv/long.mkv")
}

fn generator(tolerance: Tolerance, threads: usize) -> ImageGenerator {
    let options = GeneratorOptions {
        tolerance,
        threads,
        // Small images: the work is decoding, not scaling.
        maximum_size: MaximumSize {
            width: 32,
            height: 0,
        },
        ..GeneratorOptions::default()
    };
    ImageGenerator::open(long_file(), options).unwrap()
}

/// `count` times spread over the file, in a scrambled order.
fn times(count: u64, seed: u64) -> Vec<Time> {
    (0..count)
        .map(|i| {
            let scrambled = (i * 7919 + seed * 104_729) % 59_000;
            Time::from_millis(i64::try_from(scrambled).unwrap())
        })
        .collect()
}

/// An outcome the generator may give any request here.
fn acceptable(outcome: &stillframe::Result<stillframe::GeneratedImage>) -> bool {
    match outcome {
        Ok(made) => made.image.width() <= 32,
        Err(Error::Cancelled) => true,
        Err(error) => panic!("unexpected failure: {error}"),
    }
}

/// Callbacks per request index, to check each is answered exactly once.
#[derive(Clone)]
struct Answers(Arc<Vec<AtomicUsize>>);

impl Answers {
    fn new(count: usize) -> Answers {
        Answers(Arc::new((0..count).map(|_| AtomicUsize::new(0)).collect()))
    }

    fn record(&self, index: usize) {
        self.0[index].fetch_add(1, Ordering::AcqRel);
    }

    fn assert_each_once(&self, what: &str) {
        for (index, count) in self.0.iter().enumerate() {
            let count = count.load(Ordering::Acquire);
            assert_eq!(count, 1, "{what}: request {index} answered {count} times");
        }
    }
}

#[test]
fn one_generator_shared_by_many_threads() {
    run("shared generator", || {
        let shared = generator(Tolerance::ZERO, 2);
        let threads: Vec<_> = (0..6)
            .map(|thread| {
                let generator = shared.clone();
                std::thread::spawn(move || {
                    for (n, &time) in times(8, thread).iter().enumerate() {
                        if n % 3 == 0 {
                            let made = generator.images_at(&times(4, thread + 100 + n as u64));
                            assert_eq!(made.len(), 4);
                            assert!(made.iter().all(acceptable));
                        } else {
                            let made = generator.image_at(time).unwrap();
                            assert_eq!(made.actual, made.actual.min(time));
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(shared.frames_decoded() > 0);
    });
}

#[test]
fn batches_cancelled_half_way_answer_every_request_once() {
    run("cancel half-way", || {
        let generator = generator(Tolerance::ZERO, 2);
        let mut cancelled = 0;
        for round in 0..6u64 {
            let times = times(60, round);
            let answers = Answers::new(times.len());
            let results = Arc::new(Mutex::new(Vec::new()));
            let (first, first_answer) = mpsc::channel();
            let handle = {
                let answers = answers.clone();
                let results = Arc::clone(&results);
                let first = Mutex::new(Some(first));
                // Odd rounds cancel from inside the first callback, while the batch's
                // workers are busy: a cancellation that certainly lands mid-flight.
                let canceller = (round % 2 == 1).then(|| generator.clone());
                generator.generate_images(times.clone(), move |item| {
                    answers.record(item.index);
                    results.lock().unwrap().push(item.result());
                    assert!(acceptable(&item.outcome));
                    if let Some(first) = first.lock().unwrap().take() {
                        if let Some(generator) = &canceller {
                            generator.cancel_all();
                        }
                        let _ = first.send(());
                    }
                })
            };
            // Even rounds cancel by the batch's own handle once it is under way.
            first_answer.recv_timeout(DEADLINE).unwrap();
            if round % 2 == 0 {
                handle.cancel_all();
            }
            handle.wait();
            answers.assert_each_once("generate_images");
            let results = results.lock().unwrap();
            assert_eq!(results.len(), times.len());
            assert!(results.iter().all(|r| *r != GenerationResult::Failed));
            cancelled += results
                .iter()
                .filter(|r| **r == GenerationResult::Cancelled)
                .count();
        }
        assert!(
            cancelled > 0,
            "no request was ever cancelled: the test did not bite"
        );
        // Cancelling never poisons the generator.
        assert!(generator.image_at(Time::from_secs(30)).is_ok());
    });
}

#[test]
fn single_requests_are_answered_once_even_when_cancelled() {
    run("single requests", || {
        let generator = generator(Tolerance::ZERO, 1);
        let count = 24;
        let answers = Answers::new(count);
        let (sender, received) = mpsc::channel();
        for (index, time) in times(count as u64, 7).into_iter().enumerate() {
            let answers = answers.clone();
            let sender = sender.clone();
            generator.generate_image(time, move |outcome| {
                answers.record(index);
                let _ = sender.send(acceptable(&outcome));
            });
            if index == count / 2 {
                generator.cancel_all();
            }
        }
        drop(sender);
        let outcomes: Vec<bool> = received.iter().collect();
        assert_eq!(outcomes.len(), count);
        answers.assert_each_once("generate_image");
    });
}

#[test]
fn streams_and_futures_dropped_mid_flight() {
    run("streams and futures", || {
        let generator = generator(Tolerance::ZERO, 2);
        // A stream read for a few items, then dropped with the rest in flight.
        for round in 0..3u64 {
            let mut stream = generator.images(times(30, round));
            for _ in 0..=round {
                let item = block_on(stream.next()).unwrap();
                assert!(acceptable(&item.outcome));
            }
            drop(stream);
        }
        // A stream read to its end yields every request exactly once.
        let stream = generator.images(times(12, 9));
        let items: Vec<_> = block_on(stream.collect::<Vec<_>>());
        let mut indices: Vec<usize> = items.iter().map(|item| item.index).collect();
        indices.sort_unstable();
        assert_eq!(indices, (0..12).collect::<Vec<_>>());
        assert!(items.iter().all(|item| item.outcome.is_ok()));
        // Futures: half dropped at once, the other half awaited.
        let futures: Vec<_> = times(16, 3)
            .into_iter()
            .map(|time| generator.image_at_async(time))
            .collect();
        let (kept, dropped): (Vec<_>, Vec<_>) = futures
            .into_iter()
            .enumerate()
            .partition(|(i, _)| i % 2 == 0);
        drop(dropped);
        for (_, future) in kept {
            assert!(acceptable(&block_on(future)));
        }
    });
}

#[test]
fn generators_dropped_while_their_work_is_in_flight() {
    run("generators dropped mid-flight", || {
        for round in 0..4u64 {
            let generator = generator(Tolerance::INFINITE, 2);
            let times = times(40, round);
            let answers = Answers::new(times.len());
            let handle = {
                let answers = answers.clone();
                generator.generate_images(times.clone(), move |item| {
                    answers.record(item.index);
                    assert!(acceptable(&item.outcome));
                })
            };
            let stream = generator.images(times.clone());
            let future = generator.image_at_async(Time::from_secs(45));
            let single = Answers::new(1);
            {
                let single = single.clone();
                generator.generate_image(Time::from_secs(50), move |outcome| {
                    single.record(0);
                    assert!(acceptable(&outcome));
                });
            }
            // Every handle to the generator goes; the work holds what it needs.
            drop(generator);
            if round % 2 == 0 {
                drop(stream);
                drop(future);
            } else {
                assert_eq!(block_on(stream.collect::<Vec<_>>()).len(), times.len());
                assert!(acceptable(&block_on(future)));
            }
            handle.wait();
            answers.assert_each_once("generate_images after the generator was dropped");
            let waited = Instant::now();
            while single.0[0].load(Ordering::Acquire) == 0 {
                assert!(
                    waited.elapsed() < DEADLINE,
                    "a single request never answered"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            single.assert_each_once("generate_image after the generator was dropped");
        }
    });
}

#[test]
fn a_failing_file_answers_every_request_with_its_error() {
    run("unsupported stream", || {
        // High 4:4:4: no decoder here decodes it, so every request fails the same
        // way, from every thread, and nothing is left behind.
        let generator =
            ImageGenerator::open(common::fixture("yuv444.mp4"), GeneratorOptions::default())
                .unwrap();
        let answers = Answers::new(10);
        let handle = {
            let answers = answers.clone();
            generator.generate_images(times(10, 1), move |item| {
                answers.record(item.index);
                let kind = item.outcome.as_ref().err().map(Error::kind);
                assert_eq!(kind, Some(ErrorKind::Unsupported));
            })
        };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let generator = generator.clone();
                std::thread::spawn(move || {
                    let error = generator.image_at(Time::ZERO).unwrap_err();
                    assert_eq!(error.kind(), ErrorKind::Unsupported);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        handle.wait();
        answers.assert_each_once("batch on an unsupported stream");
    });
}
