//! Seat holds, as every store must keep them: across store instances on one database (two
//! service instances), with expiry decided by the `now` each request carries, never by sleeping.

use chrono::{DateTime, Duration, Utc};
use cinema::booking::{Hold, HoldOutcome, HoldToken, MAX_HELD_SEATS, NewHold, PlaceOutcome, ReleaseHold};
use cinema::schedule::ShowtimeId;
use cinema::store::Store;
use cinema::store::changes::{Received, SeatsChanged};

use super::support::{Env, at, next_change, now, other_show, placed, request, show, taken};

/// How long a hold made here lasts: ten minutes and some milliseconds, so a store that keeps
/// expiries in whole seconds answers a different moment and fails.
fn hold_for() -> Duration {
    Duration::milliseconds(600_123)
}

fn token() -> HoldToken {
    HoldToken::generate(&mut rand::rng())
}

fn ids(seats: &[&str]) -> Vec<String> {
    seats.iter().map(|s| s.to_string()).collect()
}

/// Asks `store` to add `seats` to `token`'s hold on `showtime` at `when`.
async fn hold_at(
    store: &dyn Store,
    showtime: &ShowtimeId,
    token: &HoldToken,
    seats: &[&str],
    when: DateTime<Utc>,
) -> HoldOutcome {
    let new = NewHold {
        showtime: showtime.clone(),
        token_hash: token.hash(),
        seats: ids(seats),
        now: when,
        expires_at: when + hold_for(),
    };
    store.hold(new).await.unwrap()
}

async fn hold(store: &dyn Store, token: &HoldToken, seats: &[&str]) -> HoldOutcome {
    hold_at(store, &show(), token, seats, now()).await
}

async fn release(store: &dyn Store, token: &HoldToken, seats: Option<&[&str]>) -> HoldOutcome {
    let release = ReleaseHold { showtime: show(), token_hash: token.hash(), seats: seats.map(ids), now: now() };
    store.release(release).await.unwrap()
}

/// The hold when the answer must be `Held`.
fn held(outcome: HoldOutcome) -> Hold {
    match outcome {
        HoldOutcome::Held(hold) => hold,
        other => panic!("expected Held, got {other:?}"),
    }
}

/// A hold of `seats` that ends at `expires_at`.
fn holding(seats: &[&str], expires_at: DateTime<Utc>) -> Hold {
    Hold { seats: ids(seats), expires_at: Some(expires_at) }
}

/// The seats of `show()` held by anyone at `when`, as `store` answers them.
async fn held_seats(store: &dyn Store, when: DateTime<Utc>) -> Vec<String> {
    let seats = store.showtime_seats(show()).await.unwrap().expect("the showtime exists");
    seats.at(when).held.into_iter().map(|h| h.seat).collect()
}

/// A booking of `seats` under `hold_token` (none: a booking without a hold, as an API client makes).
async fn book(store: &dyn Store, seats: &[&str], hold_token: Option<&HoldToken>, when: DateTime<Utc>) -> PlaceOutcome {
    let mut r = request(&show(), seats);
    r.booking.hold = hold_token.map(HoldToken::hash);
    r.booking.now = when;
    store.place(r.booking).await.unwrap()
}

pub async fn the_first_to_hold_a_seat_wins(env: &Env) {
    let (a, b) = (env.store(), env.open_another().await);
    let (first, second) = (token(), token());
    let expiry = now() + hold_for();
    let first_hold = held(hold(a, &first, &["A2", "A1"]).await);
    assert_eq!(first_hold, holding(&["A1", "A2"], expiry), "held at one moment: by seat id");
    assert_eq!(hold(&*b, &second, &["A3", "A2", "A1"]).await, HoldOutcome::SeatsHeld(ids(&["A2", "A1"])));
    assert_eq!(held_seats(&*b, now()).await, ["A1", "A2"], "the refused request held nothing: A3 is free");
    assert_eq!(held(hold(&*b, &second, &["A3"]).await), holding(&["A3"], expiry));
    assert_eq!(held_seats(a, now()).await, ["A1", "A2", "A3"], "by seat id, whoever holds them");
    placed(a.place(request(&show(), &["B1"]).booking).await.unwrap());
    assert_eq!(hold(&*b, &second, &["B2", "B1"]).await, HoldOutcome::SeatsTaken(ids(&["B1"])), "a booked seat");
    assert_eq!(hold(&*b, &first, &["A1", "A3"]).await, HoldOutcome::SeatsHeld(ids(&["A3"])), "whichever store asks");
    assert!(taken(a, &show()).await == ["B1"], "holds are not bookings");
    b.close().await.unwrap();
}

