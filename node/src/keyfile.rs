//! The node's own secret keys, as owner-only files.
//!
//! Secret keys never enter the [`crate::store`]: each is a small file holding an Ed25519 seed,
//! created with mode `0600` and written atomically (a temporary file in the same directory,
//! `fsync`, then a link or rename into place, then an `fsync` of the directory), so a crash
//! leaves either no key file or a complete one. Reading refuses a file that the group or
//! others could read or write, like OpenSSH does.
//!
//! Format: one line, `signet-ed25519-seed:` followed by the 32-byte seed in hex; a PDF key
//! (ECDSA P-256) is `signet-p256-scalar:` followed by its 32-byte private scalar in hex, and
//! an SM2 key (a seal, an attest key or a person's key) `signet-sm2-scalar:` followed by its
//! 32-byte private scalar in hex.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use signet_node::keyfile;
//! use signet_protocol::SecretKey;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("node.key");
//! let key = SecretKey::from_seed(&[7; 32]);
//! keyfile::write(&path, &key, keyfile::Replace::No)?;
//! assert_eq!(keyfile::read(&path)?.public_key(), key.public_key());
//! # Ok(()) }
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use signet_protocol::SecretKey;
use signet_protocol::keylog::LogSecretKey;
use signet_protocol::sm2::Sm2SecretKey;
use zeroize::Zeroizing;

const PREFIX: &str = "signet-ed25519-seed:";
const P256_PREFIX: &str = "signet-p256-scalar:";
const SM2_PREFIX: &str = "signet-sm2-scalar:";
/// Longest file accepted: the line plus some slack for a trailing newline or CR.
const MAX_FILE_LEN: u64 = 128;

/// Whether [`write()`] may replace an existing key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Refuse if the file exists (the safe default: a key is precious).
    No,
    /// Replace it atomically.
    Yes,
}

/// A key file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// File system error.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file exists and [`Replace::No`] was asked.
    #[error("key file {0} already exists")]
    Exists(PathBuf),
    /// The group or others may access the file.
    #[error(
        "key file {path} has mode {mode:o}: it must not be accessible to group or others (chmod 600)"
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The path is not a regular file.
    #[error("key file {0} is not a regular file")]
    NotAFile(PathBuf),
    /// The content is not a key file.
    #[error("key file {0} is malformed")]
    Malformed(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `key` to `path` with mode `0600`, atomically and durably.
pub fn write(path: &Path, key: &SecretKey, replace: Replace) -> Result<(), KeyFileError> {
    write_secret(path, PREFIX, &key.to_seed()[..], replace)
}

/// Writes the ECDSA P-256 key `key` (a party's PDF key) like [`write()`].
pub fn write_p256(
    path: &Path,
    key: &p256::ecdsa::SigningKey,
    replace: Replace,
) -> Result<(), KeyFileError> {
    let scalar = Zeroizing::new(key.to_bytes());
    write_secret(path, P256_PREFIX, &scalar[..], replace)
}

/// Reads an ECDSA P-256 key file written by [`write_p256`], with [`read()`]'s checks.
pub fn read_p256(path: &Path) -> Result<p256::ecdsa::SigningKey, KeyFileError> {
    let scalar = read_scalar(path, P256_PREFIX)?;
    p256::ecdsa::SigningKey::from_slice(&scalar[..])
        .map_err(|_| KeyFileError::Malformed(path.to_owned()))
}

/// Writes the SM2 key `key` (an SM2 seal, attest key or person's key, or a party's
/// national-algorithm PDF key) like [`write()`].
pub fn write_sm2(path: &Path, key: &Sm2SecretKey, replace: Replace) -> Result<(), KeyFileError> {
    write_secret(path, SM2_PREFIX, &key.to_bytes()[..], replace)
}

/// Reads an SM2 key file written by [`write_sm2`], with [`read()`]'s checks.
pub fn read_sm2(path: &Path) -> Result<Sm2SecretKey, KeyFileError> {
    let scalar = read_scalar(path, SM2_PREFIX)?;
    Sm2SecretKey::from_bytes(&scalar).map_err(|_| KeyFileError::Malformed(path.to_owned()))
}

/// Writes a key of either algorithm a seal, an attest key or a person's key may have
/// (Ed25519 or SM2) like [`write()`].
pub fn write_log_key(
    path: &Path,
    key: &LogSecretKey,
    replace: Replace,
) -> Result<(), KeyFileError> {
    match key {
        LogSecretKey::Ed25519(key) => write(path, key, replace),
        LogSecretKey::Sm2(key) => write_sm2(path, key, replace),
    }
}

/// Reads a key file of either algorithm a seal, an attest key or a person's key may have
/// (Ed25519 or SM2), with [`read()`]'s checks.
pub fn read_log_key(path: &Path) -> Result<LogSecretKey, KeyFileError> {
    let line = read_line(path)?;
    parse_log_key(&line).ok_or_else(|| KeyFileError::Malformed(path.to_owned()))
}

/// Parses a key file's content of either algorithm ([`read_log_key`]): for a key passed in an
/// environment variable rather than a file.
pub fn parse_log_key(text: &str) -> Option<LogSecretKey> {
    if let Some(key) = parse(text) {
        return Some(LogSecretKey::Ed25519(key));
    }
    let scalar = scalar_of(text, SM2_PREFIX)?;
    Sm2SecretKey::from_bytes(&scalar)
        .ok()
        .map(LogSecretKey::Sm2)
}

/// The 32-byte scalar of a key file whose line starts with `prefix`.
fn read_scalar(path: &Path, prefix: &str) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let line = read_line(path)?;
    scalar_of(&line, prefix).ok_or_else(|| KeyFileError::Malformed(path.to_owned()))
}

