//! The address of something in the cloud (the HTTP API, a queue): what crosses it carries guests'
//! phone numbers, so it is `https://`, or plain `http://` only to a loopback host (the local
//! stack and tests). Parsed once, where it is configured: the agent's settings, `hotspotctl`.

use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudUrlError {
    #[error("{0:?} is not an http(s) URL")]
    NotHttp(String),
    #[error("{0:?} names no host")]
    NoHost(String),
    #[error(
        "{0:?} is plain http: guests' phone numbers would cross the internet unencrypted; use https:// \
         (http:// is for loopback addresses only)"
    )]
    PlainHttp(String),
}

/// An `https://` URL, or an `http://` one to a loopback host; without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudUrl(String);

impl CloudUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for CloudUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CloudUrl {
    type Err = CloudUrlError;

    fn from_str(v: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = v.split_once("://").ok_or_else(|| CloudUrlError::NotHttp(v.into()))?;
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(CloudUrlError::NotHttp(v.into()));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Credentials in the URL would be logged with it; a host is all it may name.
        if authority.contains('@') {
            return Err(CloudUrlError::NotHttp(v.into()));
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map(|(h, _)| h).ok_or_else(|| CloudUrlError::NoHost(v.into()))?,
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        if host.is_empty() {
            return Err(CloudUrlError::NoHost(v.into()));
        }
        let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|a| a.is_loopback());
        match scheme.to_ascii_lowercase().as_str() {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err(CloudUrlError::PlainHttp(v.into())),
            _ => return Err(CloudUrlError::NotHttp(v.into())),
        }
        Ok(CloudUrl(v.trim_end_matches('/').to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_plain_http_only_to_loopback() {
        for ok in [
            "https://abc.execute-api.eu-west-1.amazonaws.com/",
            "https://sqs.eu-west-1.amazonaws.com/1/router-cafe-01.fifo",
            "http://127.0.0.1:4566",
            "http://127.9.9.9/x",
            "http://[::1]:9000/x",
            "http://localhost:1",
        ] {
            let u: CloudUrl = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(u.as_str(), ok.trim_end_matches('/'));
        }
        for bad in ["http://api.example.com", "http://10.0.0.1:80", "http://127.0.0.1.evil.example/", "http://[::2]/"] {
            assert!(matches!(bad.parse::<CloudUrl>(), Err(CloudUrlError::PlainHttp(_))), "{bad}");
        }
        for bad in ["ftp://x", "api", "https://user:pw@api.example.com", "https:// x", "http://"] {
            assert!(bad.parse::<CloudUrl>().is_err(), "{bad}");
        }
        assert!("http://evil.example@127.0.0.1/".parse::<CloudUrl>().is_err(), "no userinfo tricks");
    }
}
