//! Feeds arbitrary bytes to the streaming decoder in arbitrary chunk sizes (first byte picks the
//! size) and parses every sentence as a reply. Must never panic; memory stays under the limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use routeros::codec::{Decoder, Limits};
use routeros::sentence::Reply;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let limits = Limits { max_word: 4096, max_sentence: 16 * 1024, max_words: 256 };
    let mut dec = Decoder::new(limits);
    for part in rest.chunks(chunk) {
        dec.extend(part);
        loop {
            match dec.next_sentence() {
                Ok(Some(words)) => {
                    assert!(words.len() <= limits.max_words);
                    assert!(words.iter().all(|w| w.len() <= limits.max_word));
                    let _ = Reply::parse(words);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
