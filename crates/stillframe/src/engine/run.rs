//! Feeding one decode run to a decoder and answering its requests as each frame
//! comes out — the one decode routine every API goes through.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use stillframe_core::{Error, Frame, Location, PacketInspector, Result, VideoDecoder};
use stillframe_seek::FrameRef;

use super::job::{Job, Output, RunWork, Want};
use crate::render::{render, RenderSettings};
use crate::source::Source;
use crate::{GeneratedFrame, GeneratedImage};

/// Frames that came out of a decoder without being asked for are kept for a later
/// request (a forward scan asks for them next: with B-frames, pictures come out in
/// decode order, ahead of the frames shown before them), up to this many...
const RECENT_FRAMES: usize = 8;
/// ...and this many bytes.
const RECENT_BYTES: usize = 64 << 20;

/// Where a decoder stands in its track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    /// The random access point it started from.
    entry: u32,
    /// The next sample it would be fed.
    next: u32,
}

/// A decoder with what it holds: where it stands and the frames it made recently.
pub(crate) struct DecoderState {
    decoder: Box<dyn VideoDecoder>,
    /// `None` when it must be reset before use (new, failed, or finished).
    position: Option<Position>,
    recent: VecDeque<Frame>,
}

impl DecoderState {
    pub(crate) fn new(decoder: Box<dyn VideoDecoder>) -> DecoderState {
        DecoderState {
            decoder,
            position: None,
            recent: VecDeque::new(),
        }
    }

    /// How well this decoder suits `run`: 2 if it can continue into it, 1 if it
    /// holds one of its frames, 0 otherwise.
    pub(crate) fn affinity(&self, work: &RunWork) -> u8 {
        let continues = self.position.is_some_and(|position| {
            position.entry <= work.run.entry
                && work.run.entry <= position.next
                && work.run.targets.iter().all(|t| t.sample >= position.next)
        });
        if continues {
            2
        } else if work
            .run
            .targets
            .iter()
            .any(|t| self.recent.iter().any(|f| f.pts == t.pts))
        {
            1
        } else {
            0
        }
    }

    fn remember(&mut self, frame: Frame) {
        self.recent.push_back(frame);
        let bytes = |recent: &VecDeque<Frame>| -> usize {
            recent
                .iter()
                .flat_map(|frame| frame.planes.iter())
                .map(|plane| plane.data.len())
                .sum()
        };
        while self.recent.len() > RECENT_FRAMES || bytes(&self.recent) > RECENT_BYTES {
            self.recent.pop_front();
        }
    }
}

/// One run of one job on one decoder.
pub(crate) struct RunContext<'a> {
    pub source: &'a Source,
    pub job: &'a Job,
    pub work: &'a RunWork,
    pub inspector: Option<Arc<dyn PacketInspector>>,
    /// True once the job or the engine was cancelled.
    pub cancelled: &'a dyn Fn() -> bool,
    /// Samples fed to every decoder of the generator.
    pub fed_total: &'a AtomicU64,
}

/// The targets of a run still to be answered, and the samples fed since the last
/// answer (credited to the next one).
struct Pending {
    targets: Vec<FrameRef>,
    fed_since_answer: u64,
}

