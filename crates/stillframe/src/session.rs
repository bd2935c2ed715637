//! The state one generator keeps between requests: the container, the frame index,
//! and a running decoder that later requests may continue.

use std::num::NonZeroU32;

use std::sync::Arc;

use stillframe_core::{
    CodedFormat, Error, Frame, Packet, PacketInspector, Result, Time, Tolerance, TrackInfo,
    VideoDecoder,
};
use stillframe_seek::{plan, plan_batch, BatchPlan, DecoderPosition, FrameIndex, Plan, Start};

use crate::render::RenderSettings;
use crate::{codecs, Asset, GeneratorOptions};

/// What a decoder run produced for a request.
pub(crate) struct Decoded {
    pub(crate) frame: Frame,
    /// Samples fed to the decoder for this request.
    pub(crate) frames_decoded: u64,
}

/// A generator's mutable state, used under its lock.
pub(crate) struct Session {
    asset: Asset,
    track: TrackInfo,
    timescale: NonZeroU32,
    index: FrameIndex,
    decoder: std::result::Result<Box<dyn VideoDecoder>, Error>,
    inspector: std::result::Result<Arc<dyn PacketInspector>, Error>,
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

impl Session {
    pub(crate) fn new(asset: Asset) -> Result<Session> {
        let track = asset
            .first_video_track()
            .cloned()
            .ok_or_else(|| Error::unsupported("no video track in the file"))?;
        let index = FrameIndex::new(asset.samples(track.index)?);
        let decoder = codecs::create_decoder(&track, &asset.limits);
        let inspector = codecs::create_inspector(&track).map(Arc::from);
        Ok(Session {
            inspector,
            timescale: track.timescale,
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

    pub(crate) fn track(&self) -> &TrackInfo {
        &self.track
    }

    pub(crate) fn frames_decoded(&self) -> u64 {
        self.frames_decoded
    }

    /// Counts samples fed by batch workers, which use decoders of their own.
    pub(crate) fn add_frames_decoded(&mut self, count: u64) {
        self.frames_decoded += count;
    }

    pub(crate) fn time(&self, pts: i64) -> Time {
        Time::from_ticks(pts, self.timescale)
    }

    /// A fresh decoder for this track, for a batch worker.
    pub(crate) fn new_decoder(&self) -> Result<Box<dyn VideoDecoder>> {
        match &self.decoder {
            Err(error) => Err(error.clone()),
            Ok(_) => codecs::create_decoder(&self.track, &self.asset.limits),
        }
    }

    /// The track's packet inspector, for batch workers.
    pub(crate) fn inspector(&self) -> Result<Arc<dyn PacketInspector>> {
        self.inspector.clone()
    }

    /// What the codec configuration says, when a decoder could be made.
    pub(crate) fn coded_format(&self) -> Option<CodedFormat> {
        self.decoder.as_ref().map(|d| d.format().clone()).ok()
    }

    /// How to render `frame` of this track with `options`.
    pub(crate) fn render_settings(
        &self,
        frame: &Frame,
        options: &GeneratorOptions,
    ) -> RenderSettings {
        let video = self
            .track
            .video
            .clone()
            .unwrap_or_else(|| default_video(frame));
        RenderSettings::new(&video, self.coded_format().as_ref(), frame, options)
    }

    pub(crate) fn read_packet(&mut self, sample: u32) -> Result<Packet> {
        self.asset.demuxer.read_sample(self.track.index, sample)
    }

    /// The frame for `requested`, continuing the running decoder when that is cheapest.
    pub(crate) fn frame_for(
        &mut self,
        requested: Time,
        tolerance: Tolerance,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Decoded> {
        let chosen = self.plan(requested, tolerance)?;
        if let Some(frame) = self
            .last_frame
            .as_ref()
            .filter(|f| f.pts == chosen.target.pts)
        {
            return Ok(Decoded {
                frame: frame.clone(),
                frames_decoded: 0,
            });
        }
        let before = self.frames_decoded;
        let result = self.decode(chosen, cancelled);
        if result.is_err() {
            // The decoder's state after a failure is unknown: start afresh next time.
            self.position = None;
        }
        result.map(|frame| Decoded {
            frame,
            frames_decoded: self.frames_decoded - before,
        })
    }

    /// Plans `requests` together, with every group of pictures starting at a random
    /// access point the bitstream confirms.
    pub(crate) fn plan_batch(&mut self, requests: &[(Time, Tolerance)]) -> Result<BatchPlan> {
        // A lazily indexed container reads around each time asked for (with Cues,
        // only around it), so every requested time must be indexed, not just the latest.
        let times: Vec<Time> = requests.iter().map(|&(time, _)| time).collect();
        self.extend_index(&times)?;
        loop {
            let batch = plan_batch(&self.index, self.timescale.get(), requests);
            let mut demoted_any = false;
            for job in &batch.jobs {
                if !self.confirm_random_access(job.start)? {
                    demoted_any = true;
                }
            }
            if !demoted_any {
                return Ok(batch);
            }
        }
    }

    /// Plans `requested`, demoting sync samples the bitstream says are not entry points.
    fn plan(&mut self, requested: Time, tolerance: Tolerance) -> Result<Plan> {
        self.extend_index(&[requested])?;
        loop {
            let mut chosen = plan(
                &self.index,
                self.timescale.get(),
                requested,
                tolerance,
                self.position.as_ref(),
            )?;
            if let Some(pts) = self.last_frame.as_ref().map(|f| f.pts) {
                chosen = self.prefer_cached(chosen, pts, requested, tolerance);
            }
            match chosen.start {
                Start::Continue => return Ok(chosen),
                Start::Restart { from } => {
                    if self.confirm_random_access(from)? {
                        return Ok(chosen);
                    }
                }
            }
        }
    }

    /// Checks that decoding may start at `sample`; demotes it when it may not.
    /// A sample the container never called sync (the no-keyframe fallback) passes.
    fn confirm_random_access(&mut self, sample: u32) -> Result<bool> {
        if self.verified_random_access.contains(&sample) || !self.index.is_random_access(sample) {
            return Ok(true);
        }
        let packet = self.read_packet(sample)?;
        let inspector = self.inspector.as_ref().map_err(Error::clone)?;
        if inspector.inspect(&packet).random_access {
            self.verified_random_access.push(sample);
            return Ok(true);
        }
        log::debug!("sample {sample} is marked sync but is not a random access point");
        self.index.demote(sample);
        self.demoted.push(sample);
        Ok(false)
    }

    /// Lets a lazily indexed container read what planning `times` needs, then rebuilds
    /// the frame index once if anything was added.
    fn extend_index(&mut self, times: &[Time]) -> Result<()> {
        if self.fully_indexed {
            return Ok(());
        }
        let track = self.track.index;
        let mut sorted = times.to_vec();
        sorted.sort();
        sorted.dedup();
        for time in sorted {
            if self.asset.demuxer.index_until(track, time)? {
                self.fully_indexed = true;
                break;
            }
        }
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
    fn prefer_cached(
        &self,
        chosen: Plan,
        cached_pts: i64,
        requested: Time,
        tolerance: Tolerance,
    ) -> Plan {
        if chosen.cost == 0 || chosen.target.pts == cached_pts {
            return chosen;
        }
        let (low, high) = tolerance.window(requested);
        let cached = self.time(cached_pts);
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
            Some(target) if in_window || on_screen => Plan {
                target,
                start: Start::Continue,
                cost: 0,
            },
            _ => chosen,
        }
    }

    /// Runs the decoder until the planned frame comes out.
    fn decode(&mut self, chosen: Plan, cancelled: &dyn Fn() -> bool) -> Result<Frame> {
        let track = self.track.index;
        let sample_count = u32::try_from(self.index.sample_count()).unwrap_or(u32::MAX);
        let decoder = self.decoder.as_mut().map_err(|e| e.clone())?;
        // Taken, not copied: if this decode fails, the decoder's state is unknown,
        // and the next one must start over with a reset.
        let mut position = match (chosen.start, self.position.take()) {
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
        let target_time = Time::from_ticks(target.pts, self.timescale);
        let mut finished = false;
        loop {
            while let Some(frame) = decoder.receive_frame()? {
                // Frames may come out in any order: only those after the latest one
                // out are known not to have come out yet.
                position.last_output_pts = position.last_output_pts.max(Some(frame.pts));
                if frame.pts == target.pts {
                    // After an early stop, the decoder cannot take the samples that follow.
                    let stopped_early = finished && position.next_sample < sample_count;
                    self.position = (!stopped_early).then_some(position);
                    self.last_frame = Some(frame.clone());
                    return Ok(frame);
                }
            }
            if finished {
                return Err(Error::codec(format!(
                    "the decoder gave no picture for the frame at {target_time} (sample {})",
                    target.sample
                )));
            }
            if cancelled() {
                return Err(Error::Cancelled);
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
