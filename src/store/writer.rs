//! Group commit for SQLite: one writer thread takes the booking writes that arrive together
//! and commits them in one transaction, each inside its own savepoint.
//!
//! SQLite serialises writers anyway, and with `synchronous=FULL` every commit waits for the
//! disk; committing a batch once turns N fsyncs into one while keeping each request's
//! outcome independent (a refused request rolls back to its savepoint only). Answers are sent
//! only after the commit has returned, so a 201 is never answered before it is durable.

use std::any::Any;
use std::sync::mpsc;

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::DbConn;
use crate::error::{AppError, AppResult};

type Output = Box<dyn Any + Send>;
pub type Job = Box<dyn FnMut(&mut DbConn) -> AppResult<Output> + Send>;

struct Envelope {
    job: Job,
    reply: tokio::sync::oneshot::Sender<AppResult<Output>>,
}

pub struct GroupWriter {
    tx: mpsc::SyncSender<Envelope>,
    /// Tells the checkpoint thread to stop when the writer goes (tests open many databases).
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl GroupWriter {
    /// Ends the background checkpoints of this process (see `Db::leave_checkpoints_to_others`).
    pub fn stop_checkpoints(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for GroupWriter {
    fn drop(&mut self) {
        self.stop_checkpoints();
    }
}

/// How many requests one transaction may carry.
pub const MAX_BATCH: usize = 128;

impl GroupWriter {
    /// Starts the writer on `conn`, with `checkpointer` copying the WAL back into the database
    /// in the background: the writer's commits then never pause for a routine checkpoint (the
    /// stalls that made the slowest answers slow), while `wal` keeps the WAL file bounded.
    pub fn start(
        mut conn: DbConn,
        checkpointer: DbConn,
        mut wal: WalBound,
    ) -> std::io::Result<Self> {
        if let Some(c) = sqlite(&mut conn) {
            if let Some(page) = page_size(c) {
                wal.frame_bytes = page + 24;
            }
            // The writer is the connection that starts the WAL over, so it is the one that
            // truncates the file to `journal_size_limit` when it does.
            //
            // `temp_store = MEMORY` keeps each request's savepoint journal (the pages as they
            // were before the request, to roll back to) in memory: by default SQLite spills it
            // past 64 KiB to a temporary file, created, written and deleted for most requests,
            // which was a fifth of the writer's time. One request's journal is a few dozen
            // pages, dropped when its savepoint is released.
            let pragmas = format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {}; PRAGMA temp_store = MEMORY",
                wal.journal_size_limit()
            );
            if let Err(e) = diesel::connection::SimpleConnection::batch_execute(c, &pragmas) {
                tracing::warn!(error = %e, "could not set the writer's pragmas");
            }
        }
        let bound = wal.clone();
        let mut index = WalIndex::new(&wal.path);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("mutualise-checkpoint".into())
            .spawn(move || Checkpointer::new(checkpointer, wal).run(&stopped))?;
        let (tx, rx) = mpsc::sync_channel::<Envelope>(8 * MAX_BATCH);
        std::thread::Builder::new()
            .name("mutualise-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    run_batch(&mut conn, batch);
                    let used = index
                        .frames()
                        .map_or_else(|| bound.used(), |f| f * bound.frame_bytes);
                    bound.restart_if_past(&mut conn, used);
                }
            })?;
        Ok(Self { tx, stop })
    }

    pub async fn submit(&self, job: Job) -> AppResult<Output> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        // Straight into the queue when it has room (no thread hop); when it is full, wait for
        // room on a blocking thread, never on an async worker.
        match self.tx.try_send(Envelope { job, reply }) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(envelope)) => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || tx.send(envelope))
                    .await
                    .map_err(|e| AppError::internal(format!("writer queue: {e}")))?
                    .map_err(|_| AppError::Unavailable("writer stopped".into()))?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                return Err(AppError::Unavailable("writer stopped".into()));
            }
        }
        answer
            .await
            .map_err(|_| AppError::Unavailable("writer dropped the request".into()))?
    }
}

/// How large the WAL may grow. SQLite only starts the WAL file over when a checkpoint has
/// copied all of it back *and* no reader still uses it; under sustained writes the passive
/// checkpoints never catch up, so the file grew without end (694 MB after 74 000 bookings).
#[derive(Debug, Clone)]
pub struct WalBound {
    /// The `-wal` file next to the database.
    pub path: std::path::PathBuf,
    /// Held while checkpointing: SQLite refuses a second checkpoint at once (SQLITE_BUSY,
    /// without waiting), so the writer's RESTART would silently fail whenever the background
    /// PASSIVE one was running; they take turns instead.
    turn: std::sync::Arc<std::sync::Mutex<()>>,
    /// Past half of it, a RESTART checkpoint makes the next write start the file over. Idle,
    /// the file is truncated to nothing.
    pub limit_bytes: u64,
    /// Bytes of the WAL in use (its frames since it was last started over), as the last
    /// checkpoint counted them: the checkpoint thread's pace, and the writer's fallback when
    /// it cannot read SQLite's own count (`WalIndex`). Under load SQLite overwrites the file
    /// from its start rather than truncating it (`journal_size_limit` is the bound), so the
    /// file's size says how far it once went, not how full it is.
    used: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// One frame: a page and its 24-byte header (the page size is read when the writer starts).
    frame_bytes: u64,
    /// How the writer and the checkpoint thread agree on the moment of a restart.
    handshake: std::sync::Arc<Handshake>,
}

