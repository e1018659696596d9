//! Wake-ups through PostgreSQL's `LISTEN`/`NOTIFY`, built once for every kind of waiter and
//! generic over channel names: deliveries of the outbox wait on [`crate::db::events::CHANNEL`],
//! the response cache on [`CONTENT_CHANNEL`].
//!
//! One [`Listener`] per process holds a dedicated connection (never one of the pool's, which
//! would be lost to requests and would drop its `LISTEN`s when recycled) on a thread of its own:
//! diesel's `notifications_iter` only reads what has arrived (`PQconsumeInput` + `PQnotifies`),
//! so the thread drains it, sleeps briefly, and pings now and then to notice a dead connection.
//! It reconnects with a growing pause and, once listening again, wakes every waiter, since
//! anything sent meanwhile was lost. Notifications are hints, never the work itself: a waiter
//! also wakes at its own fallback time, so a lost one only delays work.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use futures_util::future::{Either, select};

use crate::error::Error;

/// Announced at the commit of every write to the tables public reads come from (a trigger on
/// each, see the `content_notify` migration).
pub const CONTENT_CHANNEL: &str = "beacon_content";

/// How often the thread looks for notifications that arrived.
const POLL: Duration = Duration::from_millis(100);
/// How often it checks that the connection still answers (a connection that died without a
/// word, behind a NAT say, would otherwise just stay quiet).
const PING: Duration = Duration::from_secs(30);
const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(10);

/// Why a waiter woke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// A notification arrived on its channel (or the listener reconnected), since it last woke.
    Notified,
    /// Its fallback time passed first.
    Timer,
}

/// Listens on a fixed set of channels until dropped.
pub struct Listener {
    signals: Arc<HashMap<String, Arc<Signal>>>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Starts listening on `channels` (names of lowercase letters, digits and `_`) over a
    /// connection of its own to `database_url`. Returns at once: the thread connects (and
    /// reconnects) in the background, and waiters fall back on their timers meanwhile.
    pub fn start(database_url: &str, channels: &[&str]) -> Result<Listener, Error> {
        let mut signals = HashMap::new();
        for channel in channels {
            let valid = !channel.is_empty()
                && channel.len() <= 63
                && channel
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(Error::internal(format!("bad channel name {channel:?}")));
            }
            signals.insert((*channel).to_owned(), Arc::new(Signal::default()));
        }
        let listener = Listener {
            signals: Arc::new(signals),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let thread = ListenThread {
            url: database_url.to_owned(),
            signals: listener.signals.clone(),
            stop: listener.stop.clone(),
        };
        thread::Builder::new()
            .name("beacon-listen".to_owned())
            .spawn(move || thread.run())
            .map_err(Error::internal)?;
        Ok(listener)
    }

    /// A waiter on `channel`, which must be one the listener was started with. It counts from
    /// now: a notification sent after this call wakes its next wait.
    pub fn waiter(&self, channel: &str) -> Result<Waiter, Error> {
        let signal = self
            .signals
            .get(channel)
            .ok_or_else(|| Error::internal(format!("not listening on {channel:?}")))?
            .clone();
        let seen = signal.state().generation;
        Ok(Waiter { signal, seen })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // The thread sees it within one poll and closes its connection.
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Waits for notifications on one channel. Call [`Waiter::wait`] after each round of work: a
/// notification that arrived during the work makes it return at once, so none is missed.
pub struct Waiter {
    signal: Arc<Signal>,
    seen: u64,
}

impl Waiter {
    /// Until a notification arrives that this waiter has not seen yet, or `fallback` (the
    /// caller's runtime timer, e.g. `actix_web::rt::time::sleep(every)`) completes: `db` stays
    /// free of any runtime.
    pub async fn wait(&mut self, fallback: impl Future) -> Wake {
        let notified = Notified {
            signal: &self.signal,
            seen: self.seen,
            registration: None,
        };
        match select(notified, Box::pin(fallback)).await {
            Either::Left((generation, _)) => {
                self.seen = generation;
                Wake::Notified
            }
            Either::Right(_) => Wake::Timer,
        }
    }
}

/// One channel's count of notifications and the tasks waiting for the next one.
#[derive(Default)]
struct Signal {
    state: Mutex<SignalState>,
}

#[derive(Default)]
struct SignalState {
    generation: u64,
    next_registration: u64,
    waiting: Vec<(u64, Waker)>,
}

impl Signal {
    fn state(&self) -> MutexGuard<'_, SignalState> {
        // A panic while holding the lock cannot leave the counter or the list inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wake(&self) {
        let waiting = {
            let mut state = self.state();
            state.generation += 1;
            std::mem::take(&mut state.waiting)
        };
        for (_, waker) in waiting {
            waker.wake();
        }
    }
}

/// Ready with the channel's count once it differs from `seen`.
struct Notified<'a> {
    signal: &'a Signal,
    seen: u64,
    registration: Option<u64>,
}

