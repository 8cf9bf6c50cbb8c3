//! An error and its causes as one line of text, for the places that keep an error as text (a
//! finding of a verification, an engine's answer, an error crossing a thread as a message).
//! Errors rendered for people go through the CLI's own `error:` / `Caused by:` lines instead.

/// `error` and each of its causes that says something new, joined with `: `. A cause whose text
/// the line already holds (a wrapper that repeats its source) is left out.
#[must_use]
pub fn chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(source) = cause {
        let more = source.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = source.source();
    }
    text
}

/// An error known only as text (already rendered with [`chain_text`], e.g. after crossing a
/// thread as a message), given back the shape of an error so that it can stand as a cause.
#[derive(Debug)]
pub struct TextError(pub String);

impl std::fmt::Display for TextError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for TextError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer {
        text: &'static str,
        source: Option<Box<Layer>>,
    }

    impl std::fmt::Display for Layer {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str(self.text)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.source
                .as_deref()
                .map(|layer| layer as &(dyn std::error::Error + 'static))
        }
    }

    fn layers(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| {
                Some(Layer {
                    text,
                    source: source.map(Box::new),
                })
            })
            .expect("at least one layer")
    }

    #[test]
    fn causes_follow_the_error_and_repeats_are_left_out() {
        let error = layers(&[
            "cannot push",
            "connection refused",
            "error trying to connect: connection refused",
            "os error 111",
        ]);
        assert_eq!(
            chain_text(&error),
            "cannot push: connection refused: error trying to connect: connection refused: os error 111"
        );
        assert_eq!(
            chain_text(&layers(&["cannot read x: gone", "gone"])),
            "cannot read x: gone"
        );
        assert_eq!(chain_text(&layers(&["alone"])), "alone");
    }
}
