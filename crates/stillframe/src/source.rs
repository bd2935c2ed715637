//! One video track of an opened file, as the engine uses it: packets read on
//! demand, the frame index (grown lazily, demotions kept inside it), the packet
//! inspector, and the planning that turns requests into decode runs.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use stillframe_core::{
    CodedFormat, Demuxer, Error, Limits, Packet, PacketInspector, Result, Time, TrackInfo,
    VideoDecoder, VideoInfo,
};
use stillframe_seek::{plan, FrameIndex, Plan, Target};

use crate::codecs;

/// A lazily indexed container is asked to read on at most this many times while one
/// set of requests is planned; each call reads at least a cluster, so this bounds
/// planning work, not what a file can hold.
const MAX_INDEX_STEPS: usize = 1 << 20;

/// How the track's index stands.
struct IndexState {
    index: FrameIndex,
    /// False while a lazily indexed container has more to read.
    complete: bool,
    /// The index holds every sample up to its last: positions are frame numbers.
    gap_free: bool,
}

/// A track ready for planning and decoding, shared by every worker.
pub(crate) struct Source {
    demuxer: Mutex<Box<dyn Demuxer>>,
    index: Mutex<IndexState>,
    track: TrackInfo,
    limits: Limits,
    inspector: Result<Arc<dyn PacketInspector>>,
    /// Why no decoder can be made for the track, when none can.
    decoder_error: Option<Error>,
    format: Option<CodedFormat>,
}

impl Source {
    /// A source over `track` of `demuxer`, checking at once that a decoder can be
    /// made (a track that cannot be decoded still gives a source, whose requests
    /// all fail with that reason).
    pub(crate) fn new(
        demuxer: Box<dyn Demuxer>,
        track: TrackInfo,
        limits: Limits,
    ) -> Result<Source> {
        let samples = demuxer.samples(track.index)?;
        let index = FrameIndex::new(samples, track.timescale);
        let gap_free = demuxer.indexed_without_gaps(track.index);
        let (decoder_error, format) = match codecs::create_decoder(&track, &limits) {
            Ok(decoder) => (None, Some(decoder.format().clone())),
            Err(error) => (Some(error), None),
        };
        let inspector = codecs::create_inspector(&track).map(Arc::from);
        Ok(Source {
            demuxer: Mutex::new(demuxer),
            index: Mutex::new(IndexState {
                index,
                complete: false,
                gap_free,
            }),
            track,
            limits,
            inspector,
            decoder_error,
            format,
        })
    }

    /// What the codec configuration says, when a decoder could be made.
    pub(crate) fn format(&self) -> Option<&CodedFormat> {
        self.format.as_ref()
    }

    /// The picture properties the container states, or what a frame of `width` ×
    /// `height` implies when it states none.
    pub(crate) fn video(&self, width: u32, height: u32) -> VideoInfo {
        self.track.video.clone().unwrap_or(VideoInfo {
            width,
            height,
            orientation: Default::default(),
            pixel_aspect: None,
            clean_aperture: None,
            colour: Default::default(),
        })
    }

    pub(crate) fn time(&self, pts: i64) -> Time {
        Time::from_ticks(pts, self.track.timescale)
    }

    fn lock_demuxer(&self) -> MutexGuard<'_, Box<dyn Demuxer>> {
        // A panic elsewhere cannot leave the demuxer inconsistent in a way that
        // matters more than answering: every read seeks afresh.
        self.demuxer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_index(&self) -> MutexGuard<'_, IndexState> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads sample `sample` of the track.
    pub(crate) fn read(&self, sample: u32) -> Result<Packet> {
        self.lock_demuxer().read_sample(self.track.index, sample)
    }

    /// A fresh decoder for the track.
    pub(crate) fn new_decoder(&self) -> Result<Box<dyn VideoDecoder>> {
        match &self.decoder_error {
            Some(error) => Err(error.clone()),
            None => codecs::create_decoder(&self.track, &self.limits),
        }
    }

    /// The track's packet inspector.
    pub(crate) fn inspector(&self) -> Result<Arc<dyn PacketInspector>> {
        self.inspector.clone()
    }

    /// The presentation span as far as indexed, or of the whole track with `whole`
    /// (which reads a lazily indexed container to its end).
    pub(crate) fn span(&self, whole: bool) -> Result<Option<(Time, Time)>> {
        let mut state = self.lock_index();
        if whole {
            self.extend(&mut state, Time::POSITIVE_INFINITY)?;
        }
        Ok(state.index.span())
    }

    /// Frames shown, as far as indexed (all of them with `whole`).
    pub(crate) fn frame_count(&self, whole: bool) -> Result<usize> {
        let mut state = self.lock_index();
        if whole {
            self.extend(&mut state, Time::POSITIVE_INFINITY)?;
        }
        Ok(state.index.presented_count())
    }

