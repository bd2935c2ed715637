//! The byte layouts stillframe's fuzz targets read, with writers for seeds.
//!
//! Every reader here accepts any byte string: a short or odd input only means fewer
//! packets or requests, and fields read past the end are zero. So libFuzzer's
//! mutations always reach the code under test, and the writers (used by the `seed`
//! tool on the repository's fixtures) give the fuzzer inputs that start out valid.

#![forbid(unsafe_code)]

/// Reads little-endian fields front to back; zeros past the end.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    /// Reads `data` from its start.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, position: 0 }
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.position >= self.data.len()
    }

    /// Up to `count` bytes: fewer where the input ends.
    pub fn bytes(&mut self, count: usize) -> &'a [u8] {
        let start = self.position.min(self.data.len());
        let end = start.saturating_add(count).min(self.data.len());
        self.position = end;
        self.data.get(start..end).unwrap_or(&[])
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(usize::MAX)
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut array = [0u8; N];
        for (slot, byte) in array.iter_mut().zip(self.bytes(N)) {
            *slot = *byte;
        }
        array
    }

    /// One byte.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    /// A little-endian `i32`.
    pub fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.array())
    }

    /// A little-endian `i64`.
    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.array())
    }
}

// ---------------------------------------------------------------------------------
// Decoder targets: a codec configuration, then packets.

/// Fixtures (under `tests/fixtures/`) whose `avcC` are `h264_packets`'s built-in
/// configurations, in order: decodable streams, then ones refused for their SPS.
pub const H264_CONFIG_FIXTURES: [&str; 7] = [
    "baseline.mp4",
    "high_bframes.mp4",
    "main_cabac.mp4",
    "open_gop.mp4",
    "high10.mp4",
    "yuv444.mp4",
    "interlaced.mp4",
];

/// Fixtures (under `tests/fixtures/`) whose `av1C` are `av1_packets`'s built-in
/// configurations: every profile, bit depth and chroma format the fixtures have.
pub const AV1_CONFIG_FIXTURES: [&str; 6] = [
    "av1/aom_420.mp4",
    "av1/aom_12bit.mp4",
    "av1/aom_422.mp4",
    "av1/aom_444.mp4",
    "av1/aom_gray.mp4",
    "av1/svt_10bit.mp4",
];

/// The codec configuration a decoder target uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Config<'a> {
    /// One of the target's built-in configurations (taken from the fixtures), by
    /// number; the target reduces it modulo how many it has.
    Builtin(u8),
    /// A configuration record (`avcC` or `av1C` payload) from the input; empty means
    /// none (parameter sets in-band).
    Custom(&'a [u8]),
}

/// Call `reset` before sending this packet.
pub const RESET_BEFORE: u8 = 0x01;
/// Call `finish` (and drain) after sending this packet.
pub const FINISH_AFTER: u8 = 0x02;
/// The packet is marked sync, as a container would mark it.
pub const SYNC: u8 = 0x04;

/// One packet for a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// [`RESET_BEFORE`], [`FINISH_AFTER`], [`SYNC`].
    pub flags: u8,
    /// Presentation time in track ticks.
    pub pts: i64,
    /// The sample's bytes.
    pub data: &'a [u8],
}

/// What a decoder target is fed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketStream<'a> {
    /// The codec configuration.
    pub config: Config<'a>,
    /// Packets in decode order.
    pub packets: Vec<RawPacket<'a>>,
}

/// Packets read from one input at most.
pub const MAX_PACKETS: usize = 512;

/// Reads a [`PacketStream`]:
/// - byte 0: below `0x80`, built-in configuration `byte`; from `0x80`, a `u16` length
///   and that many bytes of configuration record follow;
/// - then packets, each: flags `u8`, pts `i32`, length `u16`, and that many bytes.
pub fn parse_packets(data: &[u8]) -> PacketStream<'_> {
    let mut reader = Reader::new(data);
    let selector = reader.u8();
    let config = if selector < 0x80 {
        Config::Builtin(selector)
    } else {
        let length = usize::from(reader.u16());
        Config::Custom(reader.bytes(length))
    };
    let mut packets = Vec::new();
    while !reader.is_empty() && packets.len() < MAX_PACKETS {
        let flags = reader.u8();
        let pts = i64::from(reader.i32());
        let length = usize::from(reader.u16());
        packets.push(RawPacket {
            flags,
            pts,
            data: reader.bytes(length),
        });
    }
    PacketStream { config, packets }
}

