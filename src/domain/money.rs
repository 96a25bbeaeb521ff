//! Money in integer cents: parsing what people type in euros and formatting it the French way.

/// Parses "1234", "1 234,56", "1234.5", "12,5 €" into cents. Refuses more than two decimals,
/// negative amounts when `allow_negative` is false, and anything beyond ±10^13 cents.
pub fn parse_euros(raw: &str, allow_negative: bool) -> Result<Option<i64>, String> {
    let cleaned: String = raw
        .trim()
        .trim_end_matches('€')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let err = || "Montant en euros attendu (exemple : 1 250,50).".to_string();
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    if negative && !allow_negative {
        return Err("Le montant ne peut pas être négatif.".into());
    }
    let normalized = digits.replace(',', ".");
    let (units, decimals) = match normalized.split_once('.') {
        Some((u, d)) => (u, d),
        None => (normalized.as_str(), ""),
    };
    if units.is_empty() && decimals.is_empty() {
        return Err(err());
    }
    if !units.chars().all(|c| c.is_ascii_digit()) || !decimals.chars().all(|c| c.is_ascii_digit()) {
        return Err(err());
    }
    if decimals.len() > 2 {
        return Err("Deux décimales au maximum.".into());
    }
    if units.len() > 11 {
        return Err("Montant trop élevé.".into());
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().map_err(|_| err())?
    };
    let cents: i64 = match decimals.len() {
        0 => 0,
        1 => decimals.parse::<i64>().map_err(|_| err())? * 10,
        _ => decimals.parse().map_err(|_| err())?,
    };
    let total = units * 100 + cents;
    Ok(Some(if negative { -total } else { total }))
}

/// "1 234,56 €" with a narrow no-break space as thousands separator.
pub fn format_euros(cents: i64) -> String {
    format!("{} €", format_amount(cents))
}

/// "1 234,56" without the currency sign (form fields).
pub fn format_amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02}", abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_french_amounts() {
        assert_eq!(parse_euros("1234", false).unwrap(), Some(123_400));
        assert_eq!(parse_euros("1 234,56", false).unwrap(), Some(123_456));
        assert_eq!(parse_euros("12,5 €", false).unwrap(), Some(1_250));
        assert_eq!(parse_euros("0.05", false).unwrap(), Some(5));
        assert_eq!(parse_euros(",5", false).unwrap(), Some(50));
        assert_eq!(parse_euros("", false).unwrap(), None);
        assert_eq!(parse_euros("-3", true).unwrap(), Some(-300));
        for bad in ["-3", "1,234", "abc", "1.2.3", "12e3", ".", "999999999999"] {
            assert!(parse_euros(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_french_amounts() {
        assert_eq!(format_euros(123_456), "1\u{202f}234,56 €");
        assert_eq!(format_euros(5), "0,05 €");
        assert_eq!(format_euros(-100_000), "-1\u{202f}000,00 €");
        assert_eq!(format_amount(100), "1,00");
    }

    proptest::proptest! {
        #[test]
        fn format_then_parse_round_trips(cents in -99_999_999_999i64..99_999_999_999) {
            let text = format_amount(cents);
            proptest::prop_assert_eq!(parse_euros(&text, true).unwrap(), Some(cents));
        }
    }
}
