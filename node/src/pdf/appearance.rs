//! The visible seal: what a signature widget shows on the page.
//!
//! Two kinds:
//!
//! - [`RoundSeal`]: the classic red round company seal, drawn as PDF vector operators — a red
//!   ring, a five-pointed star in the centre, the legal name along the upper arc and the
//!   USCC (or another short line) under the star.
//! - [`SealImage`]: an image the party registered (JPEG, or 8-bit non-interlaced PNG).
//!
//! # Text and Chinese names
//!
//! Latin text is set in the standard-14 font Helvetica (WinAnsi encoding), which every PDF
//! reader has, so nothing is embedded: only printable ASCII can be drawn that way.
//!
//! A name with Chinese characters is drawn from **glyph outlines**: the caller passes the
//! bytes of an OpenType/TrueType font it has (e.g. Noto Sans CJK SC from the system, read by
//! the node, not by this module) to [`RoundSeal::with_font`], and each character of the name
//! becomes filled vector paths in the appearance stream. Nothing of the font is embedded, so
//! the file stays small and no font licence question arises; the limits are that the seal's
//! name is not extractable or searchable as text (the signer's certificate carries it, in
//! UTF-8, and validators display that), and that a character the font lacks is refused
//! ([`PdfError::SealText`]). Without a font, [`RoundSeal::new`] draws the Latin name the
//! caller supplies (e.g. the registered English name) or refuses. A party that wants its
//! exact registered seal uses a [`SealImage`].

use std::f32::consts::PI;
use std::fmt::Write as _;

use lopdf::{Dictionary, Object, Stream};

use super::PdfError;

/// The seal red, as RGB.
const RED: (f32, f32, f32) = (0.85, 0.0, 0.0);
/// The widest arc the name may span, in radians (240 degrees, centred on the top).
const MAX_NAME_ARC: f32 = 240.0 * PI / 180.0;
/// The largest seal image accepted, in bytes.
pub const MAX_IMAGE_SIZE: usize = 4 * 1024 * 1024;
/// The most pixels a PNG with alpha may have (it is inflated in memory).
pub const MAX_IMAGE_PIXELS: u64 = 4096 * 4096;

/// What a signature widget shows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Appearance {
    /// A round seal drawn from text.
    RoundSeal(RoundSeal),
    /// A registered seal image.
    Image(SealImage),
}

/// A red round company seal.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundSeal {
    name: String,
    bottom_line: String,
    /// The name's glyph outlines, when drawn from a font rather than Helvetica.
    glyphs: Option<Vec<Glyph>>,
}

/// One glyph's outline, in em units (1.0 = the font size).
#[derive(Debug, Clone, PartialEq)]
struct Glyph {
    advance: f32,
    path: Vec<PathOp>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PathOp {
    Move(f32, f32),
    Line(f32, f32),
    Cubic(f32, f32, f32, f32, f32, f32),
    Close,
}

/// Collects a glyph outline as PDF path operations (quadratic curves raised to cubic).
struct OutlineCollector {
    scale: f32,
    current: (f32, f32),
    ops: Vec<PathOp>,
}

impl ttf_parser::OutlineBuilder for OutlineCollector {
    fn move_to(&mut self, x: f32, y: f32) {
        self.current = (x * self.scale, y * self.scale);
        self.ops.push(PathOp::Move(self.current.0, self.current.1));
    }

    fn line_to(&mut self, x: f32, y: f32) {
        self.current = (x * self.scale, y * self.scale);
        self.ops.push(PathOp::Line(self.current.0, self.current.1));
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x0, y0) = self.current;
        let (qx, qy) = (x1 * self.scale, y1 * self.scale);
        let (x, y) = (x * self.scale, y * self.scale);
        self.ops.push(PathOp::Cubic(
            x0 + 2.0 / 3.0 * (qx - x0),
            y0 + 2.0 / 3.0 * (qy - y0),
            x + 2.0 / 3.0 * (qx - x),
            y + 2.0 / 3.0 * (qy - y),
            x,
            y,
        ));
        self.current = (x, y);
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let s = self.scale;
        self.current = (x * s, y * s);
        self.ops
            .push(PathOp::Cubic(x1 * s, y1 * s, x2 * s, y2 * s, x * s, y * s));
    }

