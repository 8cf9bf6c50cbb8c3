//! The seed-draft command-string splitter: it never panics, an error points inside the string,
//! and words written back with single quotes split into the same words.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(line) = std::str::from_utf8(input) else {
        return;
    };
    match drakefile::split_command_line(line) {
        Ok(words) => {
            let quoted: Vec<String> = words
                .iter()
                .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
                .collect();
            let again = drakefile::split_command_line(&quoted.join(" "))
                .expect("single-quoted words always split");
            assert_eq!(again, words);
        }
        Err(error) => {
            assert!(error.offset <= line.len(), "offset past the end: {error:?}");
            assert!(
                line.is_char_boundary(error.offset),
                "offset inside a character: {error:?}"
            );
            assert!(!error.message.is_empty());
        }
    }
});
