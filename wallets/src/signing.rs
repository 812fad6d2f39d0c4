//! Airtel's v2 message signing, as its portal describes it: the request body is encrypted with a
//! fresh AES-256 key and IV (CBC, PKCS#7 padding) and sent Base64 as `x-signature`; the key and
//! IV, `base64(key):base64(iv)`, are encrypted with Airtel's RSA public key (PKCS#1 v1.5) and
//! sent Base64 as `x-key`. Airtel decrypts the key, encrypts the body it received and compares:
//! a body changed on the way is refused (`DP00800001026`). The public key comes from
//! `GET /v1/rsa/encryption-keys` (`data.key`: Base64 of its DER SubjectPublicKeyInfo).

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, RsaPublicKey};
use serde_json::Value;

use crate::WalletError;
use crate::http::{at, text};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

/// Airtel's public key for message signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey(RsaPublicKey);

/// The two headers of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `x-signature`: the body, encrypted.
    pub signature: String,
    /// `x-key`: the key and IV, encrypted for Airtel.
    pub key: String,
}

impl SigningKey {
    /// From Base64 of the key's DER SubjectPublicKeyInfo.
    pub fn from_base64_der(s: &str) -> Result<SigningKey, WalletError> {
        let der =
            B64.decode(s.trim()).map_err(|_| WalletError::Invalid("Airtel's encryption key is not Base64".into()))?;
        RsaPublicKey::from_public_key_der(&der)
            .map(SigningKey)
            .map_err(|e| WalletError::Invalid(format!("Airtel's encryption key is not an RSA public key: {e}")))
    }
}

/// Signs `body` with a fresh key and IV.
pub fn sign(key: &SigningKey, body: &[u8]) -> Result<Signature, WalletError> {
    let (mut aes_key, mut iv) = ([0u8; 32], [0u8; 16]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut aes_key);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut iv);
    sign_with(key, body, &aes_key, &iv)
}

/// As [`sign`], with the AES key and IV given (tests compare with a known encryption).
pub fn sign_with(key: &SigningKey, body: &[u8], aes_key: &[u8; 32], iv: &[u8; 16]) -> Result<Signature, WalletError> {
    let signature = B64.encode(encrypt_body(aes_key, iv, body));
    let wrapped = format!("{}:{}", B64.encode(aes_key), B64.encode(iv));
    let key = key
        .0
        .encrypt(&mut rand_core::OsRng, Pkcs1v15Encrypt, wrapped.as_bytes())
        .map_err(|e| WalletError::Invalid(format!("signing key: {e}")))?;
    Ok(Signature { signature, key: B64.encode(key) })
}

/// AES-256-CBC with PKCS#7 padding: the `x-signature` before Base64.
pub fn encrypt_body(aes_key: &[u8; 32], iv: &[u8; 16], body: &[u8]) -> Vec<u8> {
    Aes256CbcEnc::new(aes_key.into(), iv.into()).encrypt_padded_vec_mut::<Pkcs7>(body)
}

/// The answer to `GET /v1/rsa/encryption-keys`: `{"data": {"key_id", "key", "valid_upto"}, "status": {...}}`.
pub fn parse_encryption_key(status: u16, body: &[u8]) -> Result<SigningKey, WalletError> {
    if status == 401 {
        return Err(WalletError::WrongCredentials("encryption key: HTTP 401".into()));
    }
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (status, text(at(&v, &["data", "key"]))) {
        (200, Some(k)) => SigningKey::from_base64_der(&k),
        _ => Err(WalletError::unreadable("encryption key", status, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_encrypted_as_aes_256_cbc_with_pkcs7() {
        // NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt), first block, then PKCS#7's full pad block.
        let key: [u8; 32] = hex_bytes("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv: [u8; 16] = hex_bytes("000102030405060708090a0b0c0d0e0f");
        let plain: [u8; 16] = hex_bytes("6bc1bee22e409f96e93d7e117393172a");
        let ct = encrypt_body(&key, &iv, &plain);
        assert_eq!(ct.len(), 32, "a whole block of padding follows a full block");
        assert_eq!(&ct[..16], &hex_bytes::<16>("f58c4c04d6e5f1ba779eabfb5f7bfbd6"));
    }

    fn hex_bytes<const N: usize>(s: &str) -> [u8; N] {
        let v: Vec<u8> = (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
        v.try_into().unwrap()
    }
}
