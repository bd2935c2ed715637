//! Every generator API: sync, batch, callbacks, cancel-all, futures and streams.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use futures::StreamExt;
use stillframe::{
    BatchItem, ErrorKind, GenerationResult, GeneratorOptions, ImageGenerator, Time, Tolerance,
};

fn generator(file: &str, tolerance: Tolerance) -> ImageGenerator {
    let options = GeneratorOptions {
        tolerance,
        ..GeneratorOptions::default()
    };
    ImageGenerator::open(common::fixture(file), options).unwrap()
}

fn secs(text: &str) -> Time {
    text.parse().unwrap()
}

#[test]
fn batch_answers_in_request_order_with_duplicates_and_unsorted_times() {
    let file = "high_bframes.mp4";
    let reference = common::reference(file);
    let times: Vec<Time> = [70usize, 3, 70, 110, 0, 50]
        .iter()
        .map(|&i| reference.frames[i].pts)
        .collect();
    let batch = generator(file, Tolerance::ZERO);
    let results = batch.images_at(&times);
    assert_eq!(results.len(), times.len());
    let single = generator(file, Tolerance::ZERO);
    for (time, result) in times.iter().zip(&results) {
        let made = result.as_ref().unwrap();
        assert_eq!(made.requested, *time);
        assert_eq!(made.actual, *time);
        let alone = single.image_at(*time).unwrap();
        assert_eq!(
            made.image.as_bytes(),
            alone.image.as_bytes(),
            "batch and single differ at {time}"
        );
    }
    // The duplicate was decoded once: only one of the two requests is credited.
    assert_eq!(
        results[0].as_ref().unwrap().frames_decoded + results[2].as_ref().unwrap().frames_decoded,
        results[0]
            .as_ref()
            .unwrap()
            .frames_decoded
            .max(results[2].as_ref().unwrap().frames_decoded)
    );
}

#[test]
fn one_failed_time_does_not_poison_the_batch() {
    let batch = generator("baseline.mp4", Tolerance::ZERO);
    let results = batch.images_at(&[secs("1"), secs("99"), secs("-1"), secs("2.9")]);
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err().kind(),
        ErrorKind::OutOfRange
    );
    assert_eq!(
        results[2].as_ref().unwrap().actual,
        Time::ZERO,
        "before the first frame"
    );
    assert!(results[3].is_ok());
    assert!(
        batch.image_at(secs("0.5")).is_ok(),
        "the generator still works"
    );
}

#[test]
fn tolerance_windows_with_and_without_keyframes_and_past_either_end() {
    let file = "high_bframes.mp4"; // keyframes at 0, 2 and 4 s; last frame at 4.96 s
    let g = |before: &str, after: &str| {
        generator(file, Tolerance::new(secs(before), secs(after)).unwrap())
    };
    // A window holding the keyframe at 2 s takes it.
    assert_eq!(
        g("0.5", "0.5").image_at(secs("2.3")).unwrap().actual,
        secs("2")
    );
    // A window without a keyframe takes a frame inside it, never outside.
    let inside = g("0.1", "0.1").image_at(secs("3")).unwrap().actual;
    assert!(secs("2.9") <= inside && inside <= secs("3.1"), "{inside}");
    // Reaching past the start, and past the end (where only the window counts).
    assert_eq!(
        g("10", "0").image_at(secs("0.1")).unwrap().actual,
        Time::ZERO
    );
    let past_end = g("1.1", "10").image_at(secs("6")).unwrap().actual;
    assert!(
        secs("4.9") <= past_end && past_end <= secs("4.96"),
        "{past_end}"
    );
    assert_eq!(
        g("0.5", "0.5").image_at(secs("6")).unwrap_err().kind(),
        ErrorKind::OutOfRange
    );
    // A time before the first frame with zero tolerance gives the first frame.
    assert_eq!(g("0", "0").image_at(secs("-2")).unwrap().actual, Time::ZERO);
}

#[test]
fn generate_image_calls_back_once_from_a_worker() {
    let g = generator("baseline.mp4", Tolerance::ZERO);
    let (sender, receiver) = mpsc::channel();
    let caller = std::thread::current().id();
    // 25 fps: 1.5 s lies between frames 1.48 and 1.52, so 1.48 is on screen.
    g.generate_image(secs("1.5"), move |outcome| {
        sender
            .send((std::thread::current().id(), outcome.map(|m| m.actual)))
            .unwrap();
    });
    let (thread, actual) = receiver.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_ne!(thread, caller);
    assert_eq!(actual.unwrap(), secs("1.48"));
    assert!(
        receiver.recv_timeout(Duration::from_millis(200)).is_err(),
        "called twice"
    );
}