/// Writes a [`PacketStream`]; packets above 65535 bytes are cut to that.
pub fn write_packets(config: Config<'_>, packets: &[RawPacket<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    match config {
        Config::Builtin(number) => out.push(number & 0x7F),
        Config::Custom(record) => {
            let record = record.get(..usize::from(u16::MAX)).unwrap_or(record);
            out.push(0x80);
            out.extend_from_slice(&(record.len() as u16).to_le_bytes());
            out.extend_from_slice(record);
        }
    }
    for packet in packets {
        let data = packet
            .data
            .get(..usize::from(u16::MAX))
            .unwrap_or(packet.data);
        out.push(packet.flags);
        let pts = i32::try_from(packet.pts).unwrap_or(i32::MAX);
        out.extend_from_slice(&pts.to_le_bytes());
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

// ---------------------------------------------------------------------------------
// Planner target: a sample table, a decoder state and requests.

/// A time as the planner target reads it: `kind` 1 is +∞, 2 is −∞, anything else
/// `value / timescale` (a zero timescale is an invalid time the target skips).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTime {
    /// 1: +∞, 2: −∞, else finite.
    pub kind: u8,
    /// Ticks.
    pub value: i64,
    /// Ticks per second.
    pub timescale: u32,
}

impl RawTime {
    /// A finite time.
    pub const fn finite(value: i64, timescale: u32) -> RawTime {
        RawTime {
            kind: 0,
            value,
            timescale,
        }
    }

    /// +∞.
    pub const INFINITE: RawTime = RawTime {
        kind: 1,
        value: 0,
        timescale: 1,
    };

    fn read(reader: &mut Reader<'_>) -> RawTime {
        RawTime {
            kind: reader.u8(),
            value: reader.i64(),
            timescale: reader.u32(),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.kind);
        out.extend_from_slice(&self.value.to_le_bytes());
        out.extend_from_slice(&self.timescale.to_le_bytes());
    }
}

/// One sample of the planner target's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSample {
    /// Decode time.
    pub dts: i64,
    /// Presentation time.
    pub pts: i64,
    /// Ticks it shows for.
    pub duration: u32,
    /// Marked sync.
    pub sync: bool,
    /// Shown on the timeline.
    pub presented: bool,
}

impl RawSample {
    /// A demuxer's sample, with what the planner does not read left out.
    pub fn from_sample_info(sample: &stillframe_core::SampleInfo) -> RawSample {
        RawSample {
            dts: sample.dts,
            pts: sample.pts,
            duration: sample.duration,
            sync: sample.sync,
            presented: sample.presented,
        }
    }

    /// The sample as a demuxer gives it, one byte at offset 0 (the planner reads
    /// neither).
    pub fn sample_info(&self) -> stillframe_core::SampleInfo {
        stillframe_core::SampleInfo {
            offset: 0,
            size: 1,
            dts: self.dts,
            pts: self.pts,
            duration: self.duration,
            sync: self.sync,
            presented: self.presented,
            description: 0,
        }
    }
}

/// A running decoder's state, as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPosition {
    /// Where decoding started.
    pub started_at: u32,
    /// The next sample to feed.
    pub next_sample: u32,
    /// The pts of the last frame output.
    pub last_output_pts: Option<i64>,
}

/// One request: a time and its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRequest {
    /// The time asked for.
    pub time: RawTime,
    /// How much earlier a frame may be.
    pub before: RawTime,
    /// How much later a frame may be.
    pub after: RawTime,
}

/// What the planner target plans over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannerInput {
    /// Ticks per second of the track (0 is passed on as it is).
    pub timescale: u32,
    /// The sample table in decode order.
    pub samples: Vec<RawSample>,
    /// Samples to demote from random access points (taken modulo the sample count).
    pub demote: Vec<u16>,
    /// A running decoder, if any.
    pub position: Option<RawPosition>,
    /// The requests.
    pub requests: Vec<RawRequest>,
}

/// Samples read from one planner input at most.
pub const MAX_SAMPLES: usize = 4096;
/// Requests read from one planner input at most.
pub const MAX_REQUESTS: usize = 64;

