//! The HTML page listing a directory.

use crate::urlpath::encode;

/// An HTML listing of `url` (the directory's URL path, ending in `/`): `entries` are names and
/// whether each is a directory, shown in the given order.
pub fn html(url: &str, entries: &[(String, bool)]) -> String {
    let title = escape(url);
    let mut s = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n<body><h1>Index of {title}</h1>\n<ul>\n"
    );
    if url != "/" {
        s.push_str("<li><a href=\"../\">../</a></li>\n");
    }
    for (name, dir) in entries {
        let slash = if *dir { "/" } else { "" };
        s.push_str(&format!("<li><a href=\"{}{slash}\">{}{slash}</a></li>\n", encode(name), escape(name)));
    }
    s.push_str("</ul>\n</body></html>\n");
    s
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_escapes_names_and_marks_directories() {
        let page = html("/pub/", &[("a <b>.txt".into(), false), ("sub dir".into(), true)]);
        assert_eq!(
            page,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of /pub/</title></head>\n\
             <body><h1>Index of /pub/</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n\
             <li><a href=\"a%20%3Cb%3E.txt\">a &lt;b&gt;.txt</a></li>\n\
             <li><a href=\"sub%20dir/\">sub dir/</a></li>\n</ul>\n</body></html>\n"
        );
    }
}
