//! The party's own secret keys, as files in `DIR/keys/` (see [`crate::keyfile`]).
//!
//! Besides the current keys, `DIR/keys/retired/` keeps the seal keys a rotation replaced:
//! an older version's session journal replays the signatures made with them, once, when it
//! is converted to a snapshot (see [`super::journal`]).
//! A rotation of a non-root key writes the fresh key to `NAME.key.pending` first, then
//! stores the key events, then moves the old key to `retired/` and the pending key into
//! place; [`finish_rotations`] completes or drops a rotation a crash interrupted.

use std::path::Path;

use signet_protocol::SecretKey;
use signet_protocol::keylog::{KeyLog, KeyPurpose, LogKey, LogSecretKey};
use signet_protocol::sm2::Sm2SecretKey;

use crate::keyfile::{self, KeyFileError, Replace};

/// The party's secret keys held by its node. Neither the delegate's person key nor the
/// pre-committed next root key is among them: the next root key is kept off the node (it is
/// what recovers the identity if the node is compromised) and given to it only to rotate.
#[derive(Debug)]
pub struct PartyKeys {
    /// The current root key (rotates the party's key log).
    pub root: SecretKey,
    /// The node key: libp2p identity, signs every session message.
    pub node: SecretKey,
    /// Signs attestations the party issues: Ed25519, or SM2 for a party that attests in
    /// China's national algorithms (`signet init --attest-algorithm sm2`).
    pub attest: LogSecretKey,
    /// Signs evidence-log checkpoints (and witness cosignatures).
    pub log: SecretKey,
    /// The contract seal: Ed25519, or SM2 for a party that seals in China's national
    /// algorithms (`signet init --seal-algorithm sm2`).
    pub contract_seal: LogSecretKey,
    /// The company seal, of the same algorithm.
    pub company_seal: LogSecretKey,
    /// Seal keys replaced by rotations (kept to replay the signatures made with them).
    pub retired_seals: Vec<LogSecretKey>,
    /// The PDF key (ECDSA P-256, key purpose `pdf`): signs the party's PAdES signatures.
    /// Parties made before PDF keys existed have none until the node declares one
    /// ([`PDF_KEY_FILE`]).
    pub pdf: Option<p256::ecdsa::SigningKey>,
    /// The time-stamping key (ECDSA P-256, key purpose `tsa`) of a witness node: signs the
    /// RFC 3161 tokens it grants ([`TSA_KEY_FILE`]). Only witnesses have one.
    pub tsa: Option<p256::ecdsa::SigningKey>,
}

/// The file of the PDF key in `DIR/keys`.
pub const PDF_KEY_FILE: &str = "pdf.key";

/// The file of a witness's time-stamping key in `DIR/keys`.
pub const TSA_KEY_FILE: &str = "tsa.key";

const NAMES: [&str; 6] = [
    "root",
    "node",
    "attest",
    "log",
    "seal-contract",
    "seal-company",
];

/// Where nodes made before the next root key was kept off the node wrote it.
pub const LEGACY_NEXT_ROOT: &str = "next-root.key";

/// The folder of retired keys inside `DIR/keys`.
pub const RETIRED: &str = "retired";

/// A key of the party that the node can rotate, named as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The root key (pre-rotation: the committed next root takes over).
    Root,
    /// The node key (libp2p identity): a rotation declares the fresh key at once and takes
    /// it at the next start (see [`finish_rotations`]).
    Node,
    /// The attestation key.
    Attest,
    /// The evidence-log key.
    Log,
    /// The contract seal.
    ContractSeal,
    /// The company seal.
    CompanySeal,
}

impl KeyKind {
    /// Every kind, with its name.
    pub const ALL: [(KeyKind, &'static str); 6] = [
        (Self::Root, "root"),
        (Self::Node, "node"),
        (Self::Attest, "attest"),
        (Self::Log, "log"),
        (Self::ContractSeal, "seal-contract"),
        (Self::CompanySeal, "seal-company"),
    ];

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// Its name (also its key file's name, `NAME.key`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("root", |(_, n)| n)
    }

