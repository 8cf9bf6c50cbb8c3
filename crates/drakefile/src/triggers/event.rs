//! The events that select pipelines.

use std::fmt;

/// Something that happened to the repository; the triggers of each pipeline decide whether it
/// selects that pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A push of the named branch.
    PushBranch(String),
    /// A push of the named tag.
    PushTag(String),
    /// A pull request opened, updated or reopened.
    PullRequest {
        /// The branch the pull request would merge into.
        target_branch: String,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PushBranch(branch) => write!(formatter, "push of branch `{branch}`"),
            Self::PushTag(tag) => write!(formatter, "push of tag `{tag}`"),
            Self::PullRequest { target_branch } => {
                write!(formatter, "pull request into `{target_branch}`")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_describe_themselves() {
        assert_eq!(
            Event::PushBranch("main".to_owned()).to_string(),
            "push of branch `main`"
        );
        assert_eq!(
            Event::PushTag("v1.0.0".to_owned()).to_string(),
            "push of tag `v1.0.0`"
        );
        assert_eq!(
            Event::PullRequest {
                target_branch: "main".to_owned()
            }
            .to_string(),
            "pull request into `main`"
        );
    }
}