/// The restart's handshake. The writer's RESTART must copy, and sync into the database file,
/// every frame the checkpoint thread has not copied yet, and every request in flight waits
/// meanwhile: with the thread ticking every 20 ms that was 15 ms on average (the random page
/// writes of the copy and its `fsync`), three to four times a second under the benchmark's
/// load, and nearly every answer slower than the 99th percentile overlapped one. So, once the
/// WAL is past its restart point, the writer says it `wants` a restart and keeps writing; the
/// thread copies round after round without pausing, each round copying what was committed
/// during the one before, so each shorter than the last, until one is short; it then says it
/// is `ready` and pauses, and the writer restarts after its next batch with only that short
/// round's worth of frames left to copy.
#[derive(Debug, Default)]
struct Handshake {
    wanted: std::sync::atomic::AtomicBool,
    ready: std::sync::atomic::AtomicBool,
    /// The checkpoint thread, woken when a restart becomes wanted.
    thread: std::sync::OnceLock<std::thread::Thread>,
}

impl WalBound {
    pub const DEFAULT_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

    pub fn of_database(database: &str, limit_bytes: u64) -> Self {
        Self {
            path: std::path::PathBuf::from(format!("{database}-wal")),
            turn: Default::default(),
            limit_bytes,
            used: Default::default(),
            frame_bytes: 4096 + 24,
            handshake: Default::default(),
        }
    }

