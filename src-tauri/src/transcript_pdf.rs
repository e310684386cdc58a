//! A transcript as a PDF: A4 pages, DejaVu Sans embedded (subset by krilla), every line shaped
//! by rustybuzz and laid out in visual order by the Unicode bidirectional algorithm
//! (`unicode-bidi`), so Arabic and Persian letters join and a right-to-left conversation is
//! right-aligned with its Latin names and digits the right way round. Lines wrap at spaces,
//! measured with the same shaping that draws them; a word wider than the page breaks where it
//! must. Internal notes (when exported) are drawn in a different colour.

use std::ops::Range;

use krilla::{
    color::rgb,
    geom::Point,
    num::NormalizedF32,
    page::PageSettings,
    paint::Fill,
    text::{Font, GlyphId, KrillaGlyph},
    Document,
};
use switchboard_core::transcripts::{Direction, TranscriptDoc};
use switchboard_proto::MessageKind;
use unicode_bidi::{BidiInfo, Level};

/// DejaVu Sans from Debian's `fonts-dejavu-core` (its licence: `/usr/share/doc/fonts-dejavu-core/copyright`,
/// a permissive Bitstream Vera derivative that allows embedding): Latin, Greek, Cyrillic, Arabic and
/// Persian in one face.
const FONT: &[u8] = include_bytes!("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const BODY_SIZE: f32 = 10.5;
const TITLE_SIZE: f32 = 14.0;
const LINE_GAP: f32 = 1.45;

/// A paragraph's look.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    Title,
    Heading,
    Body,
    Note,
    Activity,
}

impl Style {
    fn size(self) -> f32 {
        if self == Style::Title {
            TITLE_SIZE
        } else {
            BODY_SIZE
        }
    }

    fn color(self) -> rgb::Color {
        match self {
            Style::Title | Style::Body => rgb::Color::new(20, 20, 20),
            Style::Heading | Style::Activity => rgb::Color::new(100, 100, 100),
            Style::Note => rgb::Color::new(150, 90, 0),
        }
    }
}

/// Text shaped in one direction: the glyphs krilla draws and their width at 1 pt.
struct Shaped {
    glyphs: Vec<KrillaGlyph>,
    width: f32,
}

struct Shaper<'a> {
    face: rustybuzz::Face<'a>,
    units_per_em: f32,
}

impl<'a> Shaper<'a> {
    fn new(data: &'a [u8]) -> Option<Self> {
        let face = rustybuzz::Face::from_slice(data, 0)?;
        let units_per_em = face.units_per_em() as f32;
        Some(Shaper { face, units_per_em })
    }

    fn shape(&self, text: &str, rtl: bool) -> Shaped {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        buffer.set_direction(if rtl {
            rustybuzz::Direction::RightToLeft
        } else {
            rustybuzz::Direction::LeftToRight
        });
        let output = rustybuzz::shape(&self.face, &[], buffer);
        let infos = output.glyph_infos();
        let positions = output.glyph_positions();
        // Each cluster's text runs to the next cluster that starts after it.
        let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let range_of = |start: usize| -> Range<usize> {
            let end = starts.iter().copied().find(|s| *s > start).unwrap_or(text.len());
            start..end
        };
        let mut width = 0.0;
        let glyphs = infos
            .iter()
            .zip(positions)
            .map(|(info, pos)| {
                let upem = self.units_per_em;
                width += pos.x_advance as f32 / upem;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / upem,
                    pos.x_offset as f32 / upem,
                    pos.y_offset as f32 / upem,
                    pos.y_advance as f32 / upem,
                    range_of(info.cluster as usize),
                    None,
                )
            })
            .collect();
        Shaped { glyphs, width }
    }

    /// The width of a logical line at 1 pt, its runs each shaped in their own direction.
    fn line_width(&self, line: &str, base: Level) -> f32 {
        visual_runs(line, base).iter().map(|(range, rtl)| self.shape(&line[range.clone()], *rtl).width).sum()
    }
}

/// A line's runs in visual order (left to right on the page), each with whether it is
/// right-to-left.
fn visual_runs(line: &str, base: Level) -> Vec<(Range<usize>, bool)> {
    if line.is_empty() {
        return Vec::new();
    }
    let info = BidiInfo::new(line, Some(base));
    let Some(paragraph) = info.paragraphs.first() else { return Vec::new() };
    let (levels, runs) = info.visual_runs(paragraph, paragraph.range.clone());
    runs.into_iter().map(|run| (run.clone(), levels[run.start].is_rtl())).collect()
}

