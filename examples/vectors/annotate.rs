//! The annotated hex dump of a signed grant that `docs/format.md` shows.

use consentry::cose::ObjectKind;

use super::common::DAY;

/// Where an item sits, which names its map keys and array elements.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Plain,
    Envelope,
    Protected,
    Grant,
    Scope,
    ScopeEntry,
    Access,
    DataRange,
}

/// Writes an annotated hex dump of a signed grant: one line per CBOR item header, its
/// content bytes below it, and a comment naming the item.
struct Annotator<'a> {
    bytes: &'a [u8],
    lines: Vec<(usize, String, String)>,
}

const GRANT_KEYS: [&str; 15] = [
    "version",
    "id",
    "subject",
    "expressed by",
    "consumer",
    "scope",
    "purpose",
    "purpose text",
    "issued at",
    "not before",
    "expires at",
    "access pattern",
    "data range",
    "retention (seconds)",
    "onward transfer",
];

impl Annotator<'_> {
    fn header(&self, pos: usize) -> (u8, u64, usize) {
        let b = self.bytes[pos];
        let info = b & 0x1f;
        let (arg, len) = match info {
            0..=23 => (u64::from(info), 1),
            24..=27 => {
                let n = 1usize << (info - 24);
                let arg = self.bytes[pos + 1..pos + 1 + n]
                    .iter()
                    .fold(0u64, |a, b| (a << 8) | u64::from(*b));
                (arg, 1 + n)
            }
            _ => panic!("not definite-length CBOR"),
        };
        (b >> 5, arg, len)
    }

    fn line(&mut self, depth: usize, bytes: &[u8], comment: String) {
        self.lines.push((depth, hex_spaced(bytes), comment));
    }

    fn item(&mut self, pos: usize, depth: usize, ctx: Ctx, name: &str) -> usize {
        let (major, arg, hlen) = self.header(pos);
        let head = &self.bytes[pos..pos + hlen];
        let label = |what: String| {
            if name.is_empty() {
                what
            } else {
                format!("{name}: {what}")
            }
        };
        let mut next = pos + hlen;
        match major {
            0 => {
                let v = if ctx == Ctx::Protected && name == "content type" {
                    format!(
                        "{arg} ({})",
                        ObjectKind::from_content_type(arg).map_or("?", |k| k.name())
                    )
                } else if name.contains(" at") || name.contains("before") || ctx == Ctx::DataRange {
                    format!("{arg} ({})", date(arg))
                } else {
                    arg.to_string()
                };
                self.line(depth, head, label(v));
            }
            1 => {
                let v = -1 - i128::from(arg);
                let what = if name == "alg" && v == -8 {
                    "-8 (EdDSA)".to_owned()
                } else {
                    v.to_string()
                };
                self.line(depth, head, label(what));
            }
            2 | 3 => {
                let len = usize::try_from(arg).unwrap_or(usize::MAX);
                let content = &self.bytes[next..next + len];
                let kind = if major == 2 { "bytes" } else { "text" };
                let inner = match (ctx, name) {
                    (Ctx::Envelope, "protected") => Some(Ctx::Protected),
                    (Ctx::Envelope, "payload") => Some(Ctx::Grant),
                    _ => None,
                };
                match inner {
                    Some(inner) => {
                        self.line(depth, head, label(format!("{kind}({len}), holding:")));
                        let end = self.item(next, depth + 1, inner, "");
                        assert_eq!(end, next + len);
                    }
                    None if major == 3 => {
                        self.line(depth, head, label(format!("text({len})")));
                        let text = String::from_utf8_lossy(content);
                        for (i, chunk) in content.chunks(16).enumerate() {
                            let c = if i == 0 {
                                format!("\"{text}\"")
                            } else {
                                String::new()
                            };
                            self.line(depth + 1, chunk, c);
                        }
                    }
                    None => {
                        let note = match name {
                            "kid" | "id" => format!("bytes({len})"),
                            "signature" => format!("bytes({len}): Ed25519 signature"),
                            _ if len == 16 => format!("bytes({len}): party id"),
                            _ => format!("bytes({len})"),
                        };
                        self.line(depth, head, label(note));
                        let uuid = (len == 16 && name != "kid")
                            .then(|| uuid::Uuid::from_slice(content).map(|u| u.to_string()).ok())
                            .flatten();
                        for (i, chunk) in content.chunks(16).enumerate() {
                            let c = match (&uuid, i) {
                                (Some(u), 0) => u.clone(),
                                _ => String::new(),
                            };
                            self.line(depth + 1, chunk, c);
                        }
                    }
                }
                next += len;
            }
            4 => {
                let n = usize::try_from(arg).unwrap_or(0);
                let (what, names, child): (String, Vec<&str>, Ctx) = match ctx {
                    Ctx::Envelope => (
                        format!("array({n}): COSE_Sign1"),
                        vec!["protected", "unprotected", "payload", "signature"],
                        Ctx::Envelope,
                    ),
                    Ctx::Scope => (format!("array({n})"), vec!["entry"; n], Ctx::ScopeEntry),
                    Ctx::ScopeEntry => (
                        format!("array({n})"),
                        vec!["provider", "categories"],
                        Ctx::Plain,
                    ),
                    Ctx::Access if n == 1 => {
                        (format!("array({n}): one time"), vec!["kind"], Ctx::Plain)
                    }
                    Ctx::Access => (
                        format!("array({n}): periodic"),
                        vec!["kind", "max uses", "period (seconds)"],
                        Ctx::Plain,
                    ),
                    Ctx::DataRange => {
                        (format!("array({n})"), vec!["from", "until"], Ctx::DataRange)
                    }
                    _ if name == "categories" => {
                        (format!("array({n})"), vec!["category"; n], Ctx::Plain)
                    }
                    _ => (format!("array({n})"), vec![""; n], Ctx::Plain),
                };
                self.line(depth, head, label(what));
                for nm in names.iter().take(n) {
                    next = self.item(next, depth + 1, child, nm);
                }
            }
            5 => {
                let n = usize::try_from(arg).unwrap_or(0);
                let what = match ctx {
                    Ctx::Protected => format!("map({n}): protected header"),
                    Ctx::Grant => format!("map({n}): grant payload"),
                    _ => format!("map({n})"),
                };
                self.line(depth, head, label(what));
                for _ in 0..n {
                    let (_, key, klen) = self.header(next);
                    let key_name = match ctx {
                        Ctx::Protected => match key {
                            1 => "alg",
                            3 => "content type",
                            4 => "kid",
                            _ => "?",
                        },
                        Ctx::Grant => GRANT_KEYS.get(key as usize).copied().unwrap_or("?"),
                        _ => "",
                    };
                    let kb = &self.bytes[next..next + klen];
                    self.line(depth + 1, kb, format!("key {key}: {key_name}"));
                    next += klen;
                    let vctx = match (ctx, key_name) {
                        (Ctx::Grant, "scope") => Ctx::Scope,
                        (Ctx::Grant, "access pattern") => Ctx::Access,
                        (Ctx::Grant, "data range") => Ctx::DataRange,
                        (c, _) => c,
                    };
                    next = self.item(next, depth + 2, vctx, key_name);
                }
            }
            6 => {
                self.line(depth, head, format!("tag({arg}): COSE_Sign1"));
                next = self.item(next, depth + 1, Ctx::Envelope, "");
            }
            _ => {
                let what = match head[0] {
                    0xf4 => "false",
                    0xf5 => "true",
                    0xf6 => "null",
                    _ => "simple",
                };
                self.line(depth, head, label(what.to_owned()));
            }
        }
        next
    }
}

fn hex_spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `YYYY-MM-DD` of a Unix time (days from civil, inverted).
fn date(secs: u64) -> String {
    let days = i64::try_from(secs / DAY).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The annotated hex dump of a signed grant, as `docs/format.md` shows it.
pub fn annotate(bytes: &[u8]) -> String {
    let mut a = Annotator {
        bytes,
        lines: Vec::new(),
    };
    let end = a.item(0, 0, Ctx::Plain, "");
    assert_eq!(end, bytes.len());
    let width = a
        .lines
        .iter()
        .map(|(d, h, _)| d * 2 + h.len())
        .max()
        .unwrap_or(0)
        + 2;
    let mut out = String::new();
    for (depth, hex, comment) in &a.lines {
        let left = format!("{}{}", "  ".repeat(*depth), hex);
        if comment.is_empty() {
            out.push_str(left.trim_end());
        } else {
            out.push_str(&format!("{left:width$}# {comment}"));
        }
        out.push('\n');
    }
    out
}
