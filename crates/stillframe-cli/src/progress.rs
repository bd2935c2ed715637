//! A progress line on stderr for long jobs, when stderr is a terminal: images made
//! and inputs done, redrawn at most ten times a second. Result lines printed while
//! it shows clear it first, so the two never garble each other.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts and draws; shared by every worker of a job.
pub struct Progress {
    state: Option<Mutex<State>>,
}

struct State {
    images: usize,
    inputs_done: usize,
    inputs: usize,
    drawn: Option<Instant>,
    showing: bool,
}

const REDRAW_EVERY: Duration = Duration::from_millis(100);

impl Progress {
    /// A progress line for `inputs` inputs, shown only when `wanted` and stderr is a
    /// terminal.
    pub fn new(wanted: bool, inputs: usize) -> Progress {
        let shown = wanted && std::io::stderr().is_terminal();
        Progress {
            state: shown.then(|| {
                Mutex::new(State {
                    images: 0,
                    inputs_done: 0,
                    inputs,
                    drawn: None,
                    showing: false,
                })
            }),
        }
    }

    /// One more image made.
    pub fn image(&self) {
        self.update(|state| state.images += 1);
    }

    /// One more input finished.
    pub fn input_done(&self) {
        self.update(|state| state.inputs_done += 1);
    }

    /// Runs `print` (which writes a result line) with the progress line cleared.
    pub fn around(&self, print: impl FnOnce()) {
        let Some(state) = &self.state else {
            return print();
        };
        let mut state = state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.clear();
        print();
        state.draw();
    }

    /// Clears the line for good.
    pub fn finish(&self) {
        if let Some(state) = &self.state {
            state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clear();
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let Some(state) = &self.state else { return };
        let mut state = state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut state);
        if state.drawn.is_none_or(|at| at.elapsed() >= REDRAW_EVERY) {
            state.draw();
        }
    }
}

impl State {
    fn draw(&mut self) {
        let mut line = format!("stillframe: {} images", self.images);
        if self.inputs > 1 {
            line.push_str(&format!(", {}/{} inputs", self.inputs_done, self.inputs));
        }
        // A terminal that went away is no reason to stop the job.
        let _ = write!(std::io::stderr(), "\r{line}\x1b[K");
        self.drawn = Some(Instant::now());
        self.showing = true;
    }

    fn clear(&mut self) {
        if self.showing {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            self.showing = false;
        }
    }
}