    fn close(&mut self) {
        self.ops.push(PathOp::Close);
    }
}

impl RoundSeal {
    /// A seal showing `legal_name` along the arc and `bottom_line` (usually the USCC) under
    /// the star.
    ///
    /// When `legal_name` has characters Helvetica cannot draw (anything but printable
    /// ASCII), `latin_name` is drawn instead (see the module documentation).
    ///
    /// # Errors
    ///
    /// [`PdfError::SealText`] when the text to draw is empty, longer than 120 characters, or
    /// not printable ASCII.
    pub fn new(
        legal_name: &str,
        bottom_line: &str,
        latin_name: Option<&str>,
    ) -> Result<Self, PdfError> {
        let name = if is_drawable(legal_name) {
            legal_name
        } else {
            latin_name.unwrap_or(legal_name)
        };
        let name = name.trim();
        if name.is_empty() || name.len() > 120 {
            return Err(PdfError::SealText(
                "the name must have 1 to 120 characters".into(),
            ));
        }
        if !is_drawable(name) {
            return Err(PdfError::SealText(
                "the name has characters outside printable ascii and no latin name was given"
                    .into(),
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            bottom_line: check_bottom_line(bottom_line)?,
            glyphs: None,
        })
    }

    /// A seal whose name is drawn from the glyph outlines of `font` (OpenType or TrueType
    /// bytes; `face_index` selects a face in a collection such as a `.ttc`), for names
    /// Helvetica cannot draw. See the module documentation for the limits.
    ///
    /// # Errors
    ///
    /// [`PdfError::SealText`] when the font does not parse, lacks a glyph of the name, or
    /// the name or bottom line is empty or too long (the bottom line must be printable ASCII).
    pub fn with_font(
        legal_name: &str,
        bottom_line: &str,
        font: &[u8],
        face_index: u32,
    ) -> Result<Self, PdfError> {
        let name = legal_name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(PdfError::SealText(
                "the name must have 1 to 60 characters".into(),
            ));
        }
        let face = ttf_parser::Face::parse(font, face_index)
            .map_err(|error| PdfError::SealText(format!("the font does not parse: {error}")))?;
        let glyphs = name
            .chars()
            .map(|c| glyph(&face, c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: name.to_owned(),
            bottom_line: check_bottom_line(bottom_line)?,
            glyphs: Some(glyphs),
        })
    }

    /// The content stream drawing the seal centred in a `width` × `height` box.
    fn content(&self, width: f32, height: f32) -> Vec<u8> {
        let radius = width.min(height) / 2.0;
        let (cx, cy) = (width / 2.0, height / 2.0);
        let mut ops = String::new();
        let (r, g, b) = RED;
        let _ = writeln!(ops, "q {r} {g} {b} RG {r} {g} {b} rg");
        ring(&mut ops, cx, cy, radius);
        star(&mut ops, cx, cy, radius * 0.3);
        match &self.glyphs {
            Some(glyphs) => outline_arc(&mut ops, glyphs, cx, cy, radius),
            None => self.name_arc(&mut ops, cx, cy, radius),
        }
        if !self.bottom_line.is_empty() {
            bottom_text(
                &mut ops,
                &self.bottom_line,
                cx,
                cy - radius * 0.5,
                radius * 1.3,
                radius * 0.13,
            );
        }
        ops.push_str("Q\n");
        ops.into_bytes()
    }

