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
//! hundreds of tickets drawn this way. The SVG is written here too (see [`qr_svg`]).

use std::fmt::Write;

use cinema::booking::check_in::ticket_payload;
use cinema::booking::{BookingReference, CheckInCode};
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, bits, ec};

/// The error correction level of every ticket.
const LEVEL: EcLevel = EcLevel::M;
/// The modules of white around the code that scanners need (4 for a full-size QR code).
const QUIET_ZONE: u32 = 4;

/// The QR code of a ticket, as a standalone SVG document (black on white, a quiet zone around
/// it, about 200 px wide; it scales without blur).
///
/// Drawn here rather than by the crate's SVG renderer, which writes every dark module as a
/// rectangle in pixel units: that was 15 % of the service's CPU under booking load and 8 KB a
/// reply. Here each row's runs of dark modules are one rectangle each, in a `viewBox` of
/// module units, so the numbers are short and few (about a third of the bytes).
pub fn qr_svg(reference: &BookingReference, code: &CheckInCode) -> String {
    let (modules, width) = qr_modules(&ticket_payload(reference, code));
    let quiet = QUIET_ZONE as usize;
    let side = width + 2 * quiet;
    let pixels = side * 200_usize.div_ceil(side);
    let mut svg = format!(
        r##"<?xml version="1.0" standalone="yes"?><svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{pixels}" height="{pixels}" viewBox="0 0 {side} {side}" shape-rendering="crispEdges"><path fill="#fff" d="M0 0h{side}v{side}H0z"/><path fill="#000" d=""##
    );
    for (y, row) in modules.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|&&m| m == Color::Dark).count();
            let _ = write!(svg, "M{} {}h{run}v1h-{run}z", x + quiet, y + quiet);
            x += run;
        }
    }
    svg.push_str(r#""/></svg>"#);
    svg
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
    fn the_svg_draws_exactly_the_dark_modules_on_white() {
        let mut rng = rand::rng();
        let (reference, code) = (BookingReference::generate(&mut rng), CheckInCode::generate(&mut rng));
        let svg = qr_svg(&reference, &code);
        let (modules, width) = qr_modules(&ticket_payload(&reference, &code));
        assert!(svg.starts_with("<?xml") && svg.ends_with("</svg>"), "{svg}");
        let side = width + 2 * QUIET_ZONE as usize;
        assert!(svg.contains(&format!(r#"viewBox="0 0 {side} {side}""#)), "{svg}");
        // Paint the path's runs back onto a grid: the dark modules, no more, no less.
        let d = &svg[svg.rfind(r#"d=""#).unwrap() + 3..svg.rfind('"').unwrap()];
        let mut painted = vec![Color::Light; width * width];
        for rect in d.split('z').filter(|r| !r.is_empty()) {
            let (at, run) = rect.trim_start_matches('M').split_once('h').unwrap();
            let (x, y) = at.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let run: usize = run.split_once('v').unwrap().0.parse().unwrap();
            for dx in 0..run {
                painted[(y - 4) * width + x - 4 + dx] = Color::Dark;
            }
        }
        assert_eq!(painted, modules);
        assert!(svg.len() < 4000, "{} bytes", svg.len());
    }
}