    fn restart_wanted(&self) -> bool {
        self.handshake
            .wanted
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The WAL was started over (or emptied): no restart is wanted any more, and a `ready`
    /// said for this one must not serve the next.
    fn forget_restart(&self) {
        self.handshake
            .wanted
            .store(false, std::sync::atomic::Ordering::Release);
        self.set_ready(false);
    }

    fn set_ready(&self, ready: bool) {
        self.handshake
            .ready
            .store(ready, std::sync::atomic::Ordering::Release);
    }

    /// Bytes of the WAL in use, as last counted.
    fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records what a checkpoint saw: the frames in the WAL when it began, none once a
    /// RESTART or TRUNCATE completed (the next write starts the file over).
    fn saw(&self, mode: CheckpointMode, done: &Checkpointed) {
        let frames = if mode != CheckpointMode::Passive && done.completed() {
            0
        } else {
            u64::try_from(done.log).unwrap_or(0)
        };
        self.used.store(
            frames * self.frame_bytes,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Size above which the WAL is started over even though writes keep coming.
    fn restart_at(&self) -> u64 {
        self.limit_bytes / 2
    }

    /// What SQLite truncates the file to when it starts it over: the bound itself, so that
    /// under load the file keeps its size and is overwritten from the start. Truncating it to
    /// a quarter, as first done, cost the writer an `ftruncate` (3–7 ms) at the first commit
    /// after each start-over, and the file then grew back block by block: each start-over
    /// stalled every request in flight for 4–20 ms (11–12 ms on average; 3–4 ms since),
    /// one and a half times a second under the benchmark's load, which made most of the
    /// slowest hundredth of the answers.
    pub fn journal_size_limit(&self) -> u64 {
        self.limit_bytes
    }

    /// Run by the writer between two batches: past half the bound, a RESTART checkpoint, so
    /// that the next batch starts the file over. The writer is the one to do it: a RESTART
    /// holds the write lock while it waits for the readers, so from any other thread it would
    /// stall the writer, or lose the lock to it again and again under load.
    ///
    /// The writer stalls as little as it can: it restarts once the checkpoint thread has
    /// caught up (`Handshake`), or at three quarters of the bound whatever the thread is
    /// doing; and the readers still on the old WAL are waited for in short steps
    /// (`checkpoint_quickly`) rather than by SQLite's busy handler and its sleeps of 1, 2, 5
    /// and 10 ms.
    fn restart_if_past(&self, conn: &mut DbConn, size: u64) {
        use std::sync::atomic::Ordering;
        let ready = self.handshake.ready.load(Ordering::Acquire);
        let step = restart_step(self, size, ready);
        let wanted = step != RestartStep::None;
        let was_wanted = self.handshake.wanted.swap(wanted, Ordering::AcqRel);
        if wanted && !was_wanted {
            // The thread may be in a long sleep (it goes by its own last count, which a
            // restart set to nothing): at the busiest, the writes would reach three quarters
            // of the bound before it woke up, and the restart would copy all of them.
            if let Some(thread) = self.handshake.thread.get() {
                thread.unpark();
            }
        }
        let asked = std::time::Instant::now();
        let _turn = match (step, self.turn.try_lock()) {
            (RestartStep::None | RestartStep::Later, _) => return,
            (_, Ok(turn)) => turn,
            (_, Err(std::sync::TryLockError::Poisoned(p))) => p.into_inner(),
            (RestartStep::WhenFree, Err(std::sync::TryLockError::WouldBlock)) => return,
            (RestartStep::Now, Err(std::sync::TryLockError::WouldBlock)) => {
                self.turn.lock().unwrap_or_else(|p| p.into_inner())
            }
        };
        let waited = asked.elapsed();
        if let Some(c) = sqlite(conn) {
            let done = match checkpoint_quickly(c, CheckpointMode::Restart, Self::WRITER_PATIENCE) {
                Ok(done) => done,
                Err(e) => {
                    tracing::warn!(error = %e, "restart checkpoint failed");
                    return;
                }
            };
            self.saw(CheckpointMode::Restart, &done);
            if done.completed() {
                self.forget_restart();
            }
            // The writer waits this long: the checkpoint's share of the slowest answers.
            tracing::debug!(
                wal_bytes = size,
                ready,
                completed = done.completed(),
                frames = done.log,
                copied = done.checkpointed,
                turn_us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
                total_us = u64::try_from(asked.elapsed().as_micros()).unwrap_or(u64::MAX),
                "WAL past half its bound: restart checkpoint"
            );
        }
    }

    /// How long the writer waits for the last readers of the old WAL before it goes back to
    /// the requests (it tries again after the next batch).
    const WRITER_PATIENCE: std::time::Duration = std::time::Duration::from_millis(20);

    /// Size from which the writer waits for the checkpoint thread to finish rather than
    /// leaving the restart to a later batch.
    fn must_restart_at(&self) -> u64 {
        self.limit_bytes / 4 * 3
    }
}

/// The WAL's own count of its frames, read by the writer after each batch: `mxFrame` in the
/// wal-index header, the first 48 bytes of the `-shm` file, kept twice
/// (<https://www.sqlite.org/walformat.html>). Only the writer commits, so between two batches
/// the header is still, but for an idle TRUNCATE of the checkpoint thread: two copies that
/// differ are a header caught changing, and the checkpoints' count is used instead.
struct WalIndex {
    path: std::path::PathBuf,
    file: Option<std::fs::File>,
}

impl WalIndex {
    fn new(wal: &std::path::Path) -> Self {
        let wal = wal.to_string_lossy();
        let database = wal.strip_suffix("-wal").unwrap_or(&wal);
        Self {
            path: format!("{database}-shm").into(),
            file: None,
        }
    }

    #[cfg(unix)]
    fn frames(&mut self) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        if self.file.is_none() {
            self.file = std::fs::File::open(&self.path).ok();
        }
        let mut header = [0u8; 96];
        self.file.as_ref()?.read_exact_at(&mut header, 0).ok()?;
        wal_index_frames(&header)
    }

    #[cfg(not(unix))]
    fn frames(&mut self) -> Option<u64> {
        None
    }
}

/// `mxFrame` of a wal-index header (its two copies), when it is a valid one and the copies
/// agree.
fn wal_index_frames(header: &[u8; 96]) -> Option<u64> {
    let (first, second) = header.split_at(48);
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(first.get(at..at + 4)?.try_into().ok()?))
    };
    // iVersion is 3007000; isInit (byte 12) is set once the header was written.
    if first != second || word(0)? != 3_007_000 || first[12] != 1 {
        return None;
    }
    word(16).map(u64::from)
}

/// What a checkpoint did, as `PRAGMA wal_checkpoint` tells it.
#[derive(Debug, Clone, Copy, diesel::QueryableByName)]
pub struct Checkpointed {
    /// 1 when it could not complete: readers still on the old WAL (RESTART, TRUNCATE), or
    /// another checkpoint running.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    /// Frames in the WAL when it began.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    /// Of those, the frames now copied into the database.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    checkpointed: i32,
}

impl Checkpointed {
    pub fn completed(&self) -> bool {
        self.busy == 0
    }
}

