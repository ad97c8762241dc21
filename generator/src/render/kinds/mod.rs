//! Page kinds, one file each: where a kind's file goes (from [`cinema::site_paths`]), what its
//! input key is made of (so an incremental build skips it when nothing it reads changed), and
//! how it is rendered. [`super::Renderer`] dispatches a [`super::PageJob`] to its kind.

pub mod asset;
pub mod book;
pub mod booking;
pub mod feeds;
pub mod film;
pub mod index;
pub mod not_found;
pub mod poster;
