//! A month's allocation as files: every statement line as a table, and the members'
//! statements as accounting entries in the French FEC layout (Fichier des Écritures
//! Comptables, art. A47 A-1 of the Livre des procédures fiscales).
//!
//! FEC choices: `|` between fields (the text allows `|` or a tab), lines ending CRLF, UTF-8
//! without a byte-order mark, amounts with a decimal comma, two decimals and no thousands
//! separator, dates as YYYYMMDD. `|`, tabs, carriage returns and line feeds in text fields
//! become spaces, so a field never spills into the next one or the next line.

use chrono::Duration;

use super::{decimal, Cell, Column, Dialect, Table};
use crate::app::allocation::{Allocation, MonthStatus};
use crate::app::pricing::StatementSettings;
use crate::domain::month::{label_fr, Month};
use crate::domain::statement::{MemberStatement, Source};

const COLUMNS: &[Column] = &[
    Column {
        key: "month",
        label: "Mois",
    },
    Column {
        key: "member_id",
        label: "N° membre",
    },
    Column {
        key: "member",
        label: "Membre",
    },
    Column {
        key: "source",
        label: "Source",
    },
    Column {
        key: "resource_id",
        label: "N° ressource",
    },
    Column {
        key: "label",
        label: "Libellé",
    },
    Column {
        key: "basis",
        label: "Base de calcul",
    },
    Column {
        key: "quantity",
        label: "Quantité",
    },
    Column {
        key: "unit",
        label: "Unité",
    },
    Column {
        key: "unit_price",
        label: "Prix unitaire (€)",
    },
    Column {
        key: "amount",
        label: "Montant (€)",
    },
];

/// One row per statement line, members in the allocation's order (by name).
pub fn table(a: &Allocation) -> Table {
    let month = a.month.to_string();
    let rows = a
        .members
        .iter()
        .flat_map(|m| {
            let month = month.clone();
            m.lines.iter().map(move |l| {
                vec![
                    Cell::Text(month.clone()),
                    Cell::Int(m.member_id.0),
                    Cell::Text(m.member_name.clone()),
                    Cell::Coded {
                        code: l.source.as_str(),
                        label: l.source.label(),
                    },
                    l.resource_id
                        .map_or_else(|| Cell::Text(String::new()), |r| Cell::Int(r.0)),
                    Cell::Text(l.label.clone()),
                    Cell::Text(l.basis.clone()),
                    Cell::Thousandths(l.quantity_milli),
                    Cell::Text(l.unit.clone()),
                    Cell::Cents(l.unit_price_cents),
                    Cell::Cents(l.amount_cents),
                ]
            })
        })
        .collect();
    Table {
        columns: COLUMNS,
        rows,
    }
}

/// The 18 columns of the FEC, in the order the text sets.
const FEC_HEADER: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

/// The label of the members' receivable account.
const CUSTOMER_LABEL: &str = "Membres du pôle";

/// A text field of the FEC: no separator, tab or line break inside.
fn fec_text(text: &str) -> String {
    text.replace(['|', '\t', '\r', '\n'], " ")
}

/// An amount of the FEC: decimal comma, two decimals, no thousands separator.
fn fec_amount(cents: i64) -> String {
    decimal(cents, Dialect::Semicolon)
}

/// The last day of the month, as YYYYMMDD.
fn last_day(month: Month) -> String {
    (month.next().first_day() - Duration::days(1))
        .format("%Y%m%d")
        .to_string()
}

/// The revenue account and its label for a source.
fn revenue_account(source: Source, s: &StatementSettings) -> (&str, &'static str) {
    match source {
        Source::Tariff => (&s.tariff_account, "Prestations d'utilisation"),
        Source::CostShare => (&s.cost_share_account, "Quotes-parts de frais communs"),
        Source::Staff => (&s.staff_account, "Mise à disposition de personnel"),
        Source::Adjustment => (&s.adjustment_account, "Régularisations"),
    }
}

/// A signed amount on its side: a positive amount on the natural side, a negative one as its
/// absolute value on the other. Returns (debit, credit).
fn sides(cents: i64, natural_debit: bool) -> (i64, i64) {
    let abs = cents.abs();
    if (cents >= 0) == natural_debit {
        (abs, 0)
    } else {
        (0, abs)
    }
}

