//! The schedule's roll, closing, health and the change feed, as every store must keep them.

use chrono::Duration;
use cinema::booking::{HoldOutcome, HoldToken, NewHold, PlaceOutcome};
use cinema::box_office::{KeptShowtime, Purged, SENT_MAIL_KEPT_FOR};
use cinema::outbox::{MailClaim, MailOutcome, MailResult, SenderId};
use cinema::schedule::{Showtime, ShowtimeId};
use cinema::store::changes::{Received, SeatsChanged};
use cinema::store::{RollReport, StoreError};

use super::support::{Env, at, next_change, now, other_show, placed, request, show, taken};
use super::support::{cancelled, planned, without_film};

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

fn film_2(plan: &[Showtime], live_at: chrono::DateTime<chrono::Utc>) -> usize {
    plan.iter().filter(|s| s.film_slug == "film-2" && !s.has_started(live_at)).count()
}

fn id(text: &str) -> ShowtimeId {
    ShowtimeId(text.into())
}

pub async fn a_roll_retires_a_removed_films_unbooked_showtimes_and_keeps_booked_ones(env: &Env) {
    let store = env.store();
    let (today, tomorrow) = (id("film-2-20300301-1400"), id("film-2-20300302-1800"));
    let cancelled_only = id("film-2-20300302-1000");
    let unbooked = other_show();
    // Booked in the opposite order of their start: the report lists by start.
    let later = request(&tomorrow, &["A1"]);
    placed(store.place(later.booking.clone()).await.unwrap());
    let first = request(&today, &["A1"]);
    placed(store.place(first.booking.clone()).await.unwrap());
    let gone = request(&cancelled_only, &["A1"]);
    placed(store.place(gone.booking.clone()).await.unwrap());
    cancelled(store.cancel(gone.booking.reference.clone(), gone.token, now()).await.unwrap());
    // Read (and maybe cached) before the roll: a cache that misses the retirement shows below.
    assert!(taken(store, &unbooked).await.is_empty());
    assert!(taken(store, &cancelled_only).await.is_empty());

    let removed = without_film(env.plan(now()), "film-2");
    let report = store.roll(removed.clone(), now()).await.unwrap();
    let film_2 = film_2(&env.plan(now()), now());
    let kept = |showtime: &ShowtimeId, bookings: Vec<_>| KeptShowtime { showtime: planned(env, showtime), bookings };
    assert_eq!(
        report,
        RollReport {
            retired: film_2 - 2,
            kept: vec![
                kept(&today, vec![first.booking.reference.clone()]),
                kept(&tomorrow, vec![later.booking.reference.clone()])
            ],
            ..RollReport::default()
        }
    );

    // Without any booking: gone at once, from the database and from any cache.
    assert_eq!(store.showtime(unbooked.clone()).await.unwrap(), None);
    assert_eq!(store.showtime_seats(unbooked.clone()).await.unwrap(), None);
    let outcome = store.place(request(&unbooked, &["A2"]).booking).await.unwrap();
    assert!(matches!(outcome, PlaceOutcome::ShowtimeNotFound), "{outcome:?}");
    let hold = NewHold {
        showtime: unbooked.clone(),
        token_hash: HoldToken::generate(&mut rand::rng()).hash(),
        seats: vec!["A2".into()],
        now: now(),
        expires_at: now() + Duration::minutes(10),
    };
    assert!(matches!(store.hold(hold).await.unwrap(), HoldOutcome::ShowtimeNotFound));
    assert!(!store.live_showtimes(now()).await.unwrap().iter().any(|s| s.id == unbooked));

    // With only cancelled bookings: archived, so it is closed and its bookings keep their
    // showtime.
    assert!(store.showtime(cancelled_only.clone()).await.unwrap().unwrap().archived);
    let outcome = store.place(request(&cancelled_only, &["A2"]).booking).await.unwrap();
    assert!(matches!(outcome, PlaceOutcome::ShowtimeClosed), "{outcome:?}");
    let record = store.booking_by_reference(gone.booking.reference).await.unwrap().unwrap();
    assert_eq!(record.showtime.id, cancelled_only);

    // With bookings: kept and honoured, exactly as before the roll.
    assert_eq!(store.showtime(today.clone()).await.unwrap(), Some(planned(env, &today)));
    let record = store.booking_by_reference(first.booking.reference.clone()).await.unwrap().unwrap();
    assert_eq!((record.seats, record.cancelled_at), (vec!["A1".to_string()], None));
    assert!(store.live_showtimes(now()).await.unwrap().iter().any(|s| s.id == today));
    let mut second = request(&today, &["A2"]);
    second.booking.now = now() + Duration::minutes(1);
    placed(store.place(second.booking.clone()).await.unwrap());
    assert_eq!(taken(store, &today).await, ["A1", "A2"]);

    // Listed again by the next roll, with every active booking, oldest first.
    let again = store.roll(removed, now()).await.unwrap();
    let both = vec![first.booking.reference.clone(), second.booking.reference];
    let listed = vec![kept(&today, both), kept(&tomorrow, vec![later.booking.reference])];
    assert_eq!(again, RollReport { kept: listed, ..RollReport::default() });

    // The film back in the content: its deleted showtimes come back; the archived one stays
    // closed (a roll never re-creates an archived showtime).
    let back = store.roll(env.plan(now()), now()).await.unwrap();
    assert_eq!(back, RollReport { created: film_2 - 3, ..RollReport::default() });
    assert_eq!(store.showtime(unbooked.clone()).await.unwrap(), Some(planned(env, &unbooked)));
    assert!(store.showtime(cancelled_only).await.unwrap().unwrap().archived);
    placed(store.place(request(&unbooked, &["A2"]).booking).await.unwrap());
}

