//! FreeRADIUS's `rlm_rest` JSON, both ways (`mods-available/rest` in FreeRADIUS 3.2 documents
//! it): requests are `{"Attr": {"type": "...", "value": [..]}}`, replies `{"list:Attr": value}`.
//! FreeRADIUS has already checked the packet (client, secret, attribute syntax); what it forwards
//! is still read as untrusted text.

use std::collections::BTreeMap;

use hotspot_core::{MacAddr, RouterId};
use serde_json::{Map, Value, json};

use super::{Accept, Grant, Refusal, Usage};

/// The largest body taken from FreeRADIUS: a RADIUS packet is at most 4096 bytes, and its JSON
/// form a few times that.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("not rlm_rest JSON: {0}")]
    Json(String),
    #[error("missing attribute {0}")]
    Missing(&'static str),
    #[error("attribute {0} is malformed")]
    Malformed(&'static str),
}

/// A request's attributes by name, each value as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes(BTreeMap<String, Vec<String>>);

impl Attributes {
    pub fn parse(body: &[u8]) -> Result<Attributes, RestError> {
        if body.len() > MAX_BODY {
            return Err(RestError::Json("too large".into()));
        }
        let v: Value = serde_json::from_slice(body).map_err(|e| RestError::Json(e.to_string()))?;
        let Value::Object(m) = v else { return Err(RestError::Json("not an object".into())) };
        let mut out = BTreeMap::new();
        for (name, a) in m {
            let values = match a.get("value") {
                Some(Value::Array(vs)) => vs.iter().filter_map(text).collect(),
                Some(v) => text(v).into_iter().collect(),
                None => return Err(RestError::Json(format!("{name} has no value"))),
            };
            out.insert(name, values);
        }
        Ok(Attributes(out))
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    fn attr_required(&self, name: &'static str) -> Result<&str, RestError> {
        self.attr(name).ok_or(RestError::Missing(name))
    }

    /// The FreeRADIUS client the packet came through (our `update request` puts it there; the
    /// router cannot: internal attributes never come off the wire).
    pub fn client_router(&self) -> Result<RouterId, RestError> {
        self.attr_required("FreeRADIUS-Client-Shortname")?.parse().map_err(|_| RestError::Malformed("client shortname"))
    }

    /// The router must name itself as the client it is configured as: a router sharing a NAT
    /// address (and so a client entry) with another cannot speak for it.
    pub fn nas_router(&self) -> Result<RouterId, RestError> {
        let client = self.client_router()?;
        match self.attr("NAS-Identifier") {
            Some(nas) if nas.trim() != client.as_str() => Err(RestError::Malformed("NAS-Identifier")),
            _ => Ok(client),
        }
    }

    pub fn login_name(&self) -> Result<&str, RestError> {
        self.attr_required("User-Name")
    }

    /// The guest's device (RouterOS sends its MAC as `Calling-Station-Id`).
    pub fn calling_mac(&self) -> Result<Option<MacAddr>, RestError> {
        self.attr("Calling-Station-Id")
            .map(|m| m.trim().parse().map_err(|_| RestError::Malformed("Calling-Station-Id")))
            .transpose()
    }

    /// The grant an accounting request is about: the `Class` our Access-Accept gave it
    /// (FreeRADIUS forwards octets as `0x…` hex).
    pub fn grant_class(&self) -> Result<Grant, RestError> {
        let raw = self.attr_required("Class")?;
        let text = match raw.strip_prefix("0x") {
            Some(h) => hex::decode(h).ok().and_then(|b| String::from_utf8(b).ok()),
            None => Some(raw.to_string()),
        };
        text.as_deref().and_then(Grant::from_class).ok_or(RestError::Malformed("Class"))
    }

    fn acct_octets(&self, low: &'static str, giga: &'static str) -> Result<u64, RestError> {
        let num = |name: &'static str| -> Result<u64, RestError> {
            self.attr(name)
                .map_or(Ok(0), |v| v.trim().parse::<u32>().map(u64::from).map_err(|_| RestError::Malformed(name)))
        };
        Ok(num(giga)? << 32 | num(low)?)
    }

    pub fn acct_status(&self) -> Result<AcctStatus, RestError> {
        match self.attr_required("Acct-Status-Type")?.trim() {
            "Start" | "1" => Ok(AcctStatus::Start),
            "Stop" | "2" => Ok(AcctStatus::Stop),
            "Interim-Update" | "3" => Ok(AcctStatus::Interim),
            "Accounting-On" | "7" | "Accounting-Off" | "8" => Ok(AcctStatus::NasRestart),
            _ => Err(RestError::Malformed("Acct-Status-Type")),
        }
    }

    /// One device's usage as this accounting request reports it.
    pub fn acct_usage(&self) -> Result<Usage, RestError> {
        let acct_session = self.attr_required("Acct-Session-Id")?.trim();
        if acct_session.is_empty() || acct_session.len() > 64 || !acct_session.chars().all(|c| c.is_ascii_graphic()) {
            return Err(RestError::Malformed("Acct-Session-Id"));
        }
        Ok(Usage {
            acct_session: acct_session.to_string(),
            mac: self.calling_mac()?,
            bytes_in: self.acct_octets("Acct-Input-Octets", "Acct-Input-Gigawords")?,
            bytes_out: self.acct_octets("Acct-Output-Octets", "Acct-Output-Gigawords")?,
            stopped: self.acct_status()? == AcctStatus::Stop,
        })
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcctStatus {
    Start,
    Interim,
    Stop,
    /// The router rebooted or its RADIUS client restarted: nothing per guest to record.
    NasRestart,
}

/// The reply to an Access-Request FreeRADIUS will send on (status, body): 200 with the package's
/// attributes, or 401 (rlm_rest's reject) with a message the login page shows.
pub fn authorize_reply(answer: &Result<Accept, Refusal>) -> (u16, Value) {
    match answer {
        Ok(a) => {
            let mut m = Map::new();
            match &a.password {
                Some(p) => m.insert("control:Cleartext-Password".into(), json!(p)),
                None => m.insert("control:Auth-Type".into(), json!("Accept")),
            };
            m.insert("reply:Session-Timeout".into(), json!(a.session_timeout.min(u64::from(u32::MAX))));
            m.insert("reply:Acct-Interim-Interval".into(), json!(a.interim_secs));
            m.insert("reply:Mikrotik-Rate-Limit".into(), json!(a.rate_limit.to_string()));
            m.insert("reply:Class".into(), json!(a.grant.class()));
            if let Some(t) = a.total_limit {
                m.insert("reply:Mikrotik-Total-Limit".into(), json!(t & 0xffff_ffff));
                m.insert("reply:Mikrotik-Total-Limit-Gigawords".into(), json!(t >> 32));
            }
            (200, Value::Object(m))
        }
        Err(r) => (401, json!({ "reply:Reply-Message": r.guest_message() })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(v: Value) -> Attributes {
        Attributes::parse(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_data_cap_over_4_gib_is_split_into_total_limit_and_gigawords() {
        let accept = Accept {
            grant: Grant::Purchase("p0123456789abcdef01234567".parse().unwrap()),
            password: None,
            session_timeout: 3600,
            rate_limit: "2M/5M".parse().unwrap(),
            total_limit: Some(5 * (1 << 30) + 123),
            interim_secs: 300,
        };
        let (status, body) = authorize_reply(&Ok(accept.clone()));
        assert_eq!(status, 200);
        // RFC 2869's -Gigawords convention: the high 32 bits apart (5 GiB + 123 = 1 × 2^32 + 1073741947).
        assert_eq!(body["reply:Mikrotik-Total-Limit"], json!(1_073_741_947u64));
        assert_eq!(body["reply:Mikrotik-Total-Limit-Gigawords"], json!(1));
        assert_eq!(body["reply:Mikrotik-Rate-Limit"], json!("2M/5M"));
        assert_eq!(body["control:Auth-Type"], json!("Accept"));
        let uncapped = Accept { total_limit: None, ..accept };
        let (_, body) = authorize_reply(&Ok(uncapped));
        assert!(body.get("reply:Mikrotik-Total-Limit").is_none(), "no cap, no limit");
    }

    #[test]
    fn reads_rlm_rest_json_as_freeradius_sends_it() {
        let a = attrs(json!({
            "User-Name": {"type": "string", "value": ["AA:BB:CC:00:11:22"]},
            "Calling-Station-Id": {"type": "string", "value": ["AA:BB:CC:00:11:22"]},
            "NAS-Identifier": {"type": "string", "value": ["cafe-1"]},
            "FreeRADIUS-Client-Shortname": {"type": "string", "value": ["cafe-1"]},
            "Acct-Status-Type": {"type": "integer", "value": ["Interim-Update"]},
            "Acct-Session-Id": {"type": "string", "value": ["81000001"]},
            "Acct-Input-Octets": {"type": "integer", "value": [5]},
            "Acct-Input-Gigawords": {"type": "integer", "value": [1]},
            "Class": {"type": "octets", "value": ["0x70616263"]}
        }));
        assert_eq!(a.nas_router().unwrap().as_str(), "cafe-1");
        let u = a.acct_usage().unwrap();
        assert_eq!((u.bytes_in, u.bytes_out, u.stopped), ((1 << 32) + 5, 0, false));
        assert_eq!(a.acct_status().unwrap(), AcctStatus::Interim);
        assert!(matches!(a.grant_class(), Err(RestError::Malformed("Class"))), "\"pabc\" is no purchase id");
    }

    #[test]
    fn a_router_cannot_name_another() {
        let a = attrs(json!({
            "NAS-Identifier": {"type": "string", "value": ["cafe-2"]},
            "FreeRADIUS-Client-Shortname": {"type": "string", "value": ["cafe-1"]},
        }));
        assert_eq!(a.nas_router(), Err(RestError::Malformed("NAS-Identifier")));
    }

    #[test]
    fn hostile_bodies_are_refused() {
        for body in [&b"[]"[..], b"{\"User-Name\": 1}", b"not json", &vec![b' '; MAX_BODY + 1]] {
            assert!(Attributes::parse(body).is_err(), "{:?}", String::from_utf8_lossy(&body[..body.len().min(20)]));
        }
        let a = attrs(json!({"Acct-Input-Octets": {"value": ["-1"]}, "Acct-Session-Id": {"value": ["x"]},
            "Acct-Status-Type": {"value": ["Start"]}}));
        assert_eq!(a.acct_usage(), Err(RestError::Malformed("Acct-Input-Octets")));
    }
}
