//! The source trees `eider package` is measured on, generated from a fixed seed: the same paths,
//! sizes and bytes on every run and every machine, so that every tool packs the same input and
//! runs can be compared.
//!
//! Half of the bytes are text (words of a small vocabulary in indented lines: it compresses
//! about as well as source code), half are random (it does not compress, like images or
//! binaries). Text and random files come in pairs of the same size, so each half holds exactly
//! half of the bytes.

use std::path::Path;

/// The seed of every generated tree.
pub const SEED: u64 = 0x6569_6465_7200_0005;

/// Files in each directory.
const FILES_PER_DIRECTORY: usize = 100;

/// Directories (`part-N`) in each top-level directory (`module-NN`).
const PARTS_PER_MODULE: usize = 5;

/// Words in the vocabulary of the text files.
const VOCABULARY_WORDS: usize = 2_048;

/// How many files a tree has and how large they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeShape {
    /// Generated files; an even number (text and random files come in pairs).
    pub files: usize,
    /// Their total size in bytes; a multiple of `files`.
    pub bytes: u64,
    /// Sizes spread between a quarter and seven quarters of the mean, else all equal.
    pub varied_sizes: bool,
}

impl TreeShape {
    /// The tree the timings are taken on: 5,000 files, 100 MB.
    pub const SOURCE: Self = Self {
        files: 5_000,
        bytes: 100_000_000,
        varied_sizes: true,
    };

    /// The tree the peak memory is taken on: 1,000 files of 1 MB.
    pub const LARGE: Self = Self {
        files: 1_000,
        bytes: 1_000_000_000,
        varied_sizes: false,
    };

    /// The mean size of a file.
    pub fn mean_size(&self) -> u64 {
        self.bytes / self.files as u64
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Lines of words: compressible.
    Text,
    /// Random bytes: incompressible.
    Random,
}

/// One file of a tree, before its bytes are generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Its position in the tree, which seeds its bytes.
    pub index: usize,
    /// Its path relative to the tree, `/`-separated.
    pub path: String,
    /// What it holds.
    pub content: Content,
    /// Its size in bytes.
    pub size: usize,
}

/// What [`write`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Files.
    pub files: usize,
    /// Their total size.
    pub bytes: u64,
    /// The size of the text files.
    pub text_bytes: u64,
    /// Directories created for them.
    pub directories: usize,
}

/// The files of a tree of `shape`, in path order.
pub fn plan(shape: &TreeShape, seed: u64) -> Vec<PlannedFile> {
    assert!(
        shape.files > 0 && shape.files.is_multiple_of(2),
        "text and random files come in pairs"
    );
    assert!(
        shape.bytes.is_multiple_of(shape.files as u64) && shape.bytes >= shape.files as u64,
        "every file gets the same mean size, at least one byte"
    );
    let mean = shape.mean_size();
    let pairs = shape.files / 2;
    let mut random = SplitMix64::new(seed);
    let mut complement_of = None;
    let mut files = Vec::with_capacity(shape.files);
    for pair in 0..pairs {
        let size = if !shape.varied_sizes {
            mean
        } else if let Some(first) = complement_of.take() {
            // Two consecutive pairs average the mean exactly, so the total is exact.
            2 * mean - first
        } else if pair + 1 == pairs {
            // The odd pair out.
            mean
        } else {
            let size = mean / 4 + random.below((mean * 3 / 2).max(1));
            complement_of = Some(size);
            size
        };
        let size = usize::try_from(size).expect("a file's size fits in memory");
        for (offset, content) in [(0, Content::Text), (1, Content::Random)] {
            let index = pair * 2 + offset;
            files.push(PlannedFile {
                index,
                path: file_path(index, content),
                content,
                size,
            });
        }
    }
    files
}

fn file_path(index: usize, content: Content) -> String {
    let module = index / (FILES_PER_DIRECTORY * PARTS_PER_MODULE);
    let part = (index / FILES_PER_DIRECTORY) % PARTS_PER_MODULE;
    let extension = match content {
        Content::Text => "txt",
        Content::Random => "bin",
    };
    format!("module-{module:02}/part-{part}/file-{index:05}.{extension}")
}

/// Makes the bytes of planned files.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    vocabulary: Vec<Vec<u8>>,
}

impl Generator {
    /// A generator whose vocabulary and bytes derive from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut random = SplitMix64::new(seed ^ 0x766f_6361_6275_6c61);
        let vocabulary = (0..VOCABULARY_WORDS)
            .map(|_| {
                let length = 2 + random.below(9);
                (0..length)
                    .map(|_| b'a' + u8::try_from(random.below(26)).expect("below 26"))
                    .collect()
            })
            .collect();
        Self { seed, vocabulary }
    }

    /// The bytes of `file`: always the same for the same seed and file.
    pub fn contents(&self, file: &PlannedFile) -> Vec<u8> {
        let index = file.index as u64 + 1;
        let mut random = SplitMix64::new(self.seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        match file.content {
            Content::Random => random_bytes(&mut random, file.size),
            Content::Text => self.text(&mut random, file.size),
        }
    }

    /// Indented lines of 30 to 90 characters of words, cut at `size`.
    fn text(&self, random: &mut SplitMix64, size: usize) -> Vec<u8> {
        let mut text = Vec::with_capacity(size + 128);
        while text.len() < size {
            let indent = 4 * usize::try_from(random.below(4)).expect("below 4");
            let width = 30 + usize::try_from(random.below(61)).expect("below 61");
            let start = text.len();
            text.resize(start + indent, b' ');
            while text.len() - start < width {
                let word = usize::try_from(random.below(VOCABULARY_WORDS as u64))
                    .expect("below the vocabulary's size");
                text.extend_from_slice(&self.vocabulary[word]);
                text.push(b' ');
            }
            text.pop();
            text.push(b'\n');
        }
        text.truncate(size);
        text
    }
}

