//! What the updates after a file's last seal change: for a PAdES B-LT or B-LTA file, only
//! signature maintenance is allowed there (ETSI EN 319 142-1, 5.4 and 5.5; ISO 32000-2,
//! 12.8.4.3): validation data (`/DSS` and what it holds) and document time-stamps (their
//! signature dictionary and invisible widget, appended to the form's fields and the page's
//! annotations). Anything else — a changed page, a new annotation, a removed object — is
//! content no seal covers.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::PdfError;
use super::sign;

/// Whether the bytes of `pdf` after `signed_end` (the end of the last sealed revision) only
/// add validation data and document time-stamps. `true` when nothing follows.
///
/// # Errors
///
/// [`PdfError::Parse`] or [`PdfError::Malformed`] when either revision cannot be read.
pub fn maintenance_only(pdf: &[u8], signed_end: usize) -> Result<bool, PdfError> {
    let Some(signed) = pdf.get(..signed_end) else {
        return Ok(false);
    };
    if signed_end == pdf.len() {
        return Ok(true);
    }
    let before = sign::load(signed)?;
    let after = sign::load(pdf)?;
    let root = after
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    if before
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok()
        != root
    {
        return Ok(false);
    }
    let added = maintenance_objects(&after);
    // Cross-reference and object streams are the file's structure: what they hold is
    // checked object by object.
    let structure = |object: &Object| {
        dictionary_of(object)
            .and_then(|d| d.get(b"Type").and_then(Object::as_name).ok())
            .is_some_and(|t| t == b"XRef" || t == b"ObjStm")
    };
    for (id, object) in after.objects.iter().filter(|(_, o)| !structure(o)) {
        let fine = match before.objects.get(id) {
            Some(old) if old == object => true,
            Some(old) => {
                added.contains(id) || changed_for_maintenance(Some(*id) == root, old, object)
            }
            None => added.contains(id),
        };
        if !fine {
            return Ok(false);
        }
    }
    Ok(before
        .objects
        .iter()
        .filter(|(_, o)| !structure(o))
        .all(|(id, _)| after.objects.contains_key(id)))
}

/// The objects maintenance may add: everything the `/DSS` reaches, and each document
/// time-stamp's signature dictionary and widget.
fn maintenance_objects(document: &Document) -> BTreeSet<ObjectId> {
    let mut found = BTreeSet::new();
    if let Ok(catalog) = document.catalog()
        && let Ok(dss) = catalog.get(b"DSS")
    {
        reach(document, dss, &mut found);
    }
    for (id, object) in &document.objects {
        let Some(dict) = dictionary_of(object) else {
            continue;
        };
        if is_time_stamp(dict) {
            found.insert(*id);
        }
        let value = dict.get(b"V").and_then(Object::as_reference).ok();
        if dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Widget")
            && value
                .and_then(|v| document.get_dictionary(v).ok())
                .is_some_and(is_time_stamp)
            && invisible(dict)
        {
            found.insert(*id);
        }
    }
    found
}

/// Every indirect object reachable from `object` (depth-first, each once).
fn reach(document: &Document, object: &Object, found: &mut BTreeSet<ObjectId>) {
    match object {
        Object::Reference(id) => {
            if found.insert(*id)
                && let Ok(target) = document.get_object(*id)
            {
                reach(document, target, found);
            }
        }
        Object::Array(items) => items.iter().for_each(|i| reach(document, i, found)),
        Object::Dictionary(d) => d.iter().for_each(|(_, v)| reach(document, v, found)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, v)| reach(document, v, found)),
        _ => {}
    }
}

fn dictionary_of(object: &Object) -> Option<&Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

fn is_time_stamp(dict: &Dictionary) -> bool {
    dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"DocTimeStamp")
}

/// A widget with a zero-area rectangle: shows nothing.
fn invisible(widget: &Dictionary) -> bool {
    let Ok(rect) = widget.get(b"Rect").and_then(Object::as_array) else {
        return false;
    };
    let n: Vec<f32> = rect.iter().filter_map(|v| v.as_float().ok()).collect();
    n.len() == 4 && (n[2] - n[0]).abs() < f32::EPSILON && (n[3] - n[1]).abs() < f32::EPSILON
}

/// Whether an existing object changed only as maintenance changes it: the catalog gains
/// or changes `/DSS` (and an inline `/AcroForm` as below); a form's `/Fields` or a page's
/// `/Annots` are extended (inline, or as an indirect array), `/SigFlags` set.
fn changed_for_maintenance(is_catalog: bool, old: &Object, new: &Object) -> bool {
    match (old, new) {
        (Object::Array(old), Object::Array(new)) => new.starts_with(old),
        (Object::Dictionary(old), Object::Dictionary(new)) => {
            let mut allowed: Vec<&[u8]> = vec![b"Fields", b"Annots", b"SigFlags"];
            if is_catalog {
                allowed.extend([b"DSS".as_slice(), b"AcroForm"]);
            }
            same_but(old, new, &allowed)
                && [b"Fields".as_slice(), b"Annots"].iter().all(|key| {
                    match (old.get(key).ok(), new.get(key).ok()) {
                        (Some(o), Some(n)) => o == n || changed_for_maintenance(false, o, n),
                        (None, _) => true,
                        (Some(_), None) => false,
                    }
                })
                && (!is_catalog || acro_form_maintained(old, new))
        }
        _ => false,
    }
}

/// An inline `/AcroForm` of the catalog changed only by maintenance (or not at all).
fn acro_form_maintained(old: &Dictionary, new: &Dictionary) -> bool {
    match (old.get(b"AcroForm").ok(), new.get(b"AcroForm").ok()) {
        (Some(o), Some(n)) if o == n => true,
        (Some(o @ Object::Dictionary(_)), Some(n)) => changed_for_maintenance(false, o, n),
        (None, Some(Object::Dictionary(n))) => {
            same_but(&Dictionary::new(), n, &[b"Fields", b"SigFlags"])
        }
        (None, None) => true,
        _ => false,
    }
}

/// `old` and `new` hold the same entries, but for the keys in `except`.
fn same_but(old: &Dictionary, new: &Dictionary, except: &[&[u8]]) -> bool {
    let kept = |d: &Dictionary| -> Vec<(Vec<u8>, Object)> {
        d.iter()
            .filter(|(k, _)| !except.contains(&k.as_slice()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (mut a, mut b) = (kept(old), kept(new));
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    a == b
}
