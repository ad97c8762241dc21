//! One suite for every store: each check is an async function over a store (see
//! `conformance/support.rs` for what it runs on), and `conformance!` runs each against SQLite
//! (always, on a temporary file) and against PostgreSQL (when `TIKETA_TEST_DATABASE_URL` names
//! a server; required under CI). A store that passes keeps the booking rules as the service
//! relies on them, whatever keeps the data. Tests are named `sqlite::CHECK` and
//! `postgres::CHECK`.

mod conformance {
    pub mod booking;
    pub mod holds;
    pub mod lifecycle;
    pub mod mail;
    pub mod operator;
    pub mod support;
}

use conformance::support::Env;

macro_rules! conformance {
    ($($module:ident :: $check:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[test]
                fn $check() {
                    let Some(env) = Env::sqlite() else { return };
                    env.run(conformance::$module::$check(&env));
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[test]
                fn $check() {
                    let Some(env) = Env::postgres() else { return };
                    env.run(conformance::$module::$check(&env));
                }
            )*
        }
    };
}

conformance!(
    booking::books_free_seats,
    booking::one_taken_seat_refuses_the_whole_request_and_writes_nothing,
    booking::an_unknown_showtime_is_not_found,
    booking::a_started_showtime_is_closed,
    booking::an_archived_showtime_is_closed,
    booking::cancel_frees_the_seats_at_once,
    booking::cancel_then_rebook,
    booking::cancelling_twice_is_no_error_and_never_frees_seats_taken_since,
    booking::a_wrong_token_and_an_unknown_reference_answer_alike,
    booking::the_same_key_and_request_replay_the_booking,
    booking::the_same_key_for_another_request_is_refused,
    booking::the_same_key_at_once_books_once,
    booking::a_reference_in_use_is_refused,
    booking::live_showtimes_taken_counts_active_seats,
    booking::pages_of_live_showtimes_walk_each_once_in_order_and_filter,
    booking::pages_of_a_days_showtimes_list_started_and_archived_ones_too,
    holds::the_first_to_hold_a_seat_wins,
    holds::a_held_seat_is_booked_only_with_its_token,
    holds::the_holders_booking_takes_its_seats_and_ends_its_whole_hold,
    holds::a_hold_ends_at_its_expiry,
    holds::releasing_some_seats_keeps_the_rest_and_releasing_all_ends_the_hold,
    holds::a_token_holds_at_most_eight_seats_per_showtime,
    holds::a_closed_or_unknown_showtime_refuses_holds,
    holds::holds_and_releases_reach_the_other_store_and_both_feeds,
    holds::a_look_at_a_hold_answers_it_and_writes_nothing,
    holds::many_racing_to_hold_one_seat_one_wins,
    lifecycle::a_roll_creates_the_horizon_once,
    lifecycle::a_roll_archives_started_showtimes_and_never_resurrects_them,
    lifecycle::two_rolls_at_once_from_two_stores_create_each_showtime_once,
    lifecycle::a_closed_store_refuses_writes_after_committing_queued_ones,
    lifecycle::a_healthy_store_checks_ok,
    lifecycle::the_change_feed_tells_of_a_booking_and_a_cancel,
    lifecycle::another_store_learns_of_bookings_and_cancels_within_a_second,
    lifecycle::a_roll_retires_a_removed_films_unbooked_showtimes_and_keeps_booked_ones,
    lifecycle::a_kept_showtime_is_listed_until_it_starts_and_started_ones_are_never_retired,
    lifecycle::a_booking_racing_a_roll_keeps_its_showtime_or_finds_none,
    lifecycle::a_roll_purges_day_old_idempotency_records_month_old_sent_mail_and_ended_holds,
    mail::a_booking_with_an_email_queues_one_confirmation_and_a_refused_one_none,
    mail::a_cancellation_queues_one_notice,
    mail::a_claim_holds_until_its_lease_ends_and_only_its_sender_finishes_it,
    mail::a_sender_finishes_its_claim_after_its_lease_if_nobody_took_it,
    mail::a_failed_send_is_due_again_at_its_retry_and_never_lost,
    mail::senders_racing_from_two_stores_claim_each_message_once,
    mail::a_recovery_adds_a_link_to_each_live_booking_and_keeps_the_bookers_own,
    operator::the_bookings_query_reads_by_time_film_showtime_and_cancellation,
    operator::showtimes_between_includes_archived_ones,
    operator::a_check_in_is_recorded_once_and_keeps_the_first_time,
    operator::a_cancelled_booking_another_showtimes_ticket_and_an_unknown_code_are_refused,
    operator::two_doors_checking_one_ticket_in_at_once_check_it_in_once,
    operator::an_operator_cancel_frees_the_seats_records_the_operator_and_queues_the_notice,
    operator::the_bookers_cancel_is_recorded_as_the_bookers,
    operator::a_backup_taken_while_booking_holds_every_booking_made_before_it,
    operator::the_commit_observer_is_told_of_every_write,
);
