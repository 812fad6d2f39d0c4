//! A fake router that logs in correctly and then sends hostile bytes: the client must return
//! typed errors, fail the command, and never panic.

use std::time::Duration;

use routeros::codec::{Decoder, encode_sentence};
use routeros::{Client, Command, Config, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn read_sentence(s: &mut TcpStream, dec: &mut Decoder) -> Vec<String> {
    loop {
        if let Some(w) = dec.next_sentence().unwrap() {
            return w;
        }
        let n = s.read_buf(dec.buffer_mut()).await.unwrap();
        assert!(n > 0, "client closed early");
    }
}

fn tag_of(words: &[String]) -> String {
    words.iter().find_map(|w| w.strip_prefix(".tag=")).unwrap().to_string()
}

/// Serves one session: answers login, then answers the first command with `reply(tag)`.
async fn fake_router(reply: fn(&str) -> Vec<u8>) -> (String, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let h = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut dec = Decoder::default_limits();
        let login = read_sentence(&mut s, &mut dec).await;
        assert_eq!(login[0], "/login");
        let t = tag_of(&login);
        s.write_all(&encode_sentence(&["!done".to_string(), format!(".tag={t}")]).unwrap()).await.unwrap();
        let cmd = read_sentence(&mut s, &mut dec).await;
        let _ = s.write_all(&reply(&tag_of(&cmd))).await;
        // Hold the socket open: the client must fail on the bytes, not on EOF.
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    (addr, h)
}

async fn run(reply: fn(&str) -> Vec<u8>) -> Error {
    let (addr, h) = fake_router(reply).await;
    let mut cfg = Config::new(addr, "admin", "");
    cfg.limits.max_word = 1024;
    cfg.command_timeout = Duration::from_secs(3);
    let client = Client::connect(cfg).await.unwrap();
    let err = client.call(&Command::new("/system/identity/print")).await.unwrap_err();
    h.abort();
    err
}

#[tokio::test]
async fn oversized_word_length_is_a_decode_error() {
    let e = run(|_| vec![0xF0, 0xFF, 0xFF, 0xFF, 0xFF]).await;
    assert!(matches!(e, Error::Decode(routeros::DecodeError::WordTooLong { .. })), "{e:?}");
}

#[tokio::test]
async fn control_byte_is_a_decode_error() {
    let e = run(|_| vec![0xF8, 1, 2, 3]).await;
    assert!(matches!(e, Error::Decode(routeros::DecodeError::ControlByte(0xF8))), "{e:?}");
}

#[tokio::test]
async fn unknown_reply_word_is_a_protocol_error() {
    let e = run(|t| encode_sentence(&["!bogus".to_string(), format!(".tag={t}")]).unwrap()).await;
    assert!(matches!(&e, Error::ConnectionLost(m) if m.contains("protocol error")), "{e:?}");
}

/// A reply word that is not UTF-8 is still a reply type the client must know: refused.
#[tokio::test]
async fn a_reply_type_word_that_is_not_utf8_is_a_protocol_error() {
    let e = run(|_| vec![3, b'!', 0xFF, b'e', 0]).await;
    assert!(matches!(&e, Error::ConnectionLost(m) if m.contains("protocol error")), "{e:?}");
}

/// Values in the codepage Winbox wrote (CP1251 here, as librouteros #10/#123 report) are read
/// as text with U+FFFD, kept as bytes, and the session goes on: the next command works too.
#[tokio::test]
async fn codepage_values_keep_the_session_and_their_bytes() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let h = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut dec = Decoder::default_limits();
        let login = read_sentence(&mut s, &mut dec).await;
        let t = tag_of(&login);
        s.write_all(&encode_sentence(&["!done".to_string(), format!(".tag={t}")]).unwrap()).await.unwrap();
        loop {
            let cmd = read_sentence(&mut s, &mut dec).await;
            let tag = format!(".tag={}", tag_of(&cmd));
            let row: [&[u8]; 4] = [b"!re", b"=.id=*1", b"=comment=\xCA\xE0\xF4\xE5 \xB9 1", tag.as_bytes()];
            s.write_all(&encode_sentence(&row).unwrap()).await.unwrap();
            s.write_all(&encode_sentence(&["!done".to_string(), tag]).unwrap()).await.unwrap();
        }
    });
    let client = Client::connect(Config::new(addr, "admin", "")).await.unwrap();
    for _ in 0..2 {
        let r = client.call(&Command::new("/ip/hotspot/user/print")).await.unwrap();
        assert_eq!(r.rows[0]["comment"], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD} \u{FFFD} 1");
        assert_eq!(r.raw[0]["comment"], b"\xCA\xE0\xF4\xE5 \xB9 1".to_vec());
    }
    h.abort();
}

#[tokio::test]
async fn untagged_fatal_fails_the_command() {
    let e = run(|_| encode_sentence(&["!fatal", "out of memory"]).unwrap()).await;
    assert!(matches!(&e, Error::Fatal(r) if r == "out of memory"), "{e:?}");
}

#[tokio::test]
async fn silence_is_a_timeout() {
    let (addr, h) = fake_router(|_| Vec::new()).await;
    let client = Client::connect(Config::new(addr, "admin", "")).await.unwrap();
    let e = client.call_with_timeout(&Command::new("/x/print"), Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    h.abort();
}
