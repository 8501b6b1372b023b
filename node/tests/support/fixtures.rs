//! Test fixtures made in code, so the tests need no binary files.

/// A registered seal image: a 160×160 RGBA PNG of a red ring, a dot and a bar on a
/// transparent background.
pub fn seal_png() -> Vec<u8> {
    let size = 160u32;
    let mut pixels = Vec::new();
    for y in 0..size {
        for x in 0..size {
            let (dx, dy) = (x as f32 - 79.5, y as f32 - 79.5);
            let r = (dx * dx + dy * dy).sqrt();
            let on = (68.0..78.0).contains(&r) || r < 22.0 || (dy.abs() < 4.0 && dx.abs() < 50.0);
            pixels.extend_from_slice(&[215, 20, 20, if on { 255 } else { 0 }]);
        }
    }
    rgba_png(size, size, &pixels)
}

/// An RGBA PNG (filter 0 rows), written here so the test needs no image files.
pub fn rgba_png(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
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
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&raw).unwrap();
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &encoder.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}
