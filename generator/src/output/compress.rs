//! Precompressed variants: `<file>.gz` and `<file>.br` beside each text file of the site.
//!
//! A CDN or nginx (`gzip_static`, `brotli_static`) and `tiketa-booking --site` serve these
//! files as they are, with `Content-Encoding`, so no request pays for compression. The naming,
//! `<file>.gz` and `<file>.br` beside `<file>`, is the contract with those servers.
//!
//! Levels are chosen by what a file costs against how often it is fetched. The theme's assets
//! (a handful of files, fingerprinted, loaded by every visitor) get the best levels: gzip 9 and
//! brotli 11. Pages, feeds and posters (175,000 files at 10,000 films, mostly booking pages)
//! get gzip 6 and brotli 5: on a 47 KB booking page brotli 11 takes 120 ms against 0.6 ms
//! for brotli 5, for a file 20 % smaller, and gzip 9 takes twice gzip 6's time for the same
//! size.

use std::io::Write;

/// Files this small are served as they are: with its headers the reply fits one TCP segment
/// either way, so compressing saves no packet and no round trip, while two variants would
/// triple the file count of the site (every showtime's 560-byte `calendar.ics`).
pub const MIN_SIZE: u64 = 1024;

/// Extensions of the text files worth compressing. Images other than SVG are compressed
/// already.
const TEXT_EXTENSIONS: &[&str] =
    &["html", "htm", "css", "js", "mjs", "json", "xml", "svg", "txt", "webmanifest", "map", "ics", "csv"];

pub use cinema::precompressed::Coding;

/// Compresses `bytes` in `coding`, at the level `path`'s kind of file gets (see the module
/// comment).
pub fn compress(coding: Coding, path: &str, bytes: &[u8]) -> Vec<u8> {
    let best = cinema::site_paths::is_asset(path);
    match coding {
        Coding::Gzip => {
            let level = if best { flate2::Compression::best() } else { flate2::Compression::new(6) };
            // No file name and a zero modification time in the header, so equal bytes
            // always compress to equal bytes.
            let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), level);
            encoder.write_all(bytes).expect("writing to memory cannot fail");
            encoder.finish().expect("writing to memory cannot fail")
        }
        Coding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: if best { 11 } else { 5 },
                size_hint: bytes.len(),
                lgwin: window_bits(bytes.len()),
                ..Default::default()
            };
            let mut out = Vec::with_capacity(bytes.len() / 4);
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("writing to memory cannot fail");
            out
        }
    }
}

/// Brotli's window for a file of `len` bytes: the smallest that holds the whole file, so the
/// output is the same as with the default 4 MiB window, but the encoder sets up (and zeroes)
/// buffers for the file's size rather than for 4 MiB. At 16 bits and under, quality 5 switches
/// to a slower match finder, hence the floor of 17 (128 KiB). On an 11 KB booking page this
/// takes brotli from about 590 to 240 microseconds; the encoder's buffers were a third of a
/// cold build's CPU.
fn window_bits(len: usize) -> i32 {
    const FLOOR: u32 = 17;
    const CEILING: u32 = 24;
    let needed = usize::BITS - len.saturating_sub(1).leading_zeros();
    needed.clamp(FLOOR, CEILING) as i32
}

/// Whether a file at `path` of `len` bytes gets precompressed variants.
pub fn wants_variants(path: &str, len: u64) -> bool {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    len >= MIN_SIZE && ext.is_some_and(|e| TEXT_EXTENSIONS.contains(&e.as_str()))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn text_files_over_the_threshold_get_variants() {
        assert!(wants_variants("book/a/index.html", 1100));
        assert!(wants_variants("assets/site.0123456789.CSS", 1100));
        assert!(wants_variants("api/schedule.json", 1024));
        assert!(!wants_variants("robots.txt", 87), "too small to pay");
        assert!(!wants_variants("book/a/calendar.ics", 563), "fits one packet either way");
        assert!(!wants_variants("posters/akira.jpg", 90_000), "compressed already");
        assert!(!wants_variants("assets/favicon.png", 5_000));
        assert!(!wants_variants("noextension", 5_000));
    }

    #[test]
    fn the_brotli_window_holds_the_whole_file() {
        assert_eq!(window_bits(11_000), 17, "the floor");
        assert_eq!(window_bits(1 << 17), 17);
        assert_eq!(window_bits((1 << 17) + 1), 18);
        assert_eq!(window_bits(40_000_000), 24, "brotli's largest");
        let page = "<p>Now Showing, Forever</p>\n".repeat(10_000).into_bytes();
        let default_window = brotli::enc::BrotliEncoderParams { quality: 5, ..Default::default() };
        let mut expected = Vec::new();
        brotli::BrotliCompress(&mut &page[..], &mut expected, &default_window).unwrap();
        let ours = compress(Coding::Brotli, "book/a/index.html", &page);
        assert!(
            ours.len() <= expected.len() + 4,
            "{} bytes against {} with a 4 MiB window",
            ours.len(),
            expected.len()
        );
    }

    #[test]
    fn variants_decompress_to_the_file_and_are_reproducible() {
        let page = "<p>Now Showing, Forever</p>\n".repeat(100).into_bytes();
        for path in ["index.html", "assets/site.css"] {
            let gz = compress(Coding::Gzip, path, &page);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
            assert_eq!(back, page);
            let br = compress(Coding::Brotli, path, &page);
            let mut back = Vec::new();
            brotli::Decompressor::new(&br[..], 4096).read_to_end(&mut back).unwrap();
            assert_eq!(back, page);
            assert!(gz.len() < page.len() / 10 && br.len() < page.len() / 10);
            assert_eq!(compress(Coding::Gzip, path, &page), gz, "a build's variants do not depend on the moment");
        }
        assert_eq!(Coding::Gzip.variant_of("index.html"), "index.html.gz");
        assert_eq!(Coding::Brotli.variant_of("index.html"), "index.html.br");
    }
}