    /// Its purpose in the key log.
    pub fn purpose(self) -> KeyPurpose {
        match self {
            Self::Root => KeyPurpose::Root,
            Self::Node => KeyPurpose::Node,
            Self::Attest => KeyPurpose::Attest,
            Self::Log => KeyPurpose::Log,
            Self::ContractSeal | Self::CompanySeal => KeyPurpose::Seal,
        }
    }
}

/// The kinds whose interrupted rotation [`finish_rotations`] completes: the root (by
/// pre-rotation), and the non-root kinds a rotation replaces by add-key and retire-key events.
/// The node key's rotation is always finished here: it is declared while the node runs and
/// taken (and the old one retired) at the next start, since a running network cannot change
/// its libp2p identity.
const ADDED: [KeyKind; 6] = [
    KeyKind::Root,
    KeyKind::Node,
    KeyKind::Attest,
    KeyKind::Log,
    KeyKind::ContractSeal,
    KeyKind::CompanySeal,
];

impl PartyKeys {
    /// Reads the keys from `dir` (`DIR/keys`).
    pub fn load(dir: &Path) -> Result<Self, KeyFileError> {
        let k = |name: &str| keyfile::read(&dir.join(format!("{name}.key")));
        let mut retired_seals = Vec::new();
        let retired = dir.join(RETIRED);
        if retired.is_dir() {
            let entries = std::fs::read_dir(&retired).map_err(|source| KeyFileError::Io {
                path: retired.clone(),
                source,
            })?;
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("seal-") && name.ends_with(".key") {
                    retired_seals.push(keyfile::read_log_key(&path)?);
                }
            }
        }
        if dir.join(LEGACY_NEXT_ROOT).exists() {
            tracing::warn!(
                file = %dir.join(LEGACY_NEXT_ROOT).display(),
                "the next root key is in the node's directory, which defeats pre-rotation: move it off the node and give it to `signet rotate --next-root-key` when rotating"
            );
        }
        Ok(Self {
            root: k(NAMES[0])?,
            node: k(NAMES[1])?,
            attest: keyfile::read_log_key(&dir.join(format!("{}.key", NAMES[2])))?,
            log: k(NAMES[3])?,
            contract_seal: keyfile::read_log_key(&dir.join(format!("{}.key", NAMES[4])))?,
            company_seal: keyfile::read_log_key(&dir.join(format!("{}.key", NAMES[5])))?,
            retired_seals,
            pdf: if dir.join(PDF_KEY_FILE).exists() {
                Some(keyfile::read_p256(&dir.join(PDF_KEY_FILE))?)
            } else {
                None
            },
            tsa: if dir.join(TSA_KEY_FILE).exists() {
                Some(keyfile::read_p256(&dir.join(TSA_KEY_FILE))?)
            } else {
                None
            },
        })
    }

    /// Writes the current keys to `dir`, which is created owner-only if absent.
    pub fn save(&self, dir: &Path, replace: Replace) -> Result<(), KeyFileError> {
        std::fs::create_dir_all(dir).map_err(|source| KeyFileError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let keys = [
            (NAMES[0], &self.root),
            (NAMES[1], &self.node),
            (NAMES[3], &self.log),
        ];
        for (name, key) in keys {
            keyfile::write(&dir.join(format!("{name}.key")), key, replace)?;
        }
        // An Ed25519 attest key's file is as it always was; an SM2 one is an SM2 key file.
        let either = [
            (NAMES[2], &self.attest),
            (NAMES[4], &self.contract_seal),
            (NAMES[5], &self.company_seal),
        ];
        for (name, key) in either {
            keyfile::write_log_key(&dir.join(format!("{name}.key")), key, replace)?;
        }
        if let Some(pdf) = &self.pdf {
            keyfile::write_p256(&dir.join(PDF_KEY_FILE), pdf, replace)?;
        }
        if let Some(tsa) = &self.tsa {
            keyfile::write_p256(&dir.join(TSA_KEY_FILE), tsa, replace)?;
        }
        Ok(())
    }

    /// The current public key of `kind`.
    pub fn public(&self, kind: KeyKind) -> LogKey {
        match kind {
            KeyKind::Root => self.root.public_key().into(),
            KeyKind::Node => self.node.public_key().into(),
            KeyKind::Attest => self.attest.public_key(),
            KeyKind::Log => self.log.public_key().into(),
            KeyKind::ContractSeal => self.contract_seal.public_key(),
            KeyKind::CompanySeal => self.company_seal.public_key(),
        }
    }

    /// Replaces the current key of `kind` in memory (a seal goes to the retired seals).
    /// Only a seal or the attest key may be SM2: any other kind given an SM2 key is left as
    /// it is.
    pub(crate) fn replace(&mut self, kind: KeyKind, fresh: LogSecretKey) {
        let seal = match kind {
            KeyKind::ContractSeal => &mut self.contract_seal,
            KeyKind::CompanySeal => &mut self.company_seal,
            KeyKind::Attest => {
                self.attest = fresh;
                return;
            }
            _ => {
                let LogSecretKey::Ed25519(fresh) = fresh else {
                    return;
                };
                let slot = match kind {
                    KeyKind::Node => &mut self.node,
                    KeyKind::Log => &mut self.log,
                    _ => &mut self.root,
                };
                *slot = fresh;
                return;
            }
        };
        let old = std::mem::replace(seal, fresh);
        self.retired_seals.push(old);
    }
}

