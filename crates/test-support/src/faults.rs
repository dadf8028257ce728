//! Fault scenarios: a database halted while clients send requests, and a service killed in the
//! middle of a burst.

use crate::cluster::PrivateCluster;
use crate::process::Process;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `workers` client loops made by `client` on a thread of their own, with its own runtime,
/// so that the test's thread stays free to halt a database or kill a process meanwhile.
fn clients<F, Fut>(workers: usize, client: F) -> std::thread::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    std::thread::spawn(move || {
        let runtime = crate::runtime();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let loops: Vec<_> = (0..workers)
                .map(|_| tokio::task::spawn_local(client()))
                .collect();
            for each in loops {
                let _ = each.await;
            }
        });
    })
}

/// What clients saw while a cluster was halted and after it came back.
#[derive(Debug)]
pub struct Outage {
    /// The status of every request that started and ended while the database was down (0: the
    /// connection to the service failed).
    pub statuses_while_down: Vec<u16>,
    pub slowest_while_down: std::time::Duration,
    /// From the restart of the database to the first success, if one came.
    pub recovered_after: Option<std::time::Duration>,
}

impl Outage {
    /// The contract for a lost database: requests flowed while it was down, every one got 503
    /// within 5 s (no hang, no 500, no dead process), and service resumed by itself within 15 s
    /// of its return. `logs` (the service's) are shown when it does not hold.
    pub fn assert_contract_held(&self, logs: &str) {
        use std::time::Duration;
        assert!(
            self.statuses_while_down.len() >= 4,
            "requests flowed while the database was down: {self:?}"
        );
        assert!(
            self.statuses_while_down.iter().all(|s| *s == 503),
            "every request got 503 while the database was down: {self:?}\n{logs}"
        );
        assert!(
            self.slowest_while_down < Duration::from_secs(5),
            "no request hung: {self:?}"
        );
        assert!(
            self.recovered_after
                .is_some_and(|t| t < Duration::from_secs(15)),
            "the service resumed by itself: {self:?}\n{logs}"
        );
    }
}

/// Halts `cluster` while `workers` clients keep sending `request` (which answers the status it
/// got, 0 for no answer), keeps it down for `down_for`, resumes it, and waits at most 30 s for a
/// request to succeed again.
pub fn outage<F, Fut>(
    cluster: &PrivateCluster,
    workers: usize,
    down_for: std::time::Duration,
    request: F,
) -> Outage
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = u16>,
{
    use std::sync::Mutex;
    use std::sync::atomic::AtomicU8;
    use std::time::{Duration, Instant};
    const UP: u8 = 0;
    const DOWN: u8 = 1;
    const BACK: u8 = 2;
    let phase = Arc::new(AtomicU8::new(UP));
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<(u8, u8, u16, Duration, Instant)>::new()));
    let flow = {
        let (phase, stop, seen, request) =
            (phase.clone(), stop.clone(), seen.clone(), Arc::new(request));
        clients(workers, move || {
            let (phase, stop, seen, request) =
                (phase.clone(), stop.clone(), seen.clone(), request.clone());
            async move {
                while !stop.load(Ordering::SeqCst) {
                    let before = phase.load(Ordering::SeqCst);
                    let started = Instant::now();
                    let status = request().await;
                    let after = phase.load(Ordering::SeqCst);
                    let record = (before, after, status, started.elapsed(), Instant::now());
                    seen.lock().unwrap().push(record);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    cluster.halt();
    phase.store(DOWN, Ordering::SeqCst);
    std::thread::sleep(down_for);
    phase.store(BACK, Ordering::SeqCst);
    cluster.resume();
    let resumed = Instant::now();
    let success = |status: u16| (200..300).contains(&status);
    while resumed.elapsed() < Duration::from_secs(30)
        && !seen
            .lock()
            .unwrap()
            .iter()
            .any(|(before, _, status, _, _)| *before == BACK && success(*status))
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    flow.join().expect("the clients ran");
    let seen = seen.lock().unwrap();
    let while_down: Vec<_> = seen
        .iter()
        .filter(|(before, after, ..)| *before == DOWN && *after == DOWN)
        .collect();
    Outage {
        statuses_while_down: while_down
            .iter()
            .map(|(_, _, status, ..)| *status)
            .collect(),
        slowest_while_down: while_down
            .iter()
            .map(|(_, _, _, took, _)| *took)
            .max()
            .unwrap_or_default(),
        recovered_after: seen
            .iter()
            .filter(|(before, _, status, ..)| *before == BACK && success(*status))
            .map(|(.., done)| done.saturating_duration_since(resumed))
            .min(),
    }
}

/// Sends `request(n)` from `workers` clients at once (n counts up across them) and SIGKILLs
/// `process` once `kill_after` requests were acknowledged; returns everything acknowledged
/// (`Some`) before the kill took effect.
pub fn kill_during_burst<F, Fut, T>(
    process: Process,
    workers: usize,
    kill_after: usize,
    request: F,
) -> Vec<T>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<T>>,
    T: Send + 'static,
{
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicUsize::new(0));
    let burst = {
        let (acknowledged, stop, request) = (acknowledged.clone(), stop.clone(), Arc::new(request));
        clients(workers, move || {
            let (acknowledged, stop, counter, request) = (
                acknowledged.clone(),
                stop.clone(),
                counter.clone(),
                request.clone(),
            );
            async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    if let Some(item) = request(n).await {
                        acknowledged.lock().unwrap().push(item);
                    }
                }
            }
        })
    };
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < kill_after
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Dropping the process SIGKILLs it: no shutdown hook, no flush, as in a crash.
    drop(process);
    stop.store(true, Ordering::SeqCst);
    burst.join().expect("the clients ran");
    std::mem::take(&mut *acknowledged.lock().unwrap())
}
