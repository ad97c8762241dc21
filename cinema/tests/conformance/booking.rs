//! The booking rules, as every store must keep them.

use cinema::booking::{CancelOutcome, ManageToken, PlaceOutcome};
use cinema::schedule::{Showtime, ShowtimeId};
use cinema::store::{ShowtimePage, ShowtimePosition, Store};

use super::support::{Env, at, now, other_show, placed, request, show, taken};

pub async fn books_free_seats(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["A2", "A1"]);
    let record = placed(store.place(r.booking.clone()).await.unwrap());
    assert_eq!(record.reference, r.booking.reference);
    assert_eq!(record.showtime.id, show());
    assert_eq!(record.seats, ["A2", "A1"], "in the order requested");
    assert_eq!((record.name.as_str(), record.email.as_deref()), ("Ana Lima", Some("ana@example.com")));
    assert_eq!(record.token_hash, r.token.hash());
    assert_eq!(record.created_at, now());
    assert_eq!(record.cancelled_at, None);
    assert_eq!(taken(store, &show()).await, ["A1", "A2"]);
    assert!(taken(store, &other_show()).await.is_empty(), "another showtime's seats are its own");
    let read = store.booking(r.booking.reference.clone(), r.token.clone()).await.unwrap();
    assert_eq!(read, Some(record), "read back as placed");
}

pub async fn one_taken_seat_refuses_the_whole_request_and_writes_nothing(env: &Env) {
    let store = env.store();
    placed(store.place(request(&show(), &["A1", "A2"]).booking).await.unwrap());
    let refused = request(&show(), &["A3", "A2", "A4", "A1"]);
    match store.place(refused.booking.clone()).await.unwrap() {
        PlaceOutcome::SeatsTaken(seats) => assert_eq!(seats, ["A2", "A1"], "the taken ones, in request order"),
        other => panic!("expected SeatsTaken, got {other:?}"),
    }
    assert_eq!(taken(store, &show()).await, ["A1", "A2"], "A3 and A4 were not booked");
    assert_eq!(store.booking(refused.booking.reference.clone(), refused.token.clone()).await.unwrap(), None);
    let counts = store.live_showtimes_taken(now()).await.unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 2);
    // Nothing of the refused request was kept: its seats and its reference are free.
    let mut again = request(&show(), &["A3", "A4"]);
    again.booking.reference = refused.booking.reference;
    placed(store.place(again.booking).await.unwrap());
}

pub async fn an_unknown_showtime_is_not_found(env: &Env) {
    let store = env.store();
    for id in ["film-1-20300301-1100", "film-9-20300301-1000", ""] {
        let outcome = store.place(request(&ShowtimeId(id.into()), &["A1"]).booking).await.unwrap();
        assert!(matches!(outcome, PlaceOutcome::ShowtimeNotFound), "{id:?}: {outcome:?}");
        assert_eq!(store.showtime_seats(ShowtimeId(id.into())).await.unwrap(), None);
    }
}

pub async fn a_started_showtime_is_closed(env: &Env) {
    let store = env.store();
    let kept = request(&show(), &["B1"]);
    placed(store.place(kept.booking.clone()).await.unwrap());
    for moment in ["2030-03-01T10:00:00+07:00", "2030-03-01T10:00:01+07:00", "2030-03-02T00:00:00+07:00"] {
        let mut late = request(&show(), &["B2"]);
        late.booking.now = at(moment);
        let outcome = store.place(late.booking).await.unwrap();
        assert!(matches!(outcome, PlaceOutcome::ShowtimeClosed), "booking at {moment}: {outcome:?}");
        let outcome = store.cancel(kept.booking.reference.clone(), kept.token.clone(), at(moment)).await.unwrap();
        assert!(matches!(outcome, CancelOutcome::ShowtimeClosed), "cancelling at {moment}: {outcome:?}");
    }
    assert_eq!(taken(store, &show()).await, ["B1"], "the booking stands");
}

pub async fn an_archived_showtime_is_closed(env: &Env) {
    let store = env.store();
    let kept = request(&show(), &["B1"]);
    placed(store.place(kept.booking.clone()).await.unwrap());
    let later = at("2030-03-01T12:30:00+07:00");
    store.roll(env.plan(later), later).await.unwrap();
    assert!(store.showtime(show()).await.unwrap().unwrap().archived);
    // Even asked with a moment before its start (a client's clock, a replayed request), an
    // archived showtime takes no bookings and no cancels.
    let outcome = store.place(request(&show(), &["B2"]).booking).await.unwrap();
    assert!(matches!(outcome, PlaceOutcome::ShowtimeClosed), "{outcome:?}");
    let outcome = store.cancel(kept.booking.reference.clone(), kept.token.clone(), now()).await.unwrap();
    assert!(matches!(outcome, CancelOutcome::ShowtimeClosed), "{outcome:?}");
    assert_eq!(taken(store, &show()).await, ["B1"]);
}