pub async fn a_kept_showtime_is_listed_until_it_starts_and_started_ones_are_never_retired(env: &Env) {
    let store = env.store();
    let today = id("film-2-20300301-1400");
    let r = request(&today, &["A1"]);
    placed(store.place(r.booking.clone()).await.unwrap());
    let first = env.plan(now());
    // By 12:30 both 10:00 showtimes have started: archived as started, not retired, though
    // film 2's had no booking and the content no longer has it.
    let noon = at("2030-03-01T12:30:00+07:00");
    let report = store.roll(without_film(env.plan(noon), "film-2"), noon).await.unwrap();
    let kept = KeptShowtime { showtime: planned(env, &today), bookings: vec![r.booking.reference.clone()] };
    assert_eq!(
        report,
        RollReport {
            archived: started(&first, noon),
            retired: film_2(&first, noon) - 1,
            kept: vec![kept],
            ..RollReport::default()
        }
    );
    assert_eq!(started(&first, noon), 2);
    assert!(store.showtime(other_show()).await.unwrap().unwrap().archived, "started: archived, never deleted");
    // Once it has started it is archived like any other, and listed no more.
    let two = at("2030-03-01T14:00:00+07:00");
    let report = store.roll(without_film(env.plan(two), "film-2"), two).await.unwrap();
    assert_eq!(report, RollReport { archived: 2, ..RollReport::default() });
    assert!(store.showtime(today).await.unwrap().unwrap().archived);
    assert!(store.booking_by_reference(r.booking.reference).await.unwrap().is_some());
}

pub async fn a_booking_racing_a_roll_keeps_its_showtime_or_finds_none(env: &Env) {
    let other = env.open_another().await;
    let retiring: Vec<ShowtimeId> =
        env.plan(now()).into_iter().filter(|s| s.film_slug == "film-2").map(|s| s.id).collect();
    let stores = [env.shared(), other.clone()];
    // A few rounds, the film coming back between them, so that some bookings win and some
    // lose. Each round races on the showtimes no booking has won yet: one that has is kept
    // whatever happens, and bookable after the roll as before it.
    let mut unbooked = retiring.clone();
    for seat in ["A1", "A2", "A3"] {
        let bookings: Vec<_> = unbooked
            .iter()
            .enumerate()
            .map(|(i, showtime)| {
                let store = stores[i % 2].clone();
                let r = request(showtime, &[seat]);
                tokio::spawn(async move { (r.booking.reference.clone(), store.place(r.booking).await.unwrap()) })
            })
            .collect();
        let report = env.store().roll(without_film(env.plan(now()), "film-2"), now()).await.unwrap();
        let mut lost = Vec::new();
        for (showtime, booking) in unbooked.iter().zip(bookings) {
            let (reference, outcome) = booking.await.unwrap();
            let kept = report.kept.iter().find(|k| k.showtime.id == *showtime);
            let stored = env.store().showtime(showtime.clone()).await.unwrap();
            match outcome {
                PlaceOutcome::Placed(_) => {
                    let listed = kept.is_some_and(|k| k.bookings.contains(&reference));
                    assert!(listed, "{showtime}: booked before the roll, so kept and listed: {kept:?}");
                    assert!(stored.is_some_and(|s| !s.archived), "{showtime}: booked, so still live");
                }
                PlaceOutcome::ShowtimeNotFound | PlaceOutcome::ShowtimeClosed => {
                    // Refused, so never booked in this round; and a showtime kept from an
                    // earlier round would have taken the booking.
                    assert!(kept.is_none(), "{showtime}: refused, yet kept: {kept:?}");
                    assert_eq!(stored, None, "{showtime}: refused and never booked, so deleted");
                    lost.push(showtime.clone());
                }
                other => panic!("{showtime}: expected Placed or a closed showtime, got {other:?}"),
            }
        }
        assert_eq!(report.retired + report.kept.len(), retiring.len(), "{report:?}");
        assert_eq!(report.retired, lost.len(), "{report:?}");
        unbooked = lost;
        bring_the_film_back(env).await;
    }
    other.close().await.unwrap();
}

