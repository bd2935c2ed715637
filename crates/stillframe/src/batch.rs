//! Running a batch: every group of pictures that some request needs is decoded once,
//! by a pool of workers with a decoder each, and every request is answered exactly once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use stillframe_core::{CodedFormat, Error, Frame, Packet, Result, Time, VideoDecoder, VideoInfo};
use stillframe_seek::{Assignment, BatchPlan, GopJob};

use crate::generator::{Cancel, Shared};
use crate::render::{render, RenderSettings, RenderedImage};
use crate::{GeneratedImage, GeneratorOptions};

/// Receives each request's outcome, from whichever thread produced it.
pub(crate) type Deliver<'a> = dyn Fn(usize, Result<GeneratedImage>) + Sync + 'a;

/// Answers every request in `times` through `deliver`, exactly once each.
pub(crate) fn run_batch(
    shared: &Shared,
    times: &[Time],
    options: &GeneratorOptions,
    cancel: &Cancel,
    deliver: &Deliver<'_>,
) {
    let once = ExactlyOnce::new(times.len(), deliver);
    if let Err(error) = plan_and_decode(shared, times, options, cancel, &once) {
        for index in 0..times.len() {
            once.deliver(index, Err(error.clone()));
        }
    }
    let leftover = if cancel.is_cancelled() {
        Error::Cancelled
    } else {
        Error::codec("the batch ended without producing this frame")
    };
    for index in 0..times.len() {
        once.deliver(index, Err(leftover.clone()));
    }
}

fn plan_and_decode(
    shared: &Shared,
    times: &[Time],
    options: &GeneratorOptions,
    cancel: &Cancel,
    once: &ExactlyOnce<'_>,
) -> Result<()> {
    let requests: Vec<(Time, stillframe_core::Tolerance)> =
        times.iter().map(|&t| (t, options.tolerance)).collect();
    let (plan, context) = {
        let mut session = shared.lock_session();
        let plan = session.plan_batch(&requests)?;
        let context = JobContext {
            video: session.track().video.clone(),
            format: session.coded_format(),
            timescale: session.track().timescale,
            options: *options,
        };
        (plan, context)
    };
    let BatchPlan { jobs, assignments } = plan;
    let mut by_job: Vec<Vec<(usize, Assignment)>> = vec![Vec::new(); jobs.len()];
    for (index, assignment) in assignments.into_iter().enumerate() {
        match assignment {
            Ok(assignment) => {
                if let Some(list) = by_job.get_mut(assignment.job) {
                    list.push((index, assignment));
                }
            }
            Err(error) => once.deliver(index, Err(error)),
        }
    }
    let next_job = AtomicUsize::new(0);
    let workers = options.worker_threads().min(jobs.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut decoder: Option<Box<dyn VideoDecoder>> = None;
                loop {
                    let job_index = next_job.fetch_add(1, Ordering::Relaxed);
                    let (Some(job), Some(requests)) = (jobs.get(job_index), by_job.get(job_index))
                    else {
                        break;
                    };
                    if cancel.is_cancelled() {
                        break;
                    }
                    let outcome = run_job(shared, job, &mut decoder, cancel);
                    answer(requests, times, outcome, &context, once);
                }
            });
        }
    });
    Ok(())
}

/// What every job of a batch shares.
struct JobContext {
    video: Option<VideoInfo>,
    format: Option<CodedFormat>,
    timescale: std::num::NonZeroU32,
    options: GeneratorOptions,
}

/// Frames a job produced, with the samples fed on behalf of each target.
struct JobOutput {
    frames: Vec<(Frame, u64)>,
    /// Why some targets may be missing (a truncated file, a decoder error).
    error: Option<Error>,
}

/// Decodes one group of pictures: reads its samples, feeds those the targets need
/// (non-reference frames nobody asked for are skipped), then drains the decoder.
fn run_job(
    shared: &Shared,
    job: &GopJob,
    decoder: &mut Option<Box<dyn VideoDecoder>>,
    cancel: &Cancel,
) -> JobOutput {
    let (packets, read_error) = read_packets(shared, job);
    let inspector = match shared.lock_session().inspector() {
        Ok(inspector) => inspector,
        Err(error) => {
            return JobOutput {
                frames: Vec::new(),
                error: Some(error),
            }
        }
    };
    let decoder = match decoder {
        Some(decoder) => decoder,
        None => match shared.lock_session().new_decoder() {
            Ok(created) => decoder.insert(created),
            Err(error) => {
                return JobOutput {
                    frames: Vec::new(),
                    error: Some(error),
                }
            }
        },
    };
    let mut output = JobOutput {
        frames: Vec::new(),
        error: read_error,
    };
    let mut fed_since_target = 0u64;
    let mut fed_total = 0u64;
    let mut credit: Vec<(i64, u64)> = Vec::new();
    let result = (|| -> Result<()> {
        decoder.reset()?;
        for packet in &packets {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let is_target = job.targets.iter().any(|t| t.sample == packet.sample);
            if !is_target && inspector.inspect(packet).discardable {
                continue;
            }
            decoder.send_packet(packet)?;
            fed_since_target += 1;
            fed_total += 1;
            if is_target {
                credit.push((packet.pts, fed_since_target));
                fed_since_target = 0;
            }
            collect(decoder.as_mut(), job, &mut output.frames)?;
        }
        decoder.finish()?;
        collect(decoder.as_mut(), job, &mut output.frames)
    })();
    if let Err(error) = result {
        output.error.get_or_insert(error);
    }
    for (frame, fed) in &mut output.frames {
        *fed = credit
            .iter()
            .find(|(pts, _)| *pts == frame.pts)
            .map_or(0, |(_, count)| *count);
    }
    shared.lock_session().add_frames_decoded(fed_total);
    output
}