fn scalar_of(line: &str, prefix: &str) -> Option<Zeroizing<[u8; 32]>> {
    let hex_scalar = line.trim_end_matches(['\n', '\r']).strip_prefix(prefix)?;
    let mut scalar = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_scalar, &mut scalar[..]).ok()?;
    Some(scalar)
}

fn write_secret(
    path: &Path,
    prefix: &str,
    secret: &[u8],
    replace: Replace,
) -> Result<(), KeyFileError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| KeyFileError::NotAFile(path.to_owned()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);

    let mut text = Zeroizing::new(String::with_capacity(prefix.len() + 65));
    text.push_str(prefix);
    text.push_str(&Zeroizing::new(hex::encode(secret)));
    text.push('\n');

    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        // The umask cannot widen 0600, but a pre-set ACL or odd umask could narrow it; set it
        // explicitly so the file is exactly owner read/write.
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(io(&tmp))?;
        file.write_all(text.as_bytes()).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        match replace {
            Replace::Yes => fs::rename(&tmp, path).map_err(io(path)),
            // A hard link never replaces an existing file: the check and the creation are one
            // atomic step.
            Replace::No => fs::hard_link(&tmp, path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    KeyFileError::Exists(path.to_owned())
                } else {
                    io(path)(e)
                }
            }),
        }
    })();
    // After a rename the temporary name is gone; after a link or a failure, remove it.
    let _ = fs::remove_file(&tmp);
    result?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Reads a key file, refusing one that the group or others could access.
pub fn read(path: &Path) -> Result<SecretKey, KeyFileError> {
    let line = read_line(path)?;
    parse(&line).ok_or_else(|| KeyFileError::Malformed(path.to_owned()))
}

/// The text of a key file, once its type, mode and size are checked.
fn read_line(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    let file = File::open(path).map_err(io(path))?;
    let meta = file.metadata().map_err(io(path))?;
    if !meta.is_file() {
        return Err(KeyFileError::NotAFile(path.to_owned()));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    let mut text = Zeroizing::new(Vec::with_capacity(MAX_FILE_LEN as usize));
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut text)
        .map_err(io(path))?;
    let line = std::str::from_utf8(&text).map_err(|_| KeyFileError::Malformed(path.to_owned()))?;
    Ok(Zeroizing::new(line.to_string()))
}

/// Parses a key file's content (`signet-ed25519-seed:` and 64 hex digits, optionally with
/// a line end), as a key is passed in an environment variable or a request body.
pub fn parse(text: &str) -> Option<SecretKey> {
    let hex_seed = text.trim_end_matches(['\n', '\r']).strip_prefix(PREFIX)?;
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_seed, &mut seed[..]).ok()?;
    Some(SecretKey::from_seed(&seed))
}

