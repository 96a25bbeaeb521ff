//! A listing of bookings as a table: one row per booking, times in the pole's time zone,
//! details only where the viewer may see them (« Réservé » elsewhere, as on the page).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Cell, Column, Table};
use crate::app::bookings::BookingView;

const COLUMNS: &[Column] = &[
    Column {
        key: "id",
        label: "N° réservation",
    },
    Column {
        key: "resource",
        label: "Ressource",
    },
    Column {
        key: "kind",
        label: "Type",
    },
    Column {
        key: "member",
        label: "Structure",
    },
    Column {
        key: "start",
        label: "Début",
    },
    Column {
        key: "end",
        label: "Fin",
    },
    Column {
        key: "quantity",
        label: "Quantité",
    },
    Column {
        key: "status",
        label: "État",
    },
    Column {
        key: "purpose",
        label: "Objet",
    },
];

/// What the listing shows instead of the purpose of another member's booking.
pub const HIDDEN: &str = "Réservé";

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub fn table(list: &[BookingView], tz: Tz) -> Table {
    Table {
        columns: COLUMNS,
        rows: list
            .iter()
            .map(|b| {
                vec![
                    Cell::Int(b.id.0),
                    Cell::Text(b.resource_name.clone()),
                    Cell::Text(b.resource_kind.label().to_string()),
                    Cell::Text(b.member_name.clone()),
                    Cell::Text(local(b.start, tz)),
                    Cell::Text(local(b.end, tz)),
                    Cell::Int(i64::from(b.quantity)),
                    Cell::Text(b.status.label().to_string()),
                    Cell::Text(b.purpose.clone().unwrap_or_else(|| HIDDEN.to_string())),
                ]
            })
            .collect(),
    }
}