    /// The name along the upper arc, left to right, each glyph upright towards the rim.
    fn name_arc(&self, ops: &mut String, cx: f32, cy: f32, radius: f32) {
        let text_radius = radius * 0.68;
        let mut size = radius * 0.2;
        let spacing = 0.08; // of the font size, between glyphs
        let em_width = |s: f32| text_width(&self.name, s) + spacing * s * self.name.len() as f32;
        let arc = em_width(size) / text_radius;
        if arc > MAX_NAME_ARC {
            size *= MAX_NAME_ARC / arc;
        }
        let arc = em_width(size) / text_radius;
        let mut angle = PI / 2.0 + arc / 2.0;
        let _ = writeln!(ops, "BT /F1 {size:.2} Tf 2 Tr {:.2} w", size * 0.04);
        for ch in self.name.chars() {
            let advance = glyph_width(ch) * size / 1000.0;
            let step = (advance + spacing * size) / text_radius;
            let centre = angle - step / 2.0;
            let tilt = centre - PI / 2.0;
            let (sin, cos) = tilt.sin_cos();
            let px = cx + text_radius * centre.cos() - advance / 2.0 * cos;
            let py = cy + text_radius * centre.sin() - advance / 2.0 * sin;
            let _ = writeln!(
                ops,
                "{cos:.4} {sin:.4} {:.4} {cos:.4} {px:.2} {py:.2} Tm ({}) Tj",
                -sin,
                escape(&ch.to_string())
            );
            angle -= step;
        }
        ops.push_str("ET\n");
    }
}

