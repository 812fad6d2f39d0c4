//! RADIUS login latency as a router sees it: Access-Requests over UDP to FreeRADIUS (which asks
//! our API), one at a time, timed from send to the verified reply. The packets are RFC 2865's
//! (User-Password hidden with MD5, the reply's authenticator checked); that FreeRADIUS accepts
//! them and answers with a reply we can verify is the check of this encoder.

use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use tokio::net::UdpSocket;

const ACCESS_REQUEST: u8 = 1;
const ACCESS_ACCEPT: u8 = 2;

/// What a router sends to log a guest in.
pub struct Login<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub nas: &'a str,
    pub mac: &'a str,
}

fn attr(out: &mut Vec<u8>, t: u8, v: &[u8]) {
    out.push(t);
    out.push(v.len() as u8 + 2);
    out.extend_from_slice(v);
}

/// RFC 2865 §5.2: the password padded to 16 bytes, each block XORed with MD5(secret + previous).
fn hide(password: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let mut padded = password.to_vec();
    padded.resize(password.len().div_ceil(16).max(1) * 16, 0);
    let mut out = Vec::with_capacity(padded.len());
    let mut prev: Vec<u8> = authenticator.to_vec();
    for block in padded.chunks(16) {
        let b = Md5::new().chain_update(secret).chain_update(&prev).finalize();
        let c: Vec<u8> = block.iter().zip(b.iter()).map(|(p, k)| p ^ k).collect();
        out.extend_from_slice(&c);
        prev = c;
    }
    out
}

/// An Access-Request packet.
pub fn access_request(id: u8, authenticator: &[u8; 16], secret: &[u8], l: &Login<'_>) -> Vec<u8> {
    let mut attrs = Vec::new();
    attr(&mut attrs, 1, l.user.as_bytes());
    attr(&mut attrs, 2, &hide(l.password.as_bytes(), secret, authenticator));
    attr(&mut attrs, 32, l.nas.as_bytes());
    attr(&mut attrs, 31, l.mac.as_bytes());
    let len = (20 + attrs.len()) as u16;
    let mut p = vec![ACCESS_REQUEST, id];
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(authenticator);
    p.extend_from_slice(&attrs);
    p
}

/// The reply's code if it answers request `id` and its Response Authenticator is
/// MD5(code + id + length + request authenticator + attributes + secret).
pub fn reply_code(reply: &[u8], id: u8, authenticator: &[u8; 16], secret: &[u8]) -> Option<u8> {
    if reply.len() < 20 || reply[1] != id || usize::from(u16::from_be_bytes([reply[2], reply[3]])) != reply.len() {
        return None;
    }
    let want = Md5::new()
        .chain_update(&reply[..4])
        .chain_update(authenticator)
        .chain_update(&reply[20..])
        .chain_update(secret);
    (want.finalize()[..] == reply[4..20]).then_some(reply[0])
}

/// Sends `n` logins one after another; the milliseconds each took to an Access-Accept. A reply
/// other than an accept, or none within a second, is an error: the benchmark must not time
/// rejections.
pub async fn accept_latencies(port: u16, secret: &str, login: &Login<'_>, n: u32) -> Result<Vec<f64>, String> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    sock.connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(n as usize);
    let mut buf = vec![0u8; 4096];
    for i in 0..n {
        let id = (i % 256) as u8;
        let authenticator: [u8; 16] = rand::random();
        let packet = access_request(id, &authenticator, secret.as_bytes(), login);
        let start = Instant::now();
        sock.send(&packet).await.map_err(|e| e.to_string())?;
        let code = loop {
            let len = tokio::time::timeout(Duration::from_secs(1), sock.recv(&mut buf))
                .await
                .map_err(|_| format!("login {i}: no answer within 1 s"))?
                .map_err(|e| e.to_string())?;
            // A late answer to an earlier request is skipped.
            if let Some(code) = reply_code(&buf[..len], id, &authenticator, secret.as_bytes()) {
                break code;
            }
        };
        if code != ACCESS_ACCEPT {
            return Err(format!("login {i}: answered with code {code}, not Access-Accept"));
        }
        out.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2865 §7.1's example: user "nemo", password "arctangent", secret "xyzzy5461".
    #[test]
    fn hides_the_password_as_rfc_2865_shows() {
        let ra: [u8; 16] =
            [0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a];
        let hidden = hide(b"arctangent", b"xyzzy5461", &ra);
        assert_eq!(
            hidden,
            [0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce, 0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a, 0x0a, 0xee]
        );
    }
}
