//! A job: a set of requests asked together, its plan, and the bookkeeping that
//! answers every request exactly once and releases decode runs no faster than a
//! consumer asks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use stillframe_core::{Error, Result, Time};
use stillframe_seek::{FrameRef, Plan, Run, Target};

use crate::{GeneratedFrame, GeneratedImage, GeneratorOptions};

/// What a job's requests want made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Images, rendered with the job's options.
    Image,
    /// Decoded frames as they are.
    Frame,
}

/// One request's result.
#[derive(Debug)]
pub(crate) enum Output {
    Image(GeneratedImage),
    Frame(GeneratedFrame),
}

/// Receives each request's outcome, from whichever thread produced it; calls are
/// serialised, so a handler never runs on two threads at once.
pub(crate) type Sink = Box<dyn FnMut(usize, Result<Output>) + Send>;

/// One request: what the planner is asked, and what the result reports as asked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request {
    pub target: Target,
    /// The time asked for; for a frame number, the frame's own time once known.
    pub requested: Option<Time>,
}

/// A decode run of a job with the requests each of its frames serves.
pub(crate) struct RunWork {
    pub run: Run,
    /// For each target of `run` (same order): the requests it answers.
    pub requests: Vec<Vec<usize>>,
}

impl RunWork {
    /// The requests served by the target at `pts`, with that target.
    pub(crate) fn target_at(&self, pts: i64) -> Option<(FrameRef, &[usize])> {
        let at = self.run.targets.iter().position(|frame| frame.pts == pts)?;
        Some((
            *self.run.targets.get(at)?,
            self.requests.get(at)?.as_slice(),
        ))
    }
}

/// Runs not yet handed to workers, and how many results are out but not consumed.
struct Gate {
    unreleased: VecDeque<usize>,
    /// Requests of released runs not yet consumed (streams) or not yet answered.
    outstanding: usize,
}

/// A set of requests asked together.
pub(crate) struct Job {
    pub requests: Vec<Request>,
    pub want: Want,
    pub options: GeneratorOptions,
    /// Set by its own cancel, or read against the engine's epoch (`cancel_all`).
    pub cancelled: Arc<AtomicBool>,
    pub epoch: u64,
    /// At most this many results are made ahead of a consumer (streams only).
    lookahead: Option<usize>,
    sink: Mutex<Option<Sink>>,
    delivered: Vec<AtomicBool>,
    remaining: AtomicUsize,
    runs: Mutex<Vec<Arc<RunWork>>>,
    gate: Mutex<Gate>,
    /// Tasks of this job queued or running: the job is done when every request is
    /// answered *and* its last task has handed its decoder back, so a caller that
    /// waited and asks again finds that decoder where the job left it.
    tasks: AtomicUsize,
    done: Mutex<bool>,
    finished: Condvar,
    /// Samples fed to decoders for this job.
    pub fed: AtomicU64,
}

impl Job {
    pub(crate) fn new(
        requests: Vec<Request>,
        want: Want,
        options: GeneratorOptions,
        lookahead: Option<usize>,
        epoch: u64,
        sink: Sink,
    ) -> Job {
        let count = requests.len();
        Job {
            delivered: (0..count).map(|_| AtomicBool::new(false)).collect(),
            remaining: AtomicUsize::new(count),
            requests,
            want,
            options,
            cancelled: Arc::new(AtomicBool::new(false)),
            epoch,
            lookahead,
            sink: Mutex::new(Some(sink)),
            runs: Mutex::new(Vec::new()),
            gate: Mutex::new(Gate {
                unreleased: VecDeque::new(),
                outstanding: 0,
            }),
            tasks: AtomicUsize::new(0),
            done: Mutex::new(count == 0),
            finished: Condvar::new(),
            fed: AtomicU64::new(0),
        }
    }

    /// Requests answered so far and requests in all.
    pub(crate) fn progress(&self) -> (usize, usize) {
        let total = self.requests.len();
        let remaining = self.remaining.load(Ordering::Acquire);
        (total.saturating_sub(remaining), total)
    }

    /// True once every request has been answered.
    pub(crate) fn is_done(&self) -> bool {
        *lock(&self.done)
    }

