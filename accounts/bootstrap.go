package accounts

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"kumo/internal/errs"
	"kumo/store"
)

// The environment variables that fix the administrator's first key, for
// setups that must know it in advance (tests, scripts).
const (
	EnvAccessKeyID     = "KUMO_ADMIN_ACCESS_KEY_ID"
	EnvSecretAccessKey = "KUMO_ADMIN_SECRET_ACCESS_KEY"
)

// AdminName is the name of the administrator's account.
const AdminName = "admin"

// Admin says what Bootstrap found or made.
type Admin struct {
	// Account is the administrator's account; zero if accounts were made
	// before any bootstrap and none is an administrator.
	Account Account
	// Created is true on the first start only: this call made the account
	// and AccessKeyID and SecretAccessKey hold its key.
	Created         bool
	AccessKeyID     string
	SecretAccessKey string
	// Generated is true when Created and the key is random rather than
	// taken from the environment: the caller must show it, this once.
	Generated bool
	// EnvIgnored is true on a later start whose environment names a key
	// that is not an active key of the administrator, or with another
	// secret: the environment only applies to the first start, and the
	// caller should say so.
	EnvIgnored bool
}

// Bootstrap makes the administrator's account and its first key when there
// is no account yet, and only then: a later start finds the account and
// never makes or reveals a key. env reads the environment (os.Getenv); when
// both EnvAccessKeyID and EnvSecretAccessKey are set they give the key,
// else it is random.
func (s *Service) Bootstrap(ctx context.Context, env func(string) string) (Admin, error) {
	id, secret := env(EnvAccessKeyID), env(EnvSecretAccessKey)
	fromEnv := id != "" || secret != ""
	if fromEnv {
		if err := checkConfiguredKey(id, secret); err != nil {
			return Admin{}, err
		}
	} else {
		id, secret = newAccessKeyID(), newSecret()
	}
	now := s.clk.Now()
	a := store.Account{ID: newAccountID(), Name: AdminName, Admin: true, CreatedAt: now}
	k := store.AccessKey{ID: id, AccountID: a.ID, SecretCiphertext: s.seal.seal(id, secret), Status: store.KeyActive, CreatedAt: now}
	created, err := s.store.CreateFirstAccount(ctx, a, k)
	if err != nil {
		return Admin{}, fmt.Errorf("bootstrap: %w", err)
	}
	if created {
		return Admin{Account: Account(a), Created: true, AccessKeyID: id, SecretAccessKey: secret, Generated: !fromEnv}, nil
	}

	all, err := s.List(ctx)
	if err != nil {
		return Admin{}, fmt.Errorf("bootstrap: %w", err)
	}
	var out Admin
	for _, acc := range all {
		if acc.Admin {
			out.Account = acc
			break
		}
	}
	if fromEnv {
		stored, owner, err := s.Lookup(ctx, id)
		switch {
		case errors.Is(err, ErrKeyNotFound), errors.Is(err, ErrKeyInactive):
			out.EnvIgnored = true
		case err != nil:
			return Admin{}, fmt.Errorf("bootstrap: %w", err)
		default:
			out.EnvIgnored = owner != out.Account.ID || subtle.ConstantTimeCompare([]byte(stored), []byte(secret)) != 1
		}
	}
	return out, nil
}

// checkConfiguredKey checks the shape of a key given in the environment.
// Its messages never quote the secret.
func checkConfiguredKey(id, secret string) error {
	if id == "" || secret == "" {
		return errs.New(ErrInvalidKey, "set both %s and %s, or neither for a random key", EnvAccessKeyID, EnvSecretAccessKey)
	}
	if len(id) < 16 || len(id) > 128 {
		return errs.New(ErrInvalidKey, "%s must be 16 to 128 characters long; it has %d", EnvAccessKeyID, len(id))
	}
	for _, c := range id {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return errs.New(ErrInvalidKey, "%s may hold only upper-case letters A-Z and digits; it has %q", EnvAccessKeyID, c)
		}
	}
	// The secret goes into clients' configuration files and environment
	// as it is, so it must survive being written there.
	if len(secret) < 16 || len(secret) > 128 {
		return errs.New(ErrInvalidKey, "%s must be 16 to 128 characters long; it has %d", EnvSecretAccessKey, len(secret))
	}
	for _, c := range secret {
		if c <= ' ' || c > '~' {
			return errs.New(ErrInvalidKey, "%s may hold only printable ASCII characters without spaces", EnvSecretAccessKey)
		}
	}
	return nil
}
