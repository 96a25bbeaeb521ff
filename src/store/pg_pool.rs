//! The PostgreSQL pool's connections, checked with `SELECT 1` only when they may be stale.
//!
//! r2d2 can test every connection it hands out; under booking load that was one round trip
//! more per request, for sockets that had served another request a millisecond before. A
//! connection is tested here when it sat idle for a while (a server restart meanwhile breaks
//! it silently) or when any connection of the process has since been found lost (a restart
//! under load breaks them all at once): then each one is tested on its next checkout, and
//! those that fail are replaced.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::r2d2::{ConnectionManager, ManageConnection};
use diesel::PgConnection;

/// A connection handed back this recently, with no loss seen since, is handed out untested.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// Grows each time a query finds its connection lost (`note_lost`).
static LOSSES: AtomicU64 = AtomicU64::new(0);

/// A query found the server gone: every pooled connection is tested on its next checkout.
pub(crate) fn note_lost() {
    LOSSES.fetch_add(1, Ordering::Relaxed);
}

pub struct PgManager(ConnectionManager<PgConnection>);

impl PgManager {
    pub fn new(url: impl Into<String>) -> Self {
        Self(ConnectionManager::new(url))
    }
}

/// A pooled connection, when it was last handed back, and the losses it has been tested after.
pub struct PgPooled {
    conn: PgConnection,
    returned: Instant,
    tested_after: u64,
}

impl Deref for PgPooled {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for PgPooled {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl ManageConnection for PgManager {
    type Connection = PgPooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgPooled, Self::Error> {
        Ok(PgPooled {
            conn: self.0.connect()?,
            returned: Instant::now(),
            tested_after: LOSSES.load(Ordering::Relaxed),
        })
    }

    fn is_valid(&self, c: &mut PgPooled) -> Result<(), Self::Error> {
        let losses = LOSSES.load(Ordering::Relaxed);
        if c.tested_after == losses && c.returned.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        self.0.is_valid(&mut c.conn)?;
        c.tested_after = losses;
        Ok(())
    }

    /// Called when the connection comes back to the pool.
    fn has_broken(&self, c: &mut PgPooled) -> bool {
        c.returned = Instant::now();
        self.0.has_broken(&mut c.conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_anywhere_makes_every_connection_suspect() {
        let before = LOSSES.load(Ordering::Relaxed);
        note_lost();
        assert!(LOSSES.load(Ordering::Relaxed) > before);
    }
}
