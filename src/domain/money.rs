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

/// Splits `total` cents between parts in proportion to their weights, exactly: each part gets
/// the floor of its share, then the cents left go one by one to the largest remainders, ties
/// to the earlier part (callers order parts by member id). The parts always sum to `total`.
/// Weights of 0 (or below) get nothing; with no positive weight, `None`. Negative totals split
/// the same way (a refund).
pub fn split_largest_remainder(total: i64, weights: &[i64]) -> Option<Vec<i64>> {
    let weights: Vec<i64> = weights.iter().map(|w| (*w).max(0)).collect();
    if weights.iter().all(|w| *w == 0) {
        return None;
    }
    split_blended(total, &[(WHOLE_BP, weights)])
}

/// The largest-remainder split of `total` over blended shares, exactly: `terms` are `(basis
/// points, weights per part)` with positive basis points summing to 100 % (10 000) and each
/// weight list non-negative with a positive sum, all of one length. A part's exact share is
/// `Σ_k total · bp[k] · w[k][m] / (10 000 · W[k])`: each term is divided by its own
/// denominator, the remainders compared over their common one, in checked 128-bit integers;
/// `None` when the figures are too large to split exactly or the terms are not as described.
/// Ties go to the earlier part.
pub fn split_blended(total: i64, terms: &[(i64, Vec<i64>)]) -> Option<Vec<i64>> {
    let n = terms.first().map_or(0, |(_, w)| w.len());
    let whole = terms.iter().all(|(bp, w)| {
        *bp >= 0 && w.len() == n && w.iter().all(|x| *x >= 0) && w.iter().any(|x| *x > 0)
    }) && terms.iter().map(|(bp, _)| i128::from(*bp)).sum::<i128>()
        == i128::from(WHOLE_BP);
    if !whole {
        return None;
    }
    let t = u128::from(total.unsigned_abs());
    // Each term's denominator: 10 000 · W[k]; the common one, their product.
    let mut denominators: Vec<u128> = Vec::with_capacity(terms.len());
    for (_, w) in terms {
        let sum: u128 = w.iter().map(|x| x.unsigned_abs() as u128).sum();
        denominators.push(sum.checked_mul(WHOLE_BP as u128)?);
    }
    let common = denominators
        .iter()
        .try_fold(1u128, |acc, d| acc.checked_mul(*d))?;
    let mut floors: Vec<u128> = vec![0; n];
    let mut remainders: Vec<u128> = vec![0; n];
    for (k, (bp, w)) in terms.iter().enumerate() {
        let d = denominators[k];
        // The other terms' denominators, to bring this remainder over the common one.
        let scale = common / d;
        for m in 0..n {
            let num = t
                .checked_mul(*bp as u128)
                .and_then(|x| x.checked_mul(w[m].unsigned_abs() as u128))?;
            floors[m] += num / d;
            remainders[m] = (num % d)
                .checked_mul(scale)
                .and_then(|r| remainders[m].checked_add(r))?;
        }
    }
    // Remainders that add up past one whole cent carry it into the floor.
    for m in 0..n {
        floors[m] += remainders[m] / common;
        remainders[m] %= common;
    }
    let given: u128 = floors.iter().sum();
    let mut left = t.checked_sub(given)?;
    let mut order: Vec<usize> = (0..n).collect();
    // Largest remainder first; among equal ones, the lowest member id (the earlier index).
    order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]).then(a.cmp(b)));
    for m in order {
        if left == 0 {
            break;
        }
        if remainders[m] > 0 {
            floors[m] += 1;
            left -= 1;
        }
    }
    let sign: i128 = if total < 0 { -1 } else { 1 };
    floors
        .into_iter()
        .map(|f| {
            i128::try_from(f)
                .ok()
                .and_then(|c| i64::try_from(sign * c).ok())
        })
        .collect()
}

/// Basis points in a whole (100 %): the blend shares of [`split_blended`].
pub const WHOLE_BP: i64 = 10_000;

/// A coefficient or rate in thousandths, written the French way without trailing zeros:
/// 1150 → "1,15", 500 → "0,5", 1000 → "1"; below zero, "-0,5".
pub fn format_permille(p: i64) -> String {
    let sign = if p < 0 { "-" } else { "" };
    let a = p.unsigned_abs();
    let s = format!("{sign}{},{:03}", a / 1000, a % 1000);
    s.trim_end_matches('0').trim_end_matches(',').to_string()
}

/// `numerator / denominator` rounded half away from zero (a line of a bill is rounded once).
pub fn div_round(numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let (n, d) = if denominator < 0 {
        (-numerator, -denominator)
    } else {
        (numerator, denominator)
    };
    let q = if n >= 0 {
        (2 * n + d) / (2 * d)
    } else {
        -((2 * -n + d) / (2 * d))
    };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    proptest! {
        #[test]
        fn format_then_parse_round_trips(cents in -99_999_999_999i64..99_999_999_999) {
            let text = format_amount(cents);
            prop_assert_eq!(parse_euros(&text, true).unwrap(), Some(cents));
        }
    }

    #[test]
    fn largest_remainder_examples_of_the_design() {
        // 1 000.00 € of rent by usage hours 10 / 20 / 30.
        assert_eq!(
            split_largest_remainder(100_000, &[10, 20, 30]),
            Some(vec![16_667, 33_333, 50_000])
        );
        // 100.00 € in three equal parts: the first (lowest member id) takes the extra cent.
        assert_eq!(
            split_largest_remainder(10_000, &[1, 1, 1]),
            Some(vec![3_334, 3_333, 3_333])
        );
        assert_eq!(split_largest_remainder(10_000, &[0, 0]), None);
        assert_eq!(
            split_largest_remainder(5, &[0, 3, 0, 1]),
            Some(vec![0, 4, 0, 1])
        );
        assert_eq!(
            split_largest_remainder(-10_000, &[1, 1, 1]),
            Some(vec![-3_334, -3_333, -3_333])
        );
    }

    #[test]
    fn permille_without_trailing_zeros() {
        for (p, text) in [
            (1150, "1,15"),
            (500, "0,5"),
            (1000, "1"),
            (0, "0"),
            (1005, "1,005"),
            (-500, "-0,5"),
            (12_500, "12,5"),
        ] {
            assert_eq!(format_permille(p), text);
        }
    }

    #[test]
    fn rounding_half_away_from_zero() {
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(4, 10), 0);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(15, 10), 2);
        assert_eq!(div_round(25, 10), 3);
        assert_eq!(div_round(7, 0), 0);
    }

    proptest! {
        #[test]
        fn parts_always_sum_to_the_total_and_follow_the_weights(
            total in -10_000_000i64..10_000_000,
            weights in proptest::collection::vec(0i64..10_000, 1..12),
        ) {
            match split_largest_remainder(total, &weights) {
                None => prop_assert!(weights.iter().all(|w| *w == 0)),
                Some(parts) => {
                    prop_assert_eq!(parts.iter().sum::<i64>(), total);
                    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
                    for (p, w) in parts.iter().zip(&weights) {
                        // Each part is within one cent of its exact share; no weight, no share.
                        let exact = i128::from(total) * i128::from(*w);
                        prop_assert!((i128::from(*p) * sum - exact).abs() < sum, "{p} for {w}");
                        if *w == 0 { prop_assert_eq!(*p, 0); }
                    }
                }
            }
        }
    }
}
