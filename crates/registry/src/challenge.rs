//! `WWW-Authenticate` challenges (RFC 7235): a scheme, then `name=value` parameters with quoted
//! or bare values, several challenges possibly in one header.

use std::collections::BTreeMap;

/// One parsed challenge: the scheme in lowercase and its parameters by lowercase name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) scheme: String,
    pub(crate) parameters: BTreeMap<String, String>,
}

/// What a registry asks for, reduced to what this client can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthChallenge {
    /// Send `Authorization: Basic base64(user:password)`.
    Basic,
    /// Get a token from `realm` (for `service` and `scope`) and send `Authorization: Bearer`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Picks the challenge to answer from all `WWW-Authenticate` values: Bearer when offered
/// (tokens are scoped, and registries that offer both prefer it), else Basic.
pub(crate) fn choose_challenge<'a>(
    headers: impl IntoIterator<Item = &'a str>,
) -> Option<AuthChallenge> {
    let challenges: Vec<Challenge> = headers.into_iter().flat_map(parse_challenges).collect();
    let bearer = challenges.iter().find_map(|challenge| {
        let realm = challenge.parameters.get("realm")?;
        (challenge.scheme == "bearer" && !realm.is_empty()).then(|| AuthChallenge::Bearer {
            realm: realm.clone(),
            service: challenge.parameters.get("service").cloned(),
            scope: challenge.parameters.get("scope").cloned(),
        })
    });
    bearer.or_else(|| {
        challenges
            .iter()
            .any(|challenge| challenge.scheme == "basic")
            .then_some(AuthChallenge::Basic)
    })
}

/// Parses every challenge of one header value; malformed tails are dropped, never an error,
/// since only the schemes and parameters this client knows matter.
pub(crate) fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut cursor = Cursor {
        bytes: header.as_bytes(),
        text: header,
        position: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip_separators();
        let Some(scheme) = cursor.token() else {
            break;
        };
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            parameters: BTreeMap::new(),
        };
        // Parameters follow until a token that is not followed by `=` starts the next challenge.
        loop {
            cursor.skip_whitespace();
            let checkpoint = cursor.position;
            let Some(name) = cursor.token() else {
                // A stray comma between parameters.
                if cursor.eat(b',') {
                    continue;
                }
                break;
            };
            cursor.skip_whitespace();
            if !cursor.eat(b'=') {
                cursor.position = checkpoint;
                break;
            }
            cursor.skip_whitespace();
            let value = if cursor.peek() == Some(b'"') {
                cursor.quoted_string()
            } else {
                cursor.token().unwrap_or_default().to_owned()
            };
            challenge
                .parameters
                .insert(name.to_ascii_lowercase(), value);
            cursor.skip_whitespace();
            if !cursor.eat(b',') {
                break;
            }
        }
        challenges.push(challenge);
        if cursor.position == cursor.bytes.len() {
            break;
        }
        // Anything unparsable: skip a character so the loop always ends.
        if cursor
            .peek()
            .is_some_and(|byte| !is_token_byte(byte) && byte != b',' && !byte.is_ascii_whitespace())
        {
            cursor.position += 1;
        }
    }
    challenges
}

struct Cursor<'a> {
    bytes: &'a [u8],
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn eat(&mut self, expected: u8) -> bool {
        if self.peek() == Some(expected) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn skip_whitespace(&mut self) {
        while self
            .peek()
            .is_some_and(|byte| byte == b' ' || byte == b'\t')
        {
            self.position += 1;
        }
    }

    fn skip_separators(&mut self) {
        while self
            .peek()
            .is_some_and(|byte| byte == b' ' || byte == b'\t' || byte == b',')
        {
            self.position += 1;
        }
    }

    /// An RFC 7230 token, also allowing `/` and `:` so that unquoted URLs and scopes stay whole.
    fn token(&mut self) -> Option<&'a str> {
        let start = self.position;
        while self.peek().is_some_and(is_token_byte) {
            self.position += 1;
        }
        (self.position > start).then(|| &self.text[start..self.position])
    }

    /// A quoted string starting at `"`, with `\` escapes; an unterminated one runs to the end.
    fn quoted_string(&mut self) -> String {
        self.position += 1;
        let mut value = Vec::new();
        while let Some(byte) = self.peek() {
            self.position += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        value.push(escaped);
                        self.position += 1;
                    }
                }
                _ => value.push(byte),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
                | b'/'
                | b':'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameters(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn a_docker_hub_bearer_challenge_is_parsed() {
        let header = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#;
        assert_eq!(
            parse_challenges(header),
            vec![Challenge {
                scheme: "bearer".to_owned(),
                parameters: parameters(&[
                    ("realm", "https://auth.docker.io/token"),
                    ("service", "registry.docker.io"),
                    ("scope", "repository:library/alpine:pull"),
                ]),
            }]
        );
    }

    #[test]
    fn a_basic_challenge_is_parsed() {
        assert_eq!(
            parse_challenges(r#"Basic realm="eider test""#),
            vec![Challenge {
                scheme: "basic".to_owned(),
                parameters: parameters(&[("realm", "eider test")]),
            }]
        );
        assert_eq!(
            choose_challenge([r#"Basic realm="x""#]),
            Some(AuthChallenge::Basic)
        );
    }

    #[test]
    fn several_challenges_in_one_header_are_separated() {
        let header = r#"Basic realm="r1", Bearer realm="https://t.example/token", service=reg, error="invalid_token""#;
        let challenges = parse_challenges(header);
        assert_eq!(challenges.len(), 2, "{challenges:?}");
        assert_eq!(challenges[0].scheme, "basic");
        assert_eq!(
            challenges[1].parameters.get("service").map(String::as_str),
            Some("reg")
        );
        assert_eq!(
            challenges[1].parameters.get("error").map(String::as_str),
            Some("invalid_token")
        );
    }

    #[test]
    fn bearer_is_preferred_over_basic_across_headers() {
        let chosen = choose_challenge([
            r#"Basic realm="r""#,
            r#"bearer Realm="https://t.example/token",Scope="repository:a:pull,push""#,
        ]);
        assert_eq!(
            chosen,
            Some(AuthChallenge::Bearer {
                realm: "https://t.example/token".to_owned(),
                service: None,
                scope: Some("repository:a:pull,push".to_owned()),
            })
        );
    }

    #[test]
    fn quoted_values_keep_commas_spaces_and_escapes() {
        let challenges = parse_challenges(
            r#"Bearer realm="https://t.example/a,b", scope="x y", note="say \"hi\"""#,
        );
        let parameters = &challenges[0].parameters;
        assert_eq!(parameters["realm"], "https://t.example/a,b");
        assert_eq!(parameters["scope"], "x y");
        assert_eq!(parameters["note"], r#"say "hi""#);
    }

    #[test]
    fn unknown_or_incomplete_challenges_are_not_answered() {
        assert_eq!(choose_challenge(["Negotiate abc=="]), None);
        assert_eq!(choose_challenge(["Bearer service=x"]), None);
        assert_eq!(choose_challenge([""]), None);
    }

    #[test]
    fn garbage_never_loops_or_panics() {
        for header in [
            "\"",
            "=,=,=",
            "Bearer realm=\"unterminated",
            "Basic ;;;",
            "é Bearer",
        ] {
            let _challenges = parse_challenges(header);
        }
    }
}
