//! The outbox and recovery, as every store must keep them: a message is queued in the
//! transaction of what it tells of, claimed by one sender at a time, and kept until sent.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use cinema::booking::{CancelOutcome, ManageToken, PlaceOutcome};
use cinema::outbox::{
    MailClaim, MailId, MailKind, MailOutcome, MailResult, OutboxCounts, QueuedMail, Recovery, SenderId,
};
use cinema::store::Store;

use super::support::{Env, at, now, placed, request, show};

fn sender(name: &str) -> SenderId {
    SenderId(name.to_string())
}

fn claim_at(who: &SenderId, when: DateTime<Utc>, limit: usize) -> MailClaim {
    MailClaim { sender: who.clone(), now: when, lease_until: when + Duration::minutes(5), limit }
}

async fn claim(store: &dyn Store, who: &SenderId, when: DateTime<Utc>) -> Vec<QueuedMail> {
    store.claim_mail(claim_at(who, when, 100)).await.unwrap()
}

async fn sent(store: &dyn Store, id: MailId, who: &SenderId, when: DateTime<Utc>) -> bool {
    store.finish_mail(MailResult { id, sender: who.clone(), outcome: MailOutcome::Sent { at: when } }).await.unwrap()
}

async fn counts(store: &dyn Store) -> OutboxCounts {
    store.outbox_counts().await.unwrap()
}

pub async fn a_booking_with_an_email_queues_one_confirmation_and_a_refused_one_none(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["A1", "A2"]).with_mail().with_key(1, 1);
    placed(store.place(r.booking.clone()).await.unwrap());
    // Refused (a seat taken) and replayed (the same key) requests queue nothing more, nor
    // does a booking without an email.
    let refused = request(&show(), &["A2", "A3"]).with_mail();
    assert!(matches!(store.place(refused.booking).await.unwrap(), PlaceOutcome::SeatsTaken(_)));
    let replay = store.place(r.booking.clone()).await.unwrap();
    assert!(matches!(replay, PlaceOutcome::Replayed { .. }), "{replay:?}");
    let mut quiet = request(&show(), &["B1"]);
    quiet.booking.email = None;
    placed(store.place(quiet.booking).await.unwrap());
    assert_eq!(counts(store).await, OutboxCounts { pending: 1, failing: 0, sent: 0 });

    let mail = claim(store, &sender("a"), now()).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].kind, MailKind::Confirmation);
    assert_eq!(mail[0].recipient, "ana@example.com");
    assert_eq!(mail[0].attempts, 0);
    assert_eq!(mail[0].created_at, now());
    assert_eq!(mail[0].bookings.len(), 1);
    assert_eq!(mail[0].bookings[0].reference, r.booking.reference);
    assert_eq!(mail[0].bookings[0].token.as_ref(), Some(&r.token), "the link's token is the booking's");
}

pub async fn a_cancellation_queues_one_notice(env: &Env) {
    let store = env.store();
    let r = request(&show(), &["A1"]);
    placed(store.place(r.booking.clone()).await.unwrap());
    for _ in 0..2 {
        let outcome = store.cancel(r.booking.reference.clone(), r.token.clone(), now()).await.unwrap();
        assert!(matches!(outcome, CancelOutcome::Cancelled(_)), "{outcome:?}");
    }
    let wrong = ManageToken::generate(&mut rand::rng());
    assert!(matches!(store.cancel(r.booking.reference.clone(), wrong, now()).await.unwrap(), CancelOutcome::NotFound));
    let mail = claim(store, &sender("a"), now()).await;
    assert_eq!(mail.len(), 1, "one notice for a booking cancelled twice: {mail:?}");
    assert_eq!(mail[0].kind, MailKind::Cancellation);
    assert_eq!(mail[0].recipient, "ana@example.com");
    assert_eq!(mail[0].bookings[0].reference, r.booking.reference);
    assert_eq!(mail[0].bookings[0].token, None, "a notice carries no link");
}

pub async fn a_claim_holds_until_its_lease_ends_and_only_its_sender_finishes_it(env: &Env) {
    let store = env.store();
    let other = env.open_another().await;
    placed(store.place(request(&show(), &["A1"]).with_mail().booking).await.unwrap());
    let (a, b) = (sender("a"), sender("b"));
    let mail = claim(store, &a, now()).await;
    assert_eq!(mail.len(), 1);
    assert!(claim(&*other, &b, now()).await.is_empty(), "claimed by a, from another instance");
    assert!(claim(store, &b, now() + Duration::minutes(4)).await.is_empty(), "the lease holds");
    // The lease ran out before a finished: b takes the message, and a's word no longer counts.
    let again = claim(&*other, &b, now() + Duration::minutes(5)).await;
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), [mail[0].id]);
    assert!(!sent(store, mail[0].id, &a, now()).await, "a no longer holds the claim");
    assert_eq!(counts(store).await.sent, 0);
    assert!(sent(&*other, mail[0].id, &b, now() + Duration::minutes(6)).await);
    assert!(!sent(&*other, mail[0].id, &b, now() + Duration::minutes(6)).await, "finished once");
    assert_eq!(counts(store).await, OutboxCounts { pending: 0, failing: 0, sent: 1 });
    assert!(claim(store, &a, now() + Duration::days(1)).await.is_empty(), "a sent message is never claimed again");
    other.close().await.unwrap();
}

