//! The taken and held seats of recently asked-for showtimes, kept in memory by a store.
//!
//! Seat maps are the busiest read by far, and each one read from the database costs a thread
//! hand-off or a round trip that dwarfs the query. A store keeps this index right two ways:
//! its own commits are applied here after COMMIT and before it answers anyone ([`SeatIndex::apply`]),
//! and every other writer's commits evict the showtimes they touched ([`SeatIndex::evict`]), to
//! be read again on the next miss. Who tells of those: for SQLite, the store's watcher thread
//! (`sqlite/watcher.rs`), which notices other connections' commits through `PRAGMA
//! data_version` and reads which showtimes they changed from the `seat_changes` log that every
//! booking batch writes in its own transaction; for PostgreSQL, its `LISTEN` connection. A reader that misses
//! loads the showtime from the database and may add it only if nothing was applied or evicted
//! since it started reading (the generation check), so a fill never overwrites a newer commit.
//!
//! Holds are kept as their rows are, ended or not, each seat with its expiry: a hold ends by the
//! clock, not by a write, so readers drop ended ones at their own `now` ([`ShowtimeSeats::at`])
//! and nothing here needs a timer.
//!
//! A `roll` archiving a started showtime is not seen here; that is harmless: the booking rules
//! refuse a started showtime by its start time whatever the flag says, and bookings themselves
//! are always decided in the database. A roll *retiring* a showtime that has not started (its
//! film or slot gone from the content) is seen: the rolling store evicts it at once and tells
//! every other reader through the change feed, so a retired showtime's seat map stops answering.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use hashbrown::HashTable;

use crate::booking::HeldSeat;
use crate::booking::record::ShowtimeSeats;
use crate::schedule::{Showtime, ShowtimeId};

/// What one committed command did to one seat of a showtime: taken (true) or freed (false).
/// A batch's changes are applied in commit order, so a seat freed and retaken in one batch
/// ends up taken.
pub(crate) type SeatChange = (String, String, bool);

/// What one committed command did to one seat's hold on a showtime: held until this moment
/// (`Some`), or its row deleted (`None`). A held seat has one row, so a later change replaces
/// an earlier one.
pub(crate) type HoldChange = (String, String, Option<DateTime<Utc>>);

/// Everything one commit did to seats, in commit order within each kind (bookings and holds
/// are kept apart, so their relative order does not matter).
#[derive(Debug, Default)]
pub(crate) struct SeatChanges {
    pub(crate) seats: Vec<SeatChange>,
    pub(crate) holds: Vec<HoldChange>,
}

impl SeatChanges {
    pub(crate) fn is_empty(&self) -> bool {
        self.seats.is_empty() && self.holds.is_empty()
    }

    pub(crate) fn append(&mut self, other: &mut SeatChanges) {
        self.seats.append(&mut other.seats);
        self.holds.append(&mut other.holds);
    }

    /// The showtimes changed, each once, sorted.
    pub(crate) fn showtimes(&self) -> Vec<&str> {
        let seats = self.seats.iter().map(|(showtime, _, _)| showtime.as_str());
        let holds = self.holds.iter().map(|(showtime, _, _)| showtime.as_str());
        let all: BTreeSet<&str> = seats.chain(holds).collect();
        all.into_iter().collect()
    }
}

/// How many parts the index is split into, each behind its own lock: a fill or a commit
/// locks only the parts its showtimes fall in, so readers of the others never wait.
const SHARDS: usize = 16;

/// The fewest entries a part sweeps at: below it, a sweep costs nothing worth saving.
const SWEEP_FLOOR: usize = 64;

/// The index: every showtime read since it was last forgotten, in [`SHARDS`] parts.
///
/// Entries are kept compact so that a catalog of 10,000 films (165,000 live showtimes) fits in
/// a few tens of bytes a showtime (issue 13): no key string (a showtime's id is
/// `<film>-<YYYYMMDD>-<HHMM>`, rebuilt from the entry, see [`Entry::is`]), the film's slug
/// interned once per film, and the seats stored only for showtimes that have any taken or held.
pub(crate) struct SeatIndex {
    /// Bumped by every commit that changed seats, while the parts it touched are locked.
    generation: AtomicU64,
    shards: Box<[RwLock<Shard>]>,
    /// Every film slug an entry names, once: entries hold its number.
    films: RwLock<Films>,
    hasher: RandomState,
}

