package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	"kumo/internal/errs"
	"kumo/store"
)

// CreateAccessKey makes an active key for an account. The secret in the
// result is the only copy that will ever be shown.
func (s *Service) CreateAccessKey(ctx context.Context, accountID string) (NewAccessKey, error) {
	return s.addKey(ctx, accountID, newAccessKeyID(), newSecret())
}

func (s *Service) addKey(ctx context.Context, accountID, id, secret string) (NewAccessKey, error) {
	k := store.AccessKey{ID: id, AccountID: accountID, SecretCiphertext: s.seal.seal(id, secret),
		Status: store.KeyActive, CreatedAt: s.clk.Now()}
	err := s.store.InsertAccessKey(ctx, k)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return NewAccessKey{}, errs.New(ErrAccountNotFound, "account %s does not exist", accountID)
	case err != nil:
		return NewAccessKey{}, fmt.Errorf("create access key for %s: %w", accountID, err)
	}
	return NewAccessKey{AccessKey: accessKeyOf(k), Secret: secret}, nil
}

// AccessKeys lists an account's keys, without secrets, oldest first.
func (s *Service) AccessKeys(ctx context.Context, accountID string) ([]AccessKey, error) {
	if _, err := s.Get(ctx, accountID); err != nil {
		return nil, err
	}
	rows, err := s.store.AccessKeys(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]AccessKey, len(rows))
	for i, k := range rows {
		out[i] = accessKeyOf(k)
	}
	return out, nil
}

// SetAccessKeyActive enables or disables a key. A disabled key stops
// verifying at once.
func (s *Service) SetAccessKeyActive(ctx context.Context, id string, active bool) error {
	status := store.KeyInactive
	if active {
		status = store.KeyActive
	}
	err := s.store.SetAccessKeyStatus(ctx, id, status)
	if errors.Is(err, store.ErrNotFound) {
		return errs.New(ErrKeyNotFound, "access key %s does not exist", id)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.secrets, id)
	s.gen++
	s.mu.Unlock()
	return nil
}

// Lookup returns the secret of an active access key and its account's id,
// for verifying request signatures. ErrKeyNotFound or ErrKeyInactive when
// the key may not sign.
func (s *Service) Lookup(ctx context.Context, accessKeyID string) (secret, accountID string, err error) {
	s.mu.Lock()
	c, ok := s.secrets[accessKeyID]
	gen := s.gen
	s.mu.Unlock()
	if ok {
		return c.secret, c.account, nil
	}
	k, err := s.store.AccessKey(ctx, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", errs.New(ErrKeyNotFound, "access key %s does not exist", accessKeyID)
	}
	if err != nil {
		return "", "", fmt.Errorf("look up access key %s: %w", accessKeyID, err)
	}
	if k.Status != store.KeyActive {
		return "", "", errs.New(ErrKeyInactive, "access key %s is inactive", accessKeyID)
	}
	secret, err = s.seal.open(k.ID, k.SecretCiphertext)
	if err != nil {
		return "", "", errs.New(ErrMasterKey, "the secret of access key %s does not decrypt with %s: %v", k.ID, s.seal.path, err)
	}
	s.mu.Lock()
	if s.gen == gen {
		s.secrets[k.ID] = cachedKey{secret: secret, account: k.AccountID}
	}
	s.mu.Unlock()
	return secret, k.AccountID, nil
}

func accessKeyOf(k store.AccessKey) AccessKey {
	return AccessKey{ID: k.ID, AccountID: k.AccountID, Active: k.Status == store.KeyActive, CreatedAt: k.CreatedAt}
}

// newAccessKeyID is "AKIA" and 16 characters of the base32 alphabet (A-Z,
// 2-7), the shape of an AWS long-term key id: 80 random bits.
func newAccessKeyID() string {
	var b [10]byte
	rand.Read(b[:])
	return "AKIA" + base32.StdEncoding.EncodeToString(b[:])
}

// newSecret is 40 characters of base64, like an AWS secret: 240 random bits.
func newSecret() string {
	var b [30]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

var accountIDs = big.NewInt(1_000_000_000_000)

// newAccountID is 12 random decimal digits.
func newAccountID() string {
	n, err := rand.Int(rand.Reader, accountIDs)
	if err != nil {
		panic("accounts: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%012d", n)
}