pub async fn a_held_seat_is_booked_only_with_its_token(env: &Env) {
    let (a, b) = (env.store(), env.open_another().await);
    let (holder, other) = (token(), token());
    held(hold(a, &holder, &["A1", "A2"]).await);
    held(hold(a, &other, &["A7"]).await);
    let refused = book(&*b, &["A3", "A2", "A1"], Some(&other), now()).await;
    assert!(matches!(&refused, PlaceOutcome::SeatsHeld(s) if *s == ["A2", "A1"]), "another token: {refused:?}");
    let refused = book(&*b, &["A1", "A4"], None, now()).await;
    assert!(matches!(&refused, PlaceOutcome::SeatsHeld(s) if *s == ["A1"]), "no token: {refused:?}");
    let refused = book(&*b, &["A7"], None, now()).await;
    assert!(matches!(&refused, PlaceOutcome::SeatsHeld(s) if *s == ["A7"]), "no token, any holder: {refused:?}");
    assert!(taken(a, &show()).await.is_empty(), "refused bookings wrote nothing");
    placed(book(&*b, &["A4"], None, now()).await);
    let refused = book(&*b, &["A1", "A4"], Some(&other), now()).await;
    assert!(matches!(&refused, PlaceOutcome::SeatsTaken(s) if *s == ["A4"]), "booked wins over held: {refused:?}");
    assert_eq!(held_seats(&*b, now()).await, ["A1", "A2", "A7"], "the holds stand");
    b.close().await.unwrap();
}

pub async fn the_holders_booking_takes_its_seats_and_ends_its_whole_hold(env: &Env) {
    let (a, b) = (env.store(), env.open_another().await);
    let holder = token();
    held(hold(a, &holder, &["A1", "A2", "A3"]).await);
    held(hold_at(a, &other_show(), &holder, &["A1"], now()).await);
    let booking = placed(book(&*b, &["A2", "A1", "A5"], Some(&holder), now()).await);
    assert_eq!(booking.seats, ["A2", "A1", "A5"], "its held seats and a free one");
    for store in [a, &*b] {
        assert_eq!(taken(store, &show()).await, ["A1", "A2", "A5"]);
        assert!(held_seats(store, now()).await.is_empty(), "A3, held but not booked, is free again");
    }
    assert_eq!(held(hold(a, &holder, &[]).await), Hold::default(), "the token holds nothing here now");
    let elsewhere = held(hold_at(&*b, &other_show(), &holder, &[], now()).await);
    assert_eq!(elsewhere.seats, ["A1"], "its hold on another showtime stands");
    placed(book(a, &["A3"], None, now()).await);
    b.close().await.unwrap();
}

pub async fn a_hold_ends_at_its_expiry(env: &Env) {
    let (a, b) = (env.store(), env.open_another().await);
    let (first, second) = (token(), token());
    let ends = now() + hold_for();
    assert_eq!(held(hold(a, &first, &["A1", "A2"]).await).expires_at, Some(ends));
    let just_before = ends - Duration::milliseconds(1);
    assert_eq!(held(hold_at(a, &show(), &first, &["A3"], just_before).await), holding(&["A1", "A2", "A3"], ends));
    assert_eq!(
        hold_at(&*b, &show(), &second, &["A1"], just_before).await,
        HoldOutcome::SeatsHeld(ids(&["A1"])),
        "held until its last millisecond"
    );
    let refused = book(&*b, &["A2"], None, just_before).await;
    assert!(matches!(refused, PlaceOutcome::SeatsHeld(_)), "{refused:?}");
    assert_eq!(held_seats(&*b, just_before).await, ["A1", "A2", "A3"]);
    assert!(held_seats(&*b, ends).await.is_empty(), "over at its expiry");
    // At its expiry the seats are free to anyone, with nothing deleted in between.
    placed(book(&*b, &["A2"], None, ends).await);
    let taken_over = held(hold_at(&*b, &show(), &second, &["A1"], ends).await);
    assert_eq!(taken_over, holding(&["A1"], ends + hold_for()), "a fresh hold of its own");
    let back = held(hold_at(a, &show(), &first, &[], ends).await);
    assert_eq!(back, Hold::default(), "the ended hold holds nothing, not even A3");
    let again = held(hold_at(a, &show(), &first, &["A3"], ends).await);
    assert_eq!(again, holding(&["A3"], ends + hold_for()), "holding again starts a new expiry");
    assert_eq!(held_seats(a, ends).await, ["A1", "A3"]);
    b.close().await.unwrap();
}

