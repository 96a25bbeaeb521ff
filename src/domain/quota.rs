//! Fair-share quotas: a ceiling per member on booked hours per month and on the number of
//! bookings ahead, over one resource, a kind of resources, or everything. Pure arithmetic; the
//! app loads what the member already holds and asks [`check`].

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ids::{MemberId, ResourceId};
use super::month::{label_fr, Month};
use super::resource::ResourceKind;
use super::time::Interval;
use super::validation::FieldErrors;
use super::violation::{Measure, Unit, Violation, ViolationCode};

/// What a quota counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaScope {
    Resource(ResourceId),
    Kind(ResourceKind),
    Everything,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub id: i64,
    /// `None`: applies to each member separately.
    pub member_id: Option<MemberId>,
    pub scope: QuotaScope,
    pub max_minutes_per_month: Option<i32>,
    pub max_future_bookings: Option<i32>,
}

impl Quota {
    pub fn applies_to(&self, member: MemberId) -> bool {
        self.member_id.is_none_or(|m| m == member)
    }

    pub fn covers(&self, resource: ResourceId, kind: ResourceKind) -> bool {
        match self.scope {
            QuotaScope::Resource(r) => r == resource,
            QuotaScope::Kind(k) => k == kind,
            QuotaScope::Everything => true,
        }
    }

    /// "sur « Salle Jaurès »", "pour les salles", "toutes ressources confondues".
    fn scope_phrase(&self, resource_name: &str) -> String {
        match self.scope {
            QuotaScope::Resource(_) => format!("sur « {resource_name} »"),
            QuotaScope::Kind(k) => format!("pour les {}", k.plural_label().to_lowercase()),
            QuotaScope::Everything => "toutes ressources confondues".into(),
        }
    }

    /// Plain French, e.g. "20 h par mois au plus — salles, par structure".
    pub fn describe(&self, resource_name: Option<&str>, member_name: Option<&str>) -> String {
        let scope = match self.scope {
            QuotaScope::Resource(_) => format!("« {} »", resource_name.unwrap_or("ressource")),
            QuotaScope::Kind(k) => k.plural_label().to_lowercase(),
            QuotaScope::Everything => "toutes ressources".into(),
        };
        let mut limits = Vec::new();
        if let Some(m) = self.max_minutes_per_month {
            limits.push(format!("{} par mois", hours(i64::from(m))));
        }
        if let Some(n) = self.max_future_bookings {
            limits.push(format!("{n} réservation(s) à venir"));
        }
        let who = member_name
            .map(|n| format!("pour {n}"))
            .unwrap_or_else(|| "par structure".into());
        format!("{} au plus — {scope}, {who}", limits.join(" et "))
    }
}

fn hours(minutes: i64) -> String {
    super::time::format_minutes(minutes)
}

/// What the member already holds in the quota's scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Holdings<'a> {
    /// Its active bookings in scope that meet the months the request touches (bookings being
    /// moved left out).
    pub booked: &'a [Interval],
    /// How many of its active bookings in scope start after now (moved ones left out).
    pub future_bookings: i64,
    /// Occurrences of the series being booked, accepted so far in this request.
    pub pending: &'a [Interval],
}