impl Default for SeatIndex {
    fn default() -> Self {
        SeatIndex::with_capacity(0)
    }
}

impl SeatIndex {
    /// An index with room for `showtimes` entries (the live showtimes when it is made) before
    /// any part grows. A part's table grows by doubling, and the outgrown tables left holes in
    /// the heap that the service's memory kept after warming (issue 13); sized once, a part
    /// that fills to the horizon never grows. An eighth more than the average part, for the
    /// parts the hasher gives more than their share.
    pub(crate) fn with_capacity(showtimes: usize) -> Self {
        let part = showtimes.div_ceil(SHARDS);
        SeatIndex {
            generation: AtomicU64::new(0),
            shards: (0..SHARDS)
                .map(|_| RwLock::new(Shard { entries: HashTable::with_capacity(part + part / 8), swept_at_len: 0 }))
                .collect(),
            films: RwLock::default(),
            hasher: RandomState::new(),
        }
    }
}

#[derive(Default)]
struct Shard {
    entries: HashTable<Entry>,
    /// How many entries there were after showtimes long over were last dropped: the next
    /// sweep waits until the part has doubled (see [`SeatIndex::fill`]).
    swept_at_len: usize,
}

#[derive(Default)]
struct Films {
    slugs: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
}

/// One showtime: 48 bytes, plus [`Extra`] only when it has seats taken or held. Times are kept
/// as whole seconds (the database keeps no finer ones) and the end as the running time: 16 bytes
/// less than chrono's types, 4 MB at 10,000 films (issue 13).
struct Entry {
    /// The id's hash (by the index's hasher): compared first, and what the table re-hashes by.
    hash: u64,
    extra: Option<Box<Extra>>,
    /// Seconds since the epoch.
    starts_at: i64,
    film: u32,
    studio: u32,
    local_date: NaiveDate,
    /// Seconds since midnight.
    slot: u32,
    /// `ends_at - starts_at`, in seconds.
    runtime: u32,
    archived: bool,
}

/// What most showtimes do not have: seats taken or held, or an id or times not of the usual
/// form.
#[derive(Default)]
struct Extra {
    /// The whole showtime, when its id is not `<film>-<YYYYMMDD>-<HHMM>` or its times do not
    /// fit an [`Entry`] exactly (tests, hand-made rows): the entry's own fields then only serve
    /// the sweep.
    exact: Option<Showtime>,
    /// Sorted.
    taken: Vec<Box<str>>,
    /// Every hold row, ended or not, sorted by seat: seat id and expiry.
    held: Vec<(Box<str>, DateTime<Utc>)>,
}

impl Extra {
    fn is_empty(&self) -> bool {
        self.exact.is_none() && self.taken.is_empty() && self.held.is_empty()
    }
}

/// `-YYYYMMDD-HHMM`, the tail a showtime id has after its film's slug (see
/// [`crate::schedule::ShowtimeId::new`]); `None` for a year that does not take 4 digits.
fn id_tail(date: NaiveDate, slot: NaiveTime) -> Option<[u8; 14]> {
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let digits = [
        year / 1000,
        year / 100 % 10,
        year / 10 % 10,
        year % 10,
        date.month() / 10,
        date.month() % 10,
        date.day() / 10,
        date.day() % 10,
    ];
    let mut tail = [b'-'; 14];
    for (i, d) in digits.into_iter().enumerate() {
        tail[1 + i] = b'0' + d as u8;
    }
    let time = [slot.hour() / 10, slot.hour() % 10, slot.minute() / 10, slot.minute() % 10];
    for (i, d) in time.into_iter().enumerate() {
        tail[10 + i] = b'0' + d as u8;
    }
    Some(tail)
}

impl Entry {
    /// Whether this is showtime `id` (whose hash is `hash`), its film's slug being `slug`.
    fn is(&self, hash: u64, id: &str, slugs: &[Arc<str>]) -> bool {
        if self.hash != hash {
            return false;
        }
        if let Some(exact) = self.exact() {
            return exact.id.as_str() == id;
        }
        let slug = &slugs[self.film as usize];
        id.strip_prefix(&**slug)
            .is_some_and(|tail| id_tail(self.local_date, self.slot()).is_some_and(|t| tail.as_bytes() == t))
    }