pub async fn releasing_some_seats_keeps_the_rest_and_releasing_all_ends_the_hold(env: &Env) {
    let (a, b) = (env.store(), env.open_another().await);
    let (holder, other) = (token(), token());
    let ends = now() + hold_for();
    held(hold(a, &holder, &["A1", "A2", "A3"]).await);
    assert_eq!(held(release(&*b, &holder, Some(&["A2", "B8"])).await), holding(&["A1", "A3"], ends));
    assert_eq!(held_seats(a, now()).await, ["A1", "A3"]);
    assert_eq!(held(hold(a, &other, &["A2"]).await).seats, ["A2"], "a released seat is free");
    assert_eq!(held(release(a, &other, Some(&["A1"])).await), holding(&["A2"], ends), "another's seat is not freed");
    assert_eq!(held_seats(&*b, now()).await, ["A1", "A2", "A3"]);
    assert_eq!(held(release(a, &holder, None).await), Hold::default(), "everything");
    assert_eq!(held(release(&*b, &holder, None).await), Hold::default(), "a retried release answers alike");
    assert_eq!(held_seats(a, now()).await, ["A2"]);
    assert_eq!(held(hold(&*b, &holder, &["A1"]).await).seats, ["A1"], "released seats are free to hold again");
    let unknown = ReleaseHold {
        showtime: ShowtimeId("film-9-20300301-1000".into()),
        token_hash: holder.hash(),
        seats: None,
        now: now(),
    };
    assert_eq!(a.release(unknown).await.unwrap(), HoldOutcome::ShowtimeNotFound);
    b.close().await.unwrap();
}

pub async fn a_token_holds_at_most_eight_seats_per_showtime(env: &Env) {
    let store = env.store();
    let holder = token();
    assert_eq!(MAX_HELD_SEATS, 8);
    held(hold(store, &holder, &["A1", "A2", "A3", "A4", "A5", "A6"]).await);
    let over = hold(store, &holder, &["B1", "B2", "B3"]).await;
    assert_eq!(over, HoldOutcome::TooManySeats { held: 6, max: 8 });
    assert_eq!(held_seats(store, now()).await.len(), 6, "nothing of the refused request was held");
    assert_eq!(held(hold(store, &holder, &["A6", "B1", "B2"]).await).seats.len(), 8, "A6 counts once");
    assert_eq!(hold(store, &holder, &["B3"]).await, HoldOutcome::TooManySeats { held: 8, max: 8 });
    held(hold(store, &token(), &["B3"]).await);
    held(hold_at(store, &other_show(), &holder, &["B3"], now()).await);
    held(release(store, &holder, Some(&["A1"])).await);
    assert_eq!(held(hold(store, &holder, &["B4"]).await).seats.len(), 8, "room again after a release");
}

pub async fn a_closed_or_unknown_showtime_refuses_holds(env: &Env) {
    let store = env.store();
    let holder = token();
    let start = at("2030-03-01T10:00:00+07:00");
    assert_eq!(hold_at(store, &show(), &holder, &["A1"], start).await, HoldOutcome::ShowtimeClosed);
    let unknown = ShowtimeId("film-1-20300301-1100".into());
    assert_eq!(hold_at(store, &unknown, &holder, &["A1"], now()).await, HoldOutcome::ShowtimeNotFound);
    held(hold(store, &holder, &["A1"]).await);
    let later = at("2030-03-01T12:30:00+07:00");
    store.roll(env.plan(later), later).await.unwrap();
    // Archived: refused even at a moment before the start (a client's clock, a replay).
    assert_eq!(hold(store, &holder, &["A2"]).await, HoldOutcome::ShowtimeClosed);
    assert!(held(release(store, &holder, None).await).seats.is_empty(), "releasing stays allowed");
}