    /// Blocks until every request has been answered.
    pub(crate) fn wait(&self) {
        let mut done = lock(&self.done);
        while !*done {
            done = self
                .finished
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Answers request `index` unless it was answered already.
    pub(crate) fn deliver(&self, index: usize, outcome: Result<Output>) {
        let first = self
            .delivered
            .get(index)
            .is_some_and(|flag| !flag.swap(true, Ordering::AcqRel));
        if !first {
            return;
        }
        {
            let mut sink = lock(&self.sink);
            if let Some(sink) = sink.as_mut() {
                sink(index, outcome);
            }
        }
        if self.lookahead.is_none() {
            let mut gate = lock(&self.gate);
            gate.outstanding = gate.outstanding.saturating_sub(1);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last answer: the sink (and what it holds) is no longer needed.
            lock(&self.sink).take();
            self.settle();
        }
    }

    /// A task of this job was queued.
    pub(crate) fn task_started(&self) {
        self.tasks.fetch_add(1, Ordering::AcqRel);
    }

    /// A task of this job ended (its decoder is back in the pool).
    pub(crate) fn task_ended(&self) {
        self.tasks.fetch_sub(1, Ordering::AcqRel);
        self.settle();
    }

    fn settle(&self) {
        let mut done = lock(&self.done);
        let answered = self.remaining.load(Ordering::Acquire) == 0;
        if answered && self.tasks.load(Ordering::Acquire) == 0 && !*done {
            *done = true;
            self.finished.notify_all();
        }
    }

    /// Answers every request not answered yet with `error`.
    pub(crate) fn fail_all(&self, error: &Error) {
        for index in 0..self.requests.len() {
            self.deliver(index, Err(error.clone()));
        }
    }

    /// Takes in the plan: requests it could not serve are answered now, the runs
    /// wait to be released.
    pub(crate) fn take_plan(&self, plan: Plan) {
        let Plan { runs, assignments } = plan;
        let mut work: Vec<RunWork> = runs
            .into_iter()
            .map(|run| {
                let requests = vec![Vec::new(); run.targets.len()];
                RunWork { run, requests }
            })
            .collect();
        for (index, assignment) in assignments.into_iter().enumerate() {
            let assignment = match assignment {
                Ok(assignment) => assignment,
                Err(error) => {
                    self.deliver(index, Err(error));
                    continue;
                }
            };
            let slot = work.get_mut(assignment.run).and_then(|run| {
                let at = run
                    .run
                    .targets
                    .iter()
                    .position(|frame| *frame == assignment.frame)?;
                run.requests.get_mut(at)
            });
            match slot {
                Some(requests) => requests.push(index),
                None => self.deliver(
                    index,
                    Err(Error::internal("a planned frame belongs to no decode run")),
                ),
            }
        }
        let mut runs = lock(&self.runs);
        let mut gate = lock(&self.gate);
        for run in work {
            gate.unreleased.push_back(runs.len());
            runs.push(Arc::new(run));
        }
    }

    /// The runs that may start now: all of them, or for a stream as many as keep at
    /// most `lookahead` results ahead of its consumer (always one when none is
    /// outstanding, so a run serving more than that still proceeds).
    pub(crate) fn release(&self) -> Vec<Arc<RunWork>> {
        let runs = lock(&self.runs);
        let mut gate = lock(&self.gate);
        let mut released = Vec::new();
        while let Some(&next) = gate.unreleased.front() {
            let Some(run) = runs.get(next) else {
                gate.unreleased.pop_front();
                continue;
            };
            let serves: usize = run.requests.iter().map(Vec::len).sum();
            let room = match self.lookahead {
                None => true,
                Some(limit) => gate.outstanding == 0 || gate.outstanding + serves <= limit,
            };
            if !room {
                break;
            }
            gate.unreleased.pop_front();
            gate.outstanding += serves;
            released.push(Arc::clone(run));
        }
        released
    }

    /// A stream's consumer took one result: room for more.
    pub(crate) fn consumed(&self) {
        let mut gate = lock(&self.gate);
        gate.outstanding = gate.outstanding.saturating_sub(1);
    }

    /// Runs never released (the job was cancelled or dropped).
    pub(crate) fn unreleased(&self) -> Vec<Arc<RunWork>> {
        let runs = lock(&self.runs);
        let mut gate = lock(&self.gate);
        gate.unreleased
            .drain(..)
            .filter_map(|index| runs.get(index).cloned())
            .collect()
    }

    /// What the result for request `index` reports as asked.
    pub(crate) fn requested(&self, index: usize, actual: Time) -> Time {
        self.requests
            .get(index)
            .and_then(|request| request.requested)
            .unwrap_or(actual)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a handler cannot leave these counters inconsistent in a way that
    // matters more than answering the other requests.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
