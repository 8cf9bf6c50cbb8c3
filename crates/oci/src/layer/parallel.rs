//! Deterministic parallel compression of a stream already cut into chunks: worker threads
//! compress the chunks independently, and one writer thread puts them into the blob in stream
//! order (hashing them on the way, in the blob writer). Each chunk is compressed from a fresh
//! state, so the bytes depend only on the input and the chunk size, never on the number of
//! threads or their timing. A [`ChunkFormat`] says how one chunk is compressed and what goes
//! before and after them (gzip: deflate blocks inside one member; zstd: one frame per chunk).
//!
//! Three stages run at once: the caller's thread makes the stream (reading files, hashing the
//! diffID), the workers compress, the writer hashes and writes the result. None waits for
//! another as long as a few chunks are in flight.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crate::blob_store::BlobWriter;

/// Workers at most, whatever the machine: the diffID and the digest are hashed in stream order
/// at about 1 GB/s each, which a few workers already keep up with (zstd level 3 compresses about
/// 300 MB/s per core, deflate level 1 about 140 MB/s), and every worker adds chunks in flight.
const MOST_WORKERS: usize = 8;

/// How a compressed format is made of independently compressed chunks.
pub(crate) trait ChunkFormat: 'static {
    /// The format's name, in thread names and messages.
    const NAME: &'static str;

    /// The state a worker keeps from one chunk to the next (allocations only: every chunk
    /// starts afresh).
    type Compressor;

    /// What the trailer needs of each chunk besides its compressed bytes, combined in stream
    /// order (gzip's CRC-32).
    type Check: Default + Send + 'static;

    /// A worker's compressor.
    fn compressor() -> io::Result<Self::Compressor>;

    /// Compresses `input` into `output` (replacing what it held); `last` is true for the last
    /// chunk of the stream only.
    fn compress_chunk(
        compressor: &mut Self::Compressor,
        input: &[u8],
        output: &mut Vec<u8>,
        last: bool,
    ) -> io::Result<Self::Check>;

    /// Adds the check of the next chunk to the check of those before it.
    fn combine(total: &mut Self::Check, next: Self::Check);

    /// Writes what comes before the first chunk.
    fn write_header(output: &mut BlobWriter) -> io::Result<()>;

    /// Writes what comes after the last chunk, given the checks of all chunks and the size of
    /// the uncompressed stream.
    fn write_trailer(
        output: &mut BlobWriter,
        check: Self::Check,
        input_size: u64,
    ) -> io::Result<()>;
}

/// A chunk on its way: to a worker, then to the writer.
struct Job<Check> {
    index: u64,
    input: Vec<u8>,
    output: Vec<u8>,
    last: bool,
    check: Check,
}

/// The buffers of a written chunk, emptied, going back to be filled again.
type Spent = (Vec<u8>, Vec<u8>);

/// Compresses chunks on worker threads and writes them in order on a writer thread.
pub(crate) struct ParallelCompressor<Format: ChunkFormat> {
    jobs: Option<Sender<Job<Format::Check>>>,
    spent: Receiver<Spent>,
    workers: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<io::Result<BlobWriter>>>,
    next_index: u64,
    /// Chunks sent whose buffers have not come back.
    in_flight: usize,
    most_in_flight: usize,
    spare_inputs: Vec<Vec<u8>>,
    spare_outputs: Vec<Vec<u8>>,
}

impl<Format: ChunkFormat> ParallelCompressor<Format> {
    /// Starts as many workers as the machine has cores (up to [`MOST_WORKERS`]), and the
    /// writer.
    pub(crate) fn new(output: BlobWriter) -> io::Result<Self> {
        let cores = thread::available_parallelism().map_or(1, usize::from);
        Self::with_threads(output, cores.min(MOST_WORKERS))
    }