/// Runs a checkpoint in `mode` without SQLite's busy handler: on `SQLITE_BUSY` (readers still
/// on the old WAL for RESTART and TRUNCATE, or another checkpoint running) it tries again
/// after 50 µs, then 100 µs… up to 1 ms, for `patience`. Readers that begin once the WAL is
/// all copied read the database file only, so those in flight are the only ones waited for.
pub(super) fn checkpoint_quickly(
    c: &mut diesel::SqliteConnection,
    mode: CheckpointMode,
    patience: std::time::Duration,
) -> Result<Checkpointed, diesel::result::Error> {
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Timeout {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        timeout: i32,
    }
    let sql = match mode {
        CheckpointMode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        CheckpointMode::Restart => "PRAGMA wal_checkpoint(RESTART)",
        CheckpointMode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    let timeout = diesel::sql_query("PRAGMA busy_timeout")
        .get_result::<Timeout>(c)?
        .timeout;
    c.batch_execute("PRAGMA busy_timeout = 0")?;
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_micros(50);
    let outcome = loop {
        match diesel::sql_query(sql).get_result::<Checkpointed>(c) {
            Ok(done) if done.completed() || started.elapsed() >= patience => break Ok(done),
            Ok(_) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(1));
            }
            Err(e) => break Err(e),
        }
    };
    c.batch_execute(&format!("PRAGMA busy_timeout = {timeout}"))?;
    outcome
}

/// The kinds of checkpoint the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Copy what can be copied without waiting for anyone.
    Passive,
    /// Wait for readers, copy everything, and have the next write start the file over (the
    /// writer's, past half the bound: `WalBound::restart_if_past`).
    Restart,
    /// Idle: copy everything and truncate the file to zero bytes.
    Truncate,
}

/// What the checkpoint thread does on a tick, from the WAL's size and whether anything was
/// committed since the last tick (pure, so the policy is tested apart from SQLite): it copies
/// while writes go on, and empties the file once they stop. Starting the file over under load
/// is left to the writer.
pub fn checkpoint_mode(size: u64, written: bool) -> CheckpointMode {
    if size > 0 && !written {
        CheckpointMode::Truncate
    } else {
        CheckpointMode::Passive
    }
}

/// How long the checkpoint thread sleeps before its next tick, from the bytes of the WAL in use:
/// often past a quarter of the bound, so that the writer's restart finds little left to copy
/// and the count it goes by is at most one short tick old when it reaches half.
pub fn checkpoint_pause(bound: &WalBound, used: u64) -> std::time::Duration {
    if used >= bound.limit_bytes / 4 {
        Checkpointer::CLOSE_TICK
    } else {
        Checkpointer::TICK
    }
}

/// What the writer does about the WAL after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartStep {
    /// Under half the bound: nothing.
    None,
    /// Past half: ask the checkpoint thread to catch up, and go on writing.
    Later,
    /// The thread has caught up: restart, unless it is copying again at this very moment.
    WhenFree,
    /// Past three quarters: restart now, waiting for the thread's copy if one is running.
    Now,
}

/// The writer's decision after a batch, from the bytes of the WAL in use and whether the
/// checkpoint thread says it has caught up (pure, so the policy is tested apart from SQLite).
pub fn restart_step(bound: &WalBound, used: u64, ready: bool) -> RestartStep {
    if used < bound.restart_at() {
        RestartStep::None
    } else if used >= bound.must_restart_at() {
        RestartStep::Now
    } else if ready {
        RestartStep::WhenFree
    } else {
        RestartStep::Later
    }
}

/// What the checkpoint thread does after a round copied while the writer wants a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Another round after this pause: at once after a long round (the writes it did not
    /// cover are many), a little later when readers on older snapshots or another checkpoint
    /// kept it from copying the whole WAL (they are done within a millisecond or so).
    Again(std::time::Duration),
    /// Say `ready` and pause, long enough for the writer to finish its batch and restart.
    Ready(std::time::Duration),
}

/// `whole`: the round copied every frame the WAL held when it began; `took`: how long it
/// ran, i.e. how much the writer committed meanwhile; `rounds`: rounds run so far for this
/// restart (a disk too slow for the rounds to shorten must not keep the thread copying for
/// ever: the writer then restarts after a last round, as it did without the handshake).
pub fn after_catch_up_round(whole: bool, took: std::time::Duration, rounds: u32) -> CatchUp {
    if rounds >= Checkpointer::MAX_ROUNDS || (whole && took <= Checkpointer::CAUGHT_UP) {
        CatchUp::Ready(Checkpointer::READY_PAUSE)
    } else if whole {
        CatchUp::Again(std::time::Duration::ZERO)
    } else {
        CatchUp::Again(Checkpointer::HELD_UP_PAUSE)
    }
}

struct Checkpointer {
    conn: DbConn,
    wal: WalBound,
    /// `PRAGMA data_version` at the last tick: it changes whenever another connection (of
    /// this process or another) commits.
    data_version: Option<i64>,
    /// Catch-up rounds run since the writer asked for a restart.
    rounds: u32,
}