impl RunContext<'_> {
    /// Decodes the run on `state` and answers every request it serves, each as soon
    /// as its frame exists. Samples fed are counted into the job.
    pub(crate) fn execute(&self, state: &mut DecoderState) {
        let mut pending = Pending {
            targets: self.work.run.targets.clone(),
            fed_since_answer: 0,
        };
        // Frames made for an earlier request cost nothing.
        pending.targets.retain(|target| {
            match state.recent.iter().position(|f| f.pts == target.pts) {
                Some(at) => {
                    if let Some(frame) = state.recent.remove(at) {
                        let frame = self.answer(*target, frame, 0);
                        state.recent.extend(frame);
                    }
                    false
                }
                None => true,
            }
        });
        if pending.targets.is_empty() {
            return;
        }
        if let Err(error) = self.decode(state, &mut pending) {
            state.position = None;
            for target in pending.targets.drain(..) {
                self.fail(target, &error);
            }
        }
    }

    fn decode(&self, state: &mut DecoderState, pending: &mut Pending) -> Result<()> {
        let run = &self.work.run;
        let first_needed = pending
            .targets
            .iter()
            .map(|t| t.sample)
            .min()
            .unwrap_or(run.entry);
        let start = match state.position {
            Some(position)
                if position.entry <= run.entry
                    && run.entry <= position.next
                    && position.next <= first_needed =>
            {
                position.next
            }
            _ => {
                state.position = None;
                state.recent.clear();
                state.decoder.reset()?;
                run.entry
            }
        };
        let entry = state.position.map_or(run.entry, |position| position.entry);
        let mut next = start;
        while next <= run.last {
            if (self.cancelled)() {
                state.position = Some(Position { entry, next });
                let error = Error::Cancelled;
                for target in pending.targets.drain(..) {
                    self.fail(target, &error);
                }
                return Ok(());
            }
            let packet = match self.source.read(next) {
                Ok(packet) => packet,
                Err(error) => {
                    // A sample lost (a truncated file) fails the frames that need it;
                    // those before it may still be in the decoder.
                    state.position = None;
                    self.drain_after_finish(state, pending)?;
                    for target in pending.targets.drain(..) {
                        self.fail(target, &error);
                    }
                    return Ok(());
                }
            };
            let wanted = run.wants(next);
            next += 1;
            let skippable = !wanted
                && self
                    .inspector
                    .as_ref()
                    .is_some_and(|inspector| inspector.inspect(&packet).discardable);
            if skippable {
                continue;
            }
            state.position = None;
            state.decoder.send_packet(&packet)?;
            state.position = Some(Position { entry, next });
            pending.fed_since_answer += 1;
            self.job.fed.fetch_add(1, Ordering::Relaxed);
            self.fed_total.fetch_add(1, Ordering::Relaxed);
            self.drain(state, pending)?;
            if pending.targets.is_empty() {
                return Ok(());
            }
        }
        // Every sample through the last target was fed: what is still held comes out
        // now, and the decoder must start over afterwards.
        state.position = None;
        self.drain_after_finish(state, pending)?;
        for target in pending.targets.drain(..) {
            let error = Error::codec(format!(
                "the decoder gave no picture for the frame at {} (sample {})",
                self.source.time(target.pts),
                target.sample
            ));
            self.fail(target, &error);
        }
        Ok(())
    }

    fn drain_after_finish(&self, state: &mut DecoderState, pending: &mut Pending) -> Result<()> {
        state.decoder.finish()?;
        self.drain(state, pending)
    }

    /// Answers the pending targets among the frames the decoder has ready; keeps
    /// the others for a later request.
    fn drain(&self, state: &mut DecoderState, pending: &mut Pending) -> Result<()> {
        while let Some(frame) = state.decoder.receive_frame()? {
            match pending.targets.iter().position(|t| t.pts == frame.pts) {
                Some(at) => {
                    let target = pending.targets.swap_remove(at);
                    let kept = self.answer(target, frame, pending.fed_since_answer);
                    pending.fed_since_answer = 0;
                    // Asked again (a repeated time, a thumbnail grid), it costs nothing.
                    if let Some(frame) = kept {
                        state.remember(frame);
                    }
                }
                None => state.remember(frame),
            }
        }
        Ok(())
    }

    fn fail(&self, target: FrameRef, error: &Error) {
        if let Some((_, requests)) = self.work.target_at(target.pts) {
            for &index in requests {
                self.job.deliver(index, Err(error.clone()));
            }
        }
    }

    /// Answers the requests `frame` serves: the first is credited with the samples
    /// fed for it, the others with none. Gives the frame back to be kept, unless it
    /// is damaged.
    fn answer(&self, target: FrameRef, frame: Frame, fed: u64) -> Option<Frame> {
        let Some((_, requests)) = self.work.target_at(target.pts) else {
            return Some(frame);
        };
        if let Some(damage) = &frame.damage {
            let error = Error::Malformed {
                location: Location::from(format!("sample {}", target.sample)),
                message: format!(
                    "the picture at {} is damaged: {damage}",
                    self.source.time(frame.pts)
                ),
            };
            for &index in requests {
                self.job.deliver(index, Err(error.clone()));
            }
            return None;
        }
        let actual = self.source.time(frame.pts);
        let frame_number = self.source.frame_number(target.sample);
        let video = self.source.video(frame.width, frame.height);
        let settings = RenderSettings::new(&video, self.source.format(), &frame, &self.job.options);
        match self.job.want {
            Want::Frame => {
                for (n, &index) in requests.iter().enumerate() {
                    let made = GeneratedFrame {
                        frame: frame.clone(),
                        settings: settings.clone(),
                        requested: self.job.requested(index, actual),
                        actual,
                        frame_number,
                        frames_decoded: if n == 0 { fed } else { 0 },
                    };
                    self.job.deliver(index, Ok(Output::Frame(made)));
                }
            }
            Want::Image => {
                // Rendered once for every request it serves.
                let rendered = render(&frame, &settings);
                for (n, &index) in requests.iter().enumerate() {
                    let made = rendered.clone().map(|image| {
                        Output::Image(GeneratedImage {
                            image: image.image,
                            colour: image.colour,
                            requested: self.job.requested(index, actual),
                            actual,
                            frame_number,
                            frames_decoded: if n == 0 { fed } else { 0 },
                        })
                    });
                    self.job.deliver(index, made);
                }
            }
        }
        Some(frame)
    }
}
