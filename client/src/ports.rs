//! Ports for the servers that tests and the benchmark start.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// A free port for a server about to be started, chosen below the kernel's ephemeral range
/// (32768 and up), so that neither another process's bind to port 0 nor an outgoing
/// connection can take it between this choice and the server's bind. A counter keeps one
/// process's picks apart and the PID spreads processes that run at the same time.
pub fn free_port() -> u16 {
    const FIRST: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    loop {
        let port = (FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::free_port;

    #[test]
    fn ports_are_below_the_ephemeral_range_and_differ() {
        let (a, b) = (free_port(), free_port());
        assert_ne!(a, b);
        assert!((10_000..32_000).contains(&a) && (10_000..32_000).contains(&b));
    }
}
