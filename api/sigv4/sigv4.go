// Package sigv4 verifies AWS Signature Version 4 on requests a server
// receives, in both forms clients send: the Authorization header, and the
// presigned query string (X-Amz-Algorithm, X-Amz-Credential, ...). It
// answers who signed, as an Identity, or an *Error carrying the EC2 error
// code to send back.
//
// It owns the canonical request, the signing-time window and the
// constant-time comparison of signatures. It must not know where secrets
// live (a SecretLookup supplies them), which services and regions a server
// answers for (the caller checks the Identity's scope), nor how errors are
// rendered on the wire.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	// MaxSkew is how far the signing time may be from the server's clock,
	// either way. A signed request can be replayed within it.
	MaxSkew = 15 * time.Minute
	// MaxPresignExpiry is the longest X-Amz-Expires a presigned request may
	// ask for.
	MaxPresignExpiry = 7 * 24 * time.Hour
	// UnsignedPayload in X-Amz-Content-Sha256 leaves the body out of the
	// signature; only presigned requests and VerifyStreamed's may use it.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
)

// Identity is who signed a request that verified.
type Identity struct {
	AccessKeyID string
	// Account is what the SecretLookup gave for the key, unread here.
	Account     string
	Region      string
	Service     string
	SigningTime time.Time
	// Signature (hex) with AccessKeyID identifies this very request, for a
	// cache that refuses replays within MaxSkew.
	Signature string
}

// SecretLookup gives the secret access key of an access key id and the
// account it belongs to. For a key it does not know, or one that may not
// sign, it returns an error wrapping ErrUnknownKey.
type SecretLookup interface {
	Lookup(ctx context.Context, accessKeyID string) (secret, account string, err error)
}

// LookupFunc adapts a function to SecretLookup, typically one that turns
// its store's not-found errors into ErrUnknownKey.
type LookupFunc func(ctx context.Context, accessKeyID string) (secret, account string, err error)

func (f LookupFunc) Lookup(ctx context.Context, accessKeyID string) (string, string, error) {
	return f(ctx, accessKeyID)
}

// Verify checks the signature of r, a request as a server received it
// (Host in r.Host), whose body the caller has already read, with a size cap,
// into body. now is the server's time. A failure to verify is an *Error; a
// failure of secrets to look is returned wrapped, as an internal error.
func Verify(r *http.Request, body []byte, now time.Time, secrets SecretLookup) (Identity, error) {
	return verify(r, now, secrets, func(c *claim) (string, *Error) { return payloadHash(r, body, c.presigned) })
}

// VerifyStreamed checks the signature of a request whose body the caller
// streams unread, an upload of gigabytes: as S3 allows, it must carry
// X-Amz-Content-Sha256: UNSIGNED-PAYLOAD, so the signature covers the
// method, path, query and headers but not the bytes.
func VerifyStreamed(r *http.Request, now time.Time, secrets SecretLookup) (Identity, error) {
	return verify(r, now, secrets, func(*claim) (string, *Error) {
		if r.Header.Get("X-Amz-Content-Sha256") != UnsignedPayload {
			return "", incomplete("An upload must be signed with X-Amz-Content-Sha256: %s.", UnsignedPayload)
		}
		return UnsignedPayload, nil
	})
}

func verify(r *http.Request, now time.Time, secrets SecretLookup, hashOf func(*claim) (string, *Error)) (Identity, error) {
	query, e := parseQuery(r.URL.RawQuery)
	if e != nil {
		return Identity{}, e
	}
	c, e := parseClaim(r, query)
	if e != nil {
		return Identity{}, e
	}
	if e := c.checkTime(now); e != nil {
		return Identity{}, e
	}
	secret, account, err := secrets.Lookup(r.Context(), c.accessKeyID)
	if errors.Is(err, ErrUnknownKey) {
		return Identity{}, errUnknownKey
	}
	if err != nil {
		return Identity{}, fmt.Errorf("look up access key %s: %w", c.accessKeyID, err)
	}
	hash, e := hashOf(c)
	if e != nil {
		return Identity{}, e
	}
	if !hmac.Equal(signature(secret, c, canonicalRequest(r, query, c, hash)), c.signature) {
		return Identity{}, errMismatch
	}
	return Identity{
		AccessKeyID: c.accessKeyID,
		Account:     account,
		Region:      c.region,
		Service:     c.service,
		SigningTime: c.signingTime,
		Signature:   hex.EncodeToString(c.signature),
	}, nil
}

// checkTime refuses a signing time more than MaxSkew ahead of now, and one
// that is past: more than MaxSkew ago, or for a presigned request that gave
// X-Amz-Expires, past that expiry.
func (c *claim) checkTime(now time.Time) *Error {
	if now.Before(c.signingTime.Add(-MaxSkew)) {
		return expired("The request was signed at %s, more than %v after the server's time %s.",
			c.amzDate, MaxSkew, now.UTC().Format(timeLayout))
	}
	if c.expires > 0 {
		if end := c.signingTime.Add(c.expires); now.After(end) {
			return expired("The presigned request expired at %s; the server's time is %s.",
				end.UTC().Format(timeLayout), now.UTC().Format(timeLayout))
		}
		return nil
	}
	if now.After(c.signingTime.Add(MaxSkew)) {
		return expired("The request was signed at %s, more than %v before the server's time %s.",
			c.amzDate, MaxSkew, now.UTC().Format(timeLayout))
	}
	return nil
}

// payloadHash is the hash the signer put in the canonical request: the
// X-Amz-Content-Sha256 header when sent, which must then match the body,
// else the body's own.
func payloadHash(r *http.Request, body []byte, presigned bool) (string, *Error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	claimed := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case claimed == "":
		return computed, nil
	case claimed == UnsignedPayload:
		if !presigned {
			return "", incomplete("%s is accepted only in presigned requests.", UnsignedPayload)
		}
		return claimed, nil
	case strings.EqualFold(claimed, computed):
		return claimed, nil
	}
	if b, err := hex.DecodeString(claimed); err != nil || len(b) != sha256.Size {
		return "", incomplete("X-Amz-Content-Sha256 must be the hex SHA-256 of the body or %s.", UnsignedPayload)
	}
	return "", errPayloadMismatch
}