/// Greedy wrapping at spaces; a word wider than the line alone is cut between characters.
fn wrap(shaper: &Shaper, text: &str, size: f32, width: f32, base: Level) -> Vec<String> {
    let fits = |candidate: &str| shaper.line_width(candidate, base) * size <= width;
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
        if fits(&candidate) {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if fits(word) {
            current = word.to_owned();
            continue;
        }
        for c in word.chars() {
            let mut next = current.clone();
            next.push(c);
            if !current.is_empty() && !fits(&next) {
                lines.push(std::mem::take(&mut current));
                next = c.to_string();
            }
            current = next;
        }
    }
    lines.push(current);
    lines
}

/// The paragraphs of a transcript with their look, in reading order.
fn paragraphs(doc: &TranscriptDoc) -> Vec<(Style, String)> {
    let mut out = Vec::new();
    let heading = doc.heading();
    let mut heading = heading.into_iter();
    if let Some(title) = heading.next() {
        out.push((Style::Title, title));
    }
    out.extend(heading.map(|line| (Style::Heading, line)));
    out.push((Style::Heading, String::new()));
    for message in &doc.messages {
        let style = match message.kind {
            MessageKind::Note => Style::Note,
            MessageKind::Activity => Style::Activity,
            _ => Style::Body,
        };
        let mut lines = message.body.lines();
        let first = lines.next().unwrap_or_default();
        out.push((style, format!("{} {first}", TranscriptDoc::prefix(message))));
        out.extend(lines.map(|line| (style, line.to_owned())));
        for attachment in &message.attachments {
            out.push((
                Style::Activity,
                format!(
                    "📎 {} ({})",
                    attachment.file_name,
                    switchboard_core::transcripts::size_text(attachment.size)
                ),
            ));
        }
        out.push((Style::Body, String::new()));
    }
    out
}

