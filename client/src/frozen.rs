//! A websocket client that completes the handshake and then never reads again, with a tiny
//! receive buffer: the slow reader of the fault tests (a phone that went into a tunnel with
//! its TCP connection still open).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Connects to `127.0.0.1:port`, upgrades `/ws` with a bearer token and returns the stream,
/// which the caller then leaves unread.
pub fn socket_that_stops_reading(port: u16, token: &str) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_recv_buffer_size(4096)?;
    socket.connect(&SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    let mut stream: TcpStream = socket.into();
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    )?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::Error::other("handshake cut short"));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 101") {
        return Err(std::io::Error::other(format!("not upgraded: {head}")));
    }
    Ok(stream)
}

/// Whether the kernel still has the connection from local port `local_port` (on
/// 127.0.0.1) as established: false once the peer ended it (a FIN or a reset), which the
/// client learns without reading anything (Linux: /proc/net/tcp).
pub fn still_established(local_port: u16) -> bool {
    const ESTABLISHED: &str = "01";
    let wanted = format!("0100007F:{local_port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) == Some(&wanted.as_str()) && fields.get(3) == Some(&ESTABLISHED)
        })
}
