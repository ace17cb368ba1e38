// Package accounts owns kumo's accounts (a 12-digit id like an AWS account
// id, a name, when it was made, and whether it is the administrator) and
// their access keys (an id "AKIA" + 16 characters, and a 40-character secret
// from crypto/rand), and keeps the secrets safe at rest.
//
// Signature Version 4 needs each plaintext secret to compute an HMAC, so a
// secret cannot be stored hashed. It is stored encrypted with AES-256-GCM
// under a master key that lives in a file of the data dir (master.key, mode
// 0600, made on first use), never in the database: a copy of the database
// alone reveals no secret. A secret is shown in the clear once, when its key
// is made, and is otherwise only handed to the request verifier.
//
// It must not know HTTP or the API: the API layer authenticates requests
// with Lookup and maps this package's errors to codes.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/store"
)

// Error kinds of this package, for the API's error table and for callers.
var (
	ErrAccountNotFound = errors.New("account not found")
	ErrDuplicateName   = errors.New("duplicate account name")
	ErrKeyNotFound     = errors.New("access key not found")
	ErrKeyInactive     = errors.New("access key inactive")
	// ErrInvalidKey is a configured access key (the bootstrap environment)
	// of the wrong shape.
	ErrInvalidKey = errors.New("invalid access key")
	// ErrMasterKey is a master key that is missing, malformed, too open, or
	// not the one the stored secrets were sealed with.
	ErrMasterKey = errors.New("master key unusable")
)

// Account is an account as callers see it.
type Account struct {
	ID        string
	Name      string
	Admin     bool
	CreatedAt time.Time
}

// AccessKey is an access key without its secret.
type AccessKey struct {
	ID        string
	AccountID string
	Active    bool
	CreatedAt time.Time
}

// NewAccessKey is a key just made, with the only copy of its secret that
// will ever be shown.
type NewAccessKey struct {
	AccessKey
	Secret string
}

// Service manages accounts and keys over the store.
type Service struct {
	store *store.Store
	seal  *sealer
	clk   clock.Clock

	mu sync.Mutex
	// secrets caches decrypted secrets of active keys, so that verifying a
	// request costs no database read and no decryption.
	secrets map[string]cachedKey
	// gen counts invalidations: a lookup that read the database before one
	// must not cache what it read.
	gen uint64
}

type cachedKey struct{ secret, account string }

// Open loads the master key from dataDir, making it if the database holds
// no secret yet, and checks that it opens the secrets stored. A nil clk is
// the wall clock.
func Open(ctx context.Context, st *store.Store, dataDir string, clk clock.Clock) (*Service, error) {
	if clk == nil {
		clk = clock.Real{}
	}
	first, err := st.FirstAccessKey(ctx)
	stored := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("open accounts: %w", err)
	}
	seal, err := openSealer(dataDir, stored)
	if err != nil {
		return nil, err
	}
	if stored {
		if _, err := seal.open(first.ID, first.SecretCiphertext); err != nil {
			return nil, errs.New(ErrMasterKey, "the master key %s does not decrypt the stored access keys (%v); "+
				"it must be the key this database's secrets were sealed with", seal.path, err)
		}
	}
	return &Service{store: st, seal: seal, clk: clk, secrets: map[string]cachedKey{}}, nil
}

// CreateAccount makes an account that is not an administrator.
func (s *Service) CreateAccount(ctx context.Context, name string) (Account, error) {
	if err := checkName(name); err != nil {
		return Account{}, err
	}
	a := store.Account{ID: newAccountID(), Name: name, CreatedAt: s.clk.Now()}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return Account{}, errs.New(ErrDuplicateName, "an account named %q already exists", name)
		}
		return Account{}, fmt.Errorf("create account %q: %w", name, err)
	}
	return Account(a), nil
}

// Get returns the account with id.
func (s *Service) Get(ctx context.Context, id string) (Account, error) {
	a, err := s.store.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, errs.New(ErrAccountNotFound, "account %s does not exist", id)
	}
	if err != nil {
		return Account{}, fmt.Errorf("get account %s: %w", id, err)
	}
	return Account(a), nil
}

// List returns every account, oldest first.
func (s *Service) List(ctx context.Context) ([]Account, error) {
	rows, err := s.store.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Account, len(rows))
	for i, a := range rows {
		out[i] = Account(a)
	}
	return out, nil
}

// checkName allows the characters of an IAM user name, so names carry
// over between kumo and AWS.
func checkName(name string) error {
	if len(name) < 1 || len(name) > 64 {
		return errs.New(errs.InvalidParameter, "an account name must be 1 to 64 characters long")
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("+=,.@_-", c)) {
			return errs.New(errs.InvalidParameter, "an account name may hold letters, digits and +=,.@_- only; %q has %q", name, c)
		}
	}
	return nil
}
