//! Channel signatures: `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the body>` under an
//! inbox's secret, on inbound API calls and on outgoing webhooks alike.

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail; an empty key is still a key.
    Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC keys have no length limit"))
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (`sha256=<hex>`) signs `body` under `secret`, compared in constant time.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some(given) = header.strip_prefix("sha256=").and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Whether two secrets are equal, compared in constant time (for a length-independent check, both
/// are hashed first).
pub fn same(given: &[u8], expected: &[u8]) -> bool {
    let mut mac = mac("switchboard-compare");
    mac.update(&Sha256::digest(expected));
    mac.verify_slice(&{
        let mut other = self::mac("switchboard-compare");
        other.update(&Sha256::digest(given));
        other.finalize().into_bytes()
    })
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_its_own_body_and_secret() {
        let signature = sign("secret", b"{\"a\":1}");
        assert!(verify("secret", &signature, b"{\"a\":1}"));
        assert!(!verify("secret", &signature, b"{\"a\":2}"), "another body");
        assert!(!verify("other", &signature, b"{\"a\":1}"), "another secret");
        assert!(!verify("secret", signature.trim_start_matches("sha256="), b"{\"a\":1}"), "no scheme");
        assert!(!verify("secret", "sha256=zz", b"{\"a\":1}"), "not hex");
    }
}
