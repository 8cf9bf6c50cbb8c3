//! Tar headers built byte by byte (normalization version 1): ustar, with a PAX extended header
//! (`x`) before an entry only when its path or link target does not fit the ustar fields or its
//! size does not fit 11 octal digits. Owners are 0 with empty names, every time field is the
//! epoch. Built by hand because the `tar` crate's deterministic mode hard-codes a 2006 mtime.

use std::io::{self, Write};

/// The tar block size.
pub(crate) const BLOCK: usize = 512;

/// The largest value of an 11-digit octal field (size, mtime).
pub(crate) const LARGEST_OCTAL_11: u64 = 0o777_7777_7777;

/// Bytes of the ustar name and link name fields.
const NAME_FIELD: usize = 100;

/// The name of every PAX extended header: a constant, so it never depends on the entry.
const PAX_HEADER_NAME: &[u8] = b"././@PaxHeader";

/// The kind of a tar entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderKind {
    /// A regular file.
    File,
    /// A hard link to an earlier entry.
    HardLink,
    /// A symbolic link.
    Symlink,
    /// A directory.
    Directory,
}

impl HeaderKind {
    fn type_flag(self) -> u8 {
        match self {
            Self::File => b'0',
            Self::HardLink => b'1',
            Self::Symlink => b'2',
            Self::Directory => b'5',
        }
    }
}

/// Writes the header(s) of one entry: a PAX header first when needed, then the ustar header.
/// `name` is the full path in the image without a leading slash (directories end with `/`).
pub(crate) fn write_header(
    output: &mut impl Write,
    kind: HeaderKind,
    name: &str,
    link_target: &str,
    mode: u32,
    size: u64,
    epoch: u64,
) -> io::Result<()> {
    let long_name = name.len() > NAME_FIELD;
    let long_target = link_target.len() > NAME_FIELD;
    let large = size > LARGEST_OCTAL_11;
    if long_name || long_target || large {
        // Keys in byte order, so the records never depend on the code path that added them.
        let mut records = Vec::new();
        if long_target {
            push_pax_record(&mut records, "linkpath", link_target);
        }
        if long_name {
            push_pax_record(&mut records, "path", name);
        }
        if large {
            push_pax_record(&mut records, "size", &size.to_string());
        }
        let pax = ustar_header(
            b'x',
            PAX_HEADER_NAME,
            b"",
            0o644,
            records.len() as u64,
            epoch,
        );
        output.write_all(&pax)?;
        output.write_all(&records)?;
        output.write_all(&[0; BLOCK][..padding(records.len() as u64)])?;
    }
    // With a PAX record the ustar fields keep a truncated copy: readers that ignore PAX see a
    // prefix of the real name rather than nothing.
    let header = ustar_header(
        kind.type_flag(),
        truncate(name.as_bytes()),
        truncate(link_target.as_bytes()),
        mode,
        if large { 0 } else { size },
        epoch,
    );
    output.write_all(&header)
}

/// Bytes of zero padding after `size` bytes of content, up to the next block.
pub(crate) fn padding(size: u64) -> usize {
    let remainder = (size % BLOCK as u64) as usize;
    if remainder == 0 { 0 } else { BLOCK - remainder }
}

fn truncate(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.len().min(NAME_FIELD)]
}

/// One PAX record: `<length> <key>=<value>\n`, where the length counts itself.
fn push_pax_record(records: &mut Vec<u8>, key: &str, value: &str) {
    let rest = key.len() + value.len() + 3;
    let mut length = rest + 1;
    while length != rest + length.to_string().len() {
        length = rest + length.to_string().len();
    }
    records.extend_from_slice(format!("{length} {key}={value}\n").as_bytes());
}

fn ustar_header(
    type_flag: u8,
    name: &[u8],
    link_target: &[u8],
    mode: u32,
    size: u64,
    epoch: u64,
) -> [u8; BLOCK] {
    let mut header = [0_u8; BLOCK];
    header[..name.len()].copy_from_slice(name);
    octal(&mut header[100..108], u64::from(mode));
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], size);
    octal(&mut header[136..148], epoch);
    header[156] = type_flag;
    header[157..157 + link_target.len()].copy_from_slice(link_target);
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    octal(&mut header[329..337], 0);
    octal(&mut header[337..345], 0);
    // The checksum is computed with its own field as spaces, then stored as 6 digits, NUL, space.
    header[148..156].copy_from_slice(b"        ");
    let checksum: u64 = header.iter().map(|&byte| u64::from(byte)).sum();
    let digits = format!("{checksum:06o}\0 ");
    header[148..156].copy_from_slice(digits.as_bytes());
    header
}

