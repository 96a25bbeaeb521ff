//! Typed identifiers of the vocabulary: a member's id cannot be passed where a resource's is
//! expected. Each is a plain `i64` on the wire (`serde(transparent)`) and in the database
//! (mapped in `store::types`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id_type!(
    /// A structure membre.
    MemberId
);
id_type!(
    /// Something bookable: room, desk, vehicle, equipment, shared employee.
    ResourceId
);
id_type!(
    /// One booking (réservation).
    BookingId
);
id_type!(
    /// A person who signs in.
    UserId
);
id_type!(
    /// A recurring series of bookings.
    SeriesId
);

id_type!(
    /// A cost entry of a month (rent, insurance…), split between members.
    CostId
);
id_type!(
    /// A correction of a member's statement.
    AdjustmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&MemberId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<ResourceId>("42").unwrap(),
            ResourceId(42)
        );
        assert_eq!(" 12 ".parse::<BookingId>().unwrap(), BookingId(12));
        assert!("douze".parse::<UserId>().is_err());
        assert_eq!(SeriesId(3).to_string(), "3");
    }
}