    /// Starts `threads` workers (at least one) and the writer.
    pub(crate) fn with_threads(output: BlobWriter, threads: usize) -> io::Result<Self> {
        let threads = threads.max(1);
        let (jobs, job_receiver) = mpsc::channel::<Job<Format::Check>>();
        let (result_sender, results) = mpsc::channel();
        let (spent_sender, spent) = mpsc::channel();
        let job_receiver = Arc::new(Mutex::new(job_receiver));
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let job_receiver = Arc::clone(&job_receiver);
            let result_sender = result_sender.clone();
            let worker = thread::Builder::new()
                .name(format!("eider-{}", Format::NAME))
                .spawn(move || work::<Format>(&job_receiver, &result_sender))?;
            workers.push(worker);
        }
        // Only the workers may hold senders: the writer's loop ends when the last one stops.
        drop(result_sender);
        let writer = thread::Builder::new()
            .name(format!("eider-{}-writer", Format::NAME))
            .spawn(move || write_in_order::<Format>(&results, &spent_sender, output))?;
        Ok(Self {
            jobs: Some(jobs),
            spent,
            workers,
            writer: Some(writer),
            next_index: 0,
            in_flight: 0,
            // Enough to keep every worker busy while finished chunks wait to be written, few
            // enough to bound memory whatever the layer's size.
            most_in_flight: threads * 2 + 2,
            spare_inputs: Vec::new(),
            spare_outputs: Vec::new(),
        })
    }

    /// A buffer for the next chunk, reused from a written one when possible.
    pub(crate) fn take_buffer(&mut self, capacity: usize) -> Vec<u8> {
        while let Ok(spent) = self.spent.try_recv() {
            self.reuse(spent);
        }
        self.spare_inputs
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    /// Queues a chunk (not the last one).
    pub(crate) fn push(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.send(chunk, false)
    }

    /// Queues the last chunk (possibly empty), waits until everything is written, trailer
    /// included, and returns the blob writer.
    pub(crate) fn finish(mut self, chunk: Vec<u8>) -> io::Result<BlobWriter> {
        self.send(chunk, true)?;
        self.jobs = None;
        for worker in self.workers.drain(..) {
            worker
                .join()
                .map_err(|_| io::Error::other(format!("a {} worker panicked", Format::NAME)))?;
        }
        self.join_writer()
    }

    fn send(&mut self, input: Vec<u8>, last: bool) -> io::Result<()> {
        while self.in_flight >= self.most_in_flight {
            match self.spent.recv() {
                Ok(spent) => self.reuse(spent),
                Err(_) => return Err(self.stopped()),
            }
        }
        let job = Job {
            index: self.next_index,
            input,
            output: self.spare_outputs.pop().unwrap_or_default(),
            last,
            check: Format::Check::default(),
        };
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            return Err(self.stopped());
        }
        self.next_index += 1;
        self.in_flight += 1;
        Ok(())
    }

    fn reuse(&mut self, (input, output): Spent) {
        self.in_flight -= 1;
        self.spare_inputs.push(input);
        self.spare_outputs.push(output);
    }

    /// The error that stopped the writer (or the workers), once it has stopped.
    fn stopped(&mut self) -> io::Error {
        self.jobs = None;
        match self.join_writer() {
            Err(error) => error,
            Ok(_) => io::Error::other(format!("the {} writer stopped early", Format::NAME)),
        }
    }

    fn join_writer(&mut self) -> io::Result<BlobWriter> {
        self.writer
            .take()
            .ok_or_else(|| io::Error::other(format!("the {} writer stopped", Format::NAME)))?
            .join()
            .map_err(|_| io::Error::other(format!("the {} writer panicked", Format::NAME)))?
    }
}

impl<Format: ChunkFormat> Drop for ParallelCompressor<Format> {
    /// Stops the threads before returning, so that an abandoned blob is gone (its temporary
    /// file removed) once the compressor is.
    fn drop(&mut self) {
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _unused = worker.join();
        }
        if let Some(writer) = self.writer.take() {
            let _unused = writer.join();
        }
    }
}