/// Waits on `changes` until `show()` changed, then checks the held seats through `store`.
async fn until_held(store: &dyn Store, changes: &mut cinema::store::ChangeStream, expected: &[&str]) {
    loop {
        match next_change(changes).await {
            Received::Changed(SeatsChanged { showtime }) if showtime == show() => break,
            Received::Changed(_) | Received::Missed => {}
            Received::Closed => panic!("the store closed"),
        }
    }
    assert_eq!(held_seats(store, now()).await, expected, "after the change was told");
}

pub async fn holds_and_releases_reach_the_other_store_and_both_feeds(env: &Env) {
    let (a, b) = (env.store(), env.open_another().await);
    assert!(held_seats(&*b, now()).await.is_empty(), "B reads (and may cache) the seats first");
    assert!(held_seats(a, now()).await.is_empty(), "and so does A");
    let (mut a_changes, mut b_changes) = (a.changes(), b.changes());
    let holder = token();
    held(hold(a, &holder, &["B4", "B3"]).await);
    assert_eq!(held_seats(a, now()).await, ["B3", "B4"], "A's own hold shows as soon as it answered");
    until_held(a, &mut a_changes, &["B3", "B4"]).await;
    let started = std::time::Instant::now();
    until_held(&*b, &mut b_changes, &["B3", "B4"]).await;
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(1), "B learned of A's hold after {took:?}");
    held(release(a, &holder, Some(&["B3"])).await);
    assert_eq!(held_seats(a, now()).await, ["B4"], "A's own release shows as soon as it answered");
    until_held(a, &mut a_changes, &["B4"]).await;
    until_held(&*b, &mut b_changes, &["B4"]).await;
    // And the other way round.
    held(release(&*b, &holder, None).await);
    until_held(a, &mut a_changes, &[]).await;
    b.close().await.unwrap();
}

pub async fn a_look_at_a_hold_answers_it_and_writes_nothing(env: &Env) {
    let (a, b) = (env.store(), env.open_another().await);
    let holder = token();
    let (mut a_changes, mut b_changes) = (a.changes(), b.changes());
    let hold_now = held(hold(a, &holder, &["A4", "A3"]).await);
    // Both feeds have told of the hold before the looks.
    until_held(a, &mut a_changes, &["A3", "A4"]).await;
    until_held(&*b, &mut b_changes, &["A3", "A4"]).await;
    let later = now() + Duration::minutes(3);
    assert_eq!(held(hold_at(&*b, &show(), &holder, &[], later).await), hold_now, "as it is, expiry kept");
    assert_eq!(held(hold_at(a, &show(), &token(), &[], later).await), Hold::default(), "a token holding nothing");
    // The next change either feed tells of is a real one, on another showtime.
    held(hold_at(a, &other_show(), &holder, &["A1"], now()).await);
    for changes in [&mut a_changes, &mut b_changes] {
        let next = next_change(changes).await;
        assert_eq!(next, Received::Changed(SeatsChanged { showtime: other_show() }), "a look is not a change");
    }
    b.close().await.unwrap();
}

pub async fn many_racing_to_hold_one_seat_one_wins(env: &Env) {
    const AT_ONCE: usize = 16;
    let other = env.open_another().await;
    let runtime = tokio::runtime::Handle::current();
    // Real threads, half on each store, let go at once.
    let start = std::sync::Barrier::new(AT_ONCE);
    let outcomes: Vec<HoldOutcome> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let store = if i % 2 == 0 { env.shared() } else { other.clone() };
                let (start, runtime) = (&start, &runtime);
                scope.spawn(move || {
                    start.wait();
                    runtime.block_on(hold(&*store, &token(), &["B5", "B6"]))
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let (mut won, mut lost) = (0, 0);
    for outcome in outcomes {
        match outcome {
            HoldOutcome::Held(hold) => {
                assert_eq!(hold.seats, ["B5", "B6"]);
                won += 1;
            }
            HoldOutcome::SeatsHeld(seats) => {
                assert_eq!(seats, ["B5", "B6"], "both seats were held by the winner");
                lost += 1;
            }
            other => panic!("expected Held or SeatsHeld, got {other:?}"),
        }
    }
    assert_eq!((won, lost), (1, AT_ONCE - 1), "exactly one token holds the seats");
    assert_eq!(held_seats(env.store(), now()).await, ["B5", "B6"]);
    other.close().await.unwrap();
}