/// Rolls the whole plan again: the film comes back, its deleted showtimes with it.
async fn bring_the_film_back(env: &Env) {
    env.store().roll(env.plan(now()), now()).await.unwrap();
}

pub async fn a_roll_purges_day_old_idempotency_records_month_old_sent_mail_and_ended_holds(env: &Env) {
    let store = env.store();
    let tomorrow = id("film-1-20300302-1000");
    let old = request(&tomorrow, &["A1"]).with_key(1, 1).with_mail();
    placed(store.place(old.booking.clone()).await.unwrap());
    let sender = SenderId("a".into());
    let claim = MailClaim { sender: sender.clone(), now: now(), lease_until: now() + Duration::minutes(5), limit: 10 };
    let mail = store.claim_mail(claim).await.unwrap();
    assert_eq!(mail.len(), 1);
    let sent = MailResult { id: mail[0].id, sender, outcome: MailOutcome::Sent { at: now() } };
    assert!(store.finish_mail(sent).await.unwrap());
    // Queued after the claim, never sent.
    placed(store.place(request(&tomorrow, &["A3"]).with_mail().booking).await.unwrap());
    let mut recent = request(&tomorrow, &["A2"]).with_key(2, 2);
    recent.booking.now = now() + Duration::hours(12);
    placed(store.place(recent.booking.clone()).await.unwrap());
    let hold = NewHold {
        showtime: tomorrow.clone(),
        token_hash: HoldToken::generate(&mut rand::rng()).hash(),
        seats: vec!["B1".into(), "B2".into()],
        now: now(),
        expires_at: now() + Duration::minutes(10),
    };
    assert!(matches!(store.hold(hold).await.unwrap(), HoldOutcome::Held(_)));

    let day_later = now() + Duration::days(1) + Duration::seconds(1);
    let report = store.roll(env.plan(day_later), day_later).await.unwrap();
    assert_eq!(report.purged, Purged { idempotency_keys: 1, holds: 2, sent_mail: 0 });
    // A day-old key is forgotten: its retry is a new request (refused here, as the booking it
    // made holds its seat), while a recent one still replays.
    let mut retry = request(&tomorrow, &["A1"]).with_key(1, 1);
    retry.booking.now = day_later;
    let outcome = store.place(retry.booking).await.unwrap();
    assert!(matches!(&outcome, PlaceOutcome::SeatsTaken(seats) if seats == &["A1"]), "{outcome:?}");
    let mut retry = request(&tomorrow, &["A2"]).with_key(2, 2);
    retry.booking.now = day_later;
    match store.place(retry.booking).await.unwrap() {
        PlaceOutcome::Replayed { booking, .. } => assert_eq!(booking.reference, recent.booking.reference),
        other => panic!("expected Replayed, got {other:?}"),
    }
    assert!(store.booking_by_reference(old.booking.reference).await.unwrap().is_some(), "bookings stay");
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sent), (1, 1));

    let month_later = now() + SENT_MAIL_KEPT_FOR + Duration::seconds(1);
    let report = store.roll(env.plan(month_later), month_later).await.unwrap();
    assert_eq!(report.purged, Purged { idempotency_keys: 1, holds: 0, sent_mail: 1 });
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sent), (1, 0), "pending mail is never purged");
}
