//! MD5 (RFC 1321), written out so that the example needs nothing beyond asincrono and std,
//! and the answer PostgreSQL's `md5` login method expects.
//!
//! MD5 is broken as a cryptographic hash (collisions are cheap to find), and PostgreSQL
//! deprecates the `md5` method for that reason; it is here because many servers still
//! use it, and because it is short enough to read. A real client takes it from a
//! reviewed crate (`md-5`), and prefers SCRAM (`scram.rs`) whenever the server offers it.

/// How far each step rotates, four values per round, repeated.
const SHIFTS: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// The 64 additive constants, `floor(|sin(i + 1)| * 2^32)`: numbers with nothing up the
/// designer's sleeve. Computed rather than typed in; the RFC's test vectors check them.
fn sines() -> [u32; 64] {
    std::array::from_fn(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
}

/// The 16-byte MD5 digest of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    let constants = sines();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in padded(data, false).chunks_exact(64) {
        compress(&mut state, block, &constants);
    }
    let mut digest = [0; 16];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_le_bytes());
    }
    digest
}

/// The digest as 32 lowercase hex digits, the form PostgreSQL works with.
pub fn md5_hex(data: &[u8]) -> String {
    md5(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// What the client answers to `AuthenticationMD5Password`: `"md5"` followed by
/// `md5_hex(md5_hex(password + user) + salt)`. The inner hash is what the server stores,
/// so the server can check the answer without knowing the password; the salt makes each
/// answer good for one login only.
pub fn postgres_md5_answer(user: &str, password: &str, salt: [u8; 4]) -> String {
    let stored = md5_hex(format!("{password}{user}").as_bytes());
    let mut salted = stored.into_bytes();
    salted.extend_from_slice(&salt);
    format!("md5{}", md5_hex(&salted))
}

/// `data`, a 1 bit, zeros, and the bit length, to a multiple of 64 bytes. MD5 stores the
/// length little-endian, SHA-256 big-endian: the one difference in their padding.
pub fn padded(data: &[u8], big_endian: bool) -> Vec<u8> {
    let bits = (data.len() as u64).wrapping_mul(8);
    let mut out = data.to_vec();
    out.push(0x80);
    while out.len() % 64 != 56 {
        out.push(0);
    }
    out.extend_from_slice(&if big_endian {
        bits.to_be_bytes()
    } else {
        bits.to_le_bytes()
    });
    out
}

fn compress(state: &mut [u32; 4], block: &[u8], constants: &[u32; 64]) {
    let words: [u32; 16] = std::array::from_fn(|i| {
        u32::from_le_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    });
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let round = i / 16;
        // Each round mixes b, c and d with its own function and reads the words in its
        // own order.
        let (mix, word) = match round {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let sum = a
            .wrapping_add(mix)
            .wrapping_add(constants[i])
            .wrapping_add(words[word]);
        let rotated = b.wrapping_add(sum.rotate_left(SHIFTS[round][i % 4]));
        (a, b, c, d) = (d, rotated, b, c);
    }
    for (word, add) in state.iter_mut().zip([a, b, c, d]) {
        *word = word.wrapping_add(add);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_1321_test_suite() {
        let cases = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, digest) in cases {
            assert_eq!(md5_hex(input.as_bytes()), digest, "md5({input:?})");
        }
    }

    #[test]
    fn the_postgres_answer_hashes_twice_with_the_salt() {
        // Checked against PostgreSQL: `SELECT 'md5' || md5(md5('secret' || 'ann') || 'abcd')`.
        assert_eq!(
            postgres_md5_answer("ann", "secret", *b"abcd"),
            "md5b74835331d7e1d325026d95f00dd69c5"
        );
    }
}
