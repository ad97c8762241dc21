//! The schedule's roll, closing, health and the change feed, as every store must keep them.

use cinema::booking::PlaceOutcome;
use cinema::schedule::Showtime;
use cinema::store::changes::{Received, SeatsChanged};
use cinema::store::{RollReport, StoreError};

use super::support::{Env, at, next_change, now, other_show, placed, request, show, taken};

fn started(plan: &[Showtime], by: chrono::DateTime<chrono::Utc>) -> usize {
    plan.iter().filter(|s| s.has_started(by)).count()
}

pub async fn a_roll_creates_the_horizon_once(env: &Env) {
    let store = env.store();
    let plan = env.plan(now());
    let live = store.live_showtimes(now()).await.unwrap();
    assert_eq!(live.len(), plan.len(), "the setup's roll created the whole horizon");
    assert!(live.windows(2).all(|w| (w[0].starts_at, w[0].studio) < (w[1].starts_at, w[1].studio)), "in order");
    let stored = store.showtime(show()).await.unwrap().unwrap();
    assert_eq!(Some(&stored), plan.iter().find(|s| s.id == show()), "kept as planned");
    assert_eq!(store.roll(plan.clone(), now()).await.unwrap(), RollReport::default(), "a second roll does nothing");
    assert_eq!(store.live_showtimes(now()).await.unwrap(), live);
}

pub async fn a_roll_archives_started_showtimes_and_never_resurrects_them(env: &Env) {
    let store = env.store();
    let first = env.plan(now());
    let later = at("2030-03-01T12:30:00+07:00");
    let report = store.roll(env.plan(later), later).await.unwrap();
    assert!(started(&first, later) > 0);
    assert_eq!(report, RollReport { archived: started(&first, later), created: 0, ..RollReport::default() });
    assert!(store.showtime(show()).await.unwrap().unwrap().archived);
    assert!(!store.live_showtimes(later).await.unwrap().iter().any(|s| s.id == show()));
    // The earlier plan, past slots included, rolled again: nothing comes back.
    assert_eq!(store.roll(first.clone(), later).await.unwrap(), RollReport::default());
    assert!(store.showtime(show()).await.unwrap().unwrap().archived, "still archived");
    // The next day brings a new last day and archives the rest of the first.
    let next_day = at("2030-03-02T00:00:00+07:00");
    let report = store.roll(env.plan(next_day), next_day).await.unwrap();
    let new_days = env.plan(next_day).iter().filter(|s| !first.iter().any(|f| f.id == s.id)).count();
    assert!(new_days > 0);
    assert_eq!(
        report,
        RollReport {
            archived: started(&first, next_day) - started(&first, later),
            created: new_days,
            ..RollReport::default()
        }
    );
}

pub async fn two_rolls_at_once_from_two_stores_create_each_showtime_once(env: &Env) {
    let other = env.open_another().await;
    let next_day = at("2030-03-02T00:00:00+07:00");
    let plan = env.plan(next_day);
    let first = env.plan(now());
    let (a, b) = tokio::join!(env.store().roll(plan.clone(), next_day), other.roll(plan.clone(), next_day));
    let (a, b) = (a.unwrap(), b.unwrap());
    let new_days = plan.iter().filter(|s| !first.iter().any(|f| f.id == s.id)).count();
    assert_eq!(a.created + b.created, new_days, "{a:?} {b:?}");
    assert_eq!(a.archived + b.archived, started(&first, next_day), "{a:?} {b:?}");
    assert_eq!(env.store().live_showtimes(next_day).await.unwrap().len(), plan.len());
    other.close().await.unwrap();
}

