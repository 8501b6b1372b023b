//! The console's people: the persons who sign in with passkeys, their roles, and the
//! invitations that let a new person register.
//!
//! Kept in `DIR/console/people.json` (owner-only, replaced atomically on every change). It
//! holds public keys only: a passkey's private key stays in the person's authenticator.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use signet_protocol::Timestamp;
use signet_protocol::person::{CredentialAlgorithm, WebAuthnCredential};
use webauthn_rs::prelude::{COSEAlgorithm, COSEKeyType, ECDSACurve, EDDSACurve, Passkey, Uuid};

use crate::service::random_bytes;

/// The most persons the console holds.
pub const MAX_PEOPLE: usize = 1000;
/// The most passkeys one person registers.
pub const MAX_PASSKEYS: usize = 10;
/// The most invitations outstanding at once.
pub const MAX_INVITATIONS: usize = 100;
/// How long an invitation may be used, in seconds (three days).
pub const INVITATION_LIFETIME: u64 = 3 * 86_400;
/// The longest person name.
pub const MAX_NAME_LEN: usize = 100;

/// What a person may do in the console. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read sessions, documents, evidence; download bundles; verify.
    Reader,
    /// Also act in sessions: send, sign with their own passkey, approve, decline, remind,
    /// cancel.
    Signer,
    /// Also manage seal mandates, attestations, peers and people.
    Admin,
}

impl Role {
    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "reader" => Some(Self::Reader),
            "signer" => Some(Self::Signer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Signer => "signer",
            Self::Admin => "admin",
        }
    }
}

/// A passkey a person registered, with what the console learnt of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPasskey {
    /// webauthn-rs's record of it (public key, counter).
    pub passkey: Passkey,
    /// The person's label for it ("work laptop").
    pub label: String,
    /// Whether the authenticator said the credential may be synced off it (backup-eligible);
    /// `true` until shown otherwise, so that the console never claims a device-bound key it
    /// has not seen.
    pub backup_eligible: bool,
    /// When it was registered.
    pub added_at: Timestamp,
}

impl StoredPasskey {
    /// The credential id, base64url (how the browser names it).
    pub fn id_b64(&self) -> String {
        b64url(self.passkey.cred_id())
    }

    /// The credential as a seal mandate names it, scoped to relying party `rp_id`.
    pub fn credential(&self, rp_id: &str) -> Result<WebAuthnCredential, &'static str> {
        let key = self.passkey.get_public_key();
        let (alg, public_key) = match (&key.type_, &key.key) {
            (COSEAlgorithm::ES256, COSEKeyType::EC_EC2(ec))
                if ec.curve == ECDSACurve::SECP256R1 =>
            {
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&ec.x);
                point.extend_from_slice(&ec.y);
                (CredentialAlgorithm::Es256, point)
            }
            (COSEAlgorithm::EDDSA, COSEKeyType::EC_OKP(okp))
                if okp.curve == EDDSACurve::ED25519 =>
            {
                (CredentialAlgorithm::EdDsa, okp.x.clone())
            }
            _ => return Err("the passkey's algorithm is neither ES256 nor EdDSA"),
        };
        let credential = WebAuthnCredential {
            id: self.passkey.cred_id().to_vec(),
            alg,
            public_key,
            rp_id: rp_id.to_string(),
        };
        credential
            .check()
            .map_err(|_| "the passkey's public key is not a valid key")?;
        Ok(credential)
    }
}

/// A person of the console.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Person {
    /// Their WebAuthn user handle.
    pub id: Uuid,
    /// Their name, as they sign and as mandates name them (unique, case-insensitively).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Their passkeys.
    pub passkeys: Vec<StoredPasskey>,
    /// When they registered.
    pub created_at: Timestamp,
}

/// An invitation to register, by the SHA-256 of its token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Invitation {
    token_sha256: String,
    name: String,
    role: Role,
    expires_at: Timestamp,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PeopleFile {
    people: Vec<Person>,
    invitations: Vec<Invitation>,
}

