//! A sample contract PDF, written with lopdf: what `signet demo` signs and seals.

use lopdf::{Dictionary, Document, Object, Stream};

use super::PdfError;

/// A contract of `pages` A4 pages (at least one) titled `title`, naming `parties`, with
/// clauses in Helvetica and room for the parties' seals at the bottom of the last page.
/// Text is limited to printable ASCII (other characters are replaced with `?`).
pub fn contract(title: &str, parties: &[&str], pages: u32) -> Result<Vec<u8>, PdfError> {
    let pages = pages.max(1);
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Subtype", Object::Name(b"Type1".to_vec()));
    font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
    let font_id = doc.add_object(font);
    let mut fonts = Dictionary::new();
    fonts.set("F1", Object::Reference(font_id));
    let mut resources = Dictionary::new();
    resources.set("Font", Object::Dictionary(fonts));
    let resources_id = doc.add_object(resources);
    let mut kids = Vec::new();
    for page in 1..=pages {
        let mut text = line(20, 770, &format!("{title} - page {page} of {pages}"));
        let last = page == pages;
        let clauses = if last { 10 } else { 30 };
        for n in 0..clauses {
            let y = 730 - n * 20;
            text.push_str(&line(
                11,
                y,
                &format!(
                    "Clause {page}.{n}: the Supplier delivers the goods of Annex {n} to the Buyer's specification."
                ),
            ));
        }
        if last {
            text.push_str(&line(12, 480, "Between:"));
            for (i, party) in parties.iter().enumerate() {
                let y = 460 - 18 * i32::try_from(i).unwrap_or(0);
                text.push_str(&line(11, y, &format!("  {}. {party}", i + 1)));
            }
            text.push_str(&line(12, 230, "Sealed by the parties:"));
        }
        let content = doc.add_object(Stream::new(Dictionary::new(), text.into_bytes()));
        let mut page_dict = Dictionary::new();
        page_dict.set("Type", Object::Name(b"Page".to_vec()));
        page_dict.set("Parent", Object::Reference(pages_id));
        page_dict.set("Contents", Object::Reference(content));
        kids.push(Object::Reference(doc.add_object(page_dict)));
    }
    let mut tree = Dictionary::new();
    tree.set("Type", Object::Name(b"Pages".to_vec()));
    tree.set("Kids", Object::Array(kids));
    tree.set("Count", Object::Integer(i64::from(pages)));
    tree.set("Resources", Object::Reference(resources_id));
    tree.set(
        "MediaBox",
        Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
    );
    doc.objects.insert(pages_id, Object::Dictionary(tree));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(out)
}

/// One line of text at `y` points from the bottom, 72 points from the left.
fn line(size: u32, y: i32, text: &str) -> String {
    let escaped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("BT /F1 {size} Tf 72 {y} Td ({escaped}) Tj ET\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn the_sample_contract_has_its_pages_and_escapes_its_text() {
        let pdf = super::contract("Supply (draft)", &["Brand A", "Supplier X"], 3).unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 3);
        assert!(String::from_utf8_lossy(&pdf).contains("Supply \\(draft\\)"));
    }
}
