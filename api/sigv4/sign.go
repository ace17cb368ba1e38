package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// signature computes what the signer should have sent: HMAC-SHA256 of the
// string to sign under a key derived from the secret through the scope.
func signature(secret string, c *claim, canonical string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + c.amzDate + "\n" + c.scope + "\n" + hex.EncodeToString(sum[:])
	k := mac([]byte("AWS4"+secret), c.amzDate[:8])
	k = mac(k, c.region)
	k = mac(k, c.service)
	k = mac(k, terminator)
	return mac(k, toSign)
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
