//! The emulated RouterOS version: what it decides (whether an empty `print` sends `!empty`,
//! which properties a menu has).

/// Emulated RouterOS version; decides e.g. whether an empty `print` sends `!empty` (7.18+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct RosVersion {
    pub major: u16,
    pub minor: u16,
}

impl RosVersion {
    pub const V7_17: RosVersion = RosVersion { major: 7, minor: 17 };
    pub const V7_18: RosVersion = RosVersion { major: 7, minor: 18 };

    pub fn sends_empty(self) -> bool {
        self >= RosVersion::V7_18
    }
}

impl std::fmt::Display for RosVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl std::str::FromStr for RosVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once('.').ok_or_else(|| format!("version {s:?} is not MAJOR.MINOR"))?;
        Ok(RosVersion {
            major: a.parse().map_err(|_| format!("bad major in {s:?}"))?,
            minor: b.parse().map_err(|_| format!("bad minor in {s:?}"))?,
        })
    }
}
