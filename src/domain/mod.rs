//! Pure domain rules: no I/O, no database, no HTTP. Everything hard lives here and is tested here.

pub mod allocation;
pub mod booking;
pub mod calendar;
pub mod closure;
pub mod employee;
pub mod holidays;
pub mod ids;
pub mod labour;
pub mod ledger;
pub mod member;
pub mod money;
pub mod month;
pub mod notice;
pub mod pricing;
pub mod quota;
pub mod recurrence;
pub mod refusal;
pub mod resource;
pub mod role;
pub mod statement;
pub mod status;
pub mod text;
pub mod time;
pub mod user;
pub mod validation;
pub mod violation;