/// The transcript as PDF bytes.
pub fn render(doc: &TranscriptDoc) -> Result<Vec<u8>, String> {
    let shaper = Shaper::new(FONT).ok_or("the PDF font could not be read")?;
    let font = Font::new(FONT.to_vec().into(), 0).ok_or("the PDF font could not be read")?;
    let base = if doc.direction == Direction::Rtl { Level::rtl() } else { Level::ltr() };
    let text_width = PAGE_WIDTH - 2.0 * MARGIN;

    // Lay out every line first, then draw page by page.
    let mut lines: Vec<(Style, String)> = Vec::new();
    for (style, text) in paragraphs(doc) {
        for line in wrap(&shaper, &text, style.size(), text_width, base) {
            lines.push((style, line));
        }
    }

    let mut document = Document::new();
    let settings = || PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("bad page size");
    let mut remaining = lines.as_slice();
    while !remaining.is_empty() {
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        let mut y = MARGIN;
        while let Some(((style, line), rest)) = remaining.split_first() {
            let size = style.size();
            let advance = size * LINE_GAP;
            if y + advance > PAGE_HEIGHT - MARGIN && y > MARGIN {
                break;
            }
            y += advance;
            surface.set_fill(Some(Fill {
                paint: style.color().into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            let runs: Vec<(Range<usize>, Shaped)> = visual_runs(line, base)
                .into_iter()
                .map(|(range, rtl)| {
                    let shaped = shaper.shape(&line[range.clone()], rtl);
                    (range, shaped)
                })
                .collect();
            let width: f32 = runs.iter().map(|(_, s)| s.width * size).sum();
            let mut x = if base.is_rtl() { PAGE_WIDTH - MARGIN - width } else { MARGIN };
            for (range, shaped) in runs {
                surface.draw_glyphs(
                    Point::from_xy(x, y),
                    &shaped.glyphs,
                    font.clone(),
                    &line[range],
                    size,
                    false,
                );
                x += shaped.width * size;
            }
            remaining = rest;
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("the PDF could not be written: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::transcripts::*;
    use switchboard_proto::Channel;

    fn doc(direction: Direction, bodies: &[&str]) -> TranscriptDoc {
        TranscriptDoc {
            format: JSON_FORMAT,
            conversation_id: uuid::Uuid::nil(),
            subject: None,
            contact: TranscriptContact { name: "سارا احمدی".into(), phone: None, email: None },
            inbox: TranscriptInbox { name: "Support".into(), channel: Channel::Whatsapp },
            direction,
            time_zone: "UTC".into(),
            exported_at: 0,
            includes_notes: false,
            messages: bodies
                .iter()
                .map(|body| TranscriptMessage {
                    id: uuid::Uuid::nil(),
                    created_at: 0,
                    time: "2026-11-30 10:00".into(),
                    kind: MessageKind::Incoming,
                    sender: TranscriptSender {
                        kind: SenderKind::Contact, name: "سارا احمدی".into()
                    },
                    body: (*body).into(),
                    attachments: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn a_pdf_is_written_with_the_font_embedded() {
        let bytes = render(&doc(Direction::Ltr, &["Hello, my invoice is wrong"])).expect("a PDF");
        assert!(bytes.starts_with(b"%PDF-"), "a PDF header");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("DejaVu"), "the font is embedded by name");
    }

    #[test]
    fn arabic_letters_are_shaped_into_their_joined_forms() {
        let shaper = Shaper::new(FONT).expect("font");
        // "سلام": the shaped glyphs are the contextual forms, not the isolated letters.
        let shaped = shaper.shape("سلام", true);
        let isolated: Vec<u32> =
            "سلام".chars().map(|c| shaper.face.glyph_index(c).map_or(0, |g| u32::from(g.0))).collect();
        let drawn: Vec<u32> = shaped.glyphs.iter().map(|g| g.glyph_id.to_u32()).collect();
        // Drawn left to right: meem (alone, after alef), the lam-alef ligature, seen's initial form.
        assert_eq!(drawn.len(), 3, "lam and alef join into one ligature: {drawn:?}");
        assert_eq!(drawn[0], isolated[3], "meem after alef stands alone, drawn leftmost: {drawn:?}");
        assert!(!isolated.contains(&drawn[1]), "lam-alef is a ligature glyph: {drawn:?} vs {isolated:?}");
        assert_ne!(drawn[2], isolated[0], "seen takes its initial form: {drawn:?} vs {isolated:?}");
    }

    #[test]
    fn an_rtl_line_keeps_latin_and_digits_left_to_right_inside_it() {
        let runs = visual_runs("فاکتور INV-42 اشتباه است", Level::rtl());
        let line = "فاکتور INV-42 اشتباه است";
        let texts: Vec<(&str, bool)> = runs.iter().map(|(r, rtl)| (line[r.clone()].trim(), *rtl)).collect();
        // Visual order, left to right: the last Persian words, the Latin code, the first word.
        assert_eq!(texts.first().map(|t| t.1), Some(true));
        assert!(texts.iter().any(|(t, rtl)| t.contains("INV-42") && !rtl), "{texts:?}");
        assert_eq!(texts.last().map(|(t, _)| *t), Some("فاکتور"), "{texts:?}");
    }

    #[test]
    fn long_lines_wrap_within_the_page() {
        let shaper = Shaper::new(FONT).expect("font");
        let width = PAGE_WIDTH - 2.0 * MARGIN;
        let long = "word ".repeat(200);
        let lines = wrap(&shaper, long.trim(), BODY_SIZE, width, Level::ltr());
        assert!(lines.len() > 5, "wrapped into many lines: {}", lines.len());
        for line in &lines {
            assert!(shaper.line_width(line, Level::ltr()) * BODY_SIZE <= width, "{line}");
        }
        let unbroken = "x".repeat(500);
        let cut = wrap(&shaper, &unbroken, BODY_SIZE, width, Level::ltr());
        assert!(cut.len() > 1 && cut.concat() == unbroken, "a long word is cut, nothing lost");
    }

    #[test]
    fn many_messages_run_onto_more_pages() {
        let bodies: Vec<String> = (0..200).map(|i| format!("message number {i}")).collect();
        let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let bytes = render(&doc(Direction::Rtl, &refs)).expect("a PDF");
        let text = String::from_utf8_lossy(&bytes);
        let count: usize = text
            .split("/Count ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .expect("the page tree counts its pages");
        assert!(count > 1, "200 messages need more than one page: {count}");
    }
}
