//! Exports for spreadsheets and accounting software. Adapters at the edge: they turn the
//! views of `app` into files and never read the database themselves; `web` and the CLI call
//! them.
//!
//! Two CSV dialects, the same columns:
//! - [`Dialect::Comma`]: UTF-8, `,` between fields, a decimal point, machine headers in
//!   snake_case — for scripts and most tools;
//! - [`Dialect::Semicolon`]: UTF-8 with a byte-order mark, `;` between fields, a decimal
//!   comma, French headers — what a French spreadsheet opens correctly with a double click.
//!
//! In both, a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! prefixed with `'`, so no formula ever runs from data a user typed (CSV injection).

pub mod allocation;
pub mod bookings;
pub mod directory;
pub mod ledger;

use std::str::FromStr;

use crate::domain::money::div_round;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Comma,
    Semicolon,
}

impl FromStr for Dialect {
    type Err = String;

    /// "comma" (or ","), "semicolon" (or ";", "fr").
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "comma" | "," => Ok(Dialect::Comma),
            "semicolon" | ";" | "fr" => Ok(Dialect::Semicolon),
            other => Err(format!(
                "Format CSV « {other} » inconnu : « comma » ou « semicolon »."
            )),
        }
    }
}

/// A value in a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Free text (neutralised against formulas).
    Text(String),
    Int(i64),
    /// An amount in cents, written in euros with two decimals.
    Cents(i64),
    /// A duration in minutes, written in hours with two decimals (rounded half away from
    /// zero: 7 h 10 is 7.17).
    Hours(i64),
    /// A quantity in thousandths, written with three decimals, trailing zeros kept (12 500 is
    /// 12.500).
    Thousandths(i64),
    /// A value of a closed set: its code for machines (`,`), its French label for a French
    /// spreadsheet (`;`).
    Coded {
        code: &'static str,
        label: &'static str,
    },
}

/// A column: its machine name and its French heading.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
}

pub struct Table {
    pub columns: &'static [Column],
    pub rows: Vec<Vec<Cell>>,
}

fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// `value / 100` with two decimals, the dialect's decimal mark.
fn decimal(hundredths: i64, dialect: Dialect) -> String {
    fixed(hundredths, 2, dialect)
}

/// `value / 10^places` with `places` decimals, the dialect's decimal mark.
fn fixed(value: i64, places: u32, dialect: Dialect) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let scale = 10u64.pow(places);
    let mark = match dialect {
        Dialect::Comma => '.',
        Dialect::Semicolon => ',',
    };
    let width = places as usize;
    format!("{sign}{}{mark}{:0width$}", abs / scale, abs % scale)
}

fn render(cell: &Cell, dialect: Dialect) -> String {
    match cell {
        Cell::Text(t) => neutralise(t),
        Cell::Int(i) => i.to_string(),
        Cell::Cents(c) => decimal(*c, dialect),
        Cell::Hours(minutes) => decimal(div_round(i128::from(*minutes) * 100, 60), dialect),
        Cell::Thousandths(t) => fixed(*t, 3, dialect),
        Cell::Coded { code, label } => match dialect {
            Dialect::Comma => (*code).to_string(),
            Dialect::Semicolon => neutralise(label),
        },
    }
}

impl Table {
    /// The table as a CSV file in the dialect.
    pub fn to_csv(&self, dialect: Dialect) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        if dialect == Dialect::Semicolon {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        let mut w = csv::WriterBuilder::new()
            .delimiter(match dialect {
                Dialect::Comma => b',',
                Dialect::Semicolon => b';',
            })
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        let headings = self.columns.iter().map(|c| match dialect {
            Dialect::Comma => c.key,
            Dialect::Semicolon => c.label,
        });
        // Writing to a Vec cannot fail; the results are checked all the same.
        let mut ok = w.write_record(headings).is_ok();
        for row in &self.rows {
            ok &= w
                .write_record(row.iter().map(|c| render(c, dialect)))
                .is_ok();
        }
        debug_assert!(ok);
        w.into_inner().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            key: "name",
            label: "Nom",
        },
        Column {
            key: "amount",
            label: "Montant (€)",
        },
        Column {
            key: "hours",
            label: "Heures",
        },
    ];

    fn table() -> Table {
        Table {
            columns: COLUMNS,
            rows: vec![
                vec![
                    Cell::Text("=HYPERLINK(\"x\")".into()),
                    Cell::Cents(-123_456),
                    Cell::Hours(430),
                ],
                vec![
                    Cell::Text("Coop; « l'Atelier »".into()),
                    Cell::Cents(5),
                    Cell::Hours(0),
                ],
            ],
        }
    }

    #[test]
    fn comma_dialect_for_machines() {
        let text = String::from_utf8(table().to_csv(Dialect::Comma)).unwrap();
        assert_eq!(
            text,
            "name,amount,hours\r\n\"'=HYPERLINK(\"\"x\"\")\",-1234.56,7.17\r\n\
             Coop; « l'Atelier »,0.05,0.00\r\n"
        );
    }

    #[test]
    fn semicolon_dialect_for_french_spreadsheets() {
        let bytes = table().to_csv(Dialect::Semicolon);
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a byte-order mark");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "Nom;Montant (€);Heures\r\n\"'=HYPERLINK(\"\"x\"\")\";-1234,56;7,17\r\n\
             \"Coop; « l'Atelier »\";0,05;0,00\r\n"
        );
    }

    #[test]
    fn a_real_csv_reader_reads_back_what_was_written() {
        let bytes = table().to_csv(Dialect::Semicolon);
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(&bytes[3..]);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(&rows[1][0], "Coop; « l'Atelier »");
        assert_eq!(&rows[0][1], "-1234,56");
    }

    #[test]
    fn thousandths_keep_three_decimals_in_the_dialect() {
        let cases = [
            (12_500, "12.500", "12,500"),
            (1_000, "1.000", "1,000"),
            (-1, "-0.001", "-0,001"),
            (0, "0.000", "0,000"),
        ];
        for (t, comma, semicolon) in cases {
            assert_eq!(render(&Cell::Thousandths(t), Dialect::Comma), comma);
            assert_eq!(render(&Cell::Thousandths(t), Dialect::Semicolon), semicolon);
        }
    }

    #[test]
    fn every_leading_formula_sign_is_neutralised() {
        for s in ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(s).starts_with('\''), "{s:?}");
        }
        assert_eq!(neutralise("Coop'Atelier"), "Coop'Atelier");
    }

    #[test]
    fn dialects_parse() {
        assert_eq!("semicolon".parse::<Dialect>(), Ok(Dialect::Semicolon));
        assert_eq!("".parse::<Dialect>(), Ok(Dialect::Comma));
        assert!("tab".parse::<Dialect>().is_err());
    }
}
