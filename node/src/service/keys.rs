//! The party's own secret keys, as files in `DIR/keys/` (see [`crate::keyfile`]).

use std::path::Path;

use signet_protocol::SecretKey;

use crate::keyfile::{self, KeyFileError, Replace};

/// The party's secret keys held by its node. The delegate's person key is not among them.
#[derive(Debug)]
pub struct PartyKeys {
    /// The current root key (rotates the party's key log).
    pub root: SecretKey,
    /// The pre-committed next root key.
    pub next_root: SecretKey,
    /// The node key: libp2p identity, signs every session message.
    pub node: SecretKey,
    /// Signs attestations the party issues.
    pub attest: SecretKey,
    /// Signs evidence-log checkpoints (and witness cosignatures).
    pub log: SecretKey,
    /// The contract seal.
    pub contract_seal: SecretKey,
    /// The company seal.
    pub company_seal: SecretKey,
}

const NAMES: [&str; 7] = [
    "root",
    "next-root",
    "node",
    "attest",
    "log",
    "seal-contract",
    "seal-company",
];

impl PartyKeys {
    /// Reads the keys from `dir` (`DIR/keys`).
    pub fn load(dir: &Path) -> Result<Self, KeyFileError> {
        let k = |name: &str| keyfile::read(&dir.join(format!("{name}.key")));
        Ok(Self {
            root: k(NAMES[0])?,
            next_root: k(NAMES[1])?,
            node: k(NAMES[2])?,
            attest: k(NAMES[3])?,
            log: k(NAMES[4])?,
            contract_seal: k(NAMES[5])?,
            company_seal: k(NAMES[6])?,
        })
    }

    /// Writes the keys to `dir`, which is created owner-only if absent.
    pub fn save(&self, dir: &Path, replace: Replace) -> Result<(), KeyFileError> {
        std::fs::create_dir_all(dir).map_err(|source| KeyFileError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let keys = [
            &self.root,
            &self.next_root,
            &self.node,
            &self.attest,
            &self.log,
            &self.contract_seal,
            &self.company_seal,
        ];
        for (name, key) in NAMES.iter().zip(keys) {
            keyfile::write(&dir.join(format!("{name}.key")), key, replace)?;
        }
        Ok(())
    }
}