#[test]
fn generate_images_answers_every_time_exactly_once() {
    let g = generator("high_bframes.mp4", Tolerance::ZERO);
    let times: Vec<Time> = (0..20).map(|i| Time::new(i * 24, 100).unwrap()).collect();
    let (sender, receiver) = mpsc::channel::<BatchItem>();
    let handle = g.generate_images(times.clone(), move |item| sender.send(item).unwrap());
    handle.wait();
    let mut items: Vec<BatchItem> = receiver.try_iter().collect();
    items.sort_by_key(|item| item.index);
    assert_eq!(items.len(), times.len());
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.index, i);
        assert_eq!(item.requested, times[i]);
        assert_eq!(
            item.result(),
            GenerationResult::Succeeded,
            "{:?}",
            item.outcome.as_ref().err()
        );
    }
}

#[test]
fn cancel_all_while_a_batch_runs_answers_each_request_once() {
    for cancel_from_generator in [false, true] {
        let g = generator("high_bframes.mp4", Tolerance::ZERO);
        let times: Vec<Time> = (0..120).map(|i| Time::new(i * 4, 100).unwrap()).collect();
        let (sender, receiver) = mpsc::channel::<BatchItem>();
        let handle = g.generate_images(times.clone(), move |item| {
            std::thread::sleep(Duration::from_millis(2));
            sender.send(item).unwrap();
        });
        let first = receiver.recv_timeout(Duration::from_secs(30)).unwrap();
        if cancel_from_generator {
            g.cancel_all();
        } else {
            handle.cancel_all();
        }
        handle.wait();
        let mut items: Vec<BatchItem> = std::iter::once(first).chain(receiver.try_iter()).collect();
        items.sort_by_key(|item| item.index);
        let indices: Vec<usize> = items.iter().map(|item| item.index).collect();
        assert_eq!(
            indices,
            (0..times.len()).collect::<Vec<_>>(),
            "each request exactly once"
        );
        let cancelled = items
            .iter()
            .filter(|i| i.result() == GenerationResult::Cancelled)
            .count();
        assert!(cancelled > 0, "nothing was cancelled");
        assert!(items.iter().all(|i| i.result() != GenerationResult::Failed));
        // Cancelling is not permanent: later requests work.
        assert!(g.image_at(secs("1")).is_ok());
    }
}

#[test]
fn async_image_and_stream_under_futures_executor() {
    let g = generator("high_bframes.mp4", Tolerance::ZERO);
    let made = futures::executor::block_on(g.image_at_async(secs("2.5"))).unwrap();
    assert_eq!(made.actual, secs("2.48"));
    let times = vec![secs("4"), secs("1"), secs("1"), secs("3.3")];
    let items: Vec<BatchItem> = futures::executor::block_on(g.images(times.clone()).collect());
    assert_eq!(items.len(), 4);
    for item in &items {
        assert_eq!(item.requested, times[item.index]);
        assert_eq!(item.result(), GenerationResult::Succeeded);
    }
}

#[test]
fn async_image_and_stream_under_tokio() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let g = generator("baseline.mp4", Tolerance::ZERO);
        let made = g.image_at_async(secs("0.52")).await.unwrap();
        assert_eq!(made.actual, secs("0.52"));
        let mut stream = g.images(vec![secs("2"), secs("0")]);
        let mut seen = Vec::new();
        while let Some(item) = stream.next().await {
            seen.push(item.index);
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1]);
    });
}

#[test]
fn dropping_a_stream_midway_cancels_the_rest() {
    let g = generator("high_bframes.mp4", Tolerance::ZERO);
    let times: Vec<Time> = (0..120).map(|i| Time::new(i * 4, 100).unwrap()).collect();
    let decoded_before = g.frames_decoded();
    futures::executor::block_on(async {
        let mut stream = g.images(times);
        let first = stream.next().await.unwrap();
        assert_eq!(first.result(), GenerationResult::Succeeded);
    });
    std::thread::sleep(Duration::from_millis(500));
    let settled = g.frames_decoded();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        g.frames_decoded(),
        settled,
        "work went on after the stream was dropped"
    );
    assert!(
        settled - decoded_before < 125,
        "decoded {} samples",
        settled - decoded_before
    );
}
