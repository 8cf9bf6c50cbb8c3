//! The layer cache: an unchanged tree is reused without reading a file, the same content in a
//! fresh checkout is reused without compressing, and a change is never missed.

mod support;

use std::time::{Duration, SystemTime};

use eider_oci::{Compression, LayerCache, LayerSpec, Reuse, build_layer};
use support::{Scratch, an_hour_ago, set_all_mtimes, temporary_store, text, write};

fn tree_with_old_times() -> Scratch {
    let tree = Scratch::new();
    fill(&tree);
    set_all_mtimes(&tree.path, an_hour_ago());
    tree
}

fn fill(tree: &Scratch) {
    write(&tree.path, "Cargo.lock", "lock");
    write(&tree.path, "src/main.rs", text(50_000));
    write(&tree.path, "src/lib.rs", "pub fn lib() {}");
}

fn cache() -> (Scratch, LayerCache) {
    let directory = Scratch::new();
    let cache = LayerCache::open(directory.path.clone()).expect("cache opens");
    (directory, cache)
}

#[test]
fn an_unchanged_tree_is_reused_without_reading_files() {
    let tree = tree_with_old_times();
    let (_directory, cache) = cache();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src").with_epoch(42);
    let first = cache.build_layer(&spec).expect("builds");
    assert_eq!(first.reuse, Reuse::Built);
    let second = cache.build_layer(&spec).expect("builds");
    assert_eq!(second.reuse, Reuse::SameFiles);
    assert_eq!(second.blob, first.blob);
    assert_eq!(second.entries, first.entries);

    // The cached layer is the same as one built from scratch.
    let (_store_directory, store) = temporary_store();
    assert_eq!(build_layer(&spec, &store).expect("builds").blob, first.blob);
}

#[test]
fn the_same_content_elsewhere_is_not_compressed_again() {
    let original = tree_with_old_times();
    let (_directory, cache) = cache();
    let spec = |tree: &Scratch| LayerSpec::whole_tree(tree.path.clone(), "/src").with_epoch(42);
    let first = cache.build_layer(&spec(&original)).expect("builds");

    // A fresh checkout: same content, new inodes and times.
    let checkout = Scratch::new();
    fill(&checkout);
    let again = cache.build_layer(&spec(&checkout)).expect("builds");
    assert_eq!(again.reuse, Reuse::SameContent);
    assert_eq!(again.blob, first.blob);
}

#[test]
fn files_modified_just_now_are_not_trusted_by_their_times() {
    let tree = Scratch::new();
    fill(&tree);
    let (_directory, cache) = cache();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src");
    assert_eq!(
        cache.build_layer(&spec).expect("builds").reuse,
        Reuse::Built
    );
    // Within the settle time a same-size rewrite could keep the time: the content is hashed.
    assert_eq!(
        cache.build_layer(&spec).expect("builds").reuse,
        Reuse::SameContent
    );
}

#[test]
fn a_changed_file_is_seen_even_when_its_time_and_size_are_restored() {
    let tree = tree_with_old_times();
    let (_directory, cache) = cache();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src");
    let first = cache.build_layer(&spec).expect("builds");
    assert_eq!(
        cache.build_layer(&spec).expect("builds").reuse,
        Reuse::SameFiles
    );

    // Same size, same modification time: only the status change time tells.
    write(&tree.path, "Cargo.lock", "LOCK");
    set_all_mtimes(&tree.path, an_hour_ago());
    let changed = cache.build_layer(&spec).expect("builds");
    assert_eq!(changed.reuse, Reuse::Built);
    assert_ne!(changed.blob.diff_id, first.blob.diff_id);
}

#[test]
fn an_added_file_changes_the_layer() {
    let tree = tree_with_old_times();
    let (_directory, cache) = cache();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src");
    let first = cache.build_layer(&spec).expect("builds");
    write(&tree.path, "src/new.rs", "new");
    set_all_mtimes(&tree.path, SystemTime::now() - Duration::from_secs(60));
    let second = cache.build_layer(&spec).expect("builds");
    assert_eq!(second.reuse, Reuse::Built);
    assert_ne!(second.blob.diff_id, first.blob.diff_id);
}

#[test]
fn compression_and_epoch_are_part_of_the_key() {
    let tree = tree_with_old_times();
    let (_directory, cache) = cache();
    let gzip = LayerSpec::whole_tree(tree.path.clone(), "/src");
    let first = cache.build_layer(&gzip).expect("builds");
    let zstd = cache
        .build_layer(&gzip.clone().with_compression(Compression::Zstd))
        .expect("builds");
    assert_eq!(zstd.reuse, Reuse::Built);
    assert_eq!(zstd.blob.diff_id, first.blob.diff_id);
    assert_ne!(zstd.blob.digest, first.blob.digest);
    let other_epoch = cache
        .build_layer(&gzip.clone().with_epoch(1))
        .expect("builds");
    assert_eq!(other_epoch.reuse, Reuse::Built);
    assert_ne!(other_epoch.blob.diff_id, first.blob.diff_id);
}

#[test]
fn a_lost_blob_or_index_only_costs_a_rebuild() {
    let tree = tree_with_old_times();
    let (_directory, cache) = cache();
    let spec = LayerSpec::whole_tree(tree.path.clone(), "/src");
    let first = cache.build_layer(&spec).expect("builds");
    fs_err::remove_file(cache.store().blob_path(&first.blob.digest)).expect("remove blob");
    let rebuilt = cache.build_layer(&spec).expect("builds");
    assert_eq!(rebuilt.reuse, Reuse::Built);
    assert_eq!(rebuilt.blob, first.blob);

    fs_err::write(cache.directory().join("layers.json"), "not json").expect("corrupt index");
    assert_eq!(
        cache.build_layer(&spec).expect("builds").reuse,
        Reuse::Built
    );
    cache.clear_index().expect("clears");
    assert_eq!(
        cache.build_layer(&spec).expect("builds").reuse,
        Reuse::Built
    );
}