/// The quota's violations if `request` is added to `held` (empty: it fits). A month's use is
/// the booked time inside that local month, so a booking across midnight at the month's end
/// counts in both months for its share.
pub fn check(
    quota: &Quota,
    resource_name: &str,
    request: Interval,
    held: Holdings,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let what = quota.scope_phrase(resource_name);
    if let Some(max) = quota.max_minutes_per_month {
        let max = i64::from(max);
        for month in Month::touched_by(request, tz) {
            let bounds = month.bounds(tz);
            let within = |iv: &Interval| {
                iv.intersection(&bounds)
                    .map_or(0, |i| i.duration().num_minutes())
            };
            let used: i64 = held.booked.iter().chain(held.pending).map(within).sum();
            let adding = within(&request);
            if used + adding > max {
                out.push(Violation::measured(
                    ViolationCode::QuotaExceeded,
                    format!(
                        "Quota dépassé {what} : {} par mois au plus pour votre structure ; déjà {} réservées en {}, cette demande en ajoute {}.",
                        hours(max),
                        hours(used),
                        label_fr(month),
                        hours(adding)
                    ),
                    Measure::new(max, used + adding, Unit::Minutes).over(bounds.start, bounds.end),
                ));
            }
        }
    }
    if let Some(max) = quota.max_future_bookings {
        let max = i64::from(max);
        let future =
            held.future_bookings + held.pending.iter().filter(|p| p.start > now).count() as i64;
        if request.start > now && future + 1 > max {
            out.push(Violation::measured(
                ViolationCode::QuotaExceeded,
                format!(
                    "Quota dépassé {what} : {max} réservation(s) à venir au plus pour votre structure, {future} déjà prévue(s)."
                ),
                Measure::new(max, future + 1, Unit::Bookings),
            ));
        }
    }
    out
}

/// A quota as the API and the forms send it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuotaInput {
    /// None: applies to each member separately.
    #[serde(default)]
    pub member_id: Option<MemberId>,
    #[serde(default)]
    pub resource_id: Option<ResourceId>,
    /// room, desk, vehicle, equipment, staff (when no resource_id).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub max_minutes_per_month: Option<i32>,
    #[serde(default)]
    pub max_future_bookings: Option<i32>,
}

/// Longest month (31 days) in minutes: a higher monthly ceiling limits nothing.
const MONTH_MINUTES: i32 = 31 * 24 * 60;

