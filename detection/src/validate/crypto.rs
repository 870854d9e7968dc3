//! Cryptocurrency addresses: Bitcoin (Base58Check and Bech32/Bech32m) and Ethereum (EIP-55).

use sha2::{Digest, Sha256};
use sha3::Keccak256;

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_decode(text: &str) -> Option<Vec<u8>> {
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for character in text.bytes() {
        let mut carry = BASE58.iter().position(|&symbol| symbol == character)? as u32;
        for byte in bytes.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let leading_zeros = text.bytes().take_while(|&character| character == b'1').count();
    let mut decoded = vec![0; leading_zeros];
    decoded.extend(bytes);
    Some(decoded)
}

/// A legacy (P2PKH, `1…`) or script (P2SH, `3…`) address with a correct Base58Check checksum.
fn base58check_valid(text: &str) -> bool {
    if !(26..=35).contains(&text.len()) || !(text.starts_with('1') || text.starts_with('3')) {
        return false;
    }
    let Some(decoded) = base58_decode(text) else {
        return false;
    };
    if decoded.len() != 25 || !matches!(decoded[0], 0x00 | 0x05) {
        return false;
    }
    let (payload, checksum) = decoded.split_at(21);
    let digest = Sha256::digest(Sha256::digest(payload));
    digest[..4] == *checksum
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: &[u8]) -> u32 {
    const GENERATOR: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut checksum: u32 = 1;
    for &value in values {
        let top = checksum >> 25;
        checksum = ((checksum & 0x01ff_ffff) << 5) ^ u32::from(value);
        for (index, generator) in GENERATOR.iter().enumerate() {
            if (top >> index) & 1 == 1 {
                checksum ^= generator;
            }
        }
    }
    checksum
}

/// A segwit address (`bc1…`) whose Bech32 (v0) or Bech32m (v1+) checksum is right.
fn bech32_valid(text: &str) -> bool {
    if !(14..=90).contains(&text.len()) {
        return false;
    }
    let has_upper = text.bytes().any(|byte| byte.is_ascii_uppercase());
    let has_lower = text.bytes().any(|byte| byte.is_ascii_lowercase());
    if has_upper && has_lower {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    let Some((hrp, data)) = lower.rsplit_once('1') else {
        return false;
    };
    if hrp != "bc" || data.len() < 7 {
        return false;
    }
    let mut values: Vec<u8> = hrp.bytes().map(|byte| byte >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|byte| byte & 31));
    let mut data_values = Vec::with_capacity(data.len());
    for byte in data.bytes() {
        let Some(value) = BECH32_CHARSET.iter().position(|&symbol| symbol == byte) else {
            return false;
        };
        data_values.push(value as u8);
    }
    values.extend(&data_values);
    let constant = match data_values[0] {
        0 => 1,
        1..=16 => 0x2bc8_30a3,
        _ => return false,
    };
    bech32_polymod(&values) == constant
}

/// Any Bitcoin address form.
pub fn bitcoin_valid(text: &str) -> bool {
    base58check_valid(text) || bech32_valid(text)
}

/// `0x` and 40 hex digits; mixed case must follow the EIP-55 checksum.
pub fn ethereum_valid(text: &str) -> bool {
    let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) else {
        return false;
    };
    if hex.len() != 40 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return false;
    }
    let all_lower = !hex.bytes().any(|byte| byte.is_ascii_uppercase());
    let all_upper = !hex.bytes().any(|byte| byte.is_ascii_lowercase());
    if all_lower || all_upper {
        return true;
    }
    let hash = Keccak256::digest(hex.to_ascii_lowercase().as_bytes());
    hex.bytes().enumerate().all(|(index, byte)| {
        if !byte.is_ascii_alphabetic() {
            return true;
        }
        let nibble = (hash[index / 2] >> if index % 2 == 0 { 4 } else { 0 }) & 0x0f;
        byte.is_ascii_uppercase() == (nibble >= 8)
    })
}

/// Either currency.
pub fn crypto_address_valid(text: &str) -> bool {
    bitcoin_valid(text) || ethereum_valid(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitcoin_addresses() {
        // The genesis block's address, a BIP-13 P2SH example, and BIP-173/BIP-350 vectors.
        for valid in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        ] {
            assert!(bitcoin_valid(valid), "{valid}");
        }
        for invalid in [
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            "bc1Qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
            "1O0000000000000000000000000",
        ] {
            assert!(!bitcoin_valid(invalid), "{invalid}");
        }
    }

    #[test]
    fn ethereum_checksums() {
        // EIP-55's own test vectors.
        for valid in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ] {
            assert!(ethereum_valid(valid), "{valid}");
        }
        assert!(!ethereum_valid("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
        assert!(!ethereum_valid("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA"));
        assert!(!ethereum_valid("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
    }
}
