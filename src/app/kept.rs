//! Values kept in the process between requests, each stamped with the epoch it was read at.
//! The epochs are one-row tables that triggers raise in the transaction of any change of what
//! the value was read from (migration `epochs`), so a kept value is used only while the epoch
//! read now equals its stamp, and read again otherwise. One entry per key, never evicted: the
//! keys are resources and users, a bounded set.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct Kept<K, V>(Mutex<HashMap<K, (i64, V)>>);

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Kept(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> Kept<K, V> {
    /// What is kept for `key`, with the epoch it was read at.
    pub fn get(&self, key: &K) -> Option<(i64, V)> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// `look` at what is kept for `key`, whatever its epoch, without copying it.
    pub fn inspect<R>(&self, key: &K, look: impl FnOnce(&V) -> R) -> Option<R> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .map(|(_, v)| look(v))
    }

    /// What is kept for `key` if it was read at `epoch`.
    pub fn at(&self, key: &K, epoch: i64) -> Option<V> {
        self.get(key).filter(|(e, _)| *e == epoch).map(|(_, v)| v)
    }

    /// Keeps `value`, read at `epoch` (read before or with the value: data read after the
    /// epoch is at least as new, so the stamp never claims more than the value holds).
    pub fn keep(&self, key: K, epoch: i64, value: V) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (epoch, value));
    }

    /// [`Kept::keep`], unless what is kept for `key` was read at a later epoch: for epochs that
    /// only grow, a value read at an older one must not replace a newer one (answers and
    /// reads finish out of order).
    pub fn keep_newest(&self, key: K, epoch: i64, value: V) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&key).is_none_or(|(kept, _)| *kept <= epoch) {
            map.insert(key, (epoch, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Kept;

    #[test]
    fn an_older_value_never_replaces_a_newer_one() {
        let kept: Kept<i64, &str> = Kept::default();
        kept.keep_newest(1, 5, "five");
        kept.keep_newest(1, 4, "four");
        assert_eq!(kept.get(&1), Some((5, "five")));
        kept.keep_newest(1, 5, "five again");
        assert_eq!(kept.get(&1), Some((5, "five again")));
        kept.keep_newest(1, 6, "six");
        assert_eq!(kept.get(&1), Some((6, "six")));
    }

    #[test]
    fn a_value_is_used_only_at_the_epoch_it_was_read() {
        let kept: Kept<i64, &str> = Kept::default();
        assert_eq!(kept.at(&1, 7), None);
        kept.keep(1, 7, "salle");
        assert_eq!(kept.at(&1, 7), Some("salle"));
        assert_eq!(kept.at(&1, 8), None, "the epoch moved: read again");
        assert_eq!(kept.get(&1), Some((7, "salle")));
        assert_eq!(kept.inspect(&1, |v| v.len()), Some(5));
        assert_eq!(kept.inspect(&2, |v| v.len()), None);
        kept.keep(1, 8, "salle rénovée");
        assert_eq!(kept.at(&1, 8), Some("salle rénovée"));
        assert_eq!(kept.at(&2, 8), None);
    }
}