/// A fresh SM2 key from the system's random source.
pub(crate) fn new_sm2_key() -> Result<Sm2SecretKey, super::ServiceError> {
    // A uniformly random 32-byte string is a valid scalar except with probability ~2^-32;
    // draw again in that case.
    for _ in 0..4 {
        let bytes = zeroize::Zeroizing::new(super::random_bytes()?);
        if let Ok(key) = Sm2SecretKey::from_bytes(&bytes) {
            return Ok(key);
        }
    }
    Err(super::ServiceError::Internal("the system random source"))
}

/// A fresh PDF key from the system's random source.
pub(crate) fn new_pdf_key() -> Result<p256::ecdsa::SigningKey, super::ServiceError> {
    // A uniformly random 32-byte string is a valid scalar except with probability ~2^-128;
    // draw again in that case.
    for _ in 0..4 {
        let bytes = zeroize::Zeroizing::new(super::random_bytes()?);
        if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&bytes[..]) {
            return Ok(key);
        }
    }
    Err(super::ServiceError::Internal("the system random source"))
}

/// The pending file of a rotation of `kind` in `dir`.
pub(crate) fn pending_path(dir: &Path, kind: KeyKind) -> std::path::PathBuf {
    dir.join(format!("{}.key.pending", kind.name()))
}

/// Installs the pending key of `kind`: the current key goes to `retired/` (`retired_name`),
/// the pending one into place. Each step is atomic, and repeating it after a crash is safe.
pub(crate) fn install_pending(
    dir: &Path,
    kind: KeyKind,
    retired_name: &str,
) -> Result<(), KeyFileError> {
    let pending = pending_path(dir, kind);
    let fresh = keyfile::read_log_key(&pending)?;
    let current_path = dir.join(format!("{}.key", kind.name()));
    let current = keyfile::read_log_key(&current_path)?;
    if current.public_key() != fresh.public_key() {
        let retired = dir.join(RETIRED);
        std::fs::create_dir_all(&retired).map_err(|source| KeyFileError::Io {
            path: retired.clone(),
            source,
        })?;
        match keyfile::write_log_key(&retired.join(retired_name), &current, Replace::No) {
            Ok(()) | Err(KeyFileError::Exists(_)) => {}
            Err(e) => return Err(e),
        }
        keyfile::write_log_key(&current_path, &fresh, Replace::Yes)?;
    }
    std::fs::remove_file(&pending).map_err(|source| KeyFileError::Io {
        path: pending,
        source,
    })
}

/// The name a retired key of `kind` is kept under.
pub(crate) fn retired_name(kind: KeyKind, key: &LogKey) -> String {
    format!(
        "{}-{}.key",
        kind.name(),
        &hex::encode(key.wire_bytes())[..16]
    )
}