fn cancelled(outcome: CancelOutcome) -> cinema::booking::BookingRecord {
    match outcome {
        CancelOutcome::Cancelled(record) => *record,
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

pub async fn cancel_frees_the_seats_at_once(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["B1", "B2"]);
    placed(store.place(r.booking.clone()).await.unwrap());
    assert_eq!(taken(store, &show()).await, ["B1", "B2"], "read (and cached) before the cancel");
    let record = cancelled(store.cancel(r.booking.reference.clone(), r.token.clone(), now()).await.unwrap());
    assert_eq!(record.cancelled_at, Some(now()));
    assert_eq!(record.seats, ["B1", "B2"]);
    assert!(taken(store, &show()).await.is_empty(), "free as soon as the cancel answered");
    let fresh = env.open_another().await;
    assert!(taken(&*fresh, &show()).await.is_empty(), "free in the database, not only in a cache");
    fresh.close().await.unwrap();
    let read = store.booking(r.booking.reference.clone(), r.token.clone()).await.unwrap().unwrap();
    assert_eq!(read.cancelled_at, Some(now()), "the owner still reads it, as cancelled");
}

pub async fn cancel_then_rebook(env: &Env) {
    let store = env.store();
    let first = request(&show(), &["B1", "B2"]);
    placed(store.place(first.booking.clone()).await.unwrap());
    cancelled(store.cancel(first.booking.reference.clone(), first.token.clone(), now()).await.unwrap());
    let second = placed(store.place(request(&show(), &["B2", "B3"]).booking).await.unwrap());
    assert_ne!(second.reference, first.booking.reference);
    assert_eq!(taken(store, &show()).await, ["B2", "B3"]);
}

pub async fn cancelling_twice_is_no_error_and_never_frees_seats_taken_since(env: &Env) {
    let store = env.store();
    let first = request(&show(), &["B1", "B2"]);
    placed(store.place(first.booking.clone()).await.unwrap());
    let once = cancelled(store.cancel(first.booking.reference.clone(), first.token.clone(), now()).await.unwrap());
    placed(store.place(request(&show(), &["B1"]).booking).await.unwrap());
    let later = at("2030-03-01T01:00:00+07:00");
    let twice = cancelled(store.cancel(first.booking.reference.clone(), first.token.clone(), later).await.unwrap());
    assert_eq!(twice.cancelled_at, once.cancelled_at, "the first cancel's moment stands");
    assert_eq!(taken(store, &show()).await, ["B1"], "B1, re-taken since, stays taken");
    let counts = store.live_showtimes_taken(now()).await.unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 1);
}

pub async fn a_wrong_token_and_an_unknown_reference_answer_alike(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["A1"]);
    placed(store.place(r.booking.clone()).await.unwrap());
    let wrong = ManageToken::generate(&mut rand::rng());
    let unknown = request(&show(), &["A2"]).booking.reference;
    for (reference, token) in [(r.booking.reference.clone(), wrong.clone()), (unknown.clone(), r.token.clone())] {
        assert_eq!(store.booking(reference.clone(), token.clone()).await.unwrap(), None, "{reference:?}");
        let outcome = store.cancel(reference.clone(), token, now()).await.unwrap();
        assert!(matches!(outcome, CancelOutcome::NotFound), "{reference:?}: {outcome:?}");
    }
    assert_eq!(taken(store, &show()).await, ["A1"], "a wrong token cancels nothing");
    assert!(store.booking(r.booking.reference, r.token).await.unwrap().is_some());
}

pub async fn the_same_key_and_request_replay_the_booking(env: &Env) {
    let store = env.store();
    let first = request(&show(), &["A5"]).with_key(1, 1);
    let record = placed(store.place(first.booking.clone()).await.unwrap());
    // A retry is a new request as far as the desk knows: a new reference and token.
    let retry = request(&show(), &["A5"]).with_key(1, 1);
    match store.place(retry.booking).await.unwrap() {
        PlaceOutcome::Replayed { booking, sealed_token } => {
            assert_eq!(booking, record, "the original booking");
            assert_eq!(sealed_token.0, first.token.to_bytes(), "the original token, sealed as stored");
        }
        other => panic!("expected Replayed, got {other:?}"),
    }
    let counts = store.live_showtimes_taken(now()).await.unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 1, "no second booking");
    // Replayed even once its seats were freed: the key names that booking, not seats.
    cancelled(store.cancel(first.booking.reference.clone(), first.token.clone(), now()).await.unwrap());
    let late = request(&show(), &["A5"]).with_key(1, 1);
    match store.place(late.booking).await.unwrap() {
        PlaceOutcome::Replayed { booking, .. } => assert_eq!(booking.cancelled_at, Some(now())),
        other => panic!("expected Replayed, got {other:?}"),
    }
    assert!(taken(store, &show()).await.is_empty());
}

