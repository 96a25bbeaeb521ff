//! Booking use cases: book (once or recurring), move, cancel, approve, reject, list,
//! availability and calendars. The rules themselves are pure code in `domain`; this module
//! loads what they need inside the write transaction, asks them, and writes.
//!
//! | file | owns |
//! |---|---|
//! | `book.rs` | booking once or a series, idempotency keys |
//! | `change.rs` | moving and cancelling (one occurrence or the following ones) |
//! | `decide.rs` | approvals, the automatic rejection of overdue requests |
//! | `query.rs` | one booking, listings with pagination, availability, calendars |
//! | `target.rs` | loading (and on PostgreSQL locking) what the rules need, kept between requests until a setting changes |
//! | `rules.rs` | asking the domain about one interval; refusals from its verdict |
//! | `ahead.rs` | a shared employee's shifts read before the write lock, kept between requests |
//! | `suggest.rs` | alternatives to a refusal, after the write transaction |
//! | `views.rs` | what a booking looks like to one actor, with what they may do |

mod ahead;
mod book;
mod change;
mod decide;
mod query;
mod rules;
mod suggest;
mod target;
mod views;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use ahead::{ReadAhead, ShiftCache};
pub use book::{
    book, book_tx, Booked, BookingInput, IdempotencyKey, RecurrenceInput, IDEMPOTENCY_FIELD,
};
pub use change::{cancel, cancel_tx, move_booking, move_tx, BookingChanges, Scope};
pub use decide::{approval_queue, decide, sweep_overdue, Decision};
pub use query::{
    availability, availability_on, calendar, calendars_of_kind, get, list, list_all, Availability,
    BookingQuery, CalendarView, FreeSlot, Page, DEFAULT_PAGE, MAX_AVAILABILITY_DAYS, MAX_PAGE,
};
pub use suggest::{SEARCH_DAYS, SUGGESTIONS};
pub(crate) use target::rules_of;
pub use target::TargetCache;
pub(crate) use views::describe;
pub use views::BookingView;

use super::App;

/// What every booking decision needs from the outside world.
#[derive(Debug, Clone, Copy)]
pub struct BookingEnv {
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub horizon_days: i32,
}

impl BookingEnv {
    pub fn of(app: &App) -> BookingEnv {
        BookingEnv {
            tz: app.tz(),
            now: app.now(),
            horizon_days: app.config().booking_horizon_days,
        }
    }
}
