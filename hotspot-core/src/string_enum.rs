//! `string_enum!`: an enum of unit variants each spelled as one fixed string (in storage, on the
//! wire, in a CLI flag), with `as_str`, `ALL`, `FromStr`, `Display` and serde through the same
//! strings, written once instead of by hand for every such enum.
//!
//! ```
//! hotspot_core::string_enum! {
//!     /// Where a thing stands.
//!     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//!     pub enum State("state") {
//!         Open = "open",
//!         Shut = "shut",
//!     }
//! }
//! assert_eq!("open".parse::<State>(), Ok(State::Open));
//! assert_eq!(State::Shut.to_string(), "shut");
//! assert_eq!("ajar".parse::<State>().unwrap_err().to_string(), "state must be open or shut; got \"ajar\"");
//! ```
//!
//! With `fallback = Variant`, serde reads a string it does not know as that variant instead of
//! failing, so a newer peer's new value does not make a whole message unreadable (`FromStr`
//! stays strict: storage holds only what this build wrote).

/// For `string_enum!`, so crates using it need no serde of their own.
#[doc(hidden)]
pub use serde as __serde;

/// A string that is none of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be {}; got {got:?}", one_of(.expected))]
pub struct UnknownName {
    pub what: &'static str,
    pub expected: &'static [&'static str],
    pub got: String,
}

/// `a, b or c`.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal $(, fallback = $fallback:ident)?) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every spelling, in declaration order.
            #[allow(dead_code)]
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::string_enum::UnknownName;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::string_enum::UnknownName {
                        what: $what,
                        expected: $name::NAMES,
                        got: other.to_string(),
                    }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::string_enum::__serde::Serialize for $name {
            fn serialize<S: $crate::string_enum::__serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::string_enum::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::string_enum::__serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::string_enum::__serde::Deserialize<'de>>::deserialize(d)?;
                match s.parse::<$name>() {
                    Ok(v) => Ok(v),
                    $(Err(_) => Ok($name::$fallback),)?
                    #[allow(unreachable_patterns)]
                    Err(e) => Err(<D::Error as $crate::string_enum::__serde::de::Error>::custom(e)),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::string_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Colour("colour") {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    crate::string_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Reason("reason", fallback = Other) {
            Late = "late",
            Other = "other",
        }
    }

    #[test]
    fn spellings_round_trip_through_every_form() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(*c));
            assert_eq!(serde_json::from_str::<Colour>(&serde_json::to_string(c).unwrap()).unwrap(), *c);
        }
        assert_eq!(serde_json::to_string(&Colour::DarkBlue).unwrap(), "\"dark_blue\"");
        assert_eq!(Colour::NAMES, ["red", "dark_blue"]);
    }

    #[test]
    fn unknown_names_are_refused_with_the_choices_named() {
        let e = "Red".parse::<Colour>().unwrap_err();
        assert_eq!(e.to_string(), "colour must be red or dark_blue; got \"Red\"");
        assert!(serde_json::from_str::<Colour>("\"green\"").is_err());
    }

    #[test]
    fn a_fallback_reads_what_a_newer_peer_sends() {
        assert_eq!(serde_json::from_str::<Reason>("\"sunspots\"").unwrap(), Reason::Other);
        assert_eq!(serde_json::from_str::<Reason>("\"late\"").unwrap(), Reason::Late);
        assert!("sunspots".parse::<Reason>().is_err(), "FromStr stays strict");
        assert!(serde_json::from_str::<Reason>("7").is_err(), "not a string at all is still an error");
    }
}
