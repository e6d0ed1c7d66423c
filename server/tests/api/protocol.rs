//! The WebSockets against RFC 6455, with frames written by hand on a raw TCP
//! connection (a client library will not send broken frames): each breach gets its
//! close code, and the close frame arrives instead of a TCP reset.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{helpers::*, on_both_databases};

/// A WebSocket connection driven byte by byte.
struct RawSocket {
    tcp: TcpStream,
    buffered: Vec<u8>,
}

/// What the server sent: a frame's opcode and payload.
#[derive(Debug)]
struct Frame {
    opcode: u8,
    payload: Vec<u8>,
}

const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;

impl RawSocket {
    /// The opening handshake for `path`, by hand; panics unless the server switches.
    async fn open(app: &TestApp, path: &str) -> RawSocket {
        let host = app.address.trim_start_matches("http://").to_owned();
        let mut tcp = TcpStream::connect(&host).await.expect("connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("handshake");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(tcp.read(&mut byte).await.expect("handshake answer"), 1, "closed during the handshake");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "the accept key of RFC 6455's example: {head}");
        RawSocket { tcp, buffered: Vec::new() }
    }

    /// A masked client frame (the mask is fixed: the server must not care).
    fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = vec![first_byte];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        frame
    }

    async fn send(&mut self, first_byte: u8, payload: &[u8]) {
        self.tcp.write_all(&Self::frame(first_byte, payload)).await.expect("send frame");
    }

    async fn fill(&mut self, wanted: usize) -> bool {
        while self.buffered.len() < wanted {
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout(Duration::from_secs(10), self.tcp.read(&mut chunk)).await {
                Ok(Ok(0)) => return false,
                Ok(Ok(n)) => self.buffered.extend_from_slice(&chunk[..n]),
                Ok(Err(err)) => panic!("the connection failed instead of closing cleanly: {err}"),
                Err(_) => panic!("no frame within 10 s"),
            }
        }
        true
    }

    /// The next frame from the server; `None` at the end of the stream.
    async fn next(&mut self) -> Option<Frame> {
        if !self.fill(2).await {
            return None;
        }
        let opcode = self.buffered[0] & 0x0f;
        let (len, header) = match self.buffered[1] & 0x7f {
            126 => {
                assert!(self.fill(4).await);
                (u16::from_be_bytes([self.buffered[2], self.buffered[3]]) as usize, 4)
            }
            127 => {
                assert!(self.fill(10).await);
                (u64::from_be_bytes(self.buffered[2..10].try_into().unwrap()) as usize, 10)
            }
            n => (n as usize, 2),
        };
        assert!(self.fill(header + len).await, "the stream ended inside a frame");
        let payload = self.buffered[header..header + len].to_vec();
        self.buffered.drain(..header + len);
        Some(Frame { opcode, payload })
    }

    /// The code of the server's close frame, skipping what comes before it.
    async fn close_code(&mut self) -> u16 {
        loop {
            let frame = self.next().await.expect("a close frame before the end of the stream");
            if frame.opcode == CLOSE {
                assert!(frame.payload.len() >= 2, "a close frame with a code");
                return u16::from_be_bytes([frame.payload[0], frame.payload[1]]);
            }
        }
    }

    /// An authenticated visitor socket that has caught up (its `state` frame arrived).
    async fn visitor(app: &TestApp) -> RawSocket {
        let chat = app.start_chat().await;
        let mut socket = RawSocket::open(app, &format!("/live/widget?conversation_id={}", chat.conversation_id)).await;
        let auth = serde_json::json!({"type": "auth", "token": chat.token}).to_string();
        socket.send(0x80 | TEXT, auth.as_bytes()).await;
        loop {
            let frame = socket.next().await.expect("frames after auth");
            if frame.opcode == TEXT && String::from_utf8_lossy(&frame.payload).contains(r#""type":"state""#) {
                return socket;
            }
        }
    }
}

async fn a_frame_over_the_limit_is_answered_with_1009_whatever_its_size(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    for size in [16 * 1024 + 1, 65 * 1024, 100 * 1024, 1024 * 1024] {
        let socket = RawSocket::visitor(&app).await;
        let frame = RawSocket::frame(0x80 | TEXT, &vec![b'x'; size]);
        // Written beside the reads: the server answers before it has read it all.
        let (mut reader, mut writer) = socket.tcp.into_split();
        let writing = tokio::spawn(async move {
            let _ = writer.write_all(&frame).await;
            writer
        });
        let mut received = socket.buffered;
        let read = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut received)).await;
        let writer = writing.await.unwrap();
        assert!(matches!(read, Ok(Ok(_))), "{size} bytes: the connection ended cleanly, not with a reset: {read:?}");
        assert_eq!(first_close_code(&received), Some(1009), "{size} bytes");
        drop(writer);
    }
    app.stop().await;
}

/// The code of the first close frame in `bytes` (unmasked server frames).
fn first_close_code(mut bytes: &[u8]) -> Option<u16> {
    while bytes.len() >= 2 {
        let opcode = bytes[0] & 0x0f;
        let (len, header) = match bytes[1] & 0x7f {
            126 => (u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]) as usize, 4),
            127 => (u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?) as usize, 10),
            n => (n as usize, 2),
        };
        let payload = bytes.get(header..header + len)?;
        if opcode == CLOSE {
            return Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
        }
        bytes = &bytes[header + len..];
    }
    None
}

async fn text_that_is_not_utf8_is_answered_with_1007(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let mut socket = RawSocket::visitor(&app).await;

    socket.send(0x80 | TEXT, &[0x7b, 0xff, 0xfe, 0x7d]).await;

    assert_eq!(socket.close_code().await, 1007);
    app.stop().await;
}

async fn reserved_opcodes_and_broken_frames_are_answered_with_1002(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let cases: [(&str, u8, Vec<u8>); 4] = [
        ("a reserved data opcode", 0x80 | 0x3, b"hi".to_vec()),
        ("a reserved control opcode", 0x80 | 0xB, Vec::new()),
        ("a reserved bit", 0x80 | 0x40 | TEXT, br#"{"type":"ping"}"#.to_vec()),
        ("a ping over 125 bytes", 0x80 | 0x9, vec![0; 200]),
    ];
    for (what, first_byte, payload) in cases {
        let mut socket = RawSocket::visitor(&app).await;
        socket.send(first_byte, &payload).await;
        assert_eq!(socket.close_code().await, 1002, "{what}");
    }
    app.stop().await;
}

async fn a_client_s_close_is_echoed_with_its_code(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let mut socket = RawSocket::visitor(&app).await;

    socket.send(0x80 | CLOSE, &[0x03, 0xe8, b'b', b'y', b'e']).await;

    assert_eq!(socket.close_code().await, 1000);
    assert!(socket.next().await.is_none(), "then the server ends the connection");
    app.stop().await;
}

async fn a_close_before_authenticating_is_echoed_too(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;
    let chat = app.start_chat().await;
    let mut socket = RawSocket::open(&app, &format!("/live/widget?conversation_id={}", chat.conversation_id)).await;

    socket.send(0x80 | CLOSE, &[0x03, 0xe8]).await;

    assert_eq!(socket.close_code().await, 1000);
    app.stop().await;
}

on_both_databases!(
    a_frame_over_the_limit_is_answered_with_1009_whatever_its_size,
    text_that_is_not_utf8_is_answered_with_1007,
    reserved_opcodes_and_broken_frames_are_answered_with_1002,
    a_client_s_close_is_echoed_with_its_code,
    a_close_before_authenticating_is_echoed_too,
);