/// A registered seal image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealImage {
    width: u32,
    height: u32,
    dictionary: Vec<(&'static str, ImageValue)>,
    data: Vec<u8>,
    /// The alpha channel, zlib-compressed 8-bit gray, for PNGs with alpha.
    soft_mask: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ImageValue {
    Name(&'static str),
    Integer(i64),
    Parms { colors: i64, columns: i64 },
}

impl SealImage {
    /// A JPEG (baseline or progressive; gray, RGB or CMYK), embedded as is (DCTDecode).
    ///
    /// # Errors
    ///
    /// [`PdfError::Image`] when the bytes are not such a JPEG or are too large.
    pub fn jpeg(bytes: &[u8]) -> Result<Self, PdfError> {
        if bytes.len() > MAX_IMAGE_SIZE {
            return Err(PdfError::Image("the image is larger than 4 MiB"));
        }
        let (width, height, components) = jpeg_frame(bytes).ok_or(PdfError::Image("not a jpeg"))?;
        let space = match components {
            1 => "DeviceGray",
            3 => "DeviceRGB",
            4 => "DeviceCMYK",
            _ => return Err(PdfError::Image("unsupported jpeg colour components")),
        };
        Ok(Self {
            width,
            height,
            dictionary: vec![
                ("ColorSpace", ImageValue::Name(space)),
                ("BitsPerComponent", ImageValue::Integer(8)),
                ("Filter", ImageValue::Name("DCTDecode")),
            ],
            data: bytes.to_vec(),
            soft_mask: None,
        })
    }

    /// A PNG, 8 bits per channel, gray or RGB, with or without alpha, not interlaced.
    /// Without alpha its compressed data is embedded as is (FlateDecode with PNG
    /// predictors); with alpha it is inflated (at most [`MAX_IMAGE_PIXELS`] pixels), split
    /// into colour and a soft mask, and compressed again.
    ///
    /// # Errors
    ///
    /// [`PdfError::Image`] for any other PNG (palette, 16 bits, interlaced), a corrupt or
    /// oversized one, or bytes that are not a PNG.
    pub fn png(bytes: &[u8]) -> Result<Self, PdfError> {
        if bytes.len() > MAX_IMAGE_SIZE {
            return Err(PdfError::Image("the image is larger than 4 MiB"));
        }
        let png = parse_png(bytes)?;
        let (space, colors) = match png.colour_type {
            0 | 4 => ("DeviceGray", 1),
            2 | 6 => ("DeviceRGB", 3),
            _ => return Err(PdfError::Image("palette pngs are not supported")),
        };
        let mut dictionary = vec![
            ("ColorSpace", ImageValue::Name(space)),
            ("BitsPerComponent", ImageValue::Integer(8)),
            ("Filter", ImageValue::Name("FlateDecode")),
        ];
        if matches!(png.colour_type, 0 | 2) {
            dictionary.push((
                "DecodeParms",
                ImageValue::Parms {
                    colors,
                    columns: i64::from(png.width),
                },
            ));
            return Ok(Self {
                width: png.width,
                height: png.height,
                dictionary,
                data: png.idat,
                soft_mask: None,
            });
        }
        let (colour, alpha) = split_alpha(&png, if colors == 1 { 1 } else { 3 })?;
        Ok(Self {
            width: png.width,
            height: png.height,
            dictionary,
            data: deflate(&colour)?,
            soft_mask: Some(deflate(&alpha)?),
        })
    }

    /// The image XObject, and its soft mask if any (to be referenced as `/SMask`).
    fn streams(&self) -> ImageStreams {
        let soft_mask = self.soft_mask.as_ref().map(|alpha| {
            let mut dict = Dictionary::new();
            dict.set("Type", Object::Name(b"XObject".to_vec()));
            dict.set("Subtype", Object::Name(b"Image".to_vec()));
            dict.set("Width", Object::Integer(i64::from(self.width)));
            dict.set("Height", Object::Integer(i64::from(self.height)));
            dict.set("ColorSpace", Object::Name(b"DeviceGray".to_vec()));
            dict.set("BitsPerComponent", Object::Integer(8));
            dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
            Stream::new(dict, alpha.clone()).with_compression(false)
        });
        ImageStreams {
            image: self.stream(),
            soft_mask,
        }
    }

    fn stream(&self) -> Stream {
        let mut dict = Dictionary::new();
        dict.set("Type", Object::Name(b"XObject".to_vec()));
        dict.set("Subtype", Object::Name(b"Image".to_vec()));
        dict.set("Width", Object::Integer(i64::from(self.width)));
        dict.set("Height", Object::Integer(i64::from(self.height)));
        for (key, value) in &self.dictionary {
            let object = match value {
                ImageValue::Name(name) => Object::Name(name.as_bytes().to_vec()),
                ImageValue::Integer(n) => Object::Integer(*n),
                ImageValue::Parms { colors, columns } => {
                    let mut parms = Dictionary::new();
                    parms.set("Predictor", Object::Integer(15));
                    parms.set("Colors", Object::Integer(*colors));
                    parms.set("BitsPerComponent", Object::Integer(8));
                    parms.set("Columns", Object::Integer(*columns));
                    Object::Dictionary(parms)
                }
            };
            dict.set(*key, object);
        }
        Stream::new(dict, self.data.clone()).with_compression(false)
    }

    /// Draws the image scaled to fit, centred, keeping its aspect ratio.
    fn content(&self, width: f32, height: f32) -> Vec<u8> {
        let (iw, ih) = (self.width as f32, self.height as f32);
        let scale = (width / iw).min(height / ih);
        let (w, h) = (iw * scale, ih * scale);
        let (x, y) = ((width - w) / 2.0, (height - h) / 2.0);
        format!("q {w:.2} 0 0 {h:.2} {x:.2} {y:.2} cm /Im1 Do Q\n").into_bytes()
    }
}

/// The parts of an appearance stream (a Form XObject) before they become PDF objects.
#[derive(Debug)]
pub(crate) struct Rendered {
    /// The content stream.
    pub(crate) content: Vec<u8>,
    /// Whether `/F1` (Helvetica) must be in the resources.
    pub(crate) helvetica: bool,
    /// The image XObject `/Im1` to add to the resources, if any.
    pub(crate) image: Option<ImageStreams>,
}

/// An image XObject and its optional soft mask.
#[derive(Debug)]
pub(crate) struct ImageStreams {
    /// The image; the caller sets `/SMask` to the soft mask's reference.
    pub(crate) image: Stream,
    /// The soft mask (alpha), if any.
    pub(crate) soft_mask: Option<Stream>,
}

impl Appearance {
    /// Renders the appearance for a `width` × `height` widget.
    pub(crate) fn render(&self, width: f32, height: f32) -> Rendered {
        match self {
            Self::RoundSeal(seal) => Rendered {
                content: seal.content(width, height),
                helvetica: true,
                image: None,
            },
            Self::Image(image) => Rendered {
                content: image.content(width, height),
                helvetica: false,
                image: Some(image.streams()),
            },
        }
    }
}

/// The Helvetica font dictionary (standard 14, WinAnsi).
pub(crate) fn helvetica() -> Dictionary {
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Subtype", Object::Name(b"Type1".to_vec()));
    font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
    font.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
    font
}

/// A circle ring of outer radius `radius` (four Bézier arcs, kappa 0.5523).
fn ring(ops: &mut String, cx: f32, cy: f32, radius: f32) {
    let width = radius * 0.075;
    let r = radius - width / 2.0;
    let k = r * 0.552_284_8;
    let _ = writeln!(
        ops,
        "{width:.2} w {x0:.2} {cy:.2} m {x0:.2} {a:.2} {b:.2} {y1:.2} {cx:.2} {y1:.2} c \
         {c:.2} {y1:.2} {x1:.2} {a:.2} {x1:.2} {cy:.2} c {x1:.2} {d:.2} {c:.2} {y0:.2} {cx:.2} {y0:.2} c \
         {b:.2} {y0:.2} {x0:.2} {d:.2} {x0:.2} {cy:.2} c s",
        x0 = cx - r,
        x1 = cx + r,
        y0 = cy - r,
        y1 = cy + r,
        a = cy + k,
        b = cx - k,
        c = cx + k,
        d = cy - k,
    );
}

/// A filled five-pointed star, one point up.
fn star(ops: &mut String, cx: f32, cy: f32, outer: f32) {
    let inner = outer * 0.382;
    for i in 0..10 {
        let r = if i % 2 == 0 { outer } else { inner };
        let angle = PI / 2.0 + i as f32 * PI / 5.0;
        let (x, y) = (cx + r * angle.cos(), cy + r * angle.sin());
        let _ = write!(ops, "{x:.2} {y:.2} {} ", if i == 0 { "m" } else { "l" });
    }
    ops.push_str("h f\n");
}

/// A centred horizontal line of text, shrunk to fit `max_width`.
fn bottom_text(ops: &mut String, text: &str, cx: f32, y: f32, max_width: f32, size: f32) {
    let size = size.min(size * max_width / text_width(text, size).max(f32::EPSILON));
    let x = cx - text_width(text, size) / 2.0;
    let _ = writeln!(
        ops,
        "BT /F1 {size:.2} Tf 0 Tr {x:.2} {y:.2} Td ({}) Tj ET",
        escape(text)
    );
}

fn check_bottom_line(bottom_line: &str) -> Result<String, PdfError> {
    let bottom_line = bottom_line.trim();
    if bottom_line.len() > 40 || !is_drawable(bottom_line) {
        return Err(PdfError::SealText(
            "the bottom line must be printable ascii, at most 40 characters".into(),
        ));
    }
    Ok(bottom_line.to_owned())
}

fn glyph(face: &ttf_parser::Face<'_>, c: char) -> Result<Glyph, PdfError> {
    let missing = || PdfError::SealText(format!("the font has no glyph for {c:?}"));
    let id = face.glyph_index(c).ok_or_else(missing)?;
    let scale = 1.0 / f32::from(face.units_per_em().max(1));
    let mut collector = OutlineCollector {
        scale,
        current: (0.0, 0.0),
        ops: Vec::new(),
    };
    // A glyph without an outline (a space) draws nothing but still advances.
    let _ = face.outline_glyph(id, &mut collector);
    let advance = f32::from(face.glyph_hor_advance(id).unwrap_or(0)) * scale;
    Ok(Glyph {
        advance,
        path: collector.ops,
    })
}

/// Glyph outlines along the upper arc, each upright towards the rim, filled (nonzero).
fn outline_arc(ops: &mut String, glyphs: &[Glyph], cx: f32, cy: f32, radius: f32) {
    let text_radius = radius * 0.66;
    let spacing = 0.05;
    let total = |size: f32| {
        glyphs
            .iter()
            .map(|g| (g.advance + spacing) * size)
            .sum::<f32>()
    };
    let mut size = radius * 0.26;
    let arc = total(size) / text_radius;
    if arc > MAX_NAME_ARC {
        size *= MAX_NAME_ARC / arc;
    }
    let arc = total(size) / text_radius;
    let mut angle = PI / 2.0 + arc / 2.0;
    for glyph in glyphs {
        let advance = glyph.advance * size;
        let step = (advance + spacing * size) / text_radius;
        let centre = angle - step / 2.0;
        let (sin, cos) = (centre - PI / 2.0).sin_cos();
        let px = cx + text_radius * centre.cos() - advance / 2.0 * cos;
        let py = cy + text_radius * centre.sin() - advance / 2.0 * sin;
        let (a, b, c, d) = (cos * size, sin * size, -sin * size, cos * size);
        let _ = writeln!(ops, "q {a:.4} {b:.4} {c:.4} {d:.4} {px:.2} {py:.2} cm");
        for op in &glyph.path {
            let _ = match *op {
                PathOp::Move(x, y) => write!(ops, "{x:.4} {y:.4} m "),
                PathOp::Line(x, y) => write!(ops, "{x:.4} {y:.4} l "),
                PathOp::Cubic(x1, y1, x2, y2, x, y) => {
                    write!(ops, "{x1:.4} {y1:.4} {x2:.4} {y2:.4} {x:.4} {y:.4} c ")
                }
                PathOp::Close => write!(ops, "h "),
            };
        }
        ops.push_str("f Q\n");
        angle -= step;
    }
}

fn is_drawable(text: &str) -> bool {
    text.chars().all(|c| (' '..='~').contains(&c))
}

/// Escapes a PDF literal string.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The width of `text` in Helvetica at `size`.
fn text_width(text: &str, size: f32) -> f32 {
    text.chars().map(glyph_width).sum::<f32>() * size / 1000.0
}

/// Helvetica advance widths (Adobe AFM, 1/1000 em) for printable ASCII in WinAnsi.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

fn glyph_width(c: char) -> f32 {
    let index = (c as usize).wrapping_sub(32);
    HELVETICA_WIDTHS.get(index).map_or(556.0, |&w| f32::from(w))
}

/// Width, height and colour components from a JPEG's start-of-frame marker.
fn jpeg_frame(bytes: &[u8]) -> Option<(u32, u32, u8)> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let frame = bytes.get(at + 4..at + 2 + length)?;
            let height = u32::from(u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?]));
            let width = u32::from(u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?]));
            let components = *frame.get(5)?;
            return (width > 0 && height > 0).then_some((width, height, components));
        }
        at += 2 + length;
    }
}