fn random_bytes(random: &mut SplitMix64, size: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(size.next_multiple_of(8));
    while bytes.len() < size {
        bytes.extend_from_slice(&random.next().to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// Writes the files of a tree of `shape` under `root` (which may already hold other files).
pub fn write(root: &Path, shape: &TreeShape, seed: u64) -> std::io::Result<Written> {
    let generator = Generator::new(seed);
    let mut written = Written::default();
    let mut last_directory = None;
    for file in plan(shape, seed) {
        let path = root.join(&file.path);
        let directory = path.parent().map(Path::to_path_buf);
        if directory != last_directory {
            if let Some(directory) = &directory {
                fs_err::create_dir_all(directory)?;
                written.directories += 1;
            }
            last_directory = directory;
        }
        fs_err::write(&path, generator.contents(&file))?;
        written.files += 1;
        written.bytes += file.size as u64;
        if file.content == Content::Text {
            written.text_bytes += file.size as u64;
        }
    }
    Ok(written)
}

/// `SplitMix64` (Steele, Lea and Flood): tiny, fast, and its output is fixed by its seed alone.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = self.state;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    }

    /// A number below `bound` (slightly biased for huge bounds, which this never uses).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{Content, Generator, SEED, TreeShape, plan, write};

    const SMALL: TreeShape = TreeShape {
        files: 12,
        bytes: 12_000,
        varied_sizes: true,
    };

    /// FNV-1a, enough to tell two byte streams apart in a test.
    fn fingerprint(bytes: impl IntoIterator<Item = u8>) -> u64 {
        bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    fn tree_fingerprint(shape: &TreeShape, seed: u64) -> u64 {
        let generator = Generator::new(seed);
        let bytes = plan(shape, seed).into_iter().flat_map(|file| {
            let mut bytes = file.path.clone().into_bytes();
            bytes.extend(generator.contents(&file));
            bytes
        });
        fingerprint(bytes)
    }

    #[test]
    fn the_source_tree_has_5000_files_and_100_mb_half_of_them_text() {
        let files = plan(&TreeShape::SOURCE, SEED);
        assert_eq!(files.len(), 5_000);
        let total: usize = files.iter().map(|file| file.size).sum();
        assert_eq!(total, 100_000_000);
        let text: usize = files
            .iter()
            .filter(|file| file.content == Content::Text)
            .map(|file| file.size)
            .sum();
        assert_eq!(text, 50_000_000);
        assert!(
            files
                .iter()
                .all(|file| (5_000..=35_000).contains(&file.size))
        );
        let distinct_sizes: BTreeSet<usize> = files.iter().map(|file| file.size).collect();
        assert!(distinct_sizes.len() > 1_000, "{}", distinct_sizes.len());
        let paths: BTreeSet<&str> = files.iter().map(|file| file.path.as_str()).collect();
        assert_eq!(paths.len(), files.len(), "every path is distinct");
        let directories: BTreeSet<&str> = files
            .iter()
            .filter_map(|file| file.path.rsplit_once('/').map(|(directory, _)| directory))
            .collect();
        assert_eq!(directories.len(), 50);
    }

    #[test]
    fn the_large_tree_has_1000_files_of_1_mb() {
        let files = plan(&TreeShape::LARGE, SEED);
        assert_eq!(files.len(), 1_000);
        assert!(files.iter().all(|file| file.size == 1_000_000));
        let random = files
            .iter()
            .filter(|file| file.content == Content::Random)
            .count();
        assert_eq!(random, 500);
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        assert_eq!(
            tree_fingerprint(&SMALL, SEED),
            tree_fingerprint(&SMALL, SEED)
        );
        assert_ne!(
            tree_fingerprint(&SMALL, SEED),
            tree_fingerprint(&SMALL, SEED + 1)
        );
        // Pinned: changing the generator changes what every benchmark measures, so it must be
        // deliberate.
        assert_eq!(tree_fingerprint(&SMALL, SEED), 0x6114_781a_ee9b_d7fa);
    }

    #[test]
    fn text_is_lines_of_words_and_random_bytes_are_not() {
        let generator = Generator::new(SEED);
        for file in plan(&SMALL, SEED) {
            let bytes = generator.contents(&file);
            assert_eq!(bytes.len(), file.size);
            let words_only = bytes
                .iter()
                .all(|&byte| byte.is_ascii_lowercase() || byte == b' ' || byte == b'\n');
            match file.content {
                Content::Text => {
                    assert!(words_only, "{}", file.path);
                    assert!(bytes.contains(&b'\n'), "{}", file.path);
                }
                Content::Random => assert!(!words_only, "{}", file.path),
            }
        }
    }

    #[test]
    fn writing_twice_gives_the_same_files() -> std::io::Result<()> {
        let first = tempfile::tempdir()?;
        let second = tempfile::tempdir()?;
        let written = write(first.path(), &SMALL, SEED)?;
        assert_eq!(write(second.path(), &SMALL, SEED)?, written);
        assert_eq!(written.files, 12);
        assert_eq!(written.bytes, 12_000);
        assert_eq!(written.text_bytes, 6_000);
        for file in plan(&SMALL, SEED) {
            let one = fs_err::read(first.path().join(&file.path))?;
            let other = fs_err::read(second.path().join(&file.path))?;
            assert_eq!(one, other, "{}", file.path);
            assert_eq!(one.len(), file.size);
        }
        Ok(())
    }
}
