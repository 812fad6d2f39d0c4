//! Property tests: encode/decode round-trips under every TCP split, and no panic on any bytes.

use proptest::prelude::*;
use routeros::codec::{Decoder, Limits, encode_sentence};

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[!=.?a-z0-9-]{1,40}",
        // Some long words so the 2- and 3-byte length forms are exercised.
        "[a-z]{120,300}",
        proptest::collection::vec(any::<char>(), 1..20).prop_map(|v| v.into_iter().collect()),
    ]
}

fn sentence() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(word(), 1..8)
}

proptest! {
    #[test]
    fn round_trip_under_any_split(sentences in proptest::collection::vec(sentence(), 1..6), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10)) {
        let bytes: Vec<u8> = sentences.iter().flat_map(|s| encode_sentence(s).unwrap()).collect();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort_unstable();
        let mut dec = Decoder::new(Limits::default());
        let mut got = Vec::new();
        for w in points.windows(2) {
            dec.extend(&bytes[w[0]..w[1]]);
            while let Some(s) = dec.next_sentence().unwrap() {
                got.push(s);
            }
        }
        prop_assert_eq!(got, sentences);
        prop_assert!(dec.is_idle());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(data in proptest::collection::vec(any::<u8>(), 0..2048), chunk in 1usize..64) {
        let limits = Limits { max_word: 256, max_sentence: 1024, max_words: 32 };
        let mut dec = Decoder::new(limits);
        'outer: for c in data.chunks(chunk) {
            dec.extend(c);
            loop {
                match dec.next_sentence() {
                    Ok(Some(s)) => {
                        prop_assert!(s.len() <= 32);
                        prop_assert!(s.iter().all(|w| !w.is_empty() && w.len() <= 256));
                    }
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
        }
    }
}
