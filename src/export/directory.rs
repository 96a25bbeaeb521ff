//! The members' directory and the resource catalogue as tables, as the viewer sees them
//! (a member's private fields empty where they may not be read).

use super::{Cell, Column, Table};
use crate::app::members::MemberView;
use crate::app::resources::ResourceView;

const MEMBER_COLUMNS: &[Column] = &[
    Column {
        key: "id",
        label: "N° structure",
    },
    Column {
        key: "name",
        label: "Nom",
    },
    Column {
        key: "legal_form",
        label: "Forme juridique",
    },
    Column {
        key: "status",
        label: "État",
    },
    Column {
        key: "pricing_category",
        label: "Catégorie tarifaire",
    },
    Column {
        key: "siret",
        label: "SIRET",
    },
    Column {
        key: "email",
        label: "Adresse e-mail",
    },
];

pub fn members(list: &[MemberView]) -> Table {
    Table {
        columns: MEMBER_COLUMNS,
        rows: list
            .iter()
            .map(|m| {
                let p = m.private.as_ref();
                vec![
                    Cell::Int(m.id.0),
                    Cell::Text(m.name.clone()),
                    Cell::Text(m.legal_form_label().to_string()),
                    Cell::Text(m.status_label().to_string()),
                    Cell::Text(p.map(|p| p.pricing_category.clone()).unwrap_or_default()),
                    Cell::Text(p.and_then(|p| p.siret.clone()).unwrap_or_default()),
                    Cell::Text(p.and_then(|p| p.email.clone()).unwrap_or_default()),
                ]
            })
            .collect(),
    }
}

const RESOURCE_COLUMNS: &[Column] = &[
    Column {
        key: "id",
        label: "N° ressource",
    },
    Column {
        key: "name",
        label: "Nom",
    },
    Column {
        key: "kind",
        label: "Type",
    },
    Column {
        key: "location",
        label: "Lieu",
    },
    Column {
        key: "capacity",
        label: "Capacité",
    },
    Column {
        key: "requires_approval",
        label: "Soumise à validation",
    },
    Column {
        key: "archived",
        label: "Archivée",
    },
];

fn yes_no(b: bool) -> Cell {
    Cell::Text(if b { "oui" } else { "non" }.into())
}

pub fn resources(list: &[ResourceView]) -> Table {
    Table {
        columns: RESOURCE_COLUMNS,
        rows: list
            .iter()
            .map(|r| {
                vec![
                    Cell::Int(r.id.0),
                    Cell::Text(r.name.clone()),
                    Cell::Text(r.kind.label().to_string()),
                    Cell::Text(r.location.clone()),
                    Cell::Int(i64::from(r.capacity)),
                    yes_no(r.requires_approval),
                    yes_no(r.archived),
                ]
            })
            .collect(),
    }
}
