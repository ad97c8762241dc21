//! The advisory locks Tiketa takes, so that work two instances must not interleave serialises
//! in the database, whichever machines the instances run on.
//!
//! Every lock is transaction-scoped (`pg_advisory_xact_lock`): it is released by COMMIT or
//! ROLLBACK, or when the connection dies, so a crashed instance never leaves one behind.
//! Schema and schedule locks use the two-`int4` key space under [`CLASS`]; idempotency keys
//! use the single-`bigint` space ([`idempotency_key`]), which PostgreSQL keeps apart from the
//! two-`int4` one, so they can never collide with each other.

/// The first half of Tiketa's two-part lock keys ("tikt").
pub(super) const CLASS: i32 = 0x7469_6b74;
/// Held while the schema is checked and migrated.
pub(super) const MIGRATE: i32 = 1;
/// Held by a roll.
pub(super) const ROLL: i32 = 2;

/// The lock for one idempotency key: its first eight bytes (the key id is a hash, so they are
/// as good as any; two keys sharing them only wait for each other, never mix up).
pub(super) fn idempotency_key(key_id: &[u8; 32]) -> i64 {
    i64::from_be_bytes(key_id[..8].try_into().expect("eight bytes"))
}
