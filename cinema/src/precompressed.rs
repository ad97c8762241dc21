//! Precompressed files: the contract between the generator, which writes `<file>.gz` and
//! `<file>.br` beside each text file of the site, and whatever serves them (`tiketa-booking
//! --site`, nginx's `gzip_static`/`brotli_static`, a CDN). One enum, so the two sides cannot
//! name the variants differently.

/// A content coding of a precompressed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// Every coding the generator writes a variant for.
    pub const ALL: [Coding; 2] = [Coding::Gzip, Coding::Brotli];

    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// The suffix of the precompressed file beside the original (`site.css.br`).
    pub fn file_suffix(self) -> &'static str {
        match self {
            Coding::Brotli => ".br",
            Coding::Gzip => ".gz",
        }
    }

    /// The variant's path: `<path>.gz` or `<path>.br`.
    pub fn variant_of(self, path: &str) -> String {
        format!("{path}{}", self.file_suffix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_sit_beside_their_file() {
        assert_eq!(Coding::Gzip.variant_of("index.html"), "index.html.gz");
        assert_eq!(Coding::Brotli.variant_of("index.html"), "index.html.br");
        assert_eq!((Coding::Gzip.token(), Coding::Brotli.token()), ("gzip", "br"));
    }
}
