//! Sends its standard input to the Unix socket named by its one argument, then copies the answer
//! to its standard output: enough of an HTTP client for a test job to ask the engine for a
//! container through the Docker socket (the test image has no client that speaks to a Unix
//! socket). Built statically by the tests, never by cargo.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

fn main() -> std::io::Result<()> {
    let socket = std::env::args()
        .nth(1)
        .ok_or_else(|| std::io::Error::other("usage: unix-request SOCKET < REQUEST"))?;
    let mut stream = UnixStream::connect(&socket)?;
    let mut request = Vec::new();
    std::io::stdin().read_to_end(&mut request)?;
    stream.write_all(&request)?;
    stream.shutdown(std::net::Shutdown::Write)?;
    std::io::copy(&mut stream, &mut std::io::stdout())?;
    Ok(())
}
