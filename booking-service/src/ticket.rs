//! The ticket's QR code, drawn as SVG: what the confirmation, the manage page and the email
//! show at the door.
//!
//! It encodes [`cinema::booking::check_in::ticket_payload`] (the reference and the check-in
//! code), never the manage token, so door staff who scan it can check the booking in but never
//! cancel it. Error correction level M survives a scuffed printout or a cracked phone screen.

use cinema::booking::check_in::ticket_payload;
use cinema::booking::{BookingReference, CheckInCode};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The QR code of a ticket, as a standalone SVG document (black on white, a quiet zone around
/// it, about 200 px wide; it scales without blur).
pub fn qr_svg(reference: &BookingReference, code: &CheckInCode) -> String {
    let payload = ticket_payload(reference, code);
    let qr = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .expect("a ticket payload (about 40 bytes) fits a QR code");
    qr.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build()
}