struct Png {
    width: u32,
    height: u32,
    colour_type: u8,
    idat: Vec<u8>,
}

fn parse_png(bytes: &[u8]) -> Result<Png, PdfError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let malformed = PdfError::Image("not a png");
    if bytes.get(..8) != Some(SIGNATURE) {
        return Err(malformed);
    }
    let mut at = 8;
    let mut header = None;
    let mut idat = Vec::new();
    while let Some(length_bytes) = bytes.get(at..at + 4) {
        let length = u32::from_be_bytes([
            length_bytes[0],
            length_bytes[1],
            length_bytes[2],
            length_bytes[3],
        ]);
        let length = usize::try_from(length).map_err(|_| PdfError::Image("not a png"))?;
        let kind = bytes
            .get(at + 4..at + 8)
            .ok_or(PdfError::Image("not a png"))?;
        let data = bytes
            .get(at + 8..at + 8 + length)
            .ok_or(PdfError::Image("truncated png"))?;
        match kind {
            b"IHDR" if data.len() == 13 => header = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + length;
    }
    let header = header.ok_or(malformed)?;
    let width = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let height = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    let (depth, colour_type, interlace) = (header[8], header[9], header[12]);
    if depth != 8 || interlace != 0 {
        return Err(PdfError::Image(
            "only 8-bit non-interlaced pngs are supported",
        ));
    }
    if width == 0 || height == 0 || idat.is_empty() {
        return Err(PdfError::Image("empty png"));
    }
    Ok(Png {
        width,
        height,
        colour_type,
        idat,
    })
}