fn read_packets(shared: &Shared, job: &GopJob) -> (Vec<Packet>, Option<Error>) {
    let mut session = shared.lock_session();
    let mut packets = Vec::with_capacity((job.last - job.start + 1) as usize);
    for sample in job.start..=job.last {
        match session.read_packet(sample) {
            Ok(packet) => packets.push(packet),
            Err(error) => return (packets, Some(error)),
        }
    }
    (packets, None)
}

/// Moves the target frames the decoder has ready into `frames`.
fn collect(
    decoder: &mut dyn VideoDecoder,
    job: &GopJob,
    frames: &mut Vec<(Frame, u64)>,
) -> Result<()> {
    while let Some(frame) = decoder.receive_frame()? {
        if job.targets.iter().any(|t| t.pts == frame.pts)
            && !frames.iter().any(|(f, _)| f.pts == frame.pts)
        {
            frames.push((frame, 0));
        }
    }
    Ok(())
}

/// Renders each target once and answers every request assigned to the job.
fn answer(
    requests: &[(usize, Assignment)],
    times: &[Time],
    outcome: JobOutput,
    context: &JobContext,
    once: &ExactlyOnce<'_>,
) {
    let mut rendered: Vec<(i64, Result<RenderedImage>)> = Vec::new();
    let mut credited: Vec<i64> = Vec::new();
    for &(index, assignment) in requests {
        let requested = times.get(index).copied().unwrap_or(Time::ZERO);
        let pts = assignment.target.pts;
        let Some((frame, fed)) = outcome.frames.iter().find(|(f, _)| f.pts == pts) else {
            let error = outcome.error.as_ref().map_or_else(
                || {
                    Error::codec(format!(
                        "the decoder gave no picture for the frame at {} (sample {})",
                        Time::from_ticks(pts, context.timescale),
                        assignment.target.sample
                    ))
                },
                Error::clone,
            );
            once.deliver(index, Err(error));
            continue;
        };
        if !rendered.iter().any(|(p, _)| *p == pts) {
            let video = context.video.clone().unwrap_or_else(|| VideoInfo {
                width: frame.width,
                height: frame.height,
                orientation: Default::default(),
                pixel_aspect: None,
                clean_aperture: None,
                colour: Default::default(),
            });
            let settings =
                RenderSettings::new(&video, context.format.as_ref(), frame, &context.options);
            rendered.push((pts, render(frame, &settings)));
        }
        // The first request served by a frame is credited with decoding it.
        let frames_decoded = if credited.contains(&pts) {
            0
        } else {
            credited.push(pts);
            *fed
        };
        let image = rendered
            .iter()
            .find(|(p, _)| *p == pts)
            .map(|(_, image)| image.clone());
        let result = image
            .unwrap_or_else(|| Err(Error::codec("rendering lost")))
            .map(|made| GeneratedImage {
                image: made.image,
                colour: made.colour,
                requested,
                actual: Time::from_ticks(pts, context.timescale),
                frames_decoded,
            });
        once.deliver(index, result);
    }
}

/// Calls the delivery function at most once per request.
struct ExactlyOnce<'a> {
    delivered: Vec<AtomicBool>,
    deliver: &'a Deliver<'a>,
    /// Serialises calls, so a handler never runs on two threads at once.
    gate: Mutex<()>,
}

impl<'a> ExactlyOnce<'a> {
    fn new(count: usize, deliver: &'a Deliver<'a>) -> Self {
        ExactlyOnce {
            delivered: (0..count).map(|_| AtomicBool::new(false)).collect(),
            deliver,
            gate: Mutex::new(()),
        }
    }

    fn deliver(&self, index: usize, outcome: Result<GeneratedImage>) {
        let first = self
            .delivered
            .get(index)
            .is_some_and(|flag| !flag.swap(true, Ordering::AcqRel));
        if first {
            let _serial = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
            (self.deliver)(index, outcome);
        }
    }
}
