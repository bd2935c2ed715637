//! The whole pipeline on arbitrary bytes: `Asset::from_reader` → `ImageGenerator` →
//! a few requests (single and batched) with arbitrary tolerances and sizes.
//! Input layout: `stillframe_fuzz_input::parse_grab` (settings, then the file).
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use stillframe::{
    ApertureMode, Asset, GeneratorOptions, ImageGenerator, Limits, MaximumSize, Time, Tolerance,
};
use stillframe_fuzz_input::parse_grab;

fuzz_target!(|data: &[u8]| {
    let (parameters, file) = parse_grab(data);
    let tolerance = match parameters.tolerance {
        0 => Tolerance::ZERO,
        1 => Tolerance::INFINITE,
        _ => Tolerance::new(
            Time::from_millis(i64::from(parameters.before_ms)),
            Time::from_millis(i64::from(parameters.after_ms)),
        )
        .unwrap_or(Tolerance::INFINITE),
    };
    let maximum_size = MaximumSize {
        width: u32::from(parameters.max_width),
        height: u32::from(parameters.max_height),
    };
    let options = GeneratorOptions {
        tolerance,
        maximum_size,
        applies_preferred_track_transform: parameters.options & 1 != 0,
        aperture_mode: match (parameters.options >> 1) & 3 {
            0 => ApertureMode::Clean,
            1 => ApertureMode::Production,
            _ => ApertureMode::Encoded,
        },
        threads: 1,
        // 512×512: a mutated header may not make every execution decode and render big
        // pictures (rav1d without its assembly, under AddressSanitizer, takes seconds
        // on 1080p). A million samples for the same reason as in mp4_demux.
        limits: Limits {
            max_pixels: 1 << 18,
            max_samples: 1 << 20,
            ..Limits::default()
        },
        ..GeneratorOptions::default()
    };
    let Ok(mut asset) = Asset::from_reader_with_limits(Cursor::new(file.to_vec()), options.limits)
    else {
        return;
    };
    let _ = asset.info();
    if parameters.options & 0x40 != 0 {
        let _ = asset.index_fully();
    }
    let Ok(generator) = ImageGenerator::new(asset, options) else {
        return;
    };
    let times = parameters
        .times_ms
        .map(|ms| Time::from_millis(i64::from(ms)));
    let fits = |width: u32, height: u32| {
        (maximum_size.width == 0 || width <= maximum_size.width)
            && (maximum_size.height == 0 || height <= maximum_size.height)
    };
    for &time in &times {
        if let Ok(made) = generator.image_at(time) {
            assert!(
                fits(made.image.width(), made.image.height()),
                "{}x{} image for a {maximum_size:?} bound",
                made.image.width(),
                made.image.height()
            );
        }
    }
    let _ = generator.frame_at(times[0]);
    if parameters.options & 0x80 != 0 {
        let made = generator.images_at(&times);
        assert_eq!(made.len(), times.len());
        for image in made.iter().flatten() {
            assert!(fits(image.image.width(), image.image.height()));
        }
    }
});
