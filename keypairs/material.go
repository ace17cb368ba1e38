package keypairs

import (
	"bytes"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"kumo/internal/errs"
)

// RSA keys made here have EC2's size; imported ones may be larger, up to
// the largest OpenSSH accepts, but not smaller: 1024 bits no longer hold.
const (
	rsaBits        = 2048
	minImportedRSA = 2048
	maxImportedRSA = 16384
)

// material is what is kept of a key: its type, fingerprint and public key
// in authorized_keys form.
type material struct {
	keyType     string
	fingerprint string
	publicKey   string
}

// generate makes a key of keyType and returns it with its private key in
// the PEM EC2 hands out: PKCS#1 ("RSA PRIVATE KEY") for rsa, OpenSSH's own
// format for ed25519, which has no PKCS#1 form.
func generate(keyType string) (material, string, error) {
	switch keyType {
	case RSA:
		key, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return material{}, "", fmt.Errorf("make an RSA key: %w", err)
		}
		pub, err := ssh.NewPublicKey(&key.PublicKey)
		if err != nil {
			return material{}, "", err
		}
		fp, err := createdRSAFingerprint(key)
		if err != nil {
			return material{}, "", err
		}
		private := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		return material{keyType: RSA, fingerprint: fp, publicKey: authorizedKey(pub)}, string(private), nil
	case ED25519:
		pubKey, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return material{}, "", fmt.Errorf("make an ed25519 key: %w", err)
		}
		pub, err := ssh.NewPublicKey(pubKey)
		if err != nil {
			return material{}, "", err
		}
		block, err := ssh.MarshalPrivateKey(key, "")
		if err != nil {
			return material{}, "", err
		}
		return material{keyType: ED25519, fingerprint: ed25519Fingerprint(pub), publicKey: authorizedKey(pub)},
			string(pem.EncodeToMemory(block)), nil
	}
	return material{}, "", fmt.Errorf("keypairs: no way to make a key of type %q", keyType)
}

// parsePublic reads one public key in authorized_keys form. The comment is
// dropped (the key pair's name takes its place); options such as command=
// are refused, since guests are given the bare key.
func parsePublic(b []byte) (material, error) {
	pub, _, options, rest, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return material{}, errs.New(ErrFormat, "Key is not in valid OpenSSH public key format")
	}
	if len(options) > 0 {
		return material{}, errs.New(ErrFormat, "Key is not in valid OpenSSH public key format: options such as %s are not accepted", options[0])
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return material{}, errs.New(ErrFormat, "Key is not in valid OpenSSH public key format: give one key only")
	}
	switch pub.Type() {
	case ssh.KeyAlgoRSA:
		key, ok := pub.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return material{}, errs.New(ErrFormat, "Key is not in valid OpenSSH public key format")
		}
		if bits := key.N.BitLen(); bits < minImportedRSA || bits > maxImportedRSA {
			return material{}, errs.New(ErrFormat, "RSA keys must have %d to %d bits; this one has %d", minImportedRSA, maxImportedRSA, bits)
		}
		fp, err := importedRSAFingerprint(key)
		if err != nil {
			return material{}, err
		}
		return material{keyType: RSA, fingerprint: fp, publicKey: authorizedKey(pub)}, nil
	case ssh.KeyAlgoED25519:
		return material{keyType: ED25519, fingerprint: ed25519Fingerprint(pub), publicKey: authorizedKey(pub)}, nil
	}
	return material{}, errs.New(ErrFormat, "Key type %s is not supported: import an ssh-rsa or ssh-ed25519 key", pub.Type())
}

func authorizedKey(pub ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

// EC2 fingerprints a key by how it came to be, so that its owner can check
// it with openssl against the file they hold: a key EC2 made by the SHA-1 of
// its private key in PKCS#8 DER (openssl pkcs8 -topk8 -outform DER | openssl
// sha1 -c); an imported RSA key by the MD5 of its public key in DER
// (openssl pkey -pubout -outform DER | openssl md5 -c), which is not the MD5
// ssh-keygen shows; an ed25519 key, made or imported, by the SHA-256 of its
// SSH encoding in padded base64, what ssh-keygen -l shows after "SHA256:".

func createdRSAFingerprint(key *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum(der)
	return colonHex(sum[:]), nil
}

func importedRSAFingerprint(key *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", err
	}
	sum := md5.Sum(der)
	return colonHex(sum[:]), nil
}

func ed25519Fingerprint(pub ssh.PublicKey) string {
	sum := sha256.Sum256(pub.Marshal())
	return base64.StdEncoding.EncodeToString(sum[:])
}

func colonHex(b []byte) string {
	h := hex.EncodeToString(b)
	parts := make([]string, 0, len(b))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