    fn exact(&self) -> Option<&Showtime> {
        self.extra.as_ref().and_then(|e| e.exact.as_ref())
    }

    fn slot(&self) -> NaiveTime {
        NaiveTime::from_num_seconds_from_midnight_opt(self.slot, 0).unwrap_or_default()
    }

    /// When the showtime ends, in seconds since the epoch.
    fn ends_at(&self) -> i64 {
        self.starts_at + i64::from(self.runtime)
    }

    fn showtime(&self, id: &str, slugs: &[Arc<str>]) -> Showtime {
        if let Some(exact) = self.exact() {
            return exact.clone();
        }
        let at = |secs| DateTime::from_timestamp(secs, 0).unwrap_or_default();
        Showtime {
            id: ShowtimeId(id.to_string()),
            film_slug: slugs[self.film as usize].to_string(),
            studio: self.studio,
            local_date: self.local_date,
            slot: self.slot(),
            starts_at: at(self.starts_at),
            ends_at: at(self.ends_at()),
            archived: self.archived,
        }
    }

    fn seats(&self, id: &str, slugs: &[Arc<str>]) -> ShowtimeSeats {
        let extra = self.extra.as_deref();
        ShowtimeSeats {
            showtime: self.showtime(id, slugs),
            taken: extra.map(|e| e.taken.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            held: extra
                .map(|e| e.held.iter().map(|(seat, at)| HeldSeat { seat: seat.to_string(), expires_at: *at }).collect())
                .unwrap_or_default(),
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Drops the extra part once it holds nothing.
    fn tidy(&mut self) {
        if self.extra.as_deref().is_some_and(Extra::is_empty) {
            self.extra = None;
        }
    }

    fn take(&mut self, seat: String, taken: bool) {
        let seats = &mut self.extra().taken;
        match (seats.binary_search_by(|s| (**s).cmp(seat.as_str())), taken) {
            (Err(at), true) => seats.insert(at, seat.into_boxed_str()),
            (Ok(at), false) => {
                seats.remove(at);
            }
            _ => {}
        }
        self.tidy();
    }

    fn hold(&mut self, seat: String, until: Option<DateTime<Utc>>) {
        let held = &mut self.extra().held;
        match (held.binary_search_by(|(s, _)| (**s).cmp(seat.as_str())), until) {
            (Ok(at), Some(until)) => held[at].1 = until,
            (Err(at), Some(until)) => held.insert(at, (seat.into_boxed_str(), until)),
            (Ok(at), None) => {
                held.remove(at);
            }
            (Err(_), None) => {}
        }
        self.tidy();
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl SeatIndex {
    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    fn shard_of(hash: u64) -> usize {
        // The table itself uses the hash's low and top bits; the part takes bits in between.
        (hash >> 32) as usize % SHARDS
    }

    pub(crate) fn get(&self, id: &str) -> Option<ShowtimeSeats> {
        let hash = self.hash(id);
        let shard = read(&self.shards[Self::shard_of(hash)]);
        let films = read(&self.films);
        shard.entries.find(hash, |e| e.is(hash, id, &films.slugs)).map(|e| e.seats(id, &films.slugs))
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The number of film `slug`, numbering it if it is new.
    fn film(&self, slug: &str) -> u32 {
        if let Some(&n) = read(&self.films).numbers.get(slug) {
            return n;
        }
        let mut films = write(&self.films);
        if let Some(&n) = films.numbers.get(slug) {
            return n;
        }
        let n = u32::try_from(films.slugs.len()).expect("fewer than 4 billion films");
        let slug: Arc<str> = Arc::from(slug);
        films.slugs.push(slug.clone());
        films.numbers.insert(slug, n);
        n
    }

    /// Adds a showtime read from the database when the read began at `generation`, unless a
    /// commit has happened since (the read may then be older than the index).
    pub(crate) fn fill(&self, generation: u64, seats: &ShowtimeSeats) {
        let s = &seats.showtime;
        let id = s.id.as_str();
        let film = self.film(&s.film_slug);
        let derived = id_tail(s.local_date, s.slot)
            .is_some_and(|t| id.strip_prefix(s.film_slug.as_str()).is_some_and(|tail| tail.as_bytes() == t));
        let runtime = u32::try_from(s.ends_at.timestamp() - s.starts_at.timestamp());
        let whole = s.slot.nanosecond() == 0
            && s.starts_at.timestamp_subsec_nanos() == 0
            && s.ends_at.timestamp_subsec_nanos() == 0
            && runtime.is_ok();
        let mut extra = Extra { exact: (!(derived && whole)).then(|| s.clone()), taken: Vec::new(), held: Vec::new() };
        extra.taken = seats.taken.iter().map(|s| s.as_str().into()).collect();
        extra.taken.sort_unstable();
        extra.taken.dedup();
        extra.held = seats.held.iter().map(|h| (h.seat.as_str().into(), h.expires_at)).collect();
        extra.held.sort_by(|a, b| a.0.cmp(&b.0));
        let hash = self.hash(id);
        let entry = Entry {
            hash,
            extra: (!extra.is_empty()).then(|| Box::new(extra)),
            starts_at: s.starts_at.timestamp(),
            film,
            studio: s.studio,
            local_date: s.local_date,
            slot: s.slot.num_seconds_from_midnight(),
            runtime: runtime.unwrap_or(0),
            archived: s.archived,
        };
        let mut shard = write(&self.shards[Self::shard_of(hash)]);
        // Checked under the part's lock: a commit bumps the generation while holding the
        // locks of the parts it changes, so it is either seen here or applied after this fill.
        if self.generation() != generation {
            return;
        }
        // Entries for showtimes long over are dropped here, so the index stays the size of the
        // horizon on a service that runs for months. Only when the part has doubled since its
        // last sweep: a sweep visits every entry of the part under its lock, and sweeping on
        // every miss made warming a 165,000-showtime index quadratic (issue 13). Doubling
        // keeps the sweeps' cost linear in the fills overall.
        if shard.entries.len() >= (2 * shard.swept_at_len).max(SWEEP_FLOOR) {
            let stale = (Utc::now() - chrono::Duration::days(1)).timestamp();
            shard.entries.retain(|e| e.ends_at() > stale);
            shard.swept_at_len = shard.entries.len();
        }
        let films = read(&self.films);
        if shard.entries.find(hash, |e| e.is(hash, id, &films.slugs)).is_none() {
            shard.entries.insert_unique(hash, entry, |e| e.hash);
        }
    }

    /// Locks the parts the showtimes `ids` fall in, in order (so two commits never wait on
    /// each other), bumps the generation, then runs `change` on each showtime's entry, if any.
    fn change<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        mut change: impl FnMut(&mut HashTable<Entry>, u64, &str, &[Arc<str>]),
    ) {
        let ids: Vec<(u64, &str)> = ids.into_iter().map(|id| (self.hash(id), id)).collect();
        let mut touched = [false; SHARDS];
        for (hash, _) in &ids {
            touched[Self::shard_of(*hash)] = true;
        }
        let mut guards: Vec<Option<RwLockWriteGuard<'_, Shard>>> =
            touched.iter().zip(self.shards.iter()).map(|(t, s)| t.then(|| write(s))).collect();
        self.generation.fetch_add(1, Ordering::SeqCst);
        let films = read(&self.films);
        for (hash, id) in ids {
            if let Some(shard) = guards[Self::shard_of(hash)].as_mut() {
                change(&mut shard.entries, hash, id, &films.slugs);
            }
        }
    }

    /// Forgets these showtimes (another writer changed their seats); the next read reloads them.
    pub(crate) fn evict<'a>(&self, showtimes: impl IntoIterator<Item = &'a str>) {
        self.change(showtimes, |entries, hash, id, slugs| {
            if let Ok(entry) = entries.find_entry(hash, |e| e.is(hash, id, slugs)) {
                entry.remove();
            }
        });
    }

    /// Forgets everything (changes were missed).
    pub(crate) fn clear(&self) {
        let mut guards: Vec<_> = self.shards.iter().map(write).collect();
        self.generation.fetch_add(1, Ordering::SeqCst);
        for shard in &mut guards {
            **shard = Shard::default();
        }
    }

    /// Applies a committed batch's bookings and cancels. Called by the writer after COMMIT,
    /// before it answers.
    pub(crate) fn apply(&self, changes: Vec<SeatChange>) {
        self.apply_all(SeatChanges { seats: changes, holds: Vec::new() });
    }

    /// Applies a committed batch: bookings, cancels and holds. Called by the writer after
    /// COMMIT, before it answers.
    pub(crate) fn apply_all(&self, changes: SeatChanges) {
        if changes.is_empty() {
            return;
        }
        let ids: Vec<String> = changes.showtimes().into_iter().map(str::to_string).collect();
        // Each showtime's changes, in commit order within each kind (the kinds are independent).
        type Changes = (Vec<(String, bool)>, Vec<(String, Option<DateTime<Utc>>)>);
        let mut by_showtime: HashMap<String, Changes> = HashMap::new();
        for (showtime, seat, taken) in changes.seats {
            by_showtime.entry(showtime).or_default().0.push((seat, taken));
        }
        for (showtime, seat, until) in changes.holds {
            by_showtime.entry(showtime).or_default().1.push((seat, until));
        }
        self.change(ids.iter().map(String::as_str), |entries, hash, id, slugs| {
            let Some((taken, held)) = by_showtime.remove(id) else { return };
            if let Some(entry) = entries.find_mut(hash, |e| e.is(hash, id, slugs)) {
                for (seat, taken) in taken {
                    entry.take(seat, taken);
                }
                for (seat, until) in held {
                    entry.hold(seat, until);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn seats(taken: &[&str]) -> ShowtimeSeats {
        let starts = Utc.with_ymd_and_hms(2999, 1, 1, 10, 0, 0).unwrap();
        ShowtimeSeats {
            showtime: Showtime::for_test("s", starts),
            taken: taken.iter().map(|s| s.to_string()).collect(),
            held: Vec::new(),
        }
    }

    fn show(id: &str, starts: DateTime<Utc>) -> ShowtimeSeats {
        ShowtimeSeats { showtime: Showtime::for_test(id, starts), taken: Vec::new(), held: Vec::new() }
    }

    fn len(index: &SeatIndex) -> usize {
        index.shards.iter().map(|s| s.read().unwrap().entries.len()).sum()
    }

    #[test]
    fn showtimes_long_over_are_swept_when_a_part_doubles_not_on_every_fill() {
        let index = SeatIndex::default();
        let over = Utc::now() - chrono::Duration::days(30);
        let ahead = Utc::now() + chrono::Duration::days(1);
        // As many old ones as the floor, in all: however the hasher spreads them, no part
        // holds the floor before its last fill, so none may be swept yet.
        let old = SWEEP_FLOOR;
        for i in 0..old {
            index.fill(index.generation(), &show(&format!("old-{i}"), over));
        }
        assert_eq!(len(&index), old, "no sweep before a part reaches the floor");
        // Sixteen times the floor a part on average: every part passes the floor, whatever the
        // spread, so every part sweeps at least once after its old ones went in.
        let live = SWEEP_FLOOR * SHARDS * 16;
        for i in 0..live {
            index.fill(index.generation(), &show(&format!("live-{i}"), ahead));
        }
        assert_eq!(len(&index), live, "the old ones swept, the live ones never");
        for shard in index.shards.iter() {
            let shard = shard.read().unwrap();
            assert!(shard.swept_at_len < shard.entries.len(), "the last sweep was not at every fill");
        }
    }

    #[test]
    fn an_entry_is_48_bytes_and_a_usual_id_is_not_stored_but_rebuilt() {
        assert!(std::mem::size_of::<Entry>() <= 48, "{} bytes", std::mem::size_of::<Entry>());
        let index = SeatIndex::default();
        let starts = Utc.with_ymd_and_hms(2999, 1, 2, 3, 4, 0).unwrap();
        let mut usual = show("x", starts).showtime;
        usual.film_slug = "blade-runner-2049".into();
        usual.id = ShowtimeId::new(&usual.film_slug, usual.local_date, usual.slot);
        let seats = ShowtimeSeats { showtime: usual.clone(), taken: Vec::new(), held: Vec::new() };
        index.fill(index.generation(), &seats);
        let odd = show("not-of-the-usual-form", starts);
        index.fill(index.generation(), &odd);
        assert_eq!(index.get(usual.id.as_str()), Some(seats), "rebuilt as read");
        assert_eq!(index.get(odd.showtime.id.as_str()), Some(odd.clone()));
        let entry_of = |id: &str| {
            let hash = index.hash(id);
            let shard = index.shards[SeatIndex::shard_of(hash)].read().unwrap();
            let films = index.films.read().unwrap();
            shard.entries.find(hash, |e| e.is(hash, id, &films.slugs)).map(|e| e.extra.is_some())
        };
        assert_eq!(entry_of(usual.id.as_str()), Some(false), "no extra part for a usual showtime with no seats");
        assert_eq!(entry_of(odd.showtime.id.as_str()), Some(true), "an unusual id is kept");
        // A usual id with times finer than seconds: kept whole, not rounded.
        let mut fine = usual.clone();
        fine.slot += chrono::Duration::minutes(30);
        fine.id = ShowtimeId::new(&fine.film_slug, fine.local_date, fine.slot);
        fine.starts_at += chrono::Duration::milliseconds(5);
        let fine = ShowtimeSeats { showtime: fine, taken: Vec::new(), held: Vec::new() };
        index.fill(index.generation(), &fine);
        assert_eq!(index.get(fine.showtime.id.as_str()), Some(fine.clone()), "times kept exactly");
        assert_eq!(entry_of(fine.showtime.id.as_str()), Some(true));
        assert_eq!(index.get("blade-runner-2049-29990102-0305"), None, "another slot");
        assert_eq!(index.get("blade-runner-2049-29990103-0304"), None, "another day");
        assert_eq!(index.get("blade-runner-204-29990102-0304"), None, "another film");
        // Booked and then freed again, the extra part goes.
        index.apply(vec![(usual.id.0.clone(), "A1".into(), true)]);
        assert_eq!(index.get(usual.id.as_str()).unwrap().taken, ["A1"]);
        assert_eq!(entry_of(usual.id.as_str()), Some(true));
        index.apply(vec![(usual.id.0.clone(), "A1".into(), false)]);
        assert_eq!(entry_of(usual.id.as_str()), Some(false));
    }

    #[test]
    fn a_fill_older_than_a_commit_is_dropped_and_commits_apply_in_order() {
        let index = SeatIndex::default();
        let before = index.generation();
        index.apply(vec![("s".into(), "A1".into(), true)]);
        index.fill(before, &seats(&[]));
        assert!(index.get("s").is_none(), "the read may predate the commit");
        index.fill(index.generation(), &seats(&["A1"]));
        index.apply(vec![
            ("s".into(), "A1".into(), false),
            ("s".into(), "A1".into(), true),
            ("s".into(), "A2".into(), true),
            ("s".into(), "A2".into(), false),
        ]);
        assert_eq!(index.get("s").unwrap().taken, ["A1"]);
        let before = index.generation();
        index.evict(["s"]);
        assert!(index.get("s").is_none(), "evicted");
        index.fill(before, &seats(&["A1", "A2"]));
        assert!(index.get("s").is_none(), "a read from before the eviction may be stale");
    }

    #[test]
    fn holds_are_filled_and_applied_by_seat_and_kept_until_deleted() {
        let index = SeatIndex::default();
        let (early, late) =
            (Utc.with_ymd_and_hms(2999, 1, 1, 9, 0, 0).unwrap(), Utc.with_ymd_and_hms(2999, 1, 1, 9, 10, 0).unwrap());
        let mut filled = seats(&["A1"]);
        filled.held = vec![HeldSeat { seat: "B2".into(), expires_at: early }];
        index.fill(index.generation(), &filled);
        assert_eq!(index.get("s").unwrap(), filled, "as read");
        let hold = |seat: &str, until| ("s".to_string(), seat.to_string(), until);
        let before = index.generation();
        index.apply_all(SeatChanges {
            seats: vec![("s".into(), "C3".into(), true)],
            holds: vec![
                hold("B1", Some(late)),
                hold("B2", None),
                hold("B3", Some(late)),
                hold("B2", Some(late)),
                hold("B3", None),
            ],
        });
        assert!(index.generation() > before, "a hold is a commit a fill must not overwrite");
        let got = index.get("s").unwrap();
        assert_eq!(got.taken, ["A1", "C3"]);
        let held: Vec<_> = got.held.iter().map(|h| (h.seat.as_str(), h.expires_at)).collect();
        assert_eq!(held, [("B1", late), ("B2", late)], "by seat id, the last change of each seat wins");
        assert_eq!(got.clone().at(late).held, [], "ended holds stay in the index; readers drop them");
    }
}