impl Checkpointer {
    const TICK: std::time::Duration = std::time::Duration::from_millis(250);
    const CLOSE_TICK: std::time::Duration = std::time::Duration::from_millis(20);
    /// How long an idle TRUNCATE waits for the readers before trying again on the next tick.
    const IDLE_PATIENCE: std::time::Duration = std::time::Duration::from_millis(100);
    /// A catch-up round this short leaves the writer's restart little to copy.
    const CAUGHT_UP: std::time::Duration = std::time::Duration::from_millis(4);
    /// At most this many catch-up rounds in a row.
    const MAX_ROUNDS: u32 = 8;
    /// The pause after a round that readers or another checkpoint kept from copying it all.
    const HELD_UP_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);
    /// The pause once caught up: time for the writer to finish its batch and restart.
    const READY_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

    fn new(mut conn: DbConn, wal: WalBound) -> Self {
        if let Some(c) = sqlite(&mut conn) {
            let pragma = format!("PRAGMA journal_size_limit = {}", wal.journal_size_limit());
            if let Err(e) = diesel::connection::SimpleConnection::batch_execute(c, &pragma) {
                tracing::warn!(error = %e, "could not set journal_size_limit");
            }
        }
        Self {
            conn,
            wal,
            data_version: None,
            rounds: 0,
        }
    }

    fn run(mut self, stopped: &std::sync::atomic::AtomicBool) {
        let _ = self.wal.handshake.thread.set(std::thread::current());
        let mut pause = Self::TICK;
        loop {
            // Woken early when the writer wants a restart.
            std::thread::park_timeout(pause);
            if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            pause = self.tick();
        }
    }

    /// One checkpoint; returns the pause before the next.
    fn tick(&mut self) -> std::time::Duration {
        let Some(c) = sqlite(&mut self.conn) else {
            return Self::TICK;
        };
        let version = data_version(c);
        let written = version.is_none() || version != self.data_version;
        self.data_version = version;
        // Once the writes stop, the idle TRUNCATE below empties the WAL instead.
        if self.wal.restart_wanted() && written {
            return self.catch_up_round();
        }
        self.rounds = 0;
        let size = std::fs::metadata(&self.wal.path).map_or(0, |m| m.len());
        let mode = checkpoint_mode(size, written);
        let _turn = self.wal.turn.lock().unwrap_or_else(|p| p.into_inner());
        // A TRUNCATE that the readers keep from completing is simply tried again next tick.
        let patience = match mode {
            CheckpointMode::Passive => std::time::Duration::ZERO,
            _ => Self::IDLE_PATIENCE,
        };
        match checkpoint_quickly(c, mode, patience) {
            Ok(done) => {
                self.wal.saw(mode, &done);
                if mode == CheckpointMode::Truncate && done.completed() {
                    self.wal.forget_restart();
                }
            }
            Err(e) => tracing::warn!(error = %e, ?mode, "checkpoint failed"),
        }
        checkpoint_pause(&self.wal, self.wal.used())
    }

    /// One round of the catch-up before a restart (`Handshake`): copies what the writer
    /// committed since the last round; returns the pause before the next.
    fn catch_up_round(&mut self) -> std::time::Duration {
        let Some(c) = sqlite(&mut self.conn) else {
            return Self::TICK;
        };
        let _turn = self.wal.turn.lock().unwrap_or_else(|p| p.into_inner());
        // The writer may have restarted while this thread waited for its turn: a round now
        // would say `ready` for the next restart, a quarter of a second of writes away.
        if !self.wal.restart_wanted() {
            return Self::CLOSE_TICK;
        }
        self.wal.set_ready(false);
        let started = std::time::Instant::now();
        let done = checkpoint_quickly(c, CheckpointMode::Passive, std::time::Duration::ZERO);
        let took = started.elapsed();
        let whole = match done {
            Ok(done) => {
                self.wal.saw(CheckpointMode::Passive, &done);
                done.completed() && done.checkpointed == done.log
            }
            Err(e) => {
                tracing::warn!(error = %e, "catch-up checkpoint failed");
                false
            }
        };
        self.rounds += 1;
        tracing::debug!(
            round = self.rounds,
            whole,
            took_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            "catch-up round before a restart"
        );
        match after_catch_up_round(whole, took, self.rounds) {
            CatchUp::Ready(pause) => {
                self.rounds = 0;
                self.wal.set_ready(true);
                pause
            }
            CatchUp::Again(pause) => pause,
        }
    }
}

fn page_size(c: &mut diesel::SqliteConnection) -> Option<u64> {
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        page_size: i64,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query("PRAGMA page_size")
        .get_result::<Size>(c)
        .ok()
        .and_then(|s| u64::try_from(s.page_size).ok())
}