impl QuotaInput {
    /// Checks the figures and the scope; whether the member and the resource exist is the
    /// app's to check.
    pub fn validate(&self) -> Result<Quota, FieldErrors> {
        let mut e = FieldErrors::new();
        if self.max_minutes_per_month.is_none() && self.max_future_bookings.is_none() {
            e.add(
                "max_minutes_per_month",
                "Indiquez un plafond d'heures par mois ou de réservations à venir.",
            );
        }
        if self
            .max_minutes_per_month
            .is_some_and(|m| !(1..=MONTH_MINUTES).contains(&m))
        {
            e.add("max_minutes_per_month", "Entre 1 et 44 640 minutes.");
        }
        if self
            .max_future_bookings
            .is_some_and(|m| !(1..=10_000).contains(&m))
        {
            e.add("max_future_bookings", "Entre 1 et 10 000.");
        }
        let kind = match &self.kind {
            Some(k) => match ResourceKind::parse(k) {
                Some(k) => Some(k),
                None => {
                    e.add("kind", "Type de ressource inconnu.");
                    None
                }
            },
            None => None,
        };
        if self.kind.is_some() && self.resource_id.is_some() {
            e.add("kind", "Choisissez une ressource ou un type, pas les deux.");
        }
        e.into_result()?;
        Ok(Quota {
            id: 0,
            member_id: self.member_id,
            scope: match (self.resource_id, kind) {
                (Some(r), _) => QuotaScope::Resource(r),
                (None, Some(k)) => QuotaScope::Kind(k),
                (None, None) => QuotaScope::Everything,
            },
            max_minutes_per_month: self.max_minutes_per_month,
            max_future_bookings: self.max_future_bookings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::parse_instant;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    fn at(s: &str) -> DateTime<Utc> {
        parse_instant(s, PARIS).unwrap()
    }

    fn iv(a: &str, b: &str) -> Interval {
        Interval::new(at(a), at(b)).unwrap()
    }

    fn monthly(max: i32) -> Quota {
        Quota {
            id: 1,
            member_id: None,
            scope: QuotaScope::Kind(ResourceKind::Room),
            max_minutes_per_month: Some(max),
            max_future_bookings: None,
        }
    }

    #[test]
    fn monthly_hours_allow_exactly_the_limit() {
        let now = at("2027-01-04T08:00");
        let booked = [iv("2027-02-01T09:00", "2027-02-01T18:00")]; // 9 h
        let held = Holdings {
            booked: &booked,
            ..Default::default()
        };
        let q = monthly(10 * 60);
        let exact = iv("2027-02-02T09:00", "2027-02-02T10:00");
        assert!(
            check(&q, "x", exact, held, now, PARIS).is_empty(),
            "9 h + 1 h = 10 h"
        );
        let over = iv("2027-02-02T09:00", "2027-02-02T10:01");
        let v = check(&q, "x", over, held, now, PARIS);
        assert_eq!(v.len(), 1);
        let m = v[0].measure.clone().unwrap();
        assert_eq!((m.limit, m.actual, m.unit), (600, 601, Unit::Minutes));
        assert_eq!(m.period_start, Some(at("2027-02-01T00:00")));
        assert_eq!(m.period_end, Some(at("2027-03-01T00:00")));
        assert!(v[0].message.contains("février 2027"), "{}", v[0].message);
        assert!(v[0].message.contains("pour les salles"), "{}", v[0].message);
    }

    #[test]
    fn a_booking_across_the_month_end_counts_its_share_in_each_month() {
        let now = at("2027-01-04T08:00");
        let q = monthly(60);
        // 23:30 on 28 Feb to 01:00 on 1 March, local: 30 min in February, 60 in March.
        let across = iv("2027-02-28T23:30", "2027-03-01T01:00");
        let v = check(&q, "x", across, Holdings::default(), now, PARIS);
        assert!(v.is_empty(), "{v:?}");
        let march = [iv("2027-03-10T10:00", "2027-03-10T10:01")];
        let v = check(
            &q,
            "x",
            across,
            Holdings {
                booked: &march,
                ..Default::default()
            },
            now,
            PARIS,
        );
        assert_eq!(v.len(), 1, "March only: {v:?}");
        assert!(v[0].message.contains("mars 2027"));
    }

    #[test]
    fn future_bookings_count_pending_occurrences_and_ignore_past_requests() {
        let now = at("2027-01-04T08:00");
        let q = Quota {
            max_minutes_per_month: None,
            max_future_bookings: Some(2),
            ..monthly(1)
        };
        let next = iv("2027-01-05T09:00", "2027-01-05T10:00");
        let pending = [iv("2027-01-12T09:00", "2027-01-12T10:00")];
        let one_stored = Holdings {
            future_bookings: 1,
            ..Default::default()
        };
        assert!(check(&q, "x", next, one_stored, now, PARIS).is_empty());
        let with_pending = Holdings {
            future_bookings: 1,
            pending: &pending,
            ..Default::default()
        };
        let v = check(&q, "x", next, with_pending, now, PARIS);
        assert_eq!(v[0].measure.as_ref().unwrap().actual, 3);
        let past = iv("2027-01-04T06:00", "2027-01-04T07:00");
        assert!(check(&q, "x", past, with_pending, now, PARIS).is_empty());
    }

    #[test]
    fn input_is_validated_and_described() {
        let q = QuotaInput {
            kind: Some("room".into()),
            max_minutes_per_month: Some(20 * 60 + 30),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(q.scope, QuotaScope::Kind(ResourceKind::Room));
        assert_eq!(
            q.describe(None, None),
            "20 h 30 par mois au plus — salles, par structure"
        );
        assert!(q.applies_to(MemberId(9)) && q.covers(ResourceId(3), ResourceKind::Room));
        assert!(!q.covers(ResourceId(3), ResourceKind::Desk));
        let e = QuotaInput::default().validate().unwrap_err();
        assert!(e.get("max_minutes_per_month").is_some());
        let e = QuotaInput {
            kind: Some("room".into()),
            resource_id: Some(ResourceId(1)),
            max_future_bookings: Some(0),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.get("kind").is_some() && e.get("max_future_bookings").is_some());
    }
}