/// Why a change to the people was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeopleError {
    /// The invitation is unknown, used or expired.
    #[error("this invitation is unknown, already used or expired: ask for a new one")]
    Invitation,
    /// The name is taken or unusable.
    #[error("{0}")]
    Name(String),
    /// A bound was reached.
    #[error("{0}")]
    Full(&'static str),
    /// No such person.
    #[error("no such person")]
    Unknown,
    /// The change would leave no administrator.
    #[error("the console must keep at least one administrator")]
    LastAdmin,
    /// The file could not be read or written.
    #[error("people file {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The console's people, persisted.
#[derive(Debug)]
pub struct People {
    path: PathBuf,
    state: Mutex<PeopleFile>,
}

/// SHA-256 hex of an invitation token.
fn token_hash(token: &str) -> String {
    signet_protocol::Digest::of(token.as_bytes()).to_hex()
}

/// Base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn check_name(name: &str) -> Result<String, PeopleError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(PeopleError::Name(format!(
            "a name is 1 to {MAX_NAME_LEN} characters, without control characters"
        )));
    }
    Ok(name.to_string())
}

impl People {
    /// Opens (or starts) the people file under `dir` (`DIR/console/people.json`).
    pub fn open(dir: &Path) -> Result<Self, PeopleError> {
        let path = dir.join("console").join("people.json");
        let io = |reason: String| PeopleError::Io {
            path: path.clone(),
            reason,
        };
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| io(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => PeopleFile::default(),
            Err(e) => return Err(io(e.to_string())),
        };
        Ok(Self {
            path,
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PeopleFile> {
        // The state is replaced whole only after a successful write; a panic elsewhere leaves
        // it consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes `state` to the file: a temporary file in the same directory, synced, renamed
    /// over the old one.
    fn save(&self, state: &PeopleFile) -> Result<(), PeopleError> {
        let io = |reason: String| PeopleError::Io {
            path: self.path.clone(),
            reason,
        };
        let dir = self
            .path
            .parent()
            .ok_or_else(|| io("no directory".into()))?;
        std::fs::create_dir_all(dir).map_err(|e| io(e.to_string()))?;
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| io(e.to_string()))?;
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| io(e.to_string()))?;
        std::io::Write::write_all(&mut file, &bytes).map_err(|e| io(e.to_string()))?;
        file.as_file().sync_all().map_err(|e| io(e.to_string()))?;
        file.persist(&self.path)
            .map_err(|e| io(e.error.to_string()))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Applies `change` to a copy of the state and keeps it only once it is on disk.
    fn change<T>(
        &self,
        change: impl FnOnce(&mut PeopleFile) -> Result<T, PeopleError>,
    ) -> Result<T, PeopleError> {
        let mut state = self.lock();
        let mut next = PeopleFile {
            people: state.people.clone(),
            invitations: state.invitations.clone(),
        };
        let out = change(&mut next)?;
        self.save(&next)?;
        *state = next;
        Ok(out)
    }

    /// Every person.
    pub fn all(&self) -> Vec<Person> {
        self.lock().people.clone()
    }

    /// Whether anyone has registered yet.
    pub fn is_empty(&self) -> bool {
        self.lock().people.is_empty()
    }

    /// The person with user handle `id`.
    pub fn get(&self, id: &Uuid) -> Option<Person> {
        self.lock().people.iter().find(|p| p.id == *id).cloned()
    }

    /// The person named `name` (case-insensitively).
    pub fn by_name(&self, name: &str) -> Option<Person> {
        let name = name.trim().to_lowercase();
        self.lock()
            .people
            .iter()
            .find(|p| p.name.to_lowercase() == name)
            .cloned()
    }

    /// Invites `name` as `role`; returns the token (shown once; only its hash is kept).
    pub fn invite(&self, name: &str, role: Role, now: Timestamp) -> Result<String, PeopleError> {
        let name = check_name(name)?;
        let token = b64url(&random_bytes().map_err(|_| PeopleError::Full("no randomness"))?);
        let hash = token_hash(&token);
        self.change(|s| {
            s.invitations.retain(|i| i.expires_at > now);
            if s.people
                .iter()
                .any(|p| p.name.to_lowercase() == name.to_lowercase())
            {
                return Err(PeopleError::Name(format!(
                    "{name} is already a person of this console"
                )));
            }
            if s.invitations.len() >= MAX_INVITATIONS {
                return Err(PeopleError::Full("too many outstanding invitations"));
            }
            s.invitations
                .retain(|i| i.name.to_lowercase() != name.to_lowercase());
            s.invitations.push(Invitation {
                token_sha256: hash,
                name,
                role,
                expires_at: now.plus(INVITATION_LIFETIME),
            });
            Ok(())
        })?;
        Ok(token)
    }

    /// The name and role an invitation token is for, if it is usable at `now`.
    pub fn invitation(&self, token: &str, now: Timestamp) -> Option<(String, Role)> {
        let hash = token_hash(token);
        self.lock()
            .invitations
            .iter()
            .find(|i| i.token_sha256 == hash && i.expires_at > now)
            .map(|i| (i.name.clone(), i.role))
    }

    /// Uses the invitation `token` to register its person with `passkey`.
    pub fn register(
        &self,
        token: &str,
        id: Uuid,
        passkey: StoredPasskey,
        now: Timestamp,
    ) -> Result<Person, PeopleError> {
        let hash = token_hash(token);
        self.change(|s| {
            let at = s
                .invitations
                .iter()
                .position(|i| i.token_sha256 == hash && i.expires_at > now)
                .ok_or(PeopleError::Invitation)?;
            let invitation = s.invitations.remove(at);
            if s.people.len() >= MAX_PEOPLE {
                return Err(PeopleError::Full("the console holds its most persons"));
            }
            if s.people
                .iter()
                .any(|p| p.name.to_lowercase() == invitation.name.to_lowercase())
            {
                return Err(PeopleError::Name(format!(
                    "{} is already a person of this console",
                    invitation.name
                )));
            }
            let person = Person {
                id,
                name: invitation.name,
                role: invitation.role,
                passkeys: vec![passkey],
                created_at: now,
            };
            s.people.push(person.clone());
            Ok(person)
        })
    }

    /// Adds a passkey to person `id`.
    pub fn add_passkey(&self, id: &Uuid, passkey: StoredPasskey) -> Result<(), PeopleError> {
        self.change(|s| {
            let p = s
                .people
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or(PeopleError::Unknown)?;
            if p.passkeys.len() >= MAX_PASSKEYS {
                return Err(PeopleError::Full("a person has at most 10 passkeys"));
            }
            p.passkeys.push(passkey);
            Ok(())
        })
    }

    /// After a sign-in: the passkey's counter and backup flags as the authenticator reported.
    pub fn update_passkey(
        &self,
        id: &Uuid,
        result: &webauthn_rs::prelude::AuthenticationResult,
    ) -> Result<(), PeopleError> {
        self.change(|s| {
            let p = s
                .people
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or(PeopleError::Unknown)?;
            for k in &mut p.passkeys {
                if k.passkey.update_credential(result).is_some() {
                    k.backup_eligible = result.backup_eligible();
                }
            }
            Ok(())
        })
    }

    /// Changes person `id`'s role.
    pub fn set_role(&self, id: &Uuid, role: Role) -> Result<(), PeopleError> {
        self.change(|s| {
            let admins = s.people.iter().filter(|p| p.role == Role::Admin).count();
            let p = s
                .people
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or(PeopleError::Unknown)?;
            if p.role == Role::Admin && role != Role::Admin && admins == 1 {
                return Err(PeopleError::LastAdmin);
            }
            p.role = role;
            Ok(())
        })
    }

    /// Removes person `id` (their mandates stay until revoked: revoke them first).
    pub fn remove(&self, id: &Uuid) -> Result<Person, PeopleError> {
        self.change(|s| {
            let at = s
                .people
                .iter()
                .position(|p| p.id == *id)
                .ok_or(PeopleError::Unknown)?;
            let admins = s.people.iter().filter(|p| p.role == Role::Admin).count();
            if s.people[at].role == Role::Admin && admins == 1 {
                return Err(PeopleError::LastAdmin);
            }
            Ok(s.people.remove(at))
        })
    }
}
