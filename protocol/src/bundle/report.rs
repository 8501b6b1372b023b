//! The validation report (spec §11.3), after the AdES habit: each check with its outcome and
//! reason, an overall outcome, and how the four conditions of a reliable electronic signature
//! (PRC Electronic Signature Law Art. 13) are shown.

use std::fmt;

use crate::Timestamp;
use crate::party::PartyId;
use crate::session::IntentMethod;
use crate::trust::Identity;

/// The outcome of a check or of the whole validation (ETSI EN 319 102-1: TOTAL-PASSED,
/// TOTAL-FAILED, INDETERMINATE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Everything checked holds.
    Valid,
    /// Something is missing to decide (an unknown key log, stale revocation information).
    Indeterminate,
    /// Something checked is false.
    Invalid,
}

impl Outcome {
    /// The report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "VALID",
            Self::Indeterminate => "INDETERMINATE",
            Self::Invalid => "INVALID",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Stable name of the check, e.g. `signature.mandate` (spec §11.3 lists them).
    pub name: &'static str,
    /// What it was about, e.g. a party id or a document name.
    pub subject: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why, in words.
    pub detail: String,
}

/// How one reliability condition is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Outcome of the checks that show it.
    pub outcome: Outcome,
    /// The checks it rests on, and what they mean for the condition.
    pub basis: String,
}

/// The four conditions of Art. 13 of the PRC Electronic Signature Law (and the matching
/// requirements of eIDAS Art. 26 and 36 for advanced signatures and seals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reliability {
    /// (1) The signature creation data belong to the signer alone.
    pub signer_binding: Condition,
    /// (2) Only the signer controlled them when signing.
    pub signer_control: Condition,
    /// (3) Any later change to the signature is detectable.
    pub signature_integrity: Condition,
    /// (4) Any later change to the document's content and form is detectable.
    pub document_integrity: Condition,
}

/// The result of verifying a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The overall outcome: Invalid if any check is, else Indeterminate if any check is,
    /// else Valid.
    pub outcome: Outcome,
    /// The contract's title, if the proposal could be read.
    pub title: Option<String>,
    /// Every check, in the order made.
    pub checks: Vec<Check>,
    /// How the four reliability conditions are shown.
    pub reliability: Reliability,
    /// Who the parties are, as the verifier's trust policy establishes them from what the
    /// bundle and the verifier bring (empty when the proposal could not be read).
    pub parties: Vec<PartyReport>,
}

/// One party of the contract, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyReport {
    /// The party.
    pub party: PartyId,
    /// `initiator`, `signer`, `approver` or `copy` (the initiator's own role when it is also
    /// a participant).
    pub role: String,
    /// Its identity, when the trust policy establishes it: for a signer at signing time,
    /// for the others at completion.
    pub identity: Option<Identity>,
    /// Valid when the identity is established; otherwise why not, and whether more
    /// information could establish it (Indeterminate) or not (Invalid).
    pub established: Outcome,
    /// How the identity was established, or why it was not.
    pub basis: String,
    /// For a signer whose signature record passed every check: who gave intent, how, when.
    pub signed: Option<SignedBy>,
}

/// The person behind a verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    /// The delegate's name, as the seal mandate gives it.
    pub person: String,
    /// How intent was given, as the intent proof shows.
    pub method: IntentMethod,
    /// When the seal was applied (the seal signature's time).
    pub time: Timestamp,
    /// The PDF revisions the seal signature says this signer sealed (spec §8.4.2), checked
    /// to chain from the document through the signers before it.
    pub pdf: Vec<crate::session::PdfRevision>,
}

impl PartyReport {
    /// The party as a person reads it: `Legal Name (registration)`, or the party id with
    /// `(identity not established)`.
    pub fn label(&self) -> String {
        match &self.identity {
            Some(Identity {
                legal_name,
                registration: Some(reg),
                ..
            }) => format!("{legal_name} ({})", reg.for_people()),
            Some(identity) => identity.legal_name.clone(),
            None => format!("{} (identity not established)", self.party),
        }
    }
}

impl Report {
    /// Whether the outcome is Valid.
    pub fn is_valid(&self) -> bool {
        self.outcome == Outcome::Valid
    }

    /// The checks that did not pass.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome != Outcome::Valid)
    }
}

/// Collects checks while verifying.
#[derive(Debug, Default)]
pub(crate) struct Checks(pub(crate) Vec<Check>);

impl Checks {
    pub(crate) fn push(
        &mut self,
        name: &'static str,
        subject: impl Into<String>,
        outcome: Outcome,
        detail: impl Into<String>,
    ) {
        self.0.push(Check {
            name,
            subject: subject.into(),
            outcome,
            detail: detail.into(),
        });
    }

    pub(crate) fn pass(
        &mut self,
        name: &'static str,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(name, subject, Outcome::Valid, detail);
    }

    /// The worst outcome among checks whose name starts with one of `prefixes`; Valid if
    /// there are none.
    pub(crate) fn worst(&self, prefixes: &[&str]) -> Outcome {
        self.0
            .iter()
            .filter(|c| prefixes.iter().any(|p| c.name.starts_with(p)))
            .map(|c| c.outcome)
            .max()
            .unwrap_or(Outcome::Valid)
    }

    pub(crate) fn overall(&self) -> Outcome {
        self.0
            .iter()
            .map(|c| c.outcome)
            .max()
            .unwrap_or(Outcome::Invalid)
    }
}
