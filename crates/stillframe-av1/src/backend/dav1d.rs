//! The `dav1d` backend: the system libdav1d through dav1d-sys.

use std::mem::MaybeUninit;
use std::ptr::{null_mut, NonNull};

use dav1d_sys::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_flush,
    dav1d_get_picture, dav1d_open, dav1d_picture_unref, dav1d_send_data, Dav1dContext, Dav1dData,
    Dav1dPicture, Dav1dSettings,
};
use stillframe_core::ColourDescription;

use super::{colour_of, Geometry, Settings};

/// The backend's name in messages.
pub(crate) const BACKEND: &str = "libdav1d";

/// An open decoder (`Dav1dContext`). Calls need `&mut self`: `dav1d_get_picture`
/// and `dav1d_send_data` must not run concurrently.
pub(crate) struct Context {
    raw: NonNull<Dav1dContext>,
}

// SAFETY: a dav1d context may be used from any thread, one call at a time; every
// call here takes `&mut self`, so calls never overlap. Its worker threads are its own.
unsafe impl Send for Context {}

impl Context {
    /// `dav1d_open` with dav1d's defaults, then `settings`, operating point 0,
    /// only the highest spatial layer, film grain applied, and no logging.
    pub(crate) fn open(settings: &Settings) -> Result<Context, i32> {
        let mut raw = MaybeUninit::<Dav1dSettings>::uninit();
        // SAFETY: `dav1d_default_settings` writes a whole `Dav1dSettings` to the
        // pointer, which is valid for writes; it is read only after.
        let mut s = unsafe {
            dav1d_default_settings(raw.as_mut_ptr());
            raw.assume_init()
        };
        s.n_threads = i32::try_from(settings.threads).unwrap_or(0);
        s.max_frame_delay = i32::try_from(settings.max_frame_delay).unwrap_or(0);
        s.frame_size_limit = settings.frame_size_limit;
        s.apply_grain = 1;
        s.operating_point = 0;
        s.all_layers = 0;
        s.logger.cookie = null_mut();
        s.logger.callback = null_mut();
        let mut out: *mut Dav1dContext = null_mut();
        // SAFETY: both pointers are valid for the call; `s` is fully initialised.
        let result = unsafe { dav1d_open(&raw mut out, &raw const s) };
        match NonNull::new(out) {
            Some(raw) if result == 0 => Ok(Context { raw }),
            _ => Err(if result < 0 { result } else { -22 }),
        }
    }

    /// `dav1d_send_data`: 0 when `data` was taken (it is then empty), a negative
    /// code otherwise, after which `data` is still ours (to resend after
    /// `get_picture` on `EAGAIN`, to drop otherwise).
    pub(crate) fn send(&mut self, data: &mut Data) -> i32 {
        // SAFETY: the context is open (closed only in `drop`); `data.raw` is a
        // valid `Dav1dData` made by `dav1d_data_create`, valid for reads and writes.
        unsafe { dav1d_send_data(self.raw.as_ptr(), &raw mut data.raw) }
    }

    /// `dav1d_get_picture`: a picture, or the negative code (`EAGAIN`: none ready).
    pub(crate) fn get_picture(&mut self) -> Result<Picture, i32> {
        // SAFETY: an all-zero `Dav1dPicture` is the empty picture (null pointers).
        let mut picture = Picture {
            raw: unsafe { std::mem::zeroed() },
        };
        // SAFETY: the context is open; the picture is valid for writes. On failure
        // dav1d leaves it empty, and unref'ing an empty picture does nothing.
        let result = unsafe { dav1d_get_picture(self.raw.as_ptr(), &raw mut picture.raw) };
        if result < 0 {
            return Err(result);
        }
        Ok(picture)
    }

    /// `dav1d_flush`: forgets every frame and reference, and any data held back.
    pub(crate) fn flush(&mut self) {
        // SAFETY: the context is open.
        unsafe { dav1d_flush(self.raw.as_ptr()) }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        let mut context = self.raw.as_ptr();
        // SAFETY: the context is open and closed only here; `dav1d_close` joins its
        // threads and frees it, and nothing uses `self.raw` afterwards.
        unsafe { dav1d_close(&raw mut context) }
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
            // SAFETY: an all-zero `Dav1dData` is the empty one (null pointers).
            raw: unsafe { std::mem::zeroed() },
        };
        // SAFETY: `data.raw` is valid for writes; on success dav1d returns a buffer
        // of `bytes.len()` writable bytes that `data.raw` owns.
        let buffer = unsafe { dav1d_data_create(&raw mut data.raw, bytes.len()) };
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
        unsafe { dav1d_data_unref(&raw mut self.raw) }
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
        let header = NonNull::new(self.raw.seq_hdr)?;
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
        let origin = NonNull::new(*self.raw.data.get(index)?)?.cast::<u8>();
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
        unsafe { dav1d_picture_unref(&raw mut self.raw) }
    }
}