/// The month's statements as a FEC file: one balanced entry per member with a non-zero
/// total, by member id — the member's receivable account (auxiliary account
/// `<customer account><member id on 5 digits>`) against one revenue account per source.
/// `ValidDate` is the closing date (Paris) of a closed month, empty for an open one.
pub fn fec(a: &Allocation, s: &StatementSettings) -> Vec<u8> {
    let mut out = FEC_HEADER.join("|");
    out.push_str("\r\n");

    let month = a.month;
    let date = last_day(month);
    let valid = match (&a.status, &a.closing) {
        (MonthStatus::Closed, Some(c)) => c
            .closed_at
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%Y%m%d")
            .to_string(),
        _ => String::new(),
    };
    let journal_code = fec_text(&s.journal_code);
    let journal_label = fec_text(&s.journal_label);

    // A member whose lines cancel out still gets its entry (its revenue lines balance).
    let mut members: Vec<&MemberStatement> = a
        .members
        .iter()
        .filter(|m| m.lines.iter().any(|l| l.amount_cents != 0))
        .collect();
    members.sort_by_key(|m| m.member_id);

    for m in members {
        let id = m.member_id.0;
        let name = fec_text(&m.member_name);
        let number = format!("{:04}{:02}-{id}", month.year(), month.number());
        let piece = format!("REL-{month}-{id}");
        let wording = fec_text(&format!("Relevé {} — {}", label_fr(month), m.member_name));
        let mut line = |account: &str, account_label: &str, aux: (&str, &str), dc: (i64, i64)| {
            let fields: [&str; 18] = [
                journal_code.as_str(),
                journal_label.as_str(),
                number.as_str(),
                date.as_str(),
                &fec_text(account),
                &fec_text(account_label),
                aux.0,
                aux.1,
                piece.as_str(),
                date.as_str(),
                wording.as_str(),
                &fec_amount(dc.0),
                &fec_amount(dc.1),
                "",
                "",
                valid.as_str(),
                "",
                "",
            ];
            out.push_str(&fields.join("|"));
            out.push_str("\r\n");
        };

        let aux = fec_text(&format!("{}{id:05}", s.customer_account));
        if m.total_cents != 0 {
            line(
                &s.customer_account,
                CUSTOMER_LABEL,
                (&aux, &name),
                sides(m.total_cents, true),
            );
        }
        for source in Source::ALL {
            let cents = m.total_of(source);
            if cents != 0 {
                let (account, label) = revenue_account(source, s);
                line(account, label, ("", ""), sides(cents, false));
            }
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::app::allocation::ClosingInfo;
    use crate::domain::ids::{MemberId, ResourceId};
    use crate::domain::statement::{Line, Refs};

    fn line(
        source: Source,
        resource: Option<i64>,
        label: &str,
        quantity_milli: i64,
        unit_price_cents: i64,
        amount_cents: i64,
    ) -> Line {
        Line {
            source,
            resource_id: resource.map(ResourceId),
            label: label.into(),
            basis: "selon barème".into(),
            quantity_milli,
            unit: "h".into(),
            unit_price_cents,
            amount_cents,
            refs: Refs::default(),
        }
    }

    /// Member 7 owes 1 172,84 € (use, cost share, a negative adjustment); member 12 is owed
    /// 150 € (staff, a larger adjustment back); member 3's lines cancel out.
    fn allocation(closed: bool) -> Allocation {
        let atelier = MemberStatement::new(
            MemberId(7),
            "Atelier Bois".into(),
            vec![
                line(
                    Source::Tariff,
                    Some(3),
                    "Presse — janvier",
                    12_500,
                    6_800,
                    85_000,
                ),
                line(Source::CostShare, None, "=SOMME(A1)", 1_000, 37_284, 37_284),
                line(Source::Adjustment, None, "Avoir", 1_000, -5_000, -5_000),
            ],
        );
        let jardins = MemberStatement::new(
            MemberId(12),
            "Jardins | Partagés".into(),
            vec![
                line(
                    Source::Staff,
                    Some(40),
                    "Mise à disposition — Léa",
                    2_000,
                    5_000,
                    10_000,
                ),
                line(
                    Source::Adjustment,
                    None,
                    "Trop-perçu\ndécembre",
                    1_000,
                    -25_000,
                    -25_000,
                ),
            ],
        );
        let zero = MemberStatement::new(
            MemberId(3),
            "Coop Zéro".into(),
            vec![
                line(Source::Tariff, Some(5), "Salle", 1_000, 2_000, 2_000),
                line(Source::Adjustment, None, "Geste", 1_000, -2_000, -2_000),
            ],
        );
        let members = vec![atelier, zero, jardins];
        Allocation {
            month: "2027-01".parse().unwrap(),
            status: if closed {
                MonthStatus::Closed
            } else {
                MonthStatus::Open
            },
            total_cents: members.iter().map(|m| m.total_cents).sum(),
            members,
            resources: Vec::new(),
            problems: Vec::new(),
            // 23:30 UTC on 3 February is already 4 February in Paris.
            closing: closed.then(|| ClosingInfo {
                closed_at: Utc.with_ymd_and_hms(2027, 2, 3, 23, 30, 0).unwrap(),
                previous_hash: String::new(),
                hash: "abc".into(),
            }),
        }
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn one_row_per_line_for_machines() {
        let csv = text(table(&allocation(false)).to_csv(Dialect::Comma));
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "month,member_id,member,source,resource_id,label,basis,quantity,unit,unit_price,amount"
        );
        assert_eq!(
            lines[1],
            "2027-01,7,Atelier Bois,tariff,3,Presse — janvier,selon barème,12.500,h,68.00,850.00"
        );
        assert_eq!(
            lines[2],
            "2027-01,7,Atelier Bois,cost_share,,'=SOMME(A1),selon barème,1.000,h,372.84,372.84"
        );
        // 3 + 2 + 2 lines, a header and the final line break.
        assert_eq!(lines.len(), 9);
        assert_eq!(lines[8], "");
    }

    #[test]
    fn french_spreadsheets_get_french_headings_and_decimal_commas() {
        let bytes = table(&allocation(false)).to_csv(Dialect::Semicolon);
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a byte-order mark");
        let csv = text(bytes[3..].to_vec());
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "Mois;N° membre;Membre;Source;N° ressource;Libellé;Base de calcul;Quantité;Unité;\
             Prix unitaire (€);Montant (€)"
        );
        assert_eq!(
            lines[3],
            "2027-01;7;Atelier Bois;Régularisation;;Avoir;selon barème;1,000;h;-50,00;-50,00"
        );
        assert_eq!(
            lines[2],
            "2027-01;7;Atelier Bois;Quote-part des coûts communs;;'=SOMME(A1);selon barème;1,000;h;372,84;372,84"
        );
    }

    const HEADER: &str = "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|\
                          CompAuxNum|CompAuxLib|PieceRef|PieceDate|EcritureLib|Debit|Credit|\
                          EcritureLet|DateLet|ValidDate|Montantdevise|Idevise";

    fn fec_rows(closed: bool) -> (String, Vec<Vec<String>>) {
        let bytes = fec(&allocation(closed), &StatementSettings::default());
        assert!(
            !bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
            "no byte-order mark"
        );
        let file = text(bytes);
        assert!(file.ends_with("\r\n"));
        let rows = file
            .trim_end_matches("\r\n")
            .split("\r\n")
            .map(|l| {
                assert!(!l.contains('\n') && !l.contains('\r'), "{l:?}");
                l.split('|').map(String::from).collect::<Vec<_>>()
            })
            .collect();
        (file, rows)
    }

    fn cents(field: &str) -> i64 {
        let (units, hundredths) = field.split_once(',').expect("a decimal comma");
        assert_eq!(hundredths.len(), 2, "{field}");
        assert!(!units.contains(['.', ' ', '-']), "{field}");
        units.parse::<i64>().unwrap() * 100 + hundredths.parse::<i64>().unwrap()
    }

    #[test]
    fn fec_has_the_exact_header_and_18_columns_everywhere() {
        let (file, rows) = fec_rows(false);
        assert!(file.starts_with(&format!("{HEADER}\r\n")));
        assert_eq!(rows[0].join("|"), HEADER);
        for row in &rows {
            assert_eq!(row.len(), 18, "{row:?}");
        }
        // Member 7: customer, tariff, cost share, adjustment; member 12: customer, staff,
        // adjustment; member 3 (total 0): its use and the gesture that cancels it, no
        // customer line.
        assert_eq!(rows.len(), 1 + 4 + 3 + 2);
        assert_eq!(rows.iter().filter(|r| r[2].ends_with("-3")).count(), 2);
    }

    #[test]
    fn fec_entries_balance_and_read_like_an_accountant_expects() {
        let (_, rows) = fec_rows(false);
        let body = &rows[1..];
        let mut entries: Vec<&str> = body.iter().map(|r| r[2].as_str()).collect();
        entries.dedup();
        assert_eq!(entries, ["202701-3", "202701-7", "202701-12"]);
        for entry in entries {
            let lines: Vec<&Vec<String>> = body.iter().filter(|r| r[2] == entry).collect();
            let debit: i64 = lines.iter().map(|r| cents(&r[11])).sum();
            let credit: i64 = lines.iter().map(|r| cents(&r[12])).sum();
            assert_eq!(debit, credit, "entry {entry} balances");
            assert!(debit > 0);
        }
        // The other members' entries, in order, for the line-by-line checks below.
        let body: Vec<&Vec<String>> = body.iter().filter(|r| !r[2].ends_with("-3")).collect();

        let customer = &body[0];
        assert_eq!(
            customer[..13],
            [
                "VT",
                "Ventes",
                "202701-7",
                "20270131",
                "411",
                CUSTOMER_LABEL,
                "41100007",
                "Atelier Bois",
                "REL-2027-01-7",
                "20270131",
                "Relevé janvier 2027 — Atelier Bois",
                "1172,84",
                "0,00",
            ]
        );
        assert_eq!(customer[13..], ["", "", "", "", ""]);
        // Account, its label, auxiliary account, debit, credit.
        let pick = |r: &[String]| [4, 5, 6, 11, 12].map(|i| r[i].clone());
        assert_eq!(
            pick(body[1]),
            ["706000", "Prestations d'utilisation", "", "0,00", "850,00"]
        );
        assert_eq!(
            pick(body[2]),
            [
                "708000",
                "Quotes-parts de frais communs",
                "",
                "0,00",
                "372,84"
            ]
        );
        // The negative adjustment is a debit on the revenue account.
        assert_eq!(
            pick(body[3]),
            ["708800", "Régularisations", "", "50,00", "0,00"]
        );

        // Member 12 is owed money: the customer line is a credit.
        let owed = &body[4];
        assert_eq!(owed[6], "41100012");
        assert_eq!(
            owed[7], "Jardins   Partagés",
            "a `|` in a name becomes a space"
        );
        assert_eq!(owed[10], "Relevé janvier 2027 — Jardins   Partagés");
        assert_eq!(
            pick(owed),
            ["411", CUSTOMER_LABEL, "41100012", "0,00", "150,00"]
        );
        assert_eq!(
            pick(body[5]),
            [
                "708400",
                "Mise à disposition de personnel",
                "",
                "0,00",
                "100,00"
            ]
        );
        assert_eq!(
            pick(body[6]),
            ["708800", "Régularisations", "", "250,00", "0,00"]
        );
    }

    #[test]
    fn fec_valid_date_is_the_paris_closing_date() {
        let (_, open) = fec_rows(false);
        assert!(open[1..].iter().all(|r| r[15].is_empty()));
        let (_, closed) = fec_rows(true);
        assert!(closed[1..].iter().all(|r| r[15] == "20270204"));
    }

    #[test]
    fn fec_dates_are_the_last_day_of_the_month() {
        let m = |s: &str| s.parse::<Month>().unwrap();
        assert_eq!(last_day(m("2027-01")), "20270131");
        assert_eq!(last_day(m("2028-02")), "20280229");
        assert_eq!(last_day(m("2027-12")), "20271231");
    }

    #[test]
    fn fec_text_fields_cannot_break_a_line() {
        assert_eq!(fec_text("a|b\r\nc\td"), "a b  c d");
        let s = StatementSettings {
            journal_label: "Ventes|\r\nmembres".into(),
            ..StatementSettings::default()
        };
        let file = text(fec(&allocation(false), &s));
        for l in file.trim_end_matches("\r\n").split("\r\n") {
            assert_eq!(l.split('|').count(), 18, "{l:?}");
        }
    }
}