pub async fn the_same_key_for_another_request_is_refused(env: &Env) {
    let store = env.store();
    placed(store.place(request(&show(), &["A5"]).with_key(2, 1).booking).await.unwrap());
    let other = request(&show(), &["A6"]).with_key(2, 9);
    let outcome = store.place(other.booking.clone()).await.unwrap();
    assert!(matches!(outcome, PlaceOutcome::KeyReused), "{outcome:?}");
    assert_eq!(taken(store, &show()).await, ["A5"], "A6 was not booked");
    assert_eq!(store.booking(other.booking.reference, other.token).await.unwrap(), None);
    // Another key is another request.
    placed(store.place(request(&show(), &["A6"]).with_key(3, 9).booking).await.unwrap());
}

pub async fn the_same_key_at_once_books_once(env: &Env) {
    const AT_ONCE: usize = 16;
    let tasks: Vec<_> = (0..AT_ONCE)
        .map(|_| {
            let store = env.shared();
            let r = request(&show(), &["B7", "B8"]).with_key(4, 4);
            tokio::spawn(async move { store.place(r.booking).await.unwrap() })
        })
        .collect();
    let mut placed_refs = Vec::new();
    let mut replayed_refs = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            PlaceOutcome::Placed(record) => placed_refs.push(record.reference),
            PlaceOutcome::Replayed { booking, .. } => replayed_refs.push(booking.reference),
            other => panic!("expected Placed or Replayed, got {other:?}"),
        }
    }
    assert_eq!(placed_refs.len(), 1, "exactly one booking");
    assert!(replayed_refs.iter().all(|r| *r == placed_refs[0]), "every other answer is that booking");
    assert_eq!(taken(env.store(), &show()).await, ["B7", "B8"]);
}

pub async fn a_reference_in_use_is_refused(env: &Env) {
    let store = env.store();
    let first = request(&show(), &["A1"]);
    placed(store.place(first.booking.clone()).await.unwrap());
    let mut clash = request(&other_show(), &["A2"]).with_key(5, 5);
    clash.booking.reference = first.booking.reference.clone();
    let outcome = store.place(clash.booking.clone()).await.unwrap();
    assert!(matches!(outcome, PlaceOutcome::ReferenceTaken), "{outcome:?}");
    assert!(taken(store, &other_show()).await.is_empty(), "nothing of it was kept");
    // Nor its idempotency key: the desk retries under a new reference with the same key.
    let retry = request(&other_show(), &["A2"]).with_key(5, 5);
    placed(store.place(retry.booking).await.unwrap());
    let owner = store.booking(first.booking.reference, first.token).await.unwrap().unwrap();
    assert_eq!((owner.showtime.id, owner.seats), (show(), vec!["A1".to_string()]), "the first booking is untouched");
}

pub async fn live_showtimes_taken_counts_active_seats(env: &Env) {
    let store = env.store();
    placed(store.place(request(&show(), &["A1", "A2", "A3"]).booking).await.unwrap());
    let gone = request(&show(), &["B1"]);
    placed(store.place(gone.booking.clone()).await.unwrap());
    cancelled(store.cancel(gone.booking.reference, gone.token, now()).await.unwrap());
    placed(store.place(request(&other_show(), &["A1"]).booking).await.unwrap());
    let counts = store.live_showtimes_taken(now()).await.unwrap();
    let live = store.live_showtimes(now()).await.unwrap();
    assert_eq!(counts.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), live, "the live showtimes, in order");
    let count = |id: &ShowtimeId| counts.iter().find(|(s, _)| s.id == *id).map(|(_, n)| *n);
    assert_eq!(count(&show()), Some(3), "the cancelled seat is not counted");
    assert_eq!(count(&other_show()), Some(1));
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 4);
    // A started showtime is no longer live, and neither is its count.
    let later = at("2030-03-01T10:00:00+07:00");
    assert_eq!(store.live_showtimes_taken(later).await.unwrap().iter().find(|(s, _)| s.id == show()), None);
}

/// Walks every page of `query` (at `limit` a page) and answers the showtimes and counts read.
async fn walk_pages(store: &dyn Store, query: ShowtimePage) -> Vec<(Showtime, usize)> {
    let mut read = Vec::new();
    let mut page = query;
    let bound = if page.started_too {
        let (from, to) = page.starting.expect("a walk of started showtimes too names its span");
        store.showtimes_between(from, to).await.unwrap().len()
    } else {
        store.live_showtimes(page.now).await.unwrap().len()
    };
    for _ in 0..=bound {
        let got = store.live_showtimes_page(page.clone()).await.unwrap();
        assert!(got.len() <= page.limit, "a page holds at most its limit");
        let Some((last, _)) = got.last() else { return read };
        page.after = Some(ShowtimePosition::of(last));
        let full = got.len() == page.limit;
        read.extend(got);
        if !full {
            return read;
        }
    }
    panic!("more pages than live showtimes: a page does not resume after the one before");
}

