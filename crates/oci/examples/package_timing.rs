//! Times layer building on a generated tree: 5,000 files, about 100 MB, half incompressible.
//!
//! ```text
//! cargo run --release -p eider-oci --example package_timing [TREE]
//! ```
//!
//! With `TREE`, that directory is packaged instead (and left alone). Prints one line per step.

use std::error::Error;
use std::time::{Duration, Instant, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};
use eider_oci::{
    BaseImage, BlobStore, Compression, ConfigChanges, LayerCache, LayerSpec, ManifestFormat,
    NewLayer, OciLayout, Platform, assemble, build_layer,
};

const FILES: usize = 5000;
const TOTAL_BYTES: usize = 100_000_000;

fn main() -> Result<(), Box<dyn Error>> {
    let scratch = tempfile::tempdir()?;
    let scratch_path = Utf8PathBuf::try_from(scratch.path().to_path_buf())?;
    let tree = if let Some(tree) = std::env::args().nth(1) {
        Utf8PathBuf::from(tree)
    } else {
        let tree = scratch_path.join("tree");
        let started = Instant::now();
        generate(&tree)?;
        // Old enough for the cache to trust the files' times.
        set_times(&tree, SystemTime::now() - Duration::from_secs(3600))?;
        println!(
            "generated {FILES} files, {TOTAL_BYTES} bytes in {:?}",
            started.elapsed()
        );
        tree
    };

    for compression in [Compression::Gzip, Compression::Zstd] {
        for round in 1..=3 {
            let store =
                BlobStore::create(scratch_path.join(format!("store-{compression}-{round}")))?;
            let spec = LayerSpec::whole_tree(tree.clone(), "/src")
                .with_epoch(1_700_000_000)
                .with_compression(compression);
            let started = Instant::now();
            let layer = build_layer(&spec, &store)?;
            println!(
                "{compression} layer, no cache (round {round}): {:?} ({} entries, {} bytes, {})",
                started.elapsed(),
                layer.entries,
                layer.blob.size,
                layer.blob.digest
            );
        }
    }

    let cache = LayerCache::open(scratch_path.join("cache"))?;
    let spec = LayerSpec::whole_tree(tree.clone(), "/src").with_epoch(1_700_000_000);
    for step in ["first", "again", "again"] {
        let started = Instant::now();
        let layer = cache.build_layer(&spec)?;
        println!("cache, {step}: {:?} ({:?})", started.elapsed(), layer.reuse);
    }

    if std::env::args().nth(1).is_none() {
        // A fresh checkout: the same content in new files (new inodes and times).
        let checkout = scratch_path.join("checkout");
        generate(&checkout)?;
        let fresh = LayerSpec::whole_tree(checkout, "/src").with_epoch(1_700_000_000);
        let started = Instant::now();
        let layer = cache.build_layer(&fresh)?;
        println!(
            "cache, fresh checkout of the same content: {:?} ({:?})",
            started.elapsed(),
            layer.reuse
        );
    }

    let started = Instant::now();
    let layer = cache.build_layer(&spec)?;
    let image = assemble(
        &BaseImage::scratch(&Platform::linux_amd64()),
        &[NewLayer {
            blob: layer.blob,
            created_by: "eider: source at /src".to_owned(),
        }],
        &ConfigChanges::default(),
        1_700_000_000,
        ManifestFormat::Oci,
    )?;
    let layout = OciLayout::create(scratch_path.join("layout"))?;
    layout.write_image(&image, Some("latest"), &[cache.store()])?;
    println!(
        "package again into an OCI layout: {:?} ({})",
        started.elapsed(),
        image.digest()
    );
    Ok(())
}

/// Half the files are pseudo-random bytes, half repetitive text; 50 directories of 100 files.
fn generate(tree: &Utf8Path) -> Result<(), Box<dyn Error>> {
    let per_file = TOTAL_BYTES / FILES;
    let mut state = 0x9e37_79b9_u32;
    for index in 0..FILES {
        let directory = tree.join(format!("module{:02}", index % 50));
        fs_err::create_dir_all(&directory)?;
        // Sizes vary around the mean so the files are not all alike.
        let size = per_file / 2 + (index * 7919) % per_file;
        let content: Vec<u8> = if index % 2 == 0 {
            (0..size)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state.to_le_bytes()[0]
                })
                .collect()
        } else {
            let line = format!("fn function_{index}() {{ println!(\"file {index}\"); }}\n");
            line.as_bytes().iter().copied().cycle().take(size).collect()
        };
        fs_err::write(directory.join(format!("file{index:04}.dat")), content)?;
    }
    Ok(())
}

fn set_times(path: &Utf8Path, time: SystemTime) -> Result<(), Box<dyn Error>> {
    if path.is_dir() {
        for entry in fs_err::read_dir(path)? {
            let child = Utf8PathBuf::try_from(entry?.path())?;
            set_times(&child, time)?;
        }
    }
    std::fs::File::open(path)?.set_modified(time)?;
    Ok(())
}
