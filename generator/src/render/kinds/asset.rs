//! One of the theme's assets, `/assets/<name>.<hash>.<ext>`: copied as it is.

use cinema::site_paths;

use super::super::Renderer;

pub fn path(r: &Renderer, name: &str) -> String {
    let path = &r.assets.by_name[name].output_path;
    debug_assert!(site_paths::is_asset(path), "{path} is outside {}", site_paths::ASSETS_DIR);
    path.clone()
}

/// Its output path holds its content hash.
pub fn input_key(r: &Renderer, name: &str, h: &mut blake3::Hasher) {
    h.update(b"asset").update(r.assets.by_name[name].output_path.as_bytes());
}

pub fn render(r: &Renderer, name: &str) -> Vec<u8> {
    r.assets.by_name[name].bytes.clone()
}