/// Reads a [`PlannerInput`]: timescale `u32`; sample count `u16`; per sample flags
/// `u8` (1 sync, 2 presented), dts `i64`, pts `i64`, duration `u32`; demote count
/// `u8` and that many `u16`; decoder flags `u8` (1 running, 2 has output), started
/// `u32`, next `u32`, last output pts `i64`; then requests of three times each
/// (kind `u8`, value `i64`, timescale `u32`) to the end.
pub fn parse_planner(data: &[u8]) -> PlannerInput {
    let mut reader = Reader::new(data);
    let timescale = reader.u32();
    let count = usize::from(reader.u16()).min(MAX_SAMPLES);
    let mut samples = Vec::with_capacity(count.min(data.len() / 21 + 1));
    for _ in 0..count {
        if reader.is_empty() {
            break;
        }
        let flags = reader.u8();
        samples.push(RawSample {
            dts: reader.i64(),
            pts: reader.i64(),
            duration: reader.u32(),
            sync: flags & 1 != 0,
            presented: flags & 2 != 0,
        });
    }
    let demote_count = reader.u8();
    let demote = (0..demote_count).map(|_| reader.u16()).collect();
    let decoder_flags = reader.u8();
    let started_at = reader.u32();
    let next_sample = reader.u32();
    let last_output = reader.i64();
    let position = (decoder_flags & 1 != 0).then_some(RawPosition {
        started_at,
        next_sample,
        last_output_pts: (decoder_flags & 2 != 0).then_some(last_output),
    });
    let mut requests = Vec::new();
    while !reader.is_empty() && requests.len() < MAX_REQUESTS {
        requests.push(RawRequest {
            time: RawTime::read(&mut reader),
            before: RawTime::read(&mut reader),
            after: RawTime::read(&mut reader),
        });
    }
    PlannerInput {
        timescale,
        samples,
        demote,
        position,
        requests,
    }
}

/// Writes a [`PlannerInput`] (at most [`MAX_SAMPLES`] samples and 255 demotions).
pub fn write_planner(input: &PlannerInput) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&input.timescale.to_le_bytes());
    let samples = input.samples.get(..MAX_SAMPLES).unwrap_or(&input.samples);
    out.extend_from_slice(&(samples.len() as u16).to_le_bytes());
    for sample in samples {
        out.push(u8::from(sample.sync) | u8::from(sample.presented) << 1);
        out.extend_from_slice(&sample.dts.to_le_bytes());
        out.extend_from_slice(&sample.pts.to_le_bytes());
        out.extend_from_slice(&sample.duration.to_le_bytes());
    }
    let demote = input.demote.get(..255).unwrap_or(&input.demote);
    out.push(demote.len() as u8);
    for sample in demote {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    let (flags, position) = match input.position {
        None => (
            0u8,
            RawPosition {
                started_at: 0,
                next_sample: 0,
                last_output_pts: None,
            },
        ),
        Some(position) => (
            1 | u8::from(position.last_output_pts.is_some()) << 1,
            position,
        ),
    };
    out.push(flags);
    out.extend_from_slice(&position.started_at.to_le_bytes());
    out.extend_from_slice(&position.next_sample.to_le_bytes());
    out.extend_from_slice(&position.last_output_pts.unwrap_or(0).to_le_bytes());
    for request in &input.requests {
        request.time.write(&mut out);
        request.before.write(&mut out);
        request.after.write(&mut out);
    }
    out
}

// ---------------------------------------------------------------------------------
// Whole-pipeline target: generator settings, then a file.

/// Bytes of generator settings before the file in a `grab_any` input.
pub const GRAB_PARAMETER_BYTES: usize = 22;

/// The settings `grab_any` reads before the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GrabParameters {
    /// Bit 0: apply the track transform; bits 1–2: aperture mode (0 clean,
    /// 1 production, 2 encoded); bit 7: ask for the times as one batch too.
    pub options: u8,
    /// 0: exact; 1: infinite; else `before_ms` / `after_ms`.
    pub tolerance: u8,
    /// Tolerance before, in milliseconds.
    pub before_ms: u16,
    /// Tolerance after, in milliseconds.
    pub after_ms: u16,
    /// Maximum size (0 = unbounded on that side).
    pub max_width: u16,
    /// Maximum size (0 = unbounded on that side).
    pub max_height: u16,
    /// Requested times in milliseconds.
    pub times_ms: [i32; 3],
}

/// Splits a `grab_any` input into its settings and the file.
pub fn parse_grab(data: &[u8]) -> (GrabParameters, &[u8]) {
    let mut reader = Reader::new(data);
    let parameters = GrabParameters {
        options: reader.u8(),
        tolerance: reader.u8(),
        before_ms: reader.u16(),
        after_ms: reader.u16(),
        max_width: reader.u16(),
        max_height: reader.u16(),
        times_ms: [reader.i32(), reader.i32(), reader.i32()],
    };
    (parameters, reader.rest())
}