pub async fn a_closed_store_refuses_writes_after_committing_queued_ones(env: &Env) {
    let store = env.shared();
    let seats = ["A1", "A2", "A3", "A4", "A6", "A7", "A8", "A9", "B1", "B2", "B3", "B4", "B6", "B7", "B8", "B9"];
    let requests: Vec<_> = seats.iter().map(|s| request(&show(), &[s])).collect();
    let mut changes = store.changes();
    let tasks: Vec<_> = requests
        .iter()
        .map(|r| {
            let (store, booking) = (store.clone(), r.booking.clone());
            tokio::spawn(async move { store.place(booking).await })
        })
        .collect();
    // Closed while writes are flowing: at least one has committed, others are queued or on
    // their way.
    assert!(matches!(next_change(&mut changes).await, Received::Changed(_)));
    store.close().await.unwrap();
    let mut kept = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(PlaceOutcome::Placed(_)) => kept += 1,
            Err(StoreError::Closed) => {}
            other => panic!("a write around close must be placed or refused as closed, got {other:?}"),
        }
    }
    assert!(kept >= 1, "the write told on the feed was answered placed");
    let late = store.place(request(&show(), &["A5"]).booking).await;
    assert!(matches!(late, Err(StoreError::Closed)), "{late:?}");
    // Every write answered `Placed` was committed: another store sees exactly those.
    let other = env.open_another().await;
    let mut seen = 0;
    for r in &requests {
        if let Some(record) = other.booking(r.booking.reference.clone(), r.token.clone()).await.unwrap() {
            assert_eq!(record.reference, r.booking.reference);
            seen += 1;
        }
    }
    // A write answered `Closed` that was kept anyway would make `seen` larger.
    assert_eq!(seen, kept, "what was answered placed is what was kept");
    assert_eq!(taken(&*other, &show()).await.len(), kept);
    other.close().await.unwrap();
}

pub async fn a_healthy_store_checks_ok(env: &Env) {
    env.store().check().await.unwrap();
    placed(env.store().place(request(&show(), &["A1"]).booking).await.unwrap());
    env.store().check().await.unwrap();
}

pub async fn the_change_feed_tells_of_a_booking_and_a_cancel(env: &Env) {
    let store = env.store();
    let mut changes = store.changes();
    let r = request(&show(), &["A1"]);
    placed(store.place(r.booking.clone()).await.unwrap());
    assert_eq!(next_change(&mut changes).await, Received::Changed(SeatsChanged { showtime: show() }));
    // A refused booking changes nothing and tells nothing: the next change is the cancel's.
    let refused = store.place(request(&show(), &["A1"]).booking).await.unwrap();
    assert!(matches!(refused, PlaceOutcome::SeatsTaken(_)));
    store.cancel(r.booking.reference, r.token, now()).await.unwrap();
    assert_eq!(next_change(&mut changes).await, Received::Changed(SeatsChanged { showtime: show() }));
    placed(store.place(request(&other_show(), &["A1"]).booking).await.unwrap());
    assert_eq!(next_change(&mut changes).await, Received::Changed(SeatsChanged { showtime: other_show() }));
}

/// Waits on `changes` until `showtime`'s seats through `store` are `expected`, failing after
/// the feed's bound. A change for the showtime must arrive, and after it the seats must be
/// right: a store whose cache is not told of the other writer fails here.
async fn until_seats(
    store: &dyn cinema::store::Store,
    changes: &mut cinema::store::ChangeStream,
    expected: &[&str],
) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        match next_change(changes).await {
            Received::Changed(SeatsChanged { showtime }) if showtime == show() => break,
            Received::Changed(_) | Received::Missed => {}
            Received::Closed => panic!("the store closed"),
        }
    }
    assert_eq!(taken(store, &show()).await, expected, "after the change was told");
    started.elapsed()
}

pub async fn another_store_learns_of_bookings_and_cancels_within_a_second(env: &Env) {
    let a = env.store();
    let b = env.open_another().await;
    assert!(taken(&*b, &show()).await.is_empty(), "B reads (and may cache) the seats first");
    let mut changes = b.changes();
    let r = request(&show(), &["A1", "A2"]);
    placed(a.place(r.booking.clone()).await.unwrap());
    let took = until_seats(&*b, &mut changes, &["A1", "A2"]).await;
    assert!(took < std::time::Duration::from_secs(1), "B learned of A's booking after {took:?}");
    a.cancel(r.booking.reference, r.token, now()).await.unwrap();
    let took = until_seats(&*b, &mut changes, &[]).await;
    assert!(took < std::time::Duration::from_secs(1), "B learned of A's cancel after {took:?}");
    // And the other way round.
    let mut a_changes = a.changes();
    placed(b.place(request(&show(), &["B1"]).booking).await.unwrap());
    until_seats(a, &mut a_changes, &["B1"]).await;
    b.close().await.unwrap();
}
