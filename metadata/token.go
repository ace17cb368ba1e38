package metadata

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"time"
)

// tokens issues and checks IMDSv2 session tokens. A token carries its
// expiry and a MAC over the expiry and the address it was issued to, so
// it needs no table and is worthless from any other instance.
type tokens struct {
	key []byte
}

func newTokens() tokens {
	key := make([]byte, 32)
	rand.Read(key)
	return tokens{key: key}
}

// Token TTL bounds, as IMDSv2 sets them.
const (
	minTokenTTL = time.Second
	maxTokenTTL = 6 * time.Hour
)

func (t tokens) issue(ip netip.Addr, expires time.Time) string {
	buf := binary.BigEndian.AppendUint64(nil, uint64(expires.Unix()))
	buf = append(buf, t.mac(ip, buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// valid reports whether token was issued to ip and has not expired.
func (t tokens) valid(token string, ip netip.Addr, now time.Time) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 8+sha256.Size {
		return false
	}
	expiry, sum := raw[:8], raw[8:]
	if !hmac.Equal(sum, t.mac(ip, expiry)) {
		return false
	}
	return now.Unix() < int64(binary.BigEndian.Uint64(expiry))
}

func (t tokens) mac(ip netip.Addr, expiry []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(expiry)
	a := ip.As16()
	m.Write(a[:])
	return m.Sum(nil)
}
