//! Sans-IO wire codec: word lengths, sentence encoding and a streaming decoder.
//!
//! The decoder owns a byte buffer; callers feed it whatever the transport delivered
//! (any split, one byte or many sentences at a time) and pull complete sentences out.
//!
//! Words are bytes: RouterOS stores whatever codepage Winbox wrote (CP1251 comments, CP1252
//! host names), so a word need not be UTF-8. `next_sentence_bytes` gives them as they are;
//! `next_sentence` as text, any invalid byte sequence replaced by U+FFFD. Neither fails on it.

use bytes::{Buf, BytesMut};

/// Default cap for one word; RouterOS replies are small, a few MiB leaves room for big prints.
pub const DEFAULT_MAX_WORD: usize = 4 * 1024 * 1024;
/// Default cap for one sentence (sum of its words).
pub const DEFAULT_MAX_SENTENCE: usize = 8 * 1024 * 1024;
/// Default cap on words per sentence, so a stream of empty-ish words cannot grow a Vec forever.
pub const DEFAULT_MAX_WORDS: usize = 64 * 1024;

/// Spare room kept for each read from the transport.
const READ_CHUNK: usize = 16 * 1024;

/// The largest length the 5-byte form can carry; the protocol has no larger form.
pub const MAX_ENCODABLE_LEN: usize = u32::MAX as usize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("reserved control byte 0x{0:02X} where a word length was expected")]
    ControlByte(u8),
    #[error("word of {len} bytes exceeds the limit of {max} bytes")]
    WordTooLong { len: usize, max: usize },
    #[error("sentence exceeds the limit of {max} bytes")]
    SentenceTooLong { max: usize },
    #[error("sentence has more than {max} words")]
    TooManyWords { max: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("word of {0} bytes is longer than the protocol can encode")]
    WordTooLong(usize),
}

/// Appends the length prefix for a word of `len` bytes.
pub fn encode_length(len: usize, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let l = len as u64;
    match len {
        0..=0x7F => out.push(l as u8),
        0x80..=0x3FFF => out.extend_from_slice(&((l as u16) | 0x8000).to_be_bytes()),
        0x4000..=0x1F_FFFF => out.extend_from_slice(&((l as u32) | 0xC0_0000).to_be_bytes()[1..]),
        0x20_0000..=0xFFF_FFFF => out.extend_from_slice(&((l as u32) | 0xE000_0000).to_be_bytes()),
        _ if len <= MAX_ENCODABLE_LEN => {
            out.push(0xF0);
            out.extend_from_slice(&(l as u32).to_be_bytes());
        }
        _ => return Err(EncodeError::WordTooLong(len)),
    }
    Ok(())
}

/// Appends one length-prefixed word.
pub fn encode_word(word: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    encode_length(word.len(), out)?;
    out.extend_from_slice(word);
    Ok(())
}

/// Encodes a whole sentence including the terminating empty word.
pub fn encode_sentence<S: AsRef<[u8]>>(words: &[S]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(words.iter().map(|w| w.as_ref().len() + 2).sum::<usize>() + 1);
    for w in words {
        encode_word(w.as_ref(), &mut out)?;
    }
    out.push(0);
    Ok(out)
}

/// Result of looking at the front of the buffer for a length prefix.
enum Length {
    Incomplete,
    Complete { header: usize, len: usize },
}

fn peek_length(buf: &[u8]) -> Result<Length, DecodeError> {
    let Some(&b0) = buf.first() else { return Ok(Length::Incomplete) };
    let header = match b0 {
        0x00..=0x7F => 1,
        0x80..=0xBF => 2,
        0xC0..=0xDF => 3,
        0xE0..=0xEF => 4,
        0xF0 => 5,
        other => return Err(DecodeError::ControlByte(other)),
    };
    if buf.len() < header {
        return Ok(Length::Incomplete);
    }
    let len = match header {
        1 => b0 as usize,
        2 => (((b0 & 0x3F) as usize) << 8) | buf[1] as usize,
        3 => (((b0 & 0x1F) as usize) << 16) | ((buf[1] as usize) << 8) | buf[2] as usize,
        4 => (((b0 & 0x0F) as usize) << 24) | ((buf[1] as usize) << 16) | ((buf[2] as usize) << 8) | buf[3] as usize,
        _ => u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize,
    };
    Ok(Length::Complete { header, len })
}