pub async fn pages_of_live_showtimes_walk_each_once_in_order_and_filter(env: &Env) {
    let store = env.store();
    placed(store.place(request(&show(), &["A1", "A2"]).booking).await.unwrap());
    let mut all = store.live_showtimes_taken(now()).await.unwrap();
    all.sort_by(|(a, _), (b, _)| (a.starts_at, a.id.as_str()).cmp(&(b.starts_at, b.id.as_str())));
    assert!(all.windows(2).any(|w| w[0].0.starts_at == w[1].0.starts_at), "the plan has ties: the id breaks them");
    let everything =
        ShowtimePage { now: now(), film: None, starting: None, after: None, limit: 1000, started_too: false };
    for limit in [1, 2, 5, all.len(), all.len() + 1] {
        let walked = walk_pages(store, ShowtimePage { limit, ..everything.clone() }).await;
        assert_eq!(walked, all, "limit {limit}: every live showtime once, by start then id, with its count");
    }
    let film = ShowtimePage { film: Some("film-1".into()), ..everything.clone() };
    let walked = walk_pages(store, ShowtimePage { limit: 2, ..film.clone() }).await;
    let expected: Vec<_> = all.iter().filter(|(s, _)| film.selects(s)).cloned().collect();
    assert!(!expected.is_empty() && expected.len() < all.len());
    assert_eq!(walked, expected, "one film's");
    for slug in ["film", "film-", "film-1-2030", "nope", ""] {
        let page = ShowtimePage { film: Some(slug.into()), ..everything.clone() };
        assert!(store.live_showtimes_page(page).await.unwrap().is_empty(), "{slug:?}: no film of this slug");
    }
    let first = &all[0].0;
    let day =
        ShowtimePage { starting: Some((first.starts_at, first.starts_at + chrono::TimeDelta::hours(6))), ..everything };
    let expected: Vec<_> = all.iter().filter(|(s, _)| day.selects(s)).cloned().collect();
    assert!(!expected.is_empty() && expected.len() < all.len());
    assert_eq!(walk_pages(store, ShowtimePage { limit: 3, ..day }).await, expected, "a span's");
}

/// The door's day: with `started_too`, a span's showtimes walk once in order whether they are
/// live, started or archived by a later roll, each with its count; a film's too.
pub async fn pages_of_a_days_showtimes_list_started_and_archived_ones_too(env: &Env) {
    let store = env.store();
    placed(store.place(request(&show(), &["A1", "A2"]).booking).await.unwrap());
    let later = at("2030-03-01T12:30:00+07:00");
    store.roll(env.plan(later), later).await.unwrap();
    let (from, to) = (now(), at("2030-03-02T00:00:00+07:00"));
    let mut day = store.showtimes_between(from, to).await.unwrap();
    day.sort_by(|a, b| (a.starts_at, a.id.as_str()).cmp(&(b.starts_at, b.id.as_str())));
    assert!(day.iter().any(|s| s.archived) && day.iter().any(|s| !s.archived), "the roll archived the morning");
    let query = ShowtimePage {
        now: later,
        film: None,
        starting: Some((from, to)),
        after: None,
        limit: 1000,
        started_too: true,
    };
    for limit in [1, 3, day.len(), day.len() + 1] {
        let walked = walk_pages(store, ShowtimePage { limit, ..query.clone() }).await;
        assert_eq!(walked.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), day, "limit {limit}");
        let taken: Vec<_> = walked.iter().filter(|(_, n)| *n > 0).map(|(s, n)| (s.id.clone(), *n)).collect();
        assert_eq!(taken, [(show(), 2)], "the archived showtime keeps its count");
        assert!(walked.iter().all(|(s, _)| query.selects(s)));
    }
    let film = ShowtimePage { film: Some("film-1".into()), limit: 2, ..query.clone() };
    let expected: Vec<_> = day.iter().filter(|s| s.film_slug == "film-1").cloned().collect();
    assert!(!expected.is_empty() && expected.len() < day.len());
    let walked = walk_pages(store, film).await;
    assert_eq!(walked.into_iter().map(|(s, _)| s).collect::<Vec<_>>(), expected, "one film's");
    // Without `started_too`, the same span at `later` holds only what is still live.
    let live = walk_pages(store, ShowtimePage { started_too: false, ..query }).await;
    assert!(live.iter().all(|(s, _)| !s.archived && s.starts_at > later) && live.len() < day.len());
}