/// Completes the rotations a crash interrupted, given the party's key log as stored: a
/// pending key the log declares is installed; one it does not is dropped (the rotation never
/// reached the log, and the current key is still the valid one). Returns the kinds installed.
pub fn finish_rotations(dir: &Path, log: &KeyLog) -> Result<Vec<KeyKind>, KeyFileError> {
    let mut installed = Vec::new();
    for kind in ADDED {
        let pending = pending_path(dir, kind);
        if !pending.exists() {
            continue;
        }
        let fresh = keyfile::read_log_key(&pending)?;
        let declared = log
            .records()
            .iter()
            .any(|r| r.key == fresh.public_key() && r.purpose == kind.purpose());
        if declared {
            let current = keyfile::read_log_key(&dir.join(format!("{}.key", kind.name())))?;
            install_pending(dir, kind, &retired_name(kind, &current.public_key()))?;
            tracing::warn!(
                key = kind.name(),
                "an interrupted key rotation was completed"
            );
            installed.push(kind);
        } else {
            std::fs::remove_file(&pending).map_err(|source| KeyFileError::Io {
                path: pending.clone(),
                source,
            })?;
            tracing::warn!(
                key = kind.name(),
                "an interrupted key rotation never reached the key log; dropped"
            );
        }
    }
    Ok(installed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_protocol::Timestamp;
    use signet_protocol::keylog::KeyDecl;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    /// A party directory's keys, attest key `3`, and its key log.
    fn party(dir: &Path) -> (PartyKeys, KeyLog) {
        let keys = PartyKeys {
            root: key(1),
            node: key(4),
            attest: LogSecretKey::Ed25519(key(3)),
            log: key(5),
            contract_seal: LogSecretKey::Ed25519(key(6)),
            company_seal: LogSecretKey::Sm2(Sm2SecretKey::from_bytes(&[7; 32]).unwrap()),
            retired_seals: Vec::new(),
            pdf: None,
            tsa: None,
        };
        keys.save(dir, Replace::No).unwrap();
        let log = KeyLog::incept(
            &keys.root,
            &key(2).public_key(),
            vec![KeyDecl::attest(keys.attest.public_key())],
            Timestamp::from_unix(1_700_000_000),
        )
        .unwrap();
        (keys, log)
    }

    #[test]
    fn a_pending_key_the_log_never_declared_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, log) = party(dir.path());
        keyfile::write(
            &pending_path(dir.path(), KeyKind::Attest),
            &key(9),
            Replace::No,
        )
        .unwrap();
        assert_eq!(finish_rotations(dir.path(), &log).unwrap(), vec![]);
        let loaded = PartyKeys::load(dir.path()).unwrap();
        assert_eq!(loaded.attest.public_key(), keys.attest.public_key());
        assert!(!pending_path(dir.path(), KeyKind::Attest).exists());
    }

    #[test]
    fn a_pending_key_the_log_declares_is_installed_and_the_old_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, mut log) = party(dir.path());
        // The crash came after the key events were stored, before the files were swapped.
        let t = Timestamp::from_unix(1_700_000_100);
        log.add_key(&keys.root, KeyDecl::attest(key(9).public_key()), t)
            .unwrap();
        log.retire_key(&keys.root, keys.attest.public_key(), t)
            .unwrap();
        keyfile::write(
            &pending_path(dir.path(), KeyKind::Attest),
            &key(9),
            Replace::No,
        )
        .unwrap();
        assert_eq!(
            finish_rotations(dir.path(), &log).unwrap(),
            vec![KeyKind::Attest]
        );
        let loaded = PartyKeys::load(dir.path()).unwrap();
        assert_eq!(
            loaded.attest.public_key(),
            LogKey::from(key(9).public_key())
        );
        let kept = dir
            .path()
            .join(RETIRED)
            .join(retired_name(KeyKind::Attest, &keys.attest.public_key()));
        assert_eq!(
            keyfile::read_log_key(&kept).unwrap().public_key(),
            keys.attest.public_key()
        );
        // Finishing again changes nothing.
        assert_eq!(finish_rotations(dir.path(), &log).unwrap(), vec![]);
    }

    #[test]
    fn an_interrupted_root_rotation_is_completed_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, mut log) = party(dir.path());
        // The rotation reached the log; the crash came before root.key was replaced.
        log.rotate(
            &key(2),
            &key(10).public_key(),
            Timestamp::from_unix(1_700_000_100),
        )
        .unwrap();
        keyfile::write(
            &pending_path(dir.path(), KeyKind::Root),
            &key(2),
            Replace::No,
        )
        .unwrap();
        assert_eq!(
            finish_rotations(dir.path(), &log).unwrap(),
            vec![KeyKind::Root]
        );
        let loaded = PartyKeys::load(dir.path()).unwrap();
        assert_eq!(loaded.root.public_key(), key(2).public_key());
        assert_ne!(loaded.root.public_key(), keys.root.public_key());
    }

    #[test]
    fn retired_seals_are_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, _) = party(dir.path());
        std::fs::create_dir_all(dir.path().join(RETIRED)).unwrap();
        let name = retired_name(KeyKind::ContractSeal, &key(8).public_key().into());
        keyfile::write(&dir.path().join(RETIRED).join(name), &key(8), Replace::No).unwrap();
        let loaded = PartyKeys::load(dir.path()).unwrap();
        assert_eq!(loaded.retired_seals.len(), 1);
        assert_eq!(loaded.retired_seals[0].public_key(), key(8).public_key());
        assert_eq!(
            loaded.contract_seal.public_key(),
            keys.contract_seal.public_key()
        );
        // The SM2 company seal reads back as SM2.
        assert_eq!(
            loaded.company_seal.public_key(),
            keys.company_seal.public_key()
        );
        assert!(matches!(loaded.company_seal, LogSecretKey::Sm2(_)));
    }

    #[test]
    fn an_sm2_attest_key_round_trips_and_an_ed25519_one_keeps_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, _) = party(dir.path());
        // An Ed25519 attest key's file is the one directories made before SM2 attest keys
        // hold, and such a file loads as before.
        let path = dir.path().join("attest.key");
        let mut plain = keyfile::to_text(&key(3)).to_string();
        plain.push('\n');
        assert_eq!(std::fs::read_to_string(&path).unwrap(), plain);
        assert_eq!(
            PartyKeys::load(dir.path()).unwrap().attest.public_key(),
            keys.attest.public_key()
        );
        // An SM2 attest key is written as an SM2 key file and reads back as SM2.
        let sm2 = tempfile::tempdir().unwrap();
        let keys = PartyKeys {
            attest: LogSecretKey::Sm2(Sm2SecretKey::from_bytes(&[8; 32]).unwrap()),
            ..PartyKeys::load(dir.path()).unwrap()
        };
        keys.save(sm2.path(), Replace::No).unwrap();
        let text = std::fs::read_to_string(sm2.path().join("attest.key")).unwrap();
        assert!(text.starts_with("signet-sm2-scalar:"), "{text}");
        let loaded = PartyKeys::load(sm2.path()).unwrap();
        assert!(matches!(loaded.attest, LogSecretKey::Sm2(_)));
        assert_eq!(loaded.attest.public_key(), keys.attest.public_key());
        assert_eq!(loaded.public(KeyKind::Attest), keys.attest.public_key());
    }

    #[test]
    fn replacing_the_attest_key_takes_either_algorithm() {
        let dir = tempfile::tempdir().unwrap();
        let (mut keys, _) = party(dir.path());
        let sm2 = Sm2SecretKey::from_bytes(&[9; 32]).unwrap();
        let public = sm2.public_key();
        keys.replace(KeyKind::Attest, LogSecretKey::Sm2(sm2));
        assert_eq!(keys.public(KeyKind::Attest), LogKey::Sm2(public));
        keys.replace(KeyKind::Attest, LogSecretKey::Ed25519(key(10)));
        assert_eq!(
            keys.public(KeyKind::Attest),
            LogKey::from(key(10).public_key())
        );
        // An attest key is no seal: nothing is kept as a retired seal.
        assert!(keys.retired_seals.is_empty());
    }
}
