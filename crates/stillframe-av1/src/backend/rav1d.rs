//! The `rav1d` backend: dav1d's C API as rav1d exports it from Rust.

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_flush,
    dav1d_get_picture, dav1d_open, dav1d_picture_unref, dav1d_send_data,
};
use stillframe_core::ColourDescription;

use super::{colour_of, Geometry, Settings};

/// The backend's name in messages.
pub(crate) const BACKEND: &str = "rav1d";

/// An open decoder (`Dav1dContext`). Calls need `&mut self`: rav1d panics on
/// concurrent `send_data`/`get_picture`.
pub(crate) struct Context {
    raw: Dav1dContext,
}

// SAFETY: a dav1d context may be used from any thread, one call at a time; every
// call here takes `&mut self`, so calls never overlap. Its worker threads are its own.
unsafe impl Send for Context {}

impl Context {
    /// `dav1d_open` with dav1d's defaults, then `settings`, operating point 0,
    /// only the highest spatial layer, film grain applied, and no logging.
    ///
    /// rav1d 1.1 always runs here with at least two frame contexts (two threads,
    /// frame delay ≥ 2): with one, a frame that fails to decode (corrupt tile
    /// data) makes its error path unwrap a frame header it has already released,
    /// a panic inside an `extern "C"` function, which aborts the process. With
    /// frame threading the same error comes back from `get_picture`. The decoder
    /// drains after each packet when one frame of delay was asked for, so its
    /// output timing is the same.
    pub(crate) fn open(settings: &Settings) -> Result<Context, i32> {
        let mut raw = MaybeUninit::<Dav1dSettings>::uninit();
        // SAFETY: `dav1d_default_settings` writes a whole `Dav1dSettings` to the
        // pointer, which is valid for writes; it is read only after.
        let mut s = unsafe {
            dav1d_default_settings(NonNull::from(&mut raw).cast());
            raw.assume_init()
        };
        let threads = match settings.threads {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            threads => usize::try_from(threads).unwrap_or(2),
        };
        s.n_threads = i32::try_from(threads.clamp(2, 256)).unwrap_or(2);
        s.max_frame_delay = match settings.max_frame_delay {
            0 => 0,
            delay => i32::try_from(delay.clamp(2, 256)).unwrap_or(2),
        };
        s.frame_size_limit = settings.frame_size_limit;
        s.apply_grain = 1;
        s.operating_point = 0;
        s.all_layers = 0;
        // SAFETY: the logger is dav1d's `{ void *cookie; callback }` pair of
        // nullable pointers; all zero is (NULL, NULL), which dav1d documents as
        // "no logging".
        s.logger = unsafe { std::mem::zeroed() };
        let mut out: Option<Dav1dContext> = None;
        // SAFETY: both pointers are valid for the call; `s` is fully initialised.
        let result =
            unsafe { dav1d_open(Some(NonNull::from(&mut out)), Some(NonNull::from(&mut s))) };
        match out {
            Some(raw) if result.0 == 0 => Ok(Context { raw }),
            _ => Err(if result.0 < 0 { result.0 } else { -22 }),
        }
    }

    /// `dav1d_send_data`: 0 when `data` was taken (it is then empty), a negative
    /// code otherwise, after which `data` is still ours (to resend after
    /// `get_picture` on `EAGAIN`, to drop otherwise).
    pub(crate) fn send(&mut self, data: &mut Data) -> i32 {
        // SAFETY: the context is open (closed only in `drop`); `data.raw` is a
        // valid `Dav1dData` made by `dav1d_data_create`, valid for reads and writes.
        unsafe { dav1d_send_data(Some(self.raw), Some(NonNull::from(&mut data.raw))) }.0
    }

    /// `dav1d_get_picture`: a picture, or the negative code (`EAGAIN`: none ready).
    pub(crate) fn get_picture(&mut self) -> Result<Picture, i32> {
        let mut picture = Picture {
            raw: Dav1dPicture::default(),
        };
        // SAFETY: the context is open; the picture is valid for writes. On failure
        // dav1d leaves it empty, and unref'ing an empty picture does nothing.
        let result =
            unsafe { dav1d_get_picture(Some(self.raw), Some(NonNull::from(&mut picture.raw))) };
        if result.0 < 0 {
            return Err(result.0);
        }
        Ok(picture)
    }

    /// `dav1d_flush`: forgets every frame and reference, and any data held back.
    pub(crate) fn flush(&mut self) {
        // SAFETY: the context is open.
        unsafe { dav1d_flush(self.raw) }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        let mut context = Some(self.raw);
        // SAFETY: the context is open and closed only here, and nothing uses
        // `self.raw` afterwards. rav1d's `dav1d_close` does not join its worker
        // threads: it tells them to die, and the last one to exit frees the context
        // (fuzz/lsan.supp; tests/memory.rs waits for them before it counts).
        unsafe { dav1d_close(Some(NonNull::from(&mut context))) }
    }
}

