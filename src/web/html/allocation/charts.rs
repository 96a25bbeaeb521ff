//! The charts of the month page, inline SVG drawn on the server: a bar per member, and the
//! twelve-month trend with a sparkline per member. Each has a text equivalent (the tables,
//! the `aria-label`), so nothing is told by the picture alone.

use maud::{html, Markup};

use crate::app::allocation::Trend;
use crate::domain::money::{div_round, format_amount, format_euros};
use crate::domain::month::{label_fr, Month};
use crate::domain::statement::MemberStatement;

/// A horizontal bar per member, credits (negative totals) to the left of the zero line.
pub(super) fn bar_chart(members: &[MemberStatement], month: Month) -> Markup {
    const WIDTH: i64 = 720;
    const NAME: i64 = 200;
    const VALUE: i64 = 130;
    const ROW: i64 = 28;
    if members.is_empty() {
        return html! {};
    }
    let plot = WIDTH - NAME - VALUE - 20;
    let max = members
        .iter()
        .map(|m| m.total_cents.max(0))
        .max()
        .unwrap_or(0);
    let min = members
        .iter()
        .map(|m| m.total_cents.min(0))
        .min()
        .unwrap_or(0);
    let span = (max - min).max(1);
    let x_of =
        |v: i64| NAME + 10 + div_round(i128::from(v - min) * i128::from(plot), i128::from(span));
    let zero = x_of(0);
    let height = ROW * members.len() as i64 + 10;
    let label = format!(
        "Total de chaque structure pour {} : {}.",
        label_fr(month),
        members
            .iter()
            .map(|m| format!("{} {}", m.member_name, format_euros(m.total_cents)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    html! {
        figure.chart {
            svg.bars viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label=(label) {
                @for (i, m) in members.iter().enumerate() {
                    @let y = 5 + i as i64 * ROW;
                    @let x = x_of(m.total_cents);
                    g {
                        title { (m.member_name) " : " (format_euros(m.total_cents)) }
                        text x=(NAME) y=(y + 18) text-anchor="end" { (truncate(&m.member_name, 26)) }
                        rect class=(if m.total_cents < 0 { "bar credit" } else { "bar" })
                            x=(x.min(zero)) y=(y + 4) width=((x - zero).abs().max(1)) height=(ROW - 8) {}
                        text.value x=(WIDTH - 5) y=(y + 18) text-anchor="end" { (format_euros(m.total_cents)) }
                    }
                }
                line.axis x1=(zero) x2=(zero) y1="0" y2=(height) {}
            }
            figcaption.meta { "Total du mois par structure (les montants figurent dans le tableau ci-dessus)." }
        }
    }
}

/// Twelve monthly totals as a small line, the last month marked.
fn sparkline(name: &str, months: &[Month], cents: &[i64]) -> Markup {
    const W: i64 = 120;
    const H: i64 = 30;
    const PAD: i64 = 3;
    let n = cents.len() as i64;
    if n == 0 {
        return html! {};
    }
    let max = cents.iter().copied().max().unwrap_or(0);
    let min = cents.iter().copied().min().unwrap_or(0);
    let span = (max - min).max(1);
    let point = |i: i64, v: i64| {
        let x = PAD
            + if n > 1 {
                (W - 2 * PAD) * i / (n - 1)
            } else {
                0
            };
        let y = H
            - PAD
            - if max == min {
                (H - 2 * PAD) / 2
            } else {
                div_round(
                    i128::from(v - min) * i128::from(H - 2 * PAD),
                    i128::from(span),
                )
            };
        (x, y)
    };
    let points = cents
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (x, y) = point(i as i64, *v);
            format!("{x},{y}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let (lx, ly) = point(n - 1, cents[cents.len() - 1]);
    let first = months.first().map(|m| label_fr(*m)).unwrap_or_default();
    let last = months.last().map(|m| label_fr(*m)).unwrap_or_default();
    let label = format!(
        "{name} sur 12 mois : {} en {first}, {} en {last} ; au plus {}, au moins {}.",
        format_euros(cents[0]),
        format_euros(cents[cents.len() - 1]),
        format_euros(max),
        format_euros(min)
    );
    html! {
        svg.sparkline viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H) role="img" aria-label=(label) {
            title { (label) }
            polyline points=(points) {}
            circle cx=(lx) cy=(ly) r="2.5" {}
        }
    }
}

pub(super) fn trend_view(t: &Trend) -> Markup {
    html! {
        @if t.members.is_empty() {
            p { "Aucun relevé sur les douze derniers mois." }
        } @else {
            div.scroll role="region" tabindex="0" aria-label="Relevés des douze derniers mois" {
                table.trend {
                    caption { "Total de chaque structure, mois par mois (arrondi à l'euro ; mois clôturés tels qu'enregistrés, mois ouverts tels que calculés aujourd'hui)." }
                    thead { tr {
                        th scope="col" { "Structure" }
                        th scope="col" { "Évolution" }
                        @for m in &t.months { th.num scope="col" { abbr title=(label_fr(*m)) { (month_short(*m)) } } }
                    } }
                    tbody { @for r in &t.members {
                        tr {
                            th scope="row" { (r.member_name) }
                            td { (sparkline(&r.member_name, &t.months, &r.cents)) }
                            @for c in &r.cents { td.num { (whole_euros(*c)) } }
                        }
                    } }
                }
            }
        }
    }
}

/// Euros rounded to the unit (« 1 235 € »), for the dense trend table.
fn whole_euros(cents: i64) -> String {
    if cents == 0 {
        return "—".into();
    }
    let euros = div_round(i128::from(cents), 100);
    format!(
        "{} €",
        format_amount(euros.saturating_mul(100)).trim_end_matches(",00")
    )
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

const MONTHS_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

fn month_short(m: Month) -> String {
    format!(
        "{} {:02}",
        MONTHS_SHORT[(m.number() as usize).saturating_sub(1) % 12],
        m.year() % 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_euros_for_the_trend() {
        assert_eq!(whole_euros(123_456), "1\u{202f}235 €");
        assert_eq!(whole_euros(0), "—");
    }
}
