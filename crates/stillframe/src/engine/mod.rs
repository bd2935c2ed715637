//! The generator's engine: one bounded pool of workers per generator, fed by jobs.
//!
//! Every API — a single image, a batch, a callback, a future, a stream, raw frames
//! — submits a [`Job`]. A worker plans it (in `stillframe-seek`, through
//! [`Source::plan`]: the frame for each request depends only on the file, the
//! time and the tolerance), then its decode runs join the queue. Workers take runs
//! in turn, each on a decoder from a small pool that prefers one already standing
//! where the run begins, and answer each request as soon as its frame exists. So
//! runs of different jobs proceed side by side, memory is one decoder per worker
//! plus the results not yet handed over, and nothing waits on a thread of its own.

mod job;
mod run;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use stillframe_core::{Error, Result};

use job::RunWork;
pub(crate) use job::{Job, Output, Request, Sink, Want};
use run::{DecoderState, RunContext};

use crate::source::Source;

/// An idle worker waits this long for work before its thread ends; the next job
/// starts a new one.
const IDLE_EXIT: Duration = Duration::from_secs(2);

/// Work waiting for a worker.
enum Task {
    /// Plan a job's requests, then release its runs.
    Plan(Arc<Job>),
    /// Decode one run of a job.
    Run(Arc<Job>, Arc<RunWork>),
}

/// Tasks waiting, per job, served round-robin: a short job is not stuck behind
/// the hundred runs of a long one.
#[derive(Default)]
struct Queue {
    jobs: VecDeque<(Arc<Job>, VecDeque<Task>)>,
}

impl Queue {
    fn push(&mut self, task: Task) {
        let job = task.job();
        match self
            .jobs
            .iter_mut()
            .find(|(queued, _)| Arc::ptr_eq(queued, job))
        {
            Some((_, tasks)) => tasks.push_back(task),
            None => self
                .jobs
                .push_back((Arc::clone(job), VecDeque::from([task]))),
        }
    }

    /// The next task of the job at the front; that job then goes to the back.
    fn pop(&mut self) -> Option<Task> {
        let (job, mut tasks) = self.jobs.pop_front()?;
        let task = tasks.pop_front();
        if !tasks.is_empty() {
            self.jobs.push_back((job, tasks));
        }
        task.or_else(|| self.pop())
    }

    fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

impl Task {
    fn job(&self) -> &Arc<Job> {
        match self {
            Task::Plan(job) | Task::Run(job, _) => job,
        }
    }
}

/// What the workers share under one lock.
struct Pool {
    queue: Queue,
    /// Decoders not in use, with what they hold.
    idle: Vec<DecoderState>,
    /// Worker threads alive, and how many of them wait for work.
    workers: usize,
    waiting: usize,
    /// Set when the last handle to the generator is gone: workers end once the
    /// queue is empty.
    closing: bool,
}

/// The engine of one generator.
pub(crate) struct Engine {
    source: Arc<Source>,
    pool: Mutex<Pool>,
    wake: Condvar,
    threads: usize,
    /// Bumped by `cancel_all`: jobs submitted under an older epoch stop.
    epoch: AtomicU64,
    /// Samples fed to decoders since the generator was made.
    fed: AtomicU64,
}

impl Engine {
    pub(crate) fn new(source: Source, threads: usize) -> Arc<Engine> {
        Arc::new(Engine {
            source: Arc::new(source),
            pool: Mutex::new(Pool {
                queue: Queue::default(),
                idle: Vec::new(),
                workers: 0,
                waiting: 0,
                closing: false,
            }),
            wake: Condvar::new(),
            threads: threads.max(1),
            epoch: AtomicU64::new(0),
            fed: AtomicU64::new(0),
        })
    }

    pub(crate) fn source(&self) -> &Source {
        &self.source
    }

