package keypairs

import (
	"crypto/ed25519"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Public keys made with ssh-keygen, and their fingerprints as openssl and
// ssh-keygen compute them by the recipes EC2 documents:
//
//	ssh-keygen -e -m PKCS8 -f rsa2048.pub | openssl pkey -pubin -pubout -outform DER | openssl md5 -c
//	ssh-keygen -l -f ed25519.pub
const (
	rsa2048Pub = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCSM3hEX5aDM+0YkBjWDDj7ub8UKttjgTIW4vPtYMf18JFE61qVetzxFP4x/IWpVJ0SRMUaZylRBSrMIP3OtLAAhmBi7lhulRrvVkI1gYS+GgVJCj+nZ5fQeVBb2vMplRD6v9O3zHrPFnSmyz8pJSATGnVWAol77t+SVvE3kXOxi9BuianFTXwmnxjPJFXjVbqZrKjN2OWDqUdXRXCs218X2Di+4baesWVv3edrNUixRujPhi+D8gnQs9cRH0R0oLV74/fyHygWtvRPewmMqIFQ7V1tApYoSN9ws3hH35u98kwbjced/BNrpGPKJOOBRaC/Im1QUiSeEwKaJHbEucBP"
	rsa2048FP  = "f3:56:3b:aa:9d:38:e7:f4:72:7f:49:b7:b9:27:1a:3b"
	ed25519Pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2qYLc864CAYe3pgsVs/DeiasMOxrifakA/Wr1qucUY"
	ed25519FP  = "8STYqqOCrqkABfS6JwhdsXEnAPdlSqlP3OPANeBanXQ="
	rsa1024Pub = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCrAxrmIcM0sIqKqRc4zFKZTvloX8ozXszEjtOqJEc0MmMxU3iglMTzzUoJBh6q8KSDPhZjPflvUnufyxprppDhtRlmufKuSqX63Tp/+zTvCqOB9Qsl2uaTfgm/IW262meq+lko+hi3Kblso4Ixe8np2jAu2p2UdgrhSlpcQhXjpQ=="
	ecdsaPub   = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPzyWlTxSlJq5UqEwSmvgIgICZ82LLt/2LFYSKu98Erd1UegeYKOlKEHkNOKJpPax3KfTDUnOp+UGymXMthKFX4="
)

func TestParsePublic(t *testing.T) {
	cases := []struct {
		name, in     string
		typ, fp, key string
		err          error
	}{
		{"rsa with a comment", rsa2048Pub + " alice@laptop\n", RSA, rsa2048FP, rsa2048Pub, nil},
		{"rsa bare", rsa2048Pub, RSA, rsa2048FP, rsa2048Pub, nil},
		{"ed25519", ed25519Pub + " vector", ED25519, ed25519FP, ed25519Pub, nil},
		{"ed25519 after blank and comment lines", "\n# mine\n" + ed25519Pub + "\n", ED25519, ed25519FP, ed25519Pub, nil},
		{"garbage", "not a key at all", "", "", "", ErrFormat},
		{"empty", "", "", "", "", ErrFormat},
		{"truncated", rsa2048Pub[:100], "", "", "", ErrFormat},
		{"1024-bit rsa", rsa1024Pub, "", "", "", ErrFormat},
		{"ecdsa", ecdsaPub, "", "", "", ErrFormat},
		{"with options", `command="/bin/true" ` + ed25519Pub, "", "", "", ErrFormat},
		{"two keys", ed25519Pub + "\n" + rsa2048Pub + "\n", "", "", "", ErrFormat},
	}
	for _, c := range cases {
		m, err := parsePublic([]byte(c.in))
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
			continue
		}
		if c.err == nil && (m.keyType != c.typ || m.fingerprint != c.fp || m.publicKey != c.key) {
			t.Errorf("%s: %+v, want %s %s %s", c.name, m, c.typ, c.fp, c.key)
		}
	}
}

// TestGenerate checks that the private key handed out parses in the format
// EC2 uses, belongs to the public key kept, and that the fingerprint is
// EC2's recipe applied to it.
func TestGenerate(t *testing.T) {
	cases := []struct {
		typ, pemType string
		// parse reads the private key and returns its public key and the
		// fingerprint EC2 shows for it.
		parse func(private []byte) (ssh.PublicKey, string, error)
	}{
		{RSA, "RSA PRIVATE KEY", func(private []byte) (ssh.PublicKey, string, error) {
			block, _ := pem.Decode(private)
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, "", err
			}
			if key.N.BitLen() != 2048 {
				return nil, "", fmt.Errorf("%d bits", key.N.BitLen())
			}
			pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				return nil, "", err
			}
			sum := sha1.Sum(pkcs8)
			pub, err := ssh.NewPublicKey(&key.PublicKey)
			return pub, colonHex(sum[:]), err
		}},
		{ED25519, "OPENSSH PRIVATE KEY", func(private []byte) (ssh.PublicKey, string, error) {
			raw, err := ssh.ParseRawPrivateKey(private)
			if err != nil {
				return nil, "", err
			}
			key, ok := raw.(*ed25519.PrivateKey)
			if !ok {
				return nil, "", fmt.Errorf("an ed25519 private key is a %T", raw)
			}
			pub, err := ssh.NewPublicKey(key.Public())
			if err != nil {
				return nil, "", err
			}
			return pub, strings.TrimPrefix(ssh.FingerprintSHA256(pub), "SHA256:") + "=", nil
		}},
	}
	for _, c := range cases {
		m, private, err := generate(c.typ)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		block, rest := pem.Decode([]byte(private))
		if block == nil || block.Type != c.pemType || len(strings.TrimSpace(string(rest))) > 0 {
			t.Fatalf("%s: private key %q", c.typ, private)
		}
		pub, fp, err := c.parse([]byte(private))
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if m.keyType != c.typ || m.publicKey != authorizedKey(pub) || m.fingerprint != fp {
			t.Errorf("%s: kept %+v; the private key gives %s, fingerprint %s", c.typ, m, authorizedKey(pub), fp)
		}
	}
}
