//! The client side of SCRAM-SHA-256 (RFC 5802 and RFC 7677), PostgreSQL's default login
//! method since version 14: both sides prove that they know the password without sending
//! it, and the client checks the server's proof too, so a fake server learns nothing.
//!
//! The exchange, in three messages after the server offers the mechanism:
//!
//! ```text
//! client-first   n,,n=USER,r=CLIENT_NONCE
//! server-first   r=CLIENT_NONCE+SERVER_NONCE,s=SALT,i=ITERATIONS
//! client-final   c=biws,r=NONCE,p=PROOF        (biws is base64 of "n,,")
//! server-final   v=SERVER_SIGNATURE
//! ```
//!
//! Corners cut: no channel binding (`SCRAM-SHA-256-PLUS`, which needs TLS), and the password
//! is used as it is, without the SASLprep normalisation of Unicode passwords (PostgreSQL
//! does the same when a password does not normalise). PostgreSQL ignores the user name in
//! these messages (it knows it from the startup message), so this client sends an empty one.

use super::sha256::{hmac_sha256, pbkdf2_sha256, sha256};

/// The base64 encoding of the header `n,,`: no channel binding.
const CHANNEL_BINDING: &str = "biws";

/// The server's iteration count is its choice; refuse one so large that computing the key
/// would stall the program for minutes (PostgreSQL's default is 4096).
const MAX_ITERATIONS: u32 = 1_000_000;

/// One SCRAM exchange, from the first message to checking the server's proof.
pub struct ScramClient {
    password: String,
    /// `n=USER,r=NONCE`: part of what both proofs sign.
    client_first_bare: String,
    client_nonce: String,
    /// What the server's final message must carry, once the client's proof is computed.
    expected_server_signature: Option<[u8; 32]>,
}

impl ScramClient {
    /// Starts an exchange; `client_nonce` must be fresh and random for every login.
    pub fn new(user: &str, password: &str, client_nonce: String) -> ScramClient {
        ScramClient {
            password: password.to_string(),
            client_first_bare: format!("n={user},r={client_nonce}"),
            client_nonce,
            expected_server_signature: None,
        }
    }

    /// The client-first message.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// Reads the server-first message and computes the client-final one (with the proof).
    pub fn client_final(&mut self, server_first: &[u8]) -> Result<String, String> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| "the server's SCRAM message is not UTF-8".to_string())?;
        let nonce = attribute(server_first, 'r')?;
        if !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err("the server's SCRAM nonce does not extend ours".into());
        }
        let salt = base64_decode(attribute(server_first, 's')?)
            .ok_or("the server's SCRAM salt is not base64")?;
        let iterations: u32 = attribute(server_first, 'i')?
            .parse()
            .map_err(|_| "the server's SCRAM iteration count is not a number")?;
        if !(1..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!("the server asks for {iterations} SCRAM iterations"));
        }

        let salted = pbkdf2_sha256(self.password.as_bytes(), &salt, iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        let stored_key = sha256(&client_key);
        let without_proof = format!("c={CHANNEL_BINDING},r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let signature = hmac_sha256(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature)
            .map(|(k, s)| k ^ s)
            .collect();

        let server_key = hmac_sha256(&salted, b"Server Key");
        self.expected_server_signature = Some(hmac_sha256(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", base64_encode(&proof)))
    }

    /// Checks the server-final message: a server that does not know the password (or its
    /// stored keys) cannot produce this signature.
    pub fn verify_server_final(&self, server_final: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(server_final)
            .map_err(|_| "the server's final SCRAM message is not UTF-8".to_string())?;
        if let Ok(error) = attribute(text, 'e') {
            return Err(format!("the server ended the SCRAM exchange: {error}"));
        }
        let signature = base64_decode(attribute(text, 'v')?);
        match (&self.expected_server_signature, signature) {
            (Some(expected), Some(got)) if got == expected => Ok(()),
            _ => Err("the server's SCRAM signature is wrong: it does not know the password".into()),
        }
    }
}

/// The value of `name=` in a comma-separated SCRAM message.
fn attribute(message: &str, name: char) -> Result<&str, String> {
    message
        .split(',')
        .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
        .ok_or_else(|| format!("the server's SCRAM message has no '{name}=' attribute"))
}

/// A fresh client nonce: 18 random bytes from the kernel, in base64 (24 characters, none
/// of them a comma). Reading `/dev/urandom` never blocks once the system has booted, so
/// this small read is done inline rather than on the blocking pool.
pub fn random_nonce() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 18];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(base64_encode(&bytes))
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard padded base64; `None` if `text` is not that.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (index, chunk) in text.chunks(4).enumerate() {
        let last = index == text.len() / 4 - 1;
        let padding = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - padding] {
            let value = BASE64.iter().position(|&b| b == c)? as u32;
            n = n << 6 | value;
        }
        n <<= 6 * padding as u32;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7677_example_exchange() {
        let mut scram = ScramClient::new("user", "pencil", "rOprNGfwEbeRWgbNEkqO".into());
        assert_eq!(scram.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            scram.client_final(server_first.as_bytes()).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        let server_final = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
        assert_eq!(scram.verify_server_final(server_final), Ok(()));
        let forged = b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
        assert!(scram.verify_server_final(forged).is_err());
    }

    #[test]
    fn a_server_that_bends_the_rules_is_refused() {
        let mut scram = ScramClient::new("", "pw", "abc".into());
        for bad in [
            "r=xyz123,s=c2FsdA==,i=4096", // a nonce that is not ours
            "r=abc,s=c2FsdA==,i=4096",    // ours, not extended
            "r=abcdef,s=c2FsdA=,i=4096",  // bad base64
            "r=abcdef,s=c2FsdA==,i=0",    // no iterations
            "r=abcdef,s=c2FsdA==,i=99999999999",
            "r=abcdef,s=c2FsdA==", // no count at all
        ] {
            assert!(scram.client_final(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(scram.verify_server_final(b"e=invalid-proof").is_err());
    }

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        for len in 0..20 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64_encode(&bytes);
            assert_eq!(base64_decode(&text), Some(bytes), "{text}");
        }
        assert_eq!(base64_encode(b"n,,"), CHANNEL_BINDING);
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        for bad in ["Zm8", "Zm=8", "Z===", "Zm8=Zm8=", "Zm8!"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
        assert_eq!(random_nonce().unwrap().len(), 24);
    }
}