/// Inflates a PNG with alpha, undoes its row filters and splits colour from alpha.
fn split_alpha(png: &Png, colors: usize) -> Result<(Vec<u8>, Vec<u8>), PdfError> {
    use std::io::Read as _;
    let too_large = PdfError::Image("the png has too many pixels");
    if u64::from(png.width) * u64::from(png.height) > MAX_IMAGE_PIXELS {
        return Err(too_large);
    }
    let bpp = colors + 1;
    let width =
        usize::try_from(png.width).map_err(|_| PdfError::Image("the png has too many pixels"))?;
    let height =
        usize::try_from(png.height).map_err(|_| PdfError::Image("the png has too many pixels"))?;
    let stride = width * bpp;
    let expected = height * (stride + 1);
    let mut raw = Vec::with_capacity(expected);
    flate2::read::ZlibDecoder::new(png.idat.as_slice())
        .take(expected as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|_| PdfError::Image("corrupt png data"))?;
    if raw.len() != expected {
        return Err(PdfError::Image("the png data does not match its size"));
    }
    let mut previous = vec![0u8; stride];
    let mut colour = Vec::with_capacity(width * height * colors);
    let mut alpha = Vec::with_capacity(width * height);
    for row in raw.chunks_exact(stride + 1) {
        let (filter, data) = row
            .split_first()
            .ok_or(PdfError::Image("corrupt png row"))?;
        let current = unfilter(*filter, data, &previous, bpp)?;
        for pixel in current.chunks_exact(bpp) {
            let (a, c) = pixel
                .split_last()
                .ok_or(PdfError::Image("corrupt png row"))?;
            colour.extend_from_slice(c);
            alpha.push(*a);
        }
        previous = current;
    }
    Ok((colour, alpha))
}

