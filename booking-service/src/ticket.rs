//! The ticket's QR code, drawn as SVG: what the confirmation, the manage page and the email
//! show at the door.
//!
//! It encodes [`cinema::booking::check_in::ticket_payload`] (the reference and the check-in
//! code), never the manage token, so door staff who scan it can check the booking in but never
//! cancel it. Error correction level M survives a scuffed printout or a cracked phone screen.
//!
//! Every booking reply draws one, so it must be cheap. `QrCode::new` tries all eight mask
//! patterns and scores each for how much it could confuse a scanner: that scoring was 40 % of
//! the booking service's CPU under load and cut bookings from about 17,000 to 3,400 a second
//! (BENCHMARKS.md). A QR code is valid with any mask (its format bits name the one used, and
//! every decoder reads them); the scoring only avoids rare unlucky patterns, and a ticket's
//! payload is always the same short shape, so one fixed mask is drawn here, and a test decodes
//! hundreds of tickets drawn this way.

use cinema::booking::check_in::ticket_payload;
use cinema::booking::{BookingReference, CheckInCode};
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::render::{Renderer, svg};
use qrcode::{Color, EcLevel, bits, ec};

/// The error correction level of every ticket.
const LEVEL: EcLevel = EcLevel::M;
/// The modules of white around the code that scanners need (4 for a full-size QR code).
const QUIET_ZONE: u32 = 4;

/// The QR code of a ticket, as a standalone SVG document (black on white, a quiet zone around
/// it, about 200 px wide; it scales without blur).
pub fn qr_svg(reference: &BookingReference, code: &CheckInCode) -> String {
    let (modules, width) = qr_modules(&ticket_payload(reference, code));
    Renderer::<svg::Color<'_>>::new(&modules, width, QUIET_ZONE).min_dimensions(200, 200).build()
}

/// The dark and light modules of `payload`'s QR code, row by row, and the code's width in
/// modules: [`qrcode::QrCode::with_bits`] step by step, with a fixed mask (see the module doc).
fn qr_modules(payload: &str) -> (Vec<Color>, usize) {
    const FITS: &str = "a ticket payload (about 40 bytes) fits a QR code";
    let bits = bits::encode_auto(payload.as_bytes(), LEVEL).expect(FITS);
    let version = bits.version();
    let (data, correction) = ec::construct_codewords(&bits.into_bytes(), version, LEVEL).expect(FITS);
    let mut canvas = Canvas::new(version, LEVEL);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &correction);
    canvas.apply_mask(MaskPattern::Checkerboard);
    let width = usize::try_from(version.width()).expect("a QR code's width is positive");
    (canvas.into_colors(), width)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes modules as a scanner would from a clean image: each module 4x4 pixels.
    fn decode(modules: &[Color], width: usize) -> String {
        const SCALE: usize = 4;
        let quiet = QUIET_ZONE as usize;
        let side = (width + 2 * quiet) * SCALE;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            let (mx, my) = ((x / SCALE).wrapping_sub(quiet), (y / SCALE).wrapping_sub(quiet));
            let dark = mx < width && my < width && modules[my * width + mx] == Color::Dark;
            if dark { 0 } else { 255 }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        grids[0].decode().expect("the QR code decodes").1
    }

    #[test]
    fn hundreds_of_tickets_drawn_with_the_fixed_mask_decode_to_their_payload() {
        let mut rng = rand::rng();
        for _ in 0..300 {
            let payload = ticket_payload(&BookingReference::generate(&mut rng), &CheckInCode::generate(&mut rng));
            let (modules, width) = qr_modules(&payload);
            assert_eq!(decode(&modules, width), payload);
        }
    }

    #[test]
    fn the_svg_is_a_standalone_black_on_white_document() {
        let mut rng = rand::rng();
        let svg = qr_svg(&BookingReference::generate(&mut rng), &CheckInCode::generate(&mut rng));
        assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "{svg}");
        assert!(svg.contains(r##"fill="#fff""##) && svg.contains(r##"fill="#000""##), "{svg}");
    }
}