fn data_version(c: &mut diesel::SqliteConnection) -> Option<i64> {
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        data_version: i64,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query("PRAGMA data_version")
        .get_result::<Version>(c)
        .ok()
        .map(|v| v.data_version)
}

fn sqlite(conn: &mut DbConn) -> Option<&mut diesel::SqliteConnection> {
    match conn {
        DbConn::Sqlite(c) => Some(&mut **c),
        DbConn::Postgres(_) => None,
    }
}

fn run_batch(conn: &mut DbConn, mut batch: Vec<Envelope>) {
    let Some(c) = sqlite(conn) else {
        for e in batch {
            let _ = e
                .reply
                .send(Err(AppError::internal("group writer needs SQLite")));
        }
        return;
    };
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for env in batch {
            let _ = env
                .reply
                .send(Err(AppError::Unavailable(format!("begin: {msg}"))));
        }
        return;
    }
    let mut results: Vec<AppResult<Output>> = Vec::with_capacity(batch.len());
    let mut broken = None;
    for env in batch.iter_mut() {
        match savepoint(conn, &mut env.job) {
            Step::Done(result) => results.push(result),
            Step::Broken(e) => {
                // SQLite may have rolled the whole transaction back (disk full, I/O error):
                // nothing of this batch can be trusted, so nothing is committed or answered
                // as done.
                broken = Some(e);
                break;
            }
        }
    }
    let committed = match (&broken, sqlite(conn)) {
        (None, Some(c)) => AnsiTransactionManager::commit_transaction(c).map_err(|e| e.to_string()),
        (Some(e), _) => Err(e.clone()),
        (None, None) => Ok(()),
    };
    match committed {
        Ok(()) => {
            for (env, result) in batch.into_iter().zip(results) {
                let _ = env.reply.send(result);
            }
        }
        Err(e) => {
            if let Some(c) = sqlite(conn) {
                let _ = AnsiTransactionManager::rollback_transaction(c);
            }
            tracing::error!(error = %e, "group commit failed");
            for env in batch {
                let _ = env.reply.send(Err(AppError::Unavailable(
                    "la base n'a pas pu enregistrer".into(),
                )));
            }
        }
    }
}

enum Step {
    Done(AppResult<Output>),
    Broken(String),
}

