//! A registry that never answers: a TCP listener on 127.0.0.1 that accepts every connection and
//! keeps it open without a byte in return, so that an engine pulling from it is stuck mid-pull
//! for as long as the test wants. Dropping it closes every connection (the pull then fails).

use std::io::Read;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub struct StalledRegistry {
    address: String,
    closing: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl StalledRegistry {
    /// Listens on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen on 127.0.0.1");
        let address = listener.local_addr().expect("listener address").to_string();
        let closing = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let acceptor = {
            let closing = Arc::clone(&closing);
            let connections = Arc::clone(&connections);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if closing.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    if let Ok(mut reader) = stream.try_clone() {
                        // Read what the client sends, so it never blocks on a full buffer.
                        std::thread::spawn(move || {
                            let mut sink = [0_u8; 4096];
                            while matches!(reader.read(&mut sink), Ok(count) if count > 0) {}
                        });
                    }
                    if let Ok(mut kept) = connections.lock() {
                        kept.push(stream);
                    }
                }
            })
        };
        Self {
            address,
            closing,
            connections,
            acceptor: Some(acceptor),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// How many connections were made so far.
    pub fn connection_count(&self) -> usize {
        self.connections.lock().map_or(0, |kept| kept.len())
    }
}

impl Drop for StalledRegistry {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees `closing`.
        let _ignored = TcpStream::connect(&self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ignored = acceptor.join();
        }
        if let Ok(kept) = self.connections.lock() {
            for stream in kept.iter() {
                let _ignored = stream.shutdown(Shutdown::Both);
            }
        }
    }
}