/// Writes a `grab_any` input.
pub fn write_grab(parameters: &GrabParameters, file: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(GRAB_PARAMETER_BYTES + file.len());
    out.push(parameters.options);
    out.push(parameters.tolerance);
    for field in [
        parameters.before_ms,
        parameters.after_ms,
        parameters.max_width,
        parameters.max_height,
    ] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    for time in parameters.times_ms {
        out.extend_from_slice(&time.to_le_bytes());
    }
    out.extend_from_slice(file);
    out
}

// ---------------------------------------------------------------------------------
// Time target: two times, a timescale, then text.

/// Bytes of numbers before the text in a `time_parse` input.
pub const TIME_PARAMETER_BYTES: usize = 28;

/// What `time_parse` reads: `a = a_value / a_timescale`, `b` likewise, a timescale to
/// round into, and text to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeInput<'a> {
    /// First time's ticks.
    pub a_value: i64,
    /// First time's timescale.
    pub a_timescale: u32,
    /// Second time's ticks.
    pub b_value: i64,
    /// Second time's timescale.
    pub b_timescale: u32,
    /// A timescale for `to_ticks`.
    pub scale: u32,
    /// Text for `Time::from_str` (lossily UTF-8).
    pub text: &'a [u8],
}

/// Reads a [`TimeInput`].
pub fn parse_time(data: &[u8]) -> TimeInput<'_> {
    let mut reader = Reader::new(data);
    TimeInput {
        a_value: reader.i64(),
        a_timescale: reader.u32(),
        b_value: reader.i64(),
        b_timescale: reader.u32(),
        scale: reader.u32(),
        text: reader.rest(),
    }
}

/// Writes a [`TimeInput`].
pub fn write_time(input: &TimeInput<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&input.a_value.to_le_bytes());
    out.extend_from_slice(&input.a_timescale.to_le_bytes());
    out.extend_from_slice(&input.b_value.to_le_bytes());
    out.extend_from_slice(&input.b_timescale.to_le_bytes());
    out.extend_from_slice(&input.scale.to_le_bytes());
    out.extend_from_slice(input.text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_streams_round_trip() {
        let packets = [
            RawPacket {
                flags: SYNC,
                pts: 0,
                data: &[1, 2, 3],
            },
            RawPacket {
                flags: RESET_BEFORE | FINISH_AFTER,
                pts: -7,
                data: &[],
            },
        ];
        let bytes = write_packets(Config::Custom(&[9, 9]), &packets);
        let stream = parse_packets(&bytes);
        assert_eq!(stream.config, Config::Custom(&[9, 9]));
        assert_eq!(stream.packets, packets);
        assert_eq!(
            parse_packets(&write_packets(Config::Builtin(3), &[])).config,
            Config::Builtin(3)
        );
    }

    #[test]
    fn planner_inputs_round_trip() {
        let input = PlannerInput {
            timescale: 25,
            samples: vec![RawSample {
                dts: -1,
                pts: 2,
                duration: 3,
                sync: true,
                presented: false,
            }],
            demote: vec![0, 7],
            position: Some(RawPosition {
                started_at: 1,
                next_sample: 2,
                last_output_pts: Some(-4),
            }),
            requests: vec![RawRequest {
                time: RawTime::finite(5, 2),
                before: RawTime::INFINITE,
                after: RawTime::finite(0, 1),
            }],
        };
        assert_eq!(parse_planner(&write_planner(&input)), input);
    }

    #[test]
    fn grab_and_time_inputs_round_trip() {
        let parameters = GrabParameters {
            options: 0x81,
            tolerance: 2,
            before_ms: 500,
            after_ms: 0,
            max_width: 320,
            max_height: 0,
            times_ms: [0, 2500, -1],
        };
        let bytes = write_grab(&parameters, b"file");
        assert_eq!(bytes.len(), GRAB_PARAMETER_BYTES + 4);
        assert_eq!(parse_grab(&bytes), (parameters, &b"file"[..]));
        let time = TimeInput {
            a_value: -3,
            a_timescale: 2,
            b_value: i64::MAX,
            b_timescale: 0,
            scale: 90_000,
            text: b"01:02.5",
        };
        let bytes = write_time(&time);
        assert_eq!(bytes.len(), TIME_PARAMETER_BYTES + 7);
        assert_eq!(parse_time(&bytes), time);
    }

    #[test]
    fn anything_parses() {
        for data in [&[][..], &[0x80], &[0xFF, 0xFF, 0xFF, 1], &[1; 100]] {
            let _ = parse_packets(data);
            let _ = parse_planner(data);
            let _ = parse_grab(data);
            let _ = parse_time(data);
        }
    }
}