/// Limits the decoder enforces so a hostile peer cannot make it allocate without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_word: usize,
    pub max_sentence: usize,
    pub max_words: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_word: DEFAULT_MAX_WORD, max_sentence: DEFAULT_MAX_SENTENCE, max_words: DEFAULT_MAX_WORDS }
    }
}

/// Streaming decoder. After an error the stream is out of sync and must be dropped.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: BytesMut,
    words: Vec<Vec<u8>>,
    sentence_bytes: usize,
    limits: Limits,
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Decoder { buf: BytesMut::new(), words: Vec::new(), sentence_bytes: 0, limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Adds received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Gives the internal buffer so a reader can fill it without an extra copy.
    /// Keeps some spare capacity so each read can take a useful amount at once.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        &mut self.buf
    }

    /// Bytes received but not yet consumed into words.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True when no partial sentence is held (a clean point to close a stream).
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty() && self.words.is_empty()
    }

    /// The next complete non-empty sentence as text (invalid UTF-8 replaced, never refused),
    /// `Ok(None)` when more bytes are needed.
    pub fn next_sentence(&mut self) -> Result<Option<Vec<String>>, DecodeError> {
        Ok(self.next_sentence_bytes()?.map(|words| words.into_iter().map(lossy).collect()))
    }

    /// The next complete non-empty sentence with its words as the peer sent them.
    pub fn next_sentence_bytes(&mut self) -> Result<Option<Vec<Vec<u8>>>, DecodeError> {
        loop {
            let (header, len) = match peek_length(&self.buf)? {
                Length::Incomplete => return Ok(None),
                Length::Complete { header, len } => (header, len),
            };
            // Checked before waiting for the body, so an absurd prefix fails at once.
            if len > self.limits.max_word {
                return Err(DecodeError::WordTooLong { len, max: self.limits.max_word });
            }
            if self.sentence_bytes + len > self.limits.max_sentence {
                return Err(DecodeError::SentenceTooLong { max: self.limits.max_sentence });
            }
            if len == 0 {
                self.buf.advance(header);
                self.sentence_bytes = 0;
                if self.words.is_empty() {
                    // Empty sentences are ignored by the protocol.
                    continue;
                }
                return Ok(Some(std::mem::take(&mut self.words)));
            }
            if self.buf.len() < header + len {
                // Reserve once so a large word is not regrown byte by byte.
                self.buf.reserve(header + len - self.buf.len());
                return Ok(None);
            }
            if self.words.len() >= self.limits.max_words {
                return Err(DecodeError::TooManyWords { max: self.limits.max_words });
            }
            self.buf.advance(header);
            let word = self.buf.split_to(len).to_vec();
            self.sentence_bytes += len;
            self.words.push(word);
        }
    }
}