/// A key file's content for `key` (secret: zeroized when dropped).
pub fn to_text(key: &SecretKey) -> Zeroizing<String> {
    Zeroizing::new(format!("{PREFIX}{}", hex::encode(&key.to_seed()[..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = SecretKey::from_seed(&[9; 32]);
        write(&path, &key, Replace::No).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(&path).unwrap().public_key(), key.public_key());
        // Only the key file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_seal_key_of_either_algorithm_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let keys = [
            LogSecretKey::Ed25519(SecretKey::from_seed(&[3; 32])),
            LogSecretKey::Sm2(Sm2SecretKey::from_bytes(&[3; 32]).unwrap()),
        ];
        for (i, key) in keys.iter().enumerate() {
            let path = dir.path().join(format!("seal-{i}"));
            write_log_key(&path, key, Replace::No).unwrap();
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            assert_eq!(read_log_key(&path).unwrap().public_key(), key.public_key());
        }
        // An SM2 file is no Ed25519 key file, and a P-256 one neither kind of seal key.
        assert!(matches!(
            read(&dir.path().join("seal-1")),
            Err(KeyFileError::Malformed(_))
        ));
        let p256 = dir.path().join("pdf");
        let signing = p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
        write_p256(&p256, &signing, Replace::No).unwrap();
        assert!(matches!(
            read_log_key(&p256),
            Err(KeyFileError::Malformed(_))
        ));
        // A scalar out of range (zero) is malformed, not a key.
        let zero = dir.path().join("zero");
        write_secret(&zero, SM2_PREFIX, &[0; 32], Replace::No).unwrap();
        assert!(matches!(
            read_log_key(&zero),
            Err(KeyFileError::Malformed(_))
        ));
    }

    #[test]
    fn a_key_passed_as_text_parses_as_its_file_would() {
        // What `signet sign` reads from SIGNET_DELEGATE_KEY: a person's key of either kind.
        let dir = tempfile::tempdir().unwrap();
        let sm2 = LogSecretKey::Sm2(Sm2SecretKey::from_bytes(&[5; 32]).unwrap());
        let ed = LogSecretKey::Ed25519(SecretKey::from_seed(&[5; 32]));
        for (i, key) in [sm2, ed].iter().enumerate() {
            let path = dir.path().join(format!("person-{i}"));
            write_log_key(&path, key, Replace::No).unwrap();
            let text = fs::read_to_string(&path).unwrap();
            assert_eq!(parse_log_key(&text).unwrap().public_key(), key.public_key());
        }
        for bad in ["", "signet-sm2-scalar:zz", "signet-ed25519-seed:00"] {
            assert!(parse_log_key(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn refuses_to_clobber_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let (a, b) = (
            SecretKey::from_seed(&[1; 32]),
            SecretKey::from_seed(&[2; 32]),
        );
        write(&path, &a, Replace::No).unwrap();
        assert!(matches!(
            write(&path, &b, Replace::No),
            Err(KeyFileError::Exists(_))
        ));
        assert_eq!(read(&path).unwrap().public_key(), a.public_key());
        write(&path, &b, Replace::Yes).unwrap();
        assert_eq!(read(&path).unwrap().public_key(), b.public_key());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_group_or_world_access() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write(&path, &SecretKey::from_seed(&[3; 32]), Replace::No).unwrap();
        for mode in [0o640, 0o604, 0o660, 0o620] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            assert!(
                matches!(read(&path), Err(KeyFileError::InsecurePermissions { mode: m, .. }) if m == mode),
                "mode {mode:o}"
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(read(&path).is_ok());
    }

    #[test]
    fn refuses_malformed_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        for content in [
            &b""[..],
            b"signet-ed25519-seed:00",
            b"not-a-key",
            &[b'a'; 200][..],
        ] {
            fs::write(&path, content).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            assert!(matches!(read(&path), Err(KeyFileError::Malformed(_))));
        }
        assert!(matches!(
            read(dir.path()),
            Err(KeyFileError::NotAFile(_) | KeyFileError::Io { .. })
        ));
    }
}
