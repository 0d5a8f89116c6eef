//! Content types by file extension, for the kinds of files a package mirror and its pages hold.

/// The `Content-Type` for a file name; unknown extensions are `application/octet-stream`.
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "text" | "md" | "repo" | "asc" => "text/plain; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "gz" | "tgz" => "application/gzip",
        "bz2" => "application/x-bzip2",
        "xz" => "application/x-xz",
        "zst" => "application/zstd",
        "zip" => "application/zip",
        "tar" => "application/x-tar",
        "rpm" => "application/x-rpm",
        "deb" => "application/vnd.debian.binary-package",
        "iso" => "application/x-iso9660-image",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn types_by_extension() {
        let cases = [
            ("index.html", "text/html; charset=utf-8"),
            ("README.TXT", "text/plain; charset=utf-8"),
            ("repomd.xml", "application/xml"),
            ("primary.xml.gz", "application/gzip"),
            ("pkg-1.0.rpm", "application/x-rpm"),
            ("noext", "application/octet-stream"),
            (".hidden", "application/octet-stream"),
        ];
        for (name, want) in cases {
            assert_eq!(content_type(name), want, "{name}");
        }
    }
}