    /// Lets a lazily indexed container read what planning a request at `until` needs.
    /// The frame number of `sample`, when the index knows every frame before it.
    pub(crate) fn frame_number(&self, sample: u32) -> Option<u64> {
        let state = self.lock_index();
        if !state.gap_free {
            return None;
        }
        let position = state.index.position_of(sample)?;
        u64::try_from(position).ok()
    }

    fn extend(&self, state: &mut IndexState, until: Time) -> Result<()> {
        if state.complete {
            return Ok(());
        }
        let mut demuxer = self.lock_demuxer();
        let complete = demuxer.index_until(self.track.index, until);
        // What was read before an error still counts.
        state.index.extend(demuxer.samples(self.track.index)?);
        state.complete = complete?;
        state.gap_free = state.complete || demuxer.indexed_without_gaps(self.track.index);
        Ok(())
    }

    /// Plans `targets` together, every decode run starting at a random access point
    /// the bitstream confirms. A request whose part of the file cannot be indexed
    /// fails alone.
    pub(crate) fn plan(&self, targets: &[Target]) -> Plan {
        let mut state = self.lock_index();
        let mut failed: Vec<Option<Error>> = vec![None; targets.len()];
        let mut order: Vec<usize> = (0..targets.len()).collect();
        order.sort_by_key(|&i| match targets[i] {
            Target::Time(time, _) => (0, time),
            Target::Frame(_) => (1, Time::ZERO),
        });
        for (steps, &i) in order.iter().enumerate() {
            if state.complete || steps >= MAX_INDEX_STEPS {
                break;
            }
            // What a time needs is indexed around it (the random access points on
            // both sides bound every choice); a frame number only in the whole index.
            let until = match targets[i] {
                Target::Time(time, _) => time,
                Target::Frame(_) => Time::POSITIVE_INFINITY,
            };
            if let Err(error) = self.extend(&mut state, until) {
                failed[i] = Some(error);
            }
        }
        loop {
            let planned = plan(&state.index, targets);
            if let Some(unreadable) = self.confirm_entries(&mut state.index, &planned) {
                return without_runs(planned, failed, &unreadable);
            }
        }
    }

    /// Checks every run's entry point with the inspector; demotes those that are
    /// not. `None` when one was demoted (plan again), else the runs whose entry
    /// could not be read, with why.
    fn confirm_entries(
        &self,
        index: &mut FrameIndex,
        planned: &Plan,
    ) -> Option<Vec<(usize, Error)>> {
        let mut held = true;
        let mut unreadable = Vec::new();
        for (number, run) in planned.runs.iter().enumerate() {
            if index.is_confirmed(run.entry) {
                continue;
            }
            let inspected = self.read(run.entry).and_then(|packet| {
                let inspector = self.inspector.as_ref().map_err(Clone::clone)?;
                Ok(inspector.inspect(&packet).random_access)
            });
            match inspected {
                Ok(true) => index.confirm(run.entry),
                Ok(false) => {
                    log::debug!(
                        "sample {} is marked sync but is not a random access point",
                        run.entry
                    );
                    index.demote(run.entry);
                    held = false;
                }
                // That run's requests fail alone (a truncated file, say).
                Err(error) => unreadable.push((number, error)),
            }
        }
        held.then_some(unreadable)
    }
}

/// `planned` without the runs that cannot start, whose requests fail with the
/// reason, and with the requests that failed before planning failed.
fn without_runs(planned: Plan, failed: Vec<Option<Error>>, unreadable: &[(usize, Error)]) -> Plan {
    let Plan { runs, assignments } = planned;
    let mut renumbered: Vec<Option<usize>> = Vec::with_capacity(runs.len());
    let mut kept = Vec::with_capacity(runs.len());
    for (number, run) in runs.into_iter().enumerate() {
        if unreadable.iter().any(|(bad, _)| *bad == number) {
            renumbered.push(None);
        } else {
            renumbered.push(Some(kept.len()));
            kept.push(run);
        }
    }
    let assignments = assignments
        .into_iter()
        .zip(failed)
        .map(|(assignment, failure)| {
            if let Some(error) = failure {
                // The part of the file the request needs could not be indexed; what
                // the planner found in what was indexed may be a wrong frame.
                return Err(error);
            }
            let mut assignment = assignment?;
            match renumbered.get(assignment.run).copied().flatten() {
                Some(run) => {
                    assignment.run = run;
                    Ok(assignment)
                }
                None => Err(unreadable
                    .iter()
                    .find(|(bad, _)| *bad == assignment.run)
                    .map_or_else(
                        || Error::internal("a decode run was lost"),
                        |(_, e)| e.clone(),
                    )),
            }
        })
        .collect();
    Plan {
        runs: kept,
        assignments,
    }
}