/// Runs one job inside a savepoint: its writes stay if it succeeds, vanish if it fails or
/// panics (a panic is answered as an internal error and the writer carries on).
fn savepoint(conn: &mut DbConn, job: &mut Job) -> Step {
    if let Some(c) = sqlite(conn) {
        if let Err(e) = AnsiTransactionManager::begin_transaction(c) {
            return Step::Broken(format!("savepoint: {e}"));
        }
    }
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))) {
        Ok(r) => r,
        Err(_) => Err(AppError::internal("a write panicked; it was rolled back")),
    };
    if let Some(c) = sqlite(conn) {
        let end = if result.is_ok() {
            AnsiTransactionManager::commit_transaction(c)
        } else {
            AnsiTransactionManager::rollback_transaction(c)
        };
        if let Err(e) = end {
            return Step::Broken(format!("savepoint end: {e}"));
        }
    }
    Step::Done(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound() -> WalBound {
        WalBound::of_database("x.db", 64 * 1024 * 1024)
    }

    #[test]
    fn copies_under_load_and_truncates_once_idle() {
        assert_eq!(checkpoint_mode(4096, true), CheckpointMode::Passive);
        assert_eq!(
            checkpoint_mode(64 * 1024 * 1024, true),
            CheckpointMode::Passive
        );
        assert_eq!(checkpoint_mode(4096, false), CheckpointMode::Truncate);
        // Never an empty file.
        assert_eq!(checkpoint_mode(0, false), CheckpointMode::Passive);
    }

    #[test]
    fn the_writer_restarts_once_the_thread_has_caught_up_or_at_three_quarters() {
        let b = bound();
        let (half, three_quarters) = (32 * 1024 * 1024, 48 * 1024 * 1024);
        for ready in [false, true] {
            assert_eq!(restart_step(&b, half - 1, ready), RestartStep::None);
            assert_eq!(restart_step(&b, three_quarters, ready), RestartStep::Now);
        }
        assert_eq!(restart_step(&b, half, false), RestartStep::Later);
        assert_eq!(restart_step(&b, half, true), RestartStep::WhenFree);
        assert_eq!(
            restart_step(&b, three_quarters - 1, false),
            RestartStep::Later
        );
        assert_eq!(
            restart_step(&b, three_quarters - 1, true),
            RestartStep::WhenFree
        );
    }

    #[test]
    fn a_short_round_that_copied_it_all_makes_the_thread_ready() {
        use std::time::Duration;
        let short = Checkpointer::CAUGHT_UP;
        let long = short + Duration::from_micros(1);
        let ready = CatchUp::Ready(Checkpointer::READY_PAUSE);
        assert_eq!(after_catch_up_round(true, short, 1), ready);
        assert_eq!(after_catch_up_round(true, Duration::ZERO, 1), ready);
        assert_eq!(
            after_catch_up_round(true, long, 1),
            CatchUp::Again(Duration::ZERO)
        );
        // Readers on older snapshots kept it from copying everything: not caught up,
        // however short, and the next round waits for them a little.
        assert_eq!(
            after_catch_up_round(false, Duration::ZERO, 1),
            CatchUp::Again(Checkpointer::HELD_UP_PAUSE)
        );
        // Rounds that never shorten end all the same.
        let last = Checkpointer::MAX_ROUNDS;
        assert_eq!(
            after_catch_up_round(true, long, last - 1),
            CatchUp::Again(Duration::ZERO)
        );
        assert_eq!(after_catch_up_round(true, long, last), ready);
        assert_eq!(after_catch_up_round(false, long, last), ready);
    }

    /// The thread says `ready` only for the restart wanted now. Once the writer has
    /// restarted, a round the thread was about to run says nothing: a stale `ready` made the
    /// next restart, a quarter of a second of writes later, copy all of them while every
    /// request waited (15–23 ms instead of 2–4). And when the writes stop, the idle TRUNCATE
    /// empties the WAL rather than rounds running for ever.
    #[test]
    fn the_thread_is_ready_only_for_the_restart_wanted_now() {
        use diesel::connection::SimpleConnection;
        use diesel::r2d2::{ConnectionManager, Pool};
        use diesel::SqliteConnection;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let path = path.to_str().unwrap().to_string();
        let pool = Pool::builder()
            .max_size(2)
            .build(ConnectionManager::<SqliteConnection>::new(&path))
            .unwrap();
        let mut writer = DbConn::Sqlite(pool.get().unwrap());
        let insert = |c: &mut DbConn, n: usize| {
            for _ in 0..n {
                sqlite(c)
                    .unwrap()
                    .batch_execute("INSERT INTO t VALUES (zeroblob(10000))")
                    .unwrap();
            }
        };
        sqlite(&mut writer)
            .unwrap()
            .batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x BLOB)",
            )
            .unwrap();
        let bound = WalBound::of_database(&path, 1 << 20);
        let mut thread = Checkpointer::new(DbConn::Sqlite(pool.get().unwrap()), bound.clone());
        let ready = |b: &WalBound| b.handshake.ready.load(std::sync::atomic::Ordering::Acquire);

        // Writes, then a restart wanted: the thread copies them round after round until one
        // is short, and says it is ready.
        insert(&mut writer, 20);
        bound.restart_if_past(&mut writer, bound.restart_at());
        assert!(bound.restart_wanted());
        assert!(!ready(&bound), "nothing copied yet");
        let mut pause = thread.tick();
        for _ in 1..Checkpointer::MAX_ROUNDS {
            if ready(&bound) {
                break;
            }
            insert(&mut writer, 1);
            pause = thread.tick();
        }
        assert!(ready(&bound));
        assert_eq!(pause, Checkpointer::READY_PAUSE);

        // The writer restarts after its next batch: the handshake is over.
        insert(&mut writer, 1);
        bound.restart_if_past(&mut writer, bound.restart_at());
        assert!(!bound.restart_wanted());
        assert!(!ready(&bound));
        let before = WalIndex::new(&bound.path).frames().unwrap();
        insert(&mut writer, 1);
        let after = WalIndex::new(&bound.path).frames().unwrap();
        assert!(
            after < 10 && after < before,
            "started over: {before} frames, then {after}"
        );

        // A round the thread was waiting to run when the writer restarted says nothing.
        assert_eq!(thread.catch_up_round(), Checkpointer::CLOSE_TICK);
        assert!(!ready(&bound));
        insert(&mut writer, 5);
        thread.tick();
        assert!(!ready(&bound));

        // Wanted again, then the writes stop: the idle tick empties the WAL and forgets it.
        insert(&mut writer, 20);
        bound.restart_if_past(&mut writer, bound.restart_at());
        thread.tick();
        assert!(bound.restart_wanted());
        assert_eq!(thread.tick(), Checkpointer::TICK);
        assert!(!bound.restart_wanted());
        assert!(!ready(&bound));
        assert_eq!(std::fs::metadata(&bound.path).unwrap().len(), 0);
    }

    #[test]
    fn ticks_often_from_a_quarter_of_the_bound() {
        let (quarter, half) = (16 * 1024 * 1024, 32 * 1024 * 1024);
        assert_eq!(checkpoint_pause(&bound(), quarter - 1), Checkpointer::TICK);
        assert_eq!(
            checkpoint_pause(&bound(), quarter),
            Checkpointer::CLOSE_TICK
        );
        assert_eq!(bound().restart_at(), half);
        assert_eq!(bound().must_restart_at(), 48 * 1024 * 1024);
    }

    /// A reader still on the old WAL keeps a RESTART from completing: the writer gives up
    /// after its patience (SQLite's busy handler would have slept up to the busy timeout),
    /// with the frames copied all the same, and completes once the reader is done. The
    /// connection's busy timeout is left as it was.
    #[test]
    fn a_restart_waits_for_readers_no_longer_than_its_patience() {
        use diesel::connection::SimpleConnection;
        use diesel::{Connection, RunQueryDsl, SqliteConnection};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let path = path.to_str().unwrap();
        let open = || {
            let mut c = SqliteConnection::establish(path).unwrap();
            c.batch_execute("PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL")
                .unwrap();
            c
        };
        let (mut writer, mut reader) = (open(), open());
        writer
            .batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
            .unwrap();
        // The reader's snapshot holds the WAL as it is now.
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM t;")
            .unwrap();
        writer.batch_execute("INSERT INTO t VALUES (2)").unwrap();

        let patience = std::time::Duration::from_millis(30);
        let started = std::time::Instant::now();
        let done = checkpoint_quickly(&mut writer, CheckpointMode::Restart, patience).unwrap();
        let took = started.elapsed();
        assert!(!done.completed(), "a reader on the WAL: {done:?}");
        assert!(took >= patience, "gave up after {took:?}");
        assert!(took < std::time::Duration::from_secs(5), "waited {took:?}");

        reader.batch_execute("COMMIT").unwrap();
        let done = checkpoint_quickly(&mut writer, CheckpointMode::Restart, patience).unwrap();
        assert!(done.completed(), "{done:?}");
        assert_eq!(done.checkpointed, done.log);

        #[derive(diesel::QueryableByName)]
        struct Timeout {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            timeout: i32,
        }
        let t: Timeout = diesel::sql_query("PRAGMA busy_timeout")
            .get_result(&mut writer)
            .unwrap();
        assert_eq!(t.timeout, 15000);
    }

    /// Frames counted by a checkpoint are the WAL's use; a completed RESTART or TRUNCATE
    /// empties it, a PASSIVE one (or a RESTART kept from completing by readers) does not.
    #[test]
    fn the_use_of_the_wal_is_what_checkpoints_count() {
        let b = bound();
        let seen = |busy, log| Checkpointed {
            busy,
            log,
            checkpointed: log,
        };
        b.saw(CheckpointMode::Passive, &seen(0, 1000));
        assert_eq!(b.used(), 1000 * 4120);
        b.saw(CheckpointMode::Restart, &seen(1, 1200));
        assert_eq!(b.used(), 1200 * 4120);
        b.saw(CheckpointMode::Restart, &seen(0, 1300));
        assert_eq!(b.used(), 0);
        b.saw(CheckpointMode::Passive, &seen(0, 10));
        b.saw(CheckpointMode::Truncate, &seen(0, 10));
        assert_eq!(b.used(), 0);
    }

    /// The count read from the `-shm` file is SQLite's own, before and after a restart.
    #[test]
    fn the_wal_index_tells_the_frames_in_use() {
        use diesel::connection::SimpleConnection;
        use diesel::{Connection, SqliteConnection};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.db");
        let path = path.to_str().unwrap();
        let mut c = SqliteConnection::establish(path).unwrap();
        c.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x BLOB)",
        )
        .unwrap();
        let mut index = WalIndex::new(&WalBound::of_database(path, 1 << 20).path);
        for _ in 0..20 {
            c.batch_execute("INSERT INTO t VALUES (zeroblob(10000))")
                .unwrap();
        }
        let frames = index.frames().unwrap();
        let seen = checkpoint_quickly(
            &mut c,
            CheckpointMode::Restart,
            std::time::Duration::from_millis(100),
        )
        .unwrap();
        assert!(seen.completed());
        assert_eq!(frames, u64::try_from(seen.log).unwrap());
        assert!(frames > 20 * 2, "{frames}");
        // The next write starts the file over.
        c.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        assert!(index.frames().unwrap() <= 3);
        // Not a header: no count.
        let mut torn = [0u8; 96];
        torn[..4].copy_from_slice(&3_007_000u32.to_ne_bytes());
        torn[12] = 1;
        assert_eq!(wal_index_frames(&torn), None);
    }

    #[test]
    fn sqlite_keeps_the_file_when_it_starts_it_over() {
        assert_eq!(bound().journal_size_limit(), 64 * 1024 * 1024);
        assert_eq!(bound().path, std::path::PathBuf::from("x.db-wal"));
    }
}
