//! A signature whose R carries a point of order 2: strict verification refuses it, a
//! randomised batch equation accepts it whenever its random factor is even.

use ciborium::Value;
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest as _, Sha512};

/// `cose` (a COSE_Sign1, untagged) with its signature replaced by one made with the key of
/// `seed` over the same to-be-signed bytes, R shifted by the point of order 2.
pub fn resign_with_torsion(cose: &[u8], seed: &[u8; 32]) -> Vec<u8> {
    let Value::Array(mut parts) = ciborium::from_reader::<Value, _>(cose).unwrap() else {
        panic!("not a COSE_Sign1")
    };
    let (Value::Bytes(protected), Value::Bytes(payload)) = (&parts[0], &parts[2]) else {
        panic!("not a COSE_Sign1")
    };
    let tbs = Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.clone()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.clone()),
    ]);
    let mut message = Vec::new();
    ciborium::into_writer(&tbs, &mut message).unwrap();
    let expanded = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&expanded[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a);
    let public = (ED25519_BASEPOINT_POINT * a).compress();
    let mut order2 = [0xff; 32];
    order2[0] = 0xec;
    order2[31] = 0x7f;
    let order2 = CompressedEdwardsY(order2).decompress().unwrap();
    let r = Scalar::from_bytes_mod_order([0x5a; 32]);
    let big_r = (ED25519_BASEPOINT_POINT * r + order2).compress();
    let mut h = Sha512::new();
    h.update(big_r.as_bytes());
    h.update(public.as_bytes());
    h.update(&message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let s = r + k * a;
    let mut signature = big_r.as_bytes().to_vec();
    signature.extend_from_slice(s.as_bytes());
    parts[3] = Value::Bytes(signature);
    let mut out = Vec::new();
    ciborium::into_writer(&Value::Array(parts), &mut out).unwrap();
    out
}