/// A word as text: valid UTF-8 as it is, anything else with U+FFFD for each invalid sequence.
pub fn lossy(word: Vec<u8>) -> String {
    String::from_utf8(word).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Decoder {
    /// A decoder with the default limits.
    pub fn default_limits() -> Self {
        Decoder::new(Limits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_bytes(len: usize) -> Vec<u8> {
        let mut v = Vec::new();
        encode_length(len, &mut v).unwrap();
        v
    }

    #[test]
    fn boundary_vectors() {
        let cases: &[(usize, &[u8])] = &[
            (0, &[0x00]),
            (0x7F, &[0x7F]),
            (0x80, &[0x80, 0x80]),
            (0x3FFF, &[0xBF, 0xFF]),
            (0x4000, &[0xC0, 0x40, 0x00]),
            (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
            (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
            (0xFFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
            (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
        ];
        for (len, bytes) in cases {
            assert_eq!(len_bytes(*len), *bytes, "encode {len:#x}");
            match peek_length(bytes).unwrap() {
                Length::Complete { header, len: got } => {
                    assert_eq!(header, bytes.len());
                    assert_eq!(got, *len, "decode {len:#x}");
                }
                Length::Incomplete => panic!("incomplete for {len:#x}"),
            }
            // Every proper prefix of a header must ask for more bytes, not misparse.
            for cut in 0..bytes.len() {
                assert!(matches!(peek_length(&bytes[..cut]).unwrap(), Length::Incomplete));
            }
        }
    }

    #[test]
    fn words_at_boundaries_round_trip() {
        let limits = Limits { max_word: 0x20_0001, max_sentence: 0x40_0000, max_words: 16 };
        for len in [0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000] {
            let word = "x".repeat(len);
            let bytes = encode_sentence(&[word.as_str()]).unwrap();
            let mut d = Decoder::new(limits);
            d.extend(&bytes);
            assert_eq!(d.next_sentence().unwrap(), Some(vec![word]), "len {len:#x}");
            assert!(d.is_idle());
        }
    }

    #[test]
    fn control_bytes_rejected() {
        for b in 0xF1..=0xFFu8 {
            let mut d = Decoder::default_limits();
            d.extend(&[b, 0, 0, 0, 0, 0]);
            assert_eq!(d.next_sentence(), Err(DecodeError::ControlByte(b)), "{b:#x}");
        }
        // 0xF0 is the 5-byte form: accepted as a header, then bounded by the word limit.
        let mut d = Decoder::default_limits();
        d.extend(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert!(matches!(d.next_sentence(), Err(DecodeError::WordTooLong { .. })));
    }

    #[test]
    fn oversized_length_fails_before_body_arrives() {
        let mut d = Decoder::new(Limits { max_word: 100, ..Limits::default() });
        d.extend(&[0x80, 0x65]); // 101 bytes announced, none sent
        assert_eq!(d.next_sentence(), Err(DecodeError::WordTooLong { len: 101, max: 100 }));
    }

    #[test]
    fn sentence_limit() {
        let mut d = Decoder::new(Limits { max_word: 100, max_sentence: 150, max_words: 100 });
        let w = "y".repeat(80);
        d.extend(&encode_sentence(&[w.as_str(), w.as_str()]).unwrap());
        assert_eq!(d.next_sentence(), Err(DecodeError::SentenceTooLong { max: 150 }));
    }

    #[test]
    fn too_many_words() {
        let mut d = Decoder::new(Limits { max_words: 3, ..Limits::default() });
        d.extend(&encode_sentence(&["a", "b", "c", "d"]).unwrap());
        assert_eq!(d.next_sentence(), Err(DecodeError::TooManyWords { max: 3 }));
    }

    #[test]
    fn empty_sentences_are_skipped_and_codepage_words_kept() {
        let mut d = Decoder::default_limits();
        d.extend(&[0, 0, 3, b'!', b'r', b'e', 0, 0]);
        assert_eq!(d.next_sentence().unwrap(), Some(vec!["!re".to_string()]));
        assert_eq!(d.next_sentence().unwrap(), None);
        // "=comment=Кафе" in CP1251, then a valid word: the stream stays in sync.
        let cp1251 = b"=comment=\xCA\xE0\xF4\xE5";
        let sentence =
            [encode_sentence(&[&b"!re"[..], cp1251, b"=name=x"]).unwrap(), encode_sentence(&["!done"]).unwrap()]
                .concat();
        let mut d = Decoder::default_limits();
        d.extend(&sentence);
        let words = d.next_sentence_bytes().unwrap().unwrap();
        assert_eq!(words[1], cp1251.to_vec(), "the bytes as the router sent them");
        d.extend(&sentence);
        let text = d.next_sentence().unwrap().unwrap();
        assert_eq!(text, vec!["!done".to_string()]);
        let text = d.next_sentence().unwrap().unwrap();
        assert_eq!(text[1], "=comment=\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(text[2], "=name=x");
    }

    #[test]
    fn byte_at_a_time() {
        let bytes =
            [encode_sentence(&["!re", "=name=a", "=x="]).unwrap(), encode_sentence(&["!done"]).unwrap()].concat();
        let mut d = Decoder::default_limits();
        let mut got = Vec::new();
        for b in bytes {
            d.extend(&[b]);
            while let Some(s) = d.next_sentence().unwrap() {
                got.push(s);
            }
        }
        assert_eq!(got, vec![vec!["!re", "=name=a", "=x="], vec!["!done"]]);
    }
}
