//! The WebSocket handshake (RFC 6455 §4.2) and the end of a socket (§7), done by Baton
//! over tokio-tungstenite so that Baton keeps the raw connection.
//!
//! Why not axum's `WebSocketUpgrade`: when a client sends a frame over the limit,
//! tungstenite stops reading at its header, and the rest of the frame is still on the
//! way. Closing the connection with unread data makes the kernel answer with a TCP
//! reset, which destroys the close frame (1009) just sent. Holding the raw stream,
//! Baton sends the close frame, then reads and discards what is still coming (for a
//! bounded time and size) before it shuts the connection down, so the client reads
//! the 1009. Memory stays bounded: nothing over the limit is ever buffered.

use std::{future::Future, time::Duration};

use app::{domain::MAX_CLIENT_FRAME_BYTES, AppError};
use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use futures_util::{stream::SplitSink, stream::SplitStream, SinkExt};
use http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::{
    tungstenite::{
        handshake::derive_accept_key,
        protocol::{frame::coding::CloseCode, CloseFrame, Role, WebSocketConfig},
        Message as WsMessage,
    },
    WebSocketStream,
};

use super::Ending;

pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// After Baton's close frame: how long, and how much, it keeps reading (and
/// discarding) what the client still sends, before shutting the connection.
const DRAIN_IDLE: Duration = Duration::from_millis(250);
const DRAIN_TOTAL: Duration = Duration::from_secs(2);
const DRAIN_MAX_BYTES: usize = 4 * 1024 * 1024;

/// Small buffers (tungstenite's defaults reserve 128 KiB per socket, which 100k idle
/// visitors cannot afford; the read buffer is the one allocated up front, and grows
/// for a frame bigger than it) and the client frame limit as the transport's own: a frame
/// or message over `MAX_CLIENT_FRAME_BYTES` is refused at its header, never buffered.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_frame_size(Some(MAX_CLIENT_FRAME_BYTES))
        .max_message_size(Some(MAX_CLIENT_FRAME_BYTES))
}

/// An HTTP/1.1 request to become a WebSocket, checked.
pub struct Upgrade {
    accept: String,
    on_upgrade: OnUpgrade,
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Upgrade, Response> {
        let refuse = |why: &str| AppError::InvalidInput(format!("not a WebSocket handshake: {why}")).into_response();
        if parts.method != Method::GET {
            return Err(refuse("use GET"));
        }
        if !has_token(&parts.headers, header::CONNECTION, "upgrade")
            || !has_token(&parts.headers, header::UPGRADE, "websocket")
        {
            return Err(refuse("send Connection: Upgrade and Upgrade: websocket"));
        }
        if parts.headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
            let mut response = refuse("only Sec-WebSocket-Version 13 is supported");
            response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
            return Err(response);
        }
        let Some(key) = parts.headers.get(header::SEC_WEBSOCKET_KEY) else {
            return Err(refuse("Sec-WebSocket-Key is missing"));
        };
        let accept = derive_accept_key(key.as_bytes());
        let on_upgrade =
            parts.extensions.remove::<OnUpgrade>().ok_or_else(|| refuse("this connection cannot upgrade"))?;
        Ok(Upgrade { accept, on_upgrade })
    }
}

impl Upgrade {
    /// Answers 101 and runs `serve` on the socket once the connection has switched.
    pub fn on_upgrade<F, Fut>(self, serve: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Upgrade { accept, on_upgrade } = self;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let socket =
                        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config())).await;
                    serve(socket).await;
                }
                Err(err) => tracing::debug!(error = %err, "WebSocket upgrade did not complete"),
            }
        });
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        response
    }
}

/// Ends a socket as RFC 6455 asks. When the client closed, the echo of its close frame
/// (which tungstenite queued) goes out. When Baton closes, its close frame goes out,
/// then what the client still sends is read and dropped until it has said all (or
/// for `DRAIN_TOTAL` at most), and only then does the connection shut.
pub async fn finish(sink: SplitSink<Socket, WsMessage>, stream: SplitStream<Socket>, ending: Ending) {
    let Ok(mut socket) = sink.reunite(stream) else { return };
    match ending {
        Ending::Gone => {
            let _ = socket.flush().await;
        }
        Ending::Close(code, reason) => {
            let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
            if socket.send(WsMessage::Close(Some(frame))).await.is_ok() {
                drain(socket.get_mut()).await;
            }
        }
    }
    let _ = socket.get_mut().shutdown().await;
}

/// Reads and discards the client's bytes until it goes quiet or closes.
async fn drain(io: &mut TokioIo<Upgraded>) {
    let deadline = tokio::time::Instant::now() + DRAIN_TOTAL;
    // On the heap, and only while draining: in the future itself it would be 4 KiB
    // more that every open socket's task carries for its whole life.
    let mut buffer = vec![0u8; 4096];
    let mut drained = 0;
    while drained < DRAIN_MAX_BYTES {
        let idle = DRAIN_IDLE.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        match tokio::time::timeout(idle, io.read(&mut buffer)).await {
            Ok(Ok(read)) if read > 0 => drained += read,
            _ => break,
        }
    }
}