pub async fn a_sender_finishes_its_claim_after_its_lease_if_nobody_took_it(env: &Env) {
    let store = env.store();
    placed(store.place(request(&show(), &["A1"]).with_mail().booking).await.unwrap());
    let a = sender("a");
    let mail = claim(store, &a, now()).await;
    // A slow send: the lease has ended, but no other sender claimed the message, so it was
    // delivered once and must be marked so (not sent again).
    assert!(sent(store, mail[0].id, &a, now() + Duration::minutes(10)).await);
    assert!(claim(store, &sender("b"), now() + Duration::minutes(11)).await.is_empty());
}

pub async fn a_failed_send_is_due_again_at_its_retry_and_never_lost(env: &Env) {
    let store = env.store();
    placed(store.place(request(&show(), &["A1"]).with_mail().booking).await.unwrap());
    let a = sender("a");
    let mut when = now();
    for attempt in 0..3u32 {
        let mail = claim(store, &a, when).await;
        assert_eq!(mail.len(), 1, "attempt {attempt}");
        assert_eq!(mail[0].attempts, attempt);
        let retry_at = when + Duration::seconds(30);
        let failed = MailOutcome::Failed { error: "451 try again later".into(), retry_at };
        assert!(store.finish_mail(MailResult { id: mail[0].id, sender: a.clone(), outcome: failed }).await.unwrap());
        assert_eq!(counts(store).await, OutboxCounts { pending: 1, failing: 1, sent: 0 });
        assert!(claim(store, &a, retry_at - Duration::seconds(1)).await.is_empty(), "not due before its retry");
        when = retry_at;
    }
    let mail = claim(store, &a, when).await;
    assert!(sent(store, mail[0].id, &a, when).await);
    assert_eq!(counts(store).await, OutboxCounts { pending: 0, failing: 0, sent: 1 });
}

pub async fn senders_racing_from_two_stores_claim_each_message_once(env: &Env) {
    let store = env.shared();
    let other = env.open_another().await;
    let rows = ["A", "B"];
    let mut queued = 0;
    for row in rows {
        for seat in [1, 2, 3, 4, 6, 7, 8, 9] {
            placed(store.place(request(&show(), &[&format!("{row}{seat}")]).with_mail().booking).await.unwrap());
            queued += 1;
        }
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 { store.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            let who = sender(&format!("sender-{i}"));
            let mut mine = Vec::new();
            loop {
                let got = store.claim_mail(claim_at(&who, now(), 3)).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                for m in got {
                    assert!(sent(&*store, m.id, &who, now()).await, "{who:?} holds {:?}", m.id);
                    mine.push(m.id);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: HashSet<MailId> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a message was claimed twice");
    assert_eq!(all.len(), queued);
    assert_eq!(counts(&*store).await, OutboxCounts { pending: 0, failing: 0, sent: queued as u64 });
    other.close().await.unwrap();
}

pub async fn a_recovery_adds_a_link_to_each_live_booking_and_keeps_the_bookers_own(env: &Env) {
    let store = env.store();
    let kept = request(&show(), &["A1"]);
    placed(store.place(kept.booking.clone()).await.unwrap());
    let gone = request(&show(), &["A2"]);
    placed(store.place(gone.booking.clone()).await.unwrap());
    store.cancel(gone.booking.reference.clone(), gone.token.clone(), now()).await.unwrap();
    let mut someone_else = request(&show(), &["A3"]);
    someone_else.booking.email = Some("bo@example.com".into());
    placed(store.place(someone_else.booking.clone()).await.unwrap());
    let a = sender("a");
    let notices = claim(store, &a, now()).await;
    assert_eq!(notices.len(), 1, "the cancellation notice: {notices:?}");
    assert!(sent(store, notices[0].id, &a, now()).await);

    let recover = |email: &str, when| store.recover(Recovery { email: email.into(), now: when });
    assert_eq!(recover("nobody@example.com", now()).await.unwrap(), 0);
    assert_eq!(recover("ANA@Example.com", now()).await.unwrap(), 1, "the live booking, not the cancelled one");
    let mail = claim(store, &a, now()).await;
    assert_eq!(mail.len(), 1, "one message, none for the unknown address: {mail:?}");
    assert_eq!(mail[0].kind, MailKind::Recovery);
    assert_eq!(mail[0].recipient, "ANA@Example.com");
    assert_eq!(mail[0].bookings.len(), 1);
    assert_eq!(mail[0].bookings[0].reference, kept.booking.reference);
    let first = mail[0].bookings[0].token.clone().expect("a recovery carries a link");
    assert_ne!(first, kept.token);
    let opens = |token: &ManageToken| store.booking(kept.booking.reference.clone(), token.clone());
    assert!(opens(&first).await.unwrap().is_some(), "the recovered link opens the booking");
    assert!(opens(&kept.token).await.unwrap().is_some(), "the booker's own link still does");
    assert!(
        store.booking(someone_else.booking.reference.clone(), first.clone()).await.unwrap().is_none(),
        "a recovered token opens its own booking only"
    );

    assert_eq!(recover("ana@example.com", now()).await.unwrap(), 1);
    let second = claim(store, &a, now()).await[0].bookings[0].token.clone().unwrap();
    assert!(opens(&second).await.unwrap().is_some());
    assert!(opens(&first).await.unwrap().is_none(), "a later recovery replaces the earlier recovery's link");
    assert!(opens(&kept.token).await.unwrap().is_some());

    // Once the showtime has started there is nothing to recover.
    assert_eq!(recover("ana@example.com", at("2030-03-01T10:00:00+07:00")).await.unwrap(), 0);
}
