//! The shared-staff hours ledger as a table: one row per employee and member.

use super::{Cell, Column, Table};
use crate::app::ledger::Ledger;

const COLUMNS: &[Column] = &[
    Column {
        key: "month",
        label: "Mois",
    },
    Column {
        key: "employee_id",
        label: "N° salarié",
    },
    Column {
        key: "employee",
        label: "Salarié",
    },
    Column {
        key: "employer",
        label: "Employeur",
    },
    Column {
        key: "member_id",
        label: "N° structure",
    },
    Column {
        key: "member",
        label: "Structure",
    },
    Column {
        key: "billed",
        label: "Facturé",
    },
    Column {
        key: "worked_hours",
        label: "Heures travaillées",
    },
    Column {
        key: "training_hours",
        label: "Heures de formation",
    },
    Column {
        key: "absence_hours",
        label: "Heures d'absence",
    },
    Column {
        key: "overtime_25_hours",
        label: "Heures supplémentaires à 25 %",
    },
    Column {
        key: "overtime_50_hours",
        label: "Heures supplémentaires à 50 %",
    },
    Column {
        key: "hourly_cost",
        label: "Coût horaire chargé (€)",
    },
    Column {
        key: "cost",
        label: "Coût des heures (€)",
    },
    Column {
        key: "overtime_premium",
        label: "Majorations (€)",
    },
    Column {
        key: "fee",
        label: "Frais de gestion (€)",
    },
    Column {
        key: "total",
        label: "Total (€)",
    },
];

pub fn table(ledger: &Ledger) -> Table {
    let month = ledger.month.to_string();
    let rows = ledger
        .employees
        .iter()
        .flat_map(|e| {
            let month = month.clone();
            e.lines.iter().map(move |l| {
                let c = &l.charge;
                vec![
                    Cell::Text(month.clone()),
                    Cell::Int(e.employee_id.0),
                    Cell::Text(e.employee_name.clone()),
                    Cell::Text(e.employer.name.clone()),
                    Cell::Int(l.member.id.0),
                    Cell::Text(l.member.name.clone()),
                    Cell::Text(if c.billed { "oui" } else { "non" }.into()),
                    Cell::Hours(c.hours.worked_minutes),
                    Cell::Hours(c.hours.training_minutes),
                    Cell::Hours(c.hours.absence_minutes),
                    Cell::Hours(c.hours.overtime_25_minutes),
                    Cell::Hours(c.hours.overtime_50_minutes),
                    Cell::Cents(e.hourly_cost_cents),
                    Cell::Cents(c.cost_cents),
                    Cell::Cents(c.overtime_premium_cents),
                    Cell::Cents(c.fee_cents),
                    Cell::Cents(c.total_cents),
                ]
            })
        })
        .collect();
    Table {
        columns: COLUMNS,
        rows,
    }
}
