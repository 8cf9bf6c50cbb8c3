//! Pipeline selection by triggers, as the DrakeSpec describes it: an [`Event`] and the triggers
//! of each pipeline select zero, one or many pipelines. The event itself (the current branch,
//! or the one the command line names) is found by the caller.
//!
//! eider reads the trigger specs listed in [`SUPPORTED`]: `github.com/lovethedrake/drakespec-github`
//! at `v1.0.0`, and `github.com/lovethedrake/drakespec-brig` at `v1.0.0` only to say that its
//! events (Brigade's `brig run`) have no git counterpart, so it never selects a pipeline. The
//! GitHub config is `{pullRequest: {targetBranches: SEL}, push: {branches: SEL,
//! tags: SEL}}` with `SEL = {only: [..], ignore: [..]}`. A name passes a selector when `only` is
//! missing or empty or one of its entries matches, and no `ignore` entry matches. An entry written
//! `/re/` is a regular expression searched anywhere in the name (`/v[0-9]+/` matches `xv1`; anchor
//! it with `^…$`); any other entry must equal the name. A pushed branch is matched against
//! `push.branches`, a pushed tag against `push.tags`, a pull request's target branch against
//! `pullRequest.targetBranches`; when that selector is absent the trigger does not match.
//!
//! Per pipeline, triggers are walked in order and the first one that matches selects the
//! pipeline, as the spec says. Decisions the spec leaves open:
//!
//! - Only the exact version `v1.0.0` is supported. The reference executor never looked at
//!   `specVersion`; the spec asks to skip versions one does not know, and a later `v1.x.y` may add
//!   config eider would misread. Unknown specs and versions, and every seed-draft trigger, are
//!   skipped with a [`Note`] (the warning the spec asks for).
//! - An invalid config of a supported trigger (not a mapping, a selector list that is not a list
//!   of strings, a bad regular expression) is a [`TriggerError`] naming the pipeline and the
//!   trigger, never a silently skipped trigger: the reference executor aborted the whole build.
//! - Every trigger of every pipeline is checked, even after a match decided the pipeline, so
//!   notes and errors do not depend on the event.
//! - Fields the config does not define are ignored as the reference executor did, with a warning:
//!   a misspelled `only` would otherwise let every name pass unnoticed. A trigger without `config`
//!   matches nothing, also with a warning. These warnings ([`check`]) are the parsed Drakefile's,
//!   with their line and column, so every command that reads the file shows them; selection
//!   notes only what depends on eider's support (specs, versions, seed-draft triggers).
//! - The October 2019 form of the GitHub config (`checkSuiteRequest`, `tagPush`) is read as
//!   BrigDrake read it then, with a note naming the current spelling (see `github.rs`);
//!   [`dialect`] turns old forms into the current one for `eider upgrade`.
//! - A pipeline without triggers is never selected by an event: it runs only when named, as the
//!   spec says.

mod brig;
mod config_path;
pub mod dialect;
mod event;
mod github;
mod name_filter;
mod reading;
mod selector;

pub use brig::BRIG_SPEC_URI;
pub use config_path::{ConfigPath, ConfigStep};
pub use event::Event;
pub use github::{ConfigNote, GithubConfigError};
pub use reading::{TriggerCheck, check};
pub use selector::{Note, Outcome, Selection, TriggerError, select};

/// The `specUri` of the GitHub trigger spec.
pub const GITHUB_SPEC_URI: &str = "github.com/lovethedrake/drakespec-github";

/// The trigger specs eider reads, as (`specUri`, `specVersion`) pairs. A `drakespec-brig`
/// trigger is read only to say that it never selects a pipeline here.
pub const SUPPORTED: &[(&str, &str)] = &[(GITHUB_SPEC_URI, "v1.0.0"), (BRIG_SPEC_URI, "v1.0.0")];