/// Zero-padded octal digits filling the field but its last byte, which stays NUL.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let digits = format!("{value:0width$o}");
    field[..width].copy_from_slice(&digits.as_bytes()[digits.len() - width..]);
    field[width] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: HeaderKind, name: &str, target: &str, mode: u32, size: u64) -> Vec<u8> {
        let mut output = Vec::new();
        write_header(&mut output, kind, name, target, mode, size, 1_700_000_000).expect("write");
        output
    }

    fn field(block: &[u8], range: std::ops::Range<usize>) -> &str {
        std::str::from_utf8(&block[range]).expect("ASCII")
    }

    #[test]
    fn a_short_name_gives_one_ustar_block() {
        let block = header(HeaderKind::File, "src/main.rs", "", 0o644, 1234);
        assert_eq!(block.len(), BLOCK);
        assert_eq!(&block[..11], b"src/main.rs");
        assert_eq!(field(&block, 100..108), "0000644\0");
        assert_eq!(field(&block, 108..116), "0000000\0");
        assert_eq!(field(&block, 124..136), "00000002322\0");
        assert_eq!(field(&block, 136..148), "14524770400\0");
        assert_eq!(block[156], b'0');
        assert_eq!(field(&block, 257..265), "ustar\u{0}00");
        assert!(block[265..329].iter().all(|&byte| byte == 0), "no names");
        let stored = u64::from_str_radix(field(&block, 148..154), 8).expect("octal");
        let mut blank = block.clone();
        blank[148..156].copy_from_slice(b"        ");
        let computed: u64 = blank.iter().map(|&byte| u64::from(byte)).sum();
        assert_eq!(stored, computed);
    }

    #[test]
    fn a_name_of_exactly_100_bytes_still_fits() {
        let name = "a".repeat(100);
        assert_eq!(header(HeaderKind::File, &name, "", 0o644, 0).len(), BLOCK);
    }

    #[test]
    fn a_long_name_and_target_go_into_one_pax_header() {
        let name = format!("src/{}", "n".repeat(120));
        let target = "t".repeat(101);
        let blocks = header(HeaderKind::Symlink, &name, &target, 0o777, 0);
        assert_eq!(blocks.len(), 3 * BLOCK);
        assert_eq!(blocks[156], b'x');
        assert_eq!(&blocks[..PAX_HEADER_NAME.len()], PAX_HEADER_NAME);
        let size = usize::from_str_radix(field(&blocks, 124..135), 8).expect("octal");
        let records = field(&blocks, BLOCK..BLOCK + size);
        assert_eq!(
            records,
            format!("115 linkpath={target}\n134 path={name}\n"),
            "lengths count themselves"
        );
        assert_eq!(records.lines().next().map(str::len), Some(114));
        let main = &blocks[2 * BLOCK..];
        assert_eq!(main[156], b'2');
        assert_eq!(&main[..100], &name.as_bytes()[..100]);
    }

    #[test]
    fn pax_record_lengths_cross_a_power_of_ten() {
        for value_length in 0..200 {
            let mut records = Vec::new();
            push_pax_record(&mut records, "path", &"v".repeat(value_length));
            let text = String::from_utf8(records).expect("UTF-8");
            let (length, _) = text.split_once(' ').expect("length");
            assert_eq!(length.parse::<usize>().expect("number"), text.len());
        }
    }

    #[test]
    fn a_huge_size_goes_into_pax() {
        let blocks = header(HeaderKind::File, "big", "", 0o644, LARGEST_OCTAL_11 + 1);
        assert_eq!(blocks.len(), 3 * BLOCK);
        assert!(field(&blocks, BLOCK..2 * BLOCK).contains("size=8589934592\n"));
        assert_eq!(field(&blocks[2 * BLOCK..], 124..136), "00000000000\0");
    }

    #[test]
    fn padding_reaches_the_next_block() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
        assert_eq!(padding(513), 511);
    }
}