/// Input bytes in a dav1d-owned buffer (`Dav1dData`).
pub(crate) struct Data {
    raw: Dav1dData,
}

// SAFETY: the buffer is reference-counted by dav1d with atomic counts and owned by
// this value alone until the decoder takes it.
unsafe impl Send for Data {}

impl Data {
    /// A copy of `bytes` (not empty) stamped with `timestamp`, or `ENOMEM`.
    pub(crate) fn new(bytes: &[u8], timestamp: i64) -> Result<Data, i32> {
        if bytes.is_empty() {
            return Err(-22);
        }
        let mut data = Data {
            raw: Dav1dData::default(),
        };
        // SAFETY: `data.raw` is valid for writes; on success dav1d returns a buffer
        // of `bytes.len()` writable bytes that `data.raw` owns.
        let buffer = unsafe { dav1d_data_create(Some(NonNull::from(&mut data.raw)), bytes.len()) };
        if buffer.is_null() {
            return Err(-12);
        }
        // SAFETY: `buffer` holds `bytes.len()` bytes and does not overlap `bytes`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer, bytes.len()) };
        data.raw.m.timestamp = timestamp;
        Ok(data)
    }

    /// True once the decoder has taken all of it.
    pub(crate) fn is_empty(&self) -> bool {
        self.raw.sz == 0
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: `raw` is a valid `Dav1dData`: ours (then this releases it) or
        // emptied by the decoder (then this does nothing).
        unsafe { dav1d_data_unref(Some(NonNull::from(&mut self.raw))) }
    }
}

/// A decoded picture (`Dav1dPicture`), unref'd when dropped.
pub(crate) struct Picture {
    raw: Dav1dPicture,
}

// SAFETY: the picture's buffers are reference-counted with atomic counts and
// read-only once output; this value holds one reference.
unsafe impl Send for Picture {}

impl Picture {
    /// Size, chroma layout and bit depth, or `None` for values dav1d never outputs.
    pub(crate) fn geometry(&self) -> Option<Geometry> {
        let p = &self.raw.p;
        Geometry::from_picture(p.w, p.h, p.layout, p.bpc)
    }

    /// The timestamp of the data that carried the shown frame (`m.timestamp`).
    pub(crate) fn timestamp(&self) -> i64 {
        self.raw.m.timestamp
    }

    /// Colour description of the picture's sequence header.
    pub(crate) fn colour(&self) -> Option<ColourDescription> {
        let header = self.raw.seq_hdr?;
        // SAFETY: an output picture holds a reference to its sequence header, which
        // lives as long as the picture; we only read it.
        let header = unsafe { header.as_ref() };
        Some(colour_of(
            header.pri,
            header.trc,
            header.mtrx,
            header.color_range != 0,
        ))
    }

    /// Plane `index` as `(bytes from its first visible row to the end of its last
    /// visible row, stride)`, per `geometry`.
    pub(crate) fn plane(&self, index: usize, geometry: &Geometry) -> Option<(&[u8], usize)> {
        let origin = (*self.raw.data.get(index)?)?.cast::<u8>();
        let (extent, stride) = geometry.plane_extent(index, *self.raw.stride.get(index.min(1))?)?;
        // SAFETY: dav1d's picture allocator gives each plane `rows` rows of `stride`
        // bytes (positive strides, checked above), alive while the picture is; the
        // slice borrows `self`, which holds the reference.
        let bytes = unsafe { std::slice::from_raw_parts(origin.as_ptr(), extent) };
        Some((bytes, stride))
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: `raw` is a picture from `dav1d_get_picture` (or empty), unref'd
        // only here, once.
        unsafe { dav1d_picture_unref(Some(NonNull::from(&mut self.raw))) }
        // rav1d 1.1's unref writes a default picture back, and its default holds a
        // freshly allocated (empty) T.35 list that nothing frees: 88 KB over 600
        // pictures of a fixture (tests/memory.rs), and with the heap fragmenting
        // around those blocks a fuzz run grew by 40 MB a minute. It is ours to free.
        if let Some(t35) = self.raw.itut_t35_ref.take() {
            // SAFETY: `dav1d_picture_unref` just made this reference with
            // `RawArc::from_arc` and handed it to us alone; it is turned back
            // into its `Arc` once, here, and dropped.
            drop(unsafe { t35.into_arc() });
        }
    }
}