/// Undoes one PNG row filter (PNG specification, 9).
fn unfilter(filter: u8, data: &[u8], previous: &[u8], bpp: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = vec![0u8; data.len()];
    for i in 0..data.len() {
        let left = if i >= bpp { out[i - bpp] } else { 0 };
        let up = previous.get(i).copied().unwrap_or(0);
        let up_left = if i >= bpp {
            previous.get(i - bpp).copied().unwrap_or(0)
        } else {
            0
        };
        let predictor = match filter {
            0 => 0,
            1 => left,
            2 => up,
            3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
            4 => paeth(left, up, up_left),
            _ => return Err(PdfError::Image("unknown png filter")),
        };
        out[i] = data[i].wrapping_add(predictor);
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfError> {
    use std::io::Write as _;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(data)
        .map_err(|_| PdfError::Image("compression failed"))?;
    encoder
        .finish()
        .map_err(|_| PdfError::Image("compression failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_names_are_drawn_and_others_need_a_fallback() {
        assert!(RoundSeal::new("Brand A Co., Ltd.", "91350100M000100Y43", None).is_ok());
        assert!(matches!(
            RoundSeal::new("品牌甲有限公司", "x", None),
            Err(PdfError::SealText(_))
        ));
        let seal = RoundSeal::new("品牌甲有限公司", "x", Some("Brand A Co., Ltd.")).unwrap();
        assert_eq!(seal.name, "Brand A Co., Ltd.");
    }

    #[test]
    fn seal_content_draws_ring_star_and_every_glyph() {
        let seal = RoundSeal::new("Brand (A)", "91350100M000100Y43", None).unwrap();
        let content = String::from_utf8(seal.content(120.0, 120.0)).unwrap();
        assert!(content.contains("0.85 0 0 RG"));
        assert!(content.contains(" c s"), "ring");
        assert!(content.contains("h f"), "star");
        assert_eq!(content.matches(" Tj").count(), "Brand (A)".len() + 1);
        assert!(content.contains("(\\()"), "escaped parenthesis");
    }

    #[test]
    fn long_names_shrink_to_the_arc() {
        let long = "Supplier X Manufacturing and International Trading Co., Ltd.";
        let seal = RoundSeal::new(long, "", None).unwrap();
        let content = String::from_utf8(seal.content(100.0, 100.0)).unwrap();
        let size: f32 = content
            .split("/F1 ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(size < 50.0 * 0.2);
    }

    #[test]
    fn chinese_names_are_drawn_from_font_outlines() {
        // The module reads no files; the test does, when the system has a CJK font.
        let Ok(font) = std::fs::read("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
        else {
            println!("skipped: no Noto Sans CJK font on this system");
            return;
        };
        let seal = RoundSeal::with_font("品牌甲有限公司", "91350100M000100Y43", &font, 2).unwrap();
        let content = String::from_utf8(seal.content(120.0, 120.0)).unwrap();
        assert_eq!(
            content.matches("f Q").count(),
            7,
            "one filled glyph per character"
        );
        assert!(content.contains(" c "), "curves");
        assert!(matches!(
            RoundSeal::with_font("x", "", b"not a font", 0),
            Err(PdfError::SealText(_))
        ));
    }

    /// A PNG of `pixels` (RGBA rows, filter 0), for tests.
    pub(crate) fn rgba_png(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
        fn crc32(data: &[u8]) -> u32 {
            let mut c = 0xFFFF_FFFFu32;
            for &b in data {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            out.extend_from_slice(&body);
            out.extend_from_slice(&crc32(&body).to_be_bytes());
        };
        let mut raw = Vec::new();
        for row in pixels.chunks(width as usize * 4) {
            raw.push(0);
            raw.extend_from_slice(row);
        }
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &header);
        chunk(&mut out, b"IDAT", &deflate(&raw).unwrap());
        chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn png_alpha_becomes_a_soft_mask() {
        let pixels: Vec<u8> = (0..4 * 3)
            .flat_map(|i| [200, 0, 0, (i * 20) as u8])
            .collect();
        let image = SealImage::png(&rgba_png(4, 3, &pixels)).unwrap();
        let streams = image.streams();
        let mask = streams.soft_mask.unwrap();
        let mut alpha = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(mask.content.as_slice()),
            &mut alpha,
        )
        .unwrap();
        assert_eq!(alpha, (0..12).map(|i| (i * 20) as u8).collect::<Vec<_>>());
        let mut colour = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(streams.image.content.as_slice()),
            &mut colour,
        )
        .unwrap();
        assert_eq!(colour, [200, 0, 0].repeat(12));
        // A size that does not match the data is refused.
        assert!(SealImage::png(&rgba_png(5, 3, &pixels)).is_err());
    }

    #[test]
    fn images_are_checked() {
        assert!(SealImage::jpeg(b"not a jpeg").is_err());
        assert!(SealImage::png(b"\x89PNG\r\n\x1a\n").is_err());
        // A minimal JPEG header: SOI, SOF0 for 3x2 RGB.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0, 2, 0, 3, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0,
        ];
        let image = SealImage::jpeg(&jpeg).unwrap();
        assert_eq!((image.width, image.height), (3, 2));
    }
}
