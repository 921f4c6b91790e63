//! The inference thread: takes requests from the engine without ever blocking it, gathers the
//! requests that arrive within a few milliseconds into one batch (a symbol's latest window
//! wins), runs the ensemble, and publishes each prediction back into the engine's queue as an
//! event. Predictors are installed and rolled back here, between two batches; a request
//! assembled for the predictor just replaced still runs on it, so a swap loses no prediction.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::predictor::{InputSpec, MemberInfo, Predictor, Request};
use super::{InferenceError, PredictionEvent};

/// What the operator sees of inference.
#[derive(utoipa::ToSchema, Clone, Debug, Default, Serialize)]
pub struct InferenceStatus {
    /// Version of the running predictor (0: none).
    pub version: u64,
    /// Version kept for rollback.
    pub previous_version: Option<u64>,
    /// Where it runs and why.
    pub device: String,
    /// Its members.
    pub members: Vec<MemberInfo>,
    /// Batches run.
    pub batches: u64,
    /// Predictions published.
    pub predictions: u64,
    /// Requests for a predictor no longer installed, dropped.
    pub stale_dropped: u64,
    /// Symbols in the last batch.
    pub last_batch: usize,
    /// Milliseconds from the first request of the last batch to its publication.
    pub last_latency_ms: f64,
    /// The last inference error, if any.
    pub last_error: Option<String>,
}

/// What is known of an installed predictor outside the inference thread.
#[derive(Clone)]
struct Slot {
    spec: Arc<InputSpec>,
    device: String,
    members: Vec<MemberInfo>,
}

enum Job {
    Predict(Request, Instant),
    Install(Box<Predictor>),
    Rollback,
    Stop,
}

/// The running inference thread and what the engine needs to feed it.
pub struct InferenceService {
    tx: Mutex<Sender<Job>>,
    /// The running predictor and the previous one as the engine and the status see them,
    /// swapped together with the thread's.
    slots: Mutex<(Option<Slot>, Option<Slot>)>,
    status: Arc<Mutex<InferenceStatus>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl InferenceService {
    /// Starts the thread; `publish` hands each prediction to the engine's queue and returns
    /// false once the engine has stopped.
    pub fn start(
        publish: impl Fn(PredictionEvent) -> bool + Send + 'static,
        gather: Duration,
    ) -> Arc<Self> {
        let (tx, rx) = channel();
        let status = Arc::new(Mutex::new(InferenceStatus::default()));
        let thread_status = status.clone();
        let thread = std::thread::Builder::new()
            .name("inference".into())
            .spawn(move || run(rx, publish, thread_status, gather))
            .expect("spawn inference thread");
        Arc::new(InferenceService {
            tx: Mutex::new(tx),
            slots: Mutex::new((None, None)),
            status,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The running predictor's inputs, if one is installed.
    pub fn spec(&self) -> Option<Arc<InputSpec>> {
        lock(&self.slots).0.as_ref().map(|s| s.spec.clone())
    }

    /// Queues a request; never blocks.
    pub fn submit(&self, request: Request) {
        let _ = lock(&self.tx).send(Job::Predict(request, Instant::now()));
    }

    /// Installs a predictor; the running one is kept for rollback.
    pub fn install(&self, predictor: Predictor) {
        let mut slots = lock(&self.slots);
        let slot = Slot {
            spec: predictor.spec().clone(),
            device: predictor.device().to_string(),
            members: predictor.members().to_vec(),
        };
        let _ = lock(&self.tx).send(Job::Install(Box::new(predictor)));
        slots.1 = slots.0.replace(slot);
    }

    /// Switches back to the previous predictor.
    pub fn rollback(&self) -> Result<(), InferenceError> {
        let mut slots = lock(&self.slots);
        if slots.1.is_none() {
            return Err(InferenceError::Config(
                "no previous predictor to roll back to".into(),
            ));
        }
        let _ = lock(&self.tx).send(Job::Rollback);
        let (current, previous) = (slots.0.take(), slots.1.take());
        *slots = (previous, current);
        Ok(())
    }

    /// The status as of now.
    pub fn status(&self) -> InferenceStatus {
        let slots = lock(&self.slots);
        let mut status = lock(&self.status).clone();
        if let Some(current) = &slots.0 {
            status.version = current.spec.version;
            status.device = current.device.clone();
            status.members = current.members.clone();
        }
        status.previous_version = slots.1.as_ref().map(|s| s.spec.version);
        status
    }

    /// Stops the thread after the jobs already queued.
    pub fn stop(&self) {
        let _ = lock(&self.tx).send(Job::Stop);
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Predictors {
    current: Option<Predictor>,
    previous: Option<Predictor>,
}

impl Predictors {
    /// The installed predictor the request was assembled for.
    fn for_version(&mut self, version: u64) -> Option<&mut Predictor> {
        [self.current.as_mut(), self.previous.as_mut()]
            .into_iter()
            .flatten()
            .find(|p| p.spec().version == version)
    }
}

fn run(
    rx: Receiver<Job>,
    publish: impl Fn(PredictionEvent) -> bool,
    status: Arc<Mutex<InferenceStatus>>,
    gather: Duration,
) {
    let mut predictors = Predictors {
        current: None,
        previous: None,
    };
    let mut deferred: Option<Job> = None;
    loop {
        let job = match deferred.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        match job {
            Job::Stop => return,
            Job::Install(p) => predictors.previous = predictors.current.replace(*p),
            Job::Rollback => std::mem::swap(&mut predictors.current, &mut predictors.previous),
            Job::Predict(first, started) => {
                let mut batch = first;
                let deadline = started + gather;
                loop {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(Job::Predict(r, _)) if r.version == batch.version => batch.merge(r),
                        Ok(other) => {
                            deferred = Some(other);
                            break;
                        }
                        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                    }
                }
                let Some(predictor) = predictors.for_version(batch.version) else {
                    lock(&status).stale_dropped += 1;
                    continue;
                };
                let result =
                    predictor.run(&batch, |as_of| as_of + started.elapsed().as_millis() as i64);
                let mut s = lock(&status);
                match result {
                    Ok(events) => {
                        s.batches += 1;
                        s.last_batch = events.len();
                        s.predictions += events.len() as u64;
                        s.last_latency_ms = started.elapsed().as_secs_f64() * 1e3;
                        drop(s);
                        for e in events {
                            if !publish(e) {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "inference failed");
                        s.last_error = Some(e.to_string());
                    }
                }
            }
        }
    }
}