impl Future for Notified<'_> {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let signal = self.signal;
        let mut state = signal.state();
        if state.generation != self.seen {
            return Poll::Ready(state.generation);
        }
        let waker = cx.waker().clone();
        match self.registration {
            Some(id) => match state.waiting.iter_mut().find(|(entry, _)| *entry == id) {
                Some(entry) => entry.1 = waker,
                None => state.waiting.push((id, waker)),
            },
            None => {
                let id = state.next_registration;
                state.next_registration += 1;
                state.waiting.push((id, waker));
                drop(state);
                self.registration = Some(id);
            }
        }
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    // A wait that ended on its timer must not leave its waker behind, or a quiet channel would
    // collect one per wait.
    fn drop(&mut self) {
        if let Some(id) = self.registration {
            self.signal
                .state()
                .waiting
                .retain(|(entry, _)| *entry != id);
        }
    }
}

/// The listening thread's side.
struct ListenThread {
    url: String,
    signals: Arc<HashMap<String, Arc<Signal>>>,
    stop: Arc<AtomicBool>,
}

impl ListenThread {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn run(self) {
        let mut pause = FIRST_RETRY;
        while !self.stopped() {
            match self.connect() {
                Ok(mut conn) => {
                    pause = FIRST_RETRY;
                    tracing::debug!(channels = self.signals.len(), "listening for notifications");
                    // Whatever was sent while nobody listened is lost: every waiter looks now.
                    self.signals.values().for_each(|signal| signal.wake());
                    if let Err(error) = self.listen(&mut conn) {
                        tracing::warn!(%error, "the notification connection failed; reconnecting");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = pause.as_millis(), "cannot listen for notifications");
                }
            }
            self.sleep(pause);
            pause = (pause * 2).min(MAX_RETRY);
        }
    }

    fn connect(&self) -> Result<PgConnection, Error> {
        let mut conn = PgConnection::establish(&self.url)
            .map_err(|error| Error::Unavailable(error.to_string()))?;
        let statements: String = self
            .signals
            .keys()
            .map(|channel| format!("LISTEN \"{channel}\";"))
            .collect();
        conn.batch_execute(&statements)?;
        Ok(conn)
    }

    /// Until stopped (`Ok`) or the connection fails.
    fn listen(&self, conn: &mut PgConnection) -> Result<(), Error> {
        let mut last_ping = Instant::now();
        while !self.stopped() {
            for notification in conn.notifications_iter() {
                let notification = notification?;
                if let Some(signal) = self.signals.get(&notification.channel) {
                    signal.wake();
                }
            }
            if last_ping.elapsed() >= PING {
                conn.batch_execute("SELECT 1")?;
                last_ping = Instant::now();
            }
            thread::sleep(POLL);
        }
        Ok(())
    }

    /// Sleeps `pause`, waking early when stopped.
    fn sleep(&self, pause: Duration) {
        let until = Instant::now() + pause;
        while !self.stopped() && Instant::now() < until {
            thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        }
    }
}

/// Announces on `channel` that there is something to look at; delivered when the current
/// transaction commits, and never if it rolls back.
pub fn notify(conn: &mut PgConnection, channel: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, '')")
        .bind::<diesel::sql_types::Text, _>(channel)
        .execute(conn)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake as WakeTask;

    use futures_util::FutureExt;

    use super::*;

    fn waiter() -> (Arc<Signal>, Waiter) {
        let signal = Arc::new(Signal::default());
        let waiter = Waiter {
            signal: signal.clone(),
            seen: 0,
        };
        (signal, waiter)
    }

    /// Counts how often the task it stands for is woken.
    #[derive(Default)]
    struct Task(AtomicUsize);

    impl WakeTask for Task {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_notification_sent_while_the_waiter_worked_wakes_its_next_wait_at_once() {
        let (signal, mut waiter) = waiter();
        signal.wake();

        let never = std::future::pending::<()>();
        assert_eq!(waiter.wait(never).now_or_never(), Some(Wake::Notified));

        assert_eq!(
            waiter.wait(std::future::ready(())).now_or_never(),
            Some(Wake::Timer),
            "a notification wakes one wait, not every later one"
        );
    }

    #[test]
    fn a_notification_wakes_a_waiting_task_and_a_finished_wait_leaves_no_waker_behind() {
        let (signal, mut waiter) = waiter();
        let task = Arc::new(Task::default());
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        {
            let mut wait = Box::pin(waiter.wait(std::future::pending::<()>()));
            assert!(wait.as_mut().poll(&mut cx).is_pending());
            assert_eq!(signal.state().waiting.len(), 1);

            signal.wake();

            assert_eq!(task.0.load(Ordering::SeqCst), 1);
            assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(Wake::Notified));
        }
        for _ in 0..3 {
            let mut wait = Box::pin(waiter.wait(std::future::pending::<()>()));
            assert!(wait.as_mut().poll(&mut cx).is_pending());
        }
        assert!(
            signal.state().waiting.is_empty(),
            "waits dropped before a notification (their timer won) leave nothing behind"
        );
    }

    #[test]
    fn channel_names_are_checked_before_they_reach_sql() {
        for bad in ["", "Beacon", "a\"; DROP TABLE events; --", "a b"] {
            assert!(
                Listener::start("postgres://unused", &[bad]).is_err(),
                "{bad}"
            );
        }
    }
}