    pub(crate) fn frames_decoded(&self) -> u64 {
        self.fed.load(Ordering::Acquire)
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Cancels every job submitted so far.
    pub(crate) fn cancel_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job` for planning.
    pub(crate) fn submit(self: &Arc<Self>, job: Arc<Job>) {
        if job.is_done() {
            return;
        }
        job.task_started();
        self.enqueue(vec![Task::Plan(job)]);
    }

    /// Releases whatever runs `job` may start now (a stream's consumer made room).
    pub(crate) fn pump(self: &Arc<Self>, job: &Arc<Job>) {
        let tasks: Vec<Task> = job
            .release()
            .into_iter()
            .map(|run| {
                job.task_started();
                Task::Run(Arc::clone(job), run)
            })
            .collect();
        self.enqueue(tasks);
    }

    fn enqueue(self: &Arc<Self>, tasks: Vec<Task>) {
        if tasks.is_empty() {
            return;
        }
        let mut pool = self.lock();
        let count = tasks.len();
        for task in tasks {
            pool.queue.push(task);
        }
        let starts = count
            .saturating_sub(pool.waiting)
            .min(self.threads.saturating_sub(pool.workers));
        for _ in 0..starts {
            let engine = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("stillframe-worker".into())
                .spawn(move || engine.work());
            match spawned {
                Ok(_) => pool.workers += 1,
                Err(error) => log::error!("could not start a worker thread: {error}"),
            }
        }
        drop(pool);
        self.wake.notify_all();
        if self.lock().workers == 0 {
            // No thread could be started: do the work here rather than never.
            Arc::clone(self).work();
        }
    }

    /// Says the last handle is gone: idle decoders are dropped now, workers end
    /// once the queue is empty.
    pub(crate) fn close(&self) {
        let idle = {
            let mut pool = self.lock();
            pool.closing = true;
            std::mem::take(&mut pool.idle)
        };
        drop(idle);
        self.wake.notify_all();
    }

    /// A worker's life: take tasks until the queue has been empty for a while.
    fn work(self: Arc<Self>) {
        loop {
            let task = {
                let mut pool = self.lock();
                loop {
                    if let Some(task) = pool.queue.pop() {
                        break Some(task);
                    }
                    if pool.closing {
                        break None;
                    }
                    pool.waiting += 1;
                    let (guard, timeout) = self
                        .wake
                        .wait_timeout(pool, IDLE_EXIT)
                        .unwrap_or_else(PoisonError::into_inner);
                    pool = guard;
                    pool.waiting -= 1;
                    if timeout.timed_out() && pool.queue.is_empty() {
                        break None;
                    }
                }
            };
            match task {
                Some(Task::Plan(job)) => {
                    self.plan(&job);
                    job.task_ended();
                }
                Some(Task::Run(job, work)) => {
                    self.run(&job, &work);
                    job.task_ended();
                }
                None => break,
            }
        }
        let mut pool = self.lock();
        pool.workers = pool.workers.saturating_sub(1);
        if pool.workers == 0 {
            // The last worker out drops the decoders: nothing uses them until the
            // next job, which makes new ones.
            let idle = std::mem::take(&mut pool.idle);
            drop(pool);
            drop(idle);
        }
    }

    fn is_cancelled(&self, job: &Job) -> bool {
        job.cancelled.load(Ordering::Acquire) || self.epoch() != job.epoch
    }

    fn plan(self: &Arc<Self>, job: &Arc<Job>) {
        if self.is_cancelled(job) {
            job.fail_all(&Error::Cancelled);
            return;
        }
        let targets: Vec<_> = job.requests.iter().map(|request| request.target).collect();
        let plan = self.source.plan(&targets);
        job.take_plan(plan);
        self.pump(job);
    }

    fn run(self: &Arc<Self>, job: &Arc<Job>, work: &Arc<RunWork>) {
        let cancelled = || self.is_cancelled(job);
        if cancelled() {
            self.cancel_run(job, work);
            return;
        }
        let mut state = match self.take_decoder(work) {
            Ok(state) => state,
            Err(error) => {
                fail_run(job, work, &error);
                return;
            }
        };
        let context = RunContext {
            source: &self.source,
            job,
            work,
            inspector: self.source.inspector().ok(),
            cancelled: &cancelled,
            fed_total: &self.fed,
        };
        context.execute(&mut state);
        self.return_decoder(state);
        if cancelled() {
            // What was never released is answered too.
            for work in job.unreleased() {
                self.cancel_run(job, &work);
            }
        } else {
            self.pump(job);
        }
    }

    fn cancel_run(&self, job: &Job, work: &RunWork) {
        fail_run(job, work, &Error::Cancelled);
    }

    /// The idle decoder that suits `work` best, or a new one.
    fn take_decoder(&self, work: &RunWork) -> Result<DecoderState> {
        let chosen = {
            let mut pool = self.lock();
            let best = (0..pool.idle.len()).max_by_key(|&i| pool.idle[i].affinity(work));
            best.map(|i| pool.idle.swap_remove(i))
        };
        match chosen {
            Some(state) => Ok(state),
            None => Ok(DecoderState::new(self.source.new_decoder()?)),
        }
    }

    fn return_decoder(&self, state: DecoderState) {
        let mut pool = self.lock();
        // One decoder per worker at most; a closing engine keeps none.
        if !pool.closing && pool.idle.len() < self.threads {
            pool.idle.push(state);
        }
    }
}

/// Answers every request `work` serves with `error`.
fn fail_run(job: &Job, work: &RunWork, error: &Error) {
    for requests in &work.requests {
        for &index in requests {
            job.deliver(index, Err(error.clone()));
        }
    }
}