fn work<Format: ChunkFormat>(
    jobs: &Mutex<Receiver<Job<Format::Check>>>,
    results: &Sender<io::Result<Job<Format::Check>>>,
) {
    let mut compressor = match Format::compressor() {
        Ok(compressor) => compressor,
        Err(error) => {
            let _unused = results.send(Err(error));
            return;
        }
    };
    loop {
        // The lock is held only while taking a job, never while compressing.
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(mut job) = job else { return };
        // A panic must come back as an error: the writer waits for every chunk in order.
        let compressed = panic::catch_unwind(AssertUnwindSafe(|| {
            Format::compress_chunk(&mut compressor, &job.input, &mut job.output, job.last)
        }));
        let result = match compressed {
            Ok(Ok(check)) => {
                job.check = check;
                Ok(job)
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Err(io::Error::other(format!(
                "{} compression panicked",
                Format::NAME
            ))),
        };
        let failed = result.is_err();
        if results.send(result).is_err() || failed {
            return;
        }
    }
}

/// Writes the compressed chunks in stream order as they arrive, between the header and the
/// trailer, and sends their buffers back.
fn write_in_order<Format: ChunkFormat>(
    results: &Receiver<io::Result<Job<Format::Check>>>,
    spent: &Sender<Spent>,
    mut output: BlobWriter,
) -> io::Result<BlobWriter> {
    Format::write_header(&mut output)?;
    // Chunks that arrived before the ones ahead of them.
    let mut waiting = BTreeMap::new();
    let mut next_to_write = 0;
    let mut check = Format::Check::default();
    let mut input_size = 0_u64;
    let mut ended = false;
    for result in results {
        let job = result?;
        waiting.insert(job.index, job);
        while let Some(job) = waiting.remove(&next_to_write) {
            let Job {
                mut input,
                output: mut compressed,
                last,
                check: chunk_check,
                ..
            } = job;
            output.write_all(&compressed)?;
            Format::combine(&mut check, chunk_check);
            input_size += input.len() as u64;
            ended = last;
            next_to_write += 1;
            input.clear();
            compressed.clear();
            // The caller may be finished already; the buffers are then simply freed.
            let _unused = spent.send((input, compressed));
        }
    }
    if !ended {
        return Err(io::Error::other(format!(
            "the {} stream stopped before its last chunk",
            Format::NAME
        )));
    }
    Format::write_trailer(&mut output, check, input_size)?;
    Ok(output)
}

/// The blob `Format` makes of `input` with `threads` workers, fed in 100,000-byte pieces: what
/// the formats' tests compare across thread counts.
#[cfg(test)]
pub(crate) fn compress_with_threads<Format: ChunkFormat>(input: &[u8], threads: usize) -> Vec<u8> {
    let directory = tempfile::tempdir().expect("temporary directory");
    let root = camino::Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8");
    let store = crate::BlobStore::create(root).expect("store");
    let mut compressor =
        ParallelCompressor::<Format>::with_threads(store.writer().expect("writer"), threads)
            .expect("starts");
    let mut chunks = input.chunks(100_000).peekable();
    while let Some(chunk) = chunks.next() {
        if chunks.peek().is_some() {
            compressor.push(chunk.to_vec()).expect("push");
        } else {
            let (digest, _) = compressor
                .finish(chunk.to_vec())
                .expect("finish")
                .commit()
                .expect("commit");
            return fs_err::read(store.blob_path(&digest)).expect("read");
        }
    }
    unreachable!("the input is not empty")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BlobStore;

    /// Copies chunks as they are, between `<` and `>`, counting them; refuses `fail` and panics
    /// on `panic`.
    struct Copy;

    impl ChunkFormat for Copy {
        const NAME: &'static str = "copy";

        type Compressor = ();

        type Check = u64;

        fn compressor() -> io::Result<()> {
            Ok(())
        }

        fn compress_chunk(
            (): &mut (),
            input: &[u8],
            output: &mut Vec<u8>,
            _last: bool,
        ) -> io::Result<u64> {
            match input {
                b"fail" => Err(io::Error::other("refused")),
                b"panic" => panic!("asked to"),
                _ => {
                    output.clear();
                    output.extend_from_slice(input);
                    Ok(1)
                }
            }
        }

        fn combine(total: &mut u64, next: u64) {
            *total += next;
        }

        fn write_header(output: &mut BlobWriter) -> io::Result<()> {
            output.write_all(b"<")
        }

        fn write_trailer(output: &mut BlobWriter, chunks: u64, input_size: u64) -> io::Result<()> {
            write!(output, "> {chunks} chunks, {input_size} bytes")
        }
    }

    fn temporary_store() -> (tempfile::TempDir, BlobStore) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let root = camino::Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8");
        let store = BlobStore::create(root).expect("store");
        (directory, store)
    }

    #[test]
    fn chunks_are_written_in_order_between_the_header_and_the_trailer() {
        let (_directory, store) = temporary_store();
        let mut copy = ParallelCompressor::<Copy>::with_threads(store.writer().expect("writer"), 4)
            .expect("starts");
        let mut expected = b"<".to_vec();
        for index in 0..50 {
            let chunk = format!("{index},").into_bytes();
            expected.extend_from_slice(&chunk);
            copy.push(chunk).expect("push");
        }
        let input_size = expected.len() - 1 + 3;
        let (digest, _) = copy
            .finish(b"end".to_vec())
            .expect("finish")
            .commit()
            .expect("commit");
        expected.extend_from_slice(format!("end> 51 chunks, {input_size} bytes").as_bytes());
        assert_eq!(
            String::from_utf8(fs_err::read(store.blob_path(&digest)).expect("read")),
            String::from_utf8(expected)
        );
    }

    #[test]
    fn a_chunk_that_fails_fails_the_stream_and_leaves_no_file() {
        for (poison, message) in [("fail", "refused"), ("panic", "copy compression panicked")] {
            let (_directory, store) = temporary_store();
            let mut copy =
                ParallelCompressor::<Copy>::with_threads(store.writer().expect("writer"), 2)
                    .expect("starts");
            let mut result = copy.push(b"first".to_vec());
            result = result.and_then(|()| copy.push(poison.as_bytes().to_vec()));
            // More chunks than may be in flight: pushing must stop on the error, not hang.
            for _ in 0..20 {
                result = result.and_then(|()| copy.push(b"more".to_vec()));
            }
            let error = match result {
                Ok(()) => copy.finish(b"last".to_vec()).err(),
                Err(error) => {
                    drop(copy);
                    Some(error)
                }
            }
            .expect("the stream fails");
            assert_eq!(error.to_string(), message);
            let left: Vec<_> = fs_err::read_dir(store.root())
                .expect("list")
                .map(|entry| entry.expect("entry").file_name())
                .collect();
            assert_eq!(left, ["blobs"], "the temporary file is gone");
            assert_eq!(
                fs_err::read_dir(store.blob_directory())
                    .expect("list")
                    .count(),
                0
            );
        }
    }
}
