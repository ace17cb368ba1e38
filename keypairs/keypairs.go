// Package keypairs owns EC2 key pairs and EC2's rules for them: a name of 1
// to 255 ASCII characters, unique within an account but not across
// accounts; the two key types, rsa and ed25519; making a key pair or
// importing a public key; the fingerprint EC2 shows for each; and ids
// "key-" + 17 hex digits. The private half of a key pair made here is handed
// to its caller once and never stored: only public keys are kept.
//
// Every call names the account it acts for, and an account sees only its
// own key pairs: another account's key is reported as one that does not
// exist. The package must not know HTTP or the API, which read requests and
// map this package's errors to EC2's codes.
package keypairs

import (
	"context"
	"errors"
	"slices"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/store"
)

// Error kinds of this package, mapped to EC2 codes by the API.
var (
	ErrNotFound  = errors.New("key pair not found")
	ErrDuplicate = errors.New("duplicate key pair")
	// ErrFormat is public key material that cannot be imported.
	ErrFormat = errors.New("invalid key format")
)

// The key types, as EC2 names them.
const (
	RSA     = "rsa"
	ED25519 = "ed25519"
)

// KeyPair is a key pair as callers see it: its public half only.
type KeyPair struct {
	ID          string
	Name        string
	Type        string // RSA or ED25519
	Fingerprint string
	PublicKey   string // OpenSSH authorized_keys form, without a comment
	CreatedAt   time.Time
}

// OpenSSH is the line a guest adds to authorized_keys: the public key with
// the key pair's name as its comment, so that the guest's file says which
// key pair let a login in.
func (k KeyPair) OpenSSH() string { return k.PublicKey + " " + k.Name }

// Service keeps the key pairs of every account.
type Service struct {
	store *store.Store
	clock clock.Clock
}

// New returns a service over st; clk stamps when key pairs are made.
func New(st *store.Store, clk clock.Clock) *Service {
	return &Service{store: st, clock: clk}
}

// Create makes a key pair of keyType for owner and returns it with its
// private key in PEM, the only copy there will be.
func (s *Service) Create(ctx context.Context, owner, name, keyType string) (KeyPair, string, error) {
	if err := CheckCreate(name, keyType); err != nil {
		return KeyPair{}, "", err
	}
	// Making an RSA key takes a while; a name already taken need not wait
	// for it. The insert below still decides a race.
	if _, err := s.store.KeyPair(ctx, owner, name); err == nil {
		return KeyPair{}, "", duplicate(name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return KeyPair{}, "", err
	}
	m, private, err := generate(keyType)
	if err != nil {
		return KeyPair{}, "", err
	}
	k, err := s.insert(ctx, owner, name, m)
	return k, private, err
}

// Import adds a key pair for owner from a public key in OpenSSH
// authorized_keys form ("ssh-ed25519 AAAA... comment"): ssh-ed25519, or
// ssh-rsa of 2048 bits or more.
func (s *Service) Import(ctx context.Context, owner, name string, publicKeyMaterial []byte) (KeyPair, error) {
	if err := CheckName(name); err != nil {
		return KeyPair{}, err
	}
	m, err := parsePublic(publicKeyMaterial)
	if err != nil {
		return KeyPair{}, err
	}
	return s.insert(ctx, owner, name, m)
}

// CheckCreate applies the rules of Create without making anything, for
// requests that only ask whether they would succeed.
func CheckCreate(name, keyType string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if keyType != RSA && keyType != ED25519 {
		return errs.New(errs.InvalidParameter, "the key type '%s' is not supported: use %s or %s", keyType, RSA, ED25519)
	}
	return nil
}

// CheckImport applies the rules of Import without storing anything.
func CheckImport(name string, publicKeyMaterial []byte) error {
	if err := CheckName(name); err != nil {
		return err
	}
	_, err := parsePublic(publicKeyMaterial)
	return err
}

// CheckName enforces EC2's rule for key pair names: 1 to 255 ASCII
// characters. Control characters are refused too: a name is echoed into
// XML answers and authorized_keys lines, where they have no place.
func CheckName(name string) error {
	if name == "" {
		return errs.New(errs.MissingParameter, "a key pair needs a name")
	}
	if len(name) > 255 {
		return errs.New(errs.InvalidParameter, "a key pair name is at most 255 characters, not %d", len(name))
	}
	for _, c := range []byte(name) {
		if c < 0x20 || c > 0x7e {
			return errs.New(errs.InvalidParameter, "a key pair name holds printable ASCII characters only")
		}
	}
	return nil
}

func (s *Service) insert(ctx context.Context, owner, name string, m material) (KeyPair, error) {
	row := store.KeyPair{ID: ids.New("key"), Owner: owner, Name: name, Type: m.keyType,
		Fingerprint: m.fingerprint, PublicKey: m.publicKey, CreatedAt: s.clock.Now()}
	err := s.store.InsertKeyPair(ctx, row)
	if errors.Is(err, store.ErrDuplicate) {
		return KeyPair{}, duplicate(name)
	}
	if err != nil {
		return KeyPair{}, err
	}
	return view(row), nil
}

// Get returns owner's key pair called name.
func (s *Service) Get(ctx context.Context, owner, name string) (KeyPair, error) {
	row, err := s.store.KeyPair(ctx, owner, name)
	if errors.Is(err, store.ErrNotFound) {
		return KeyPair{}, notFound(name)
	}
	if err != nil {
		return KeyPair{}, err
	}
	return view(row), nil
}

// Describe lists owner's key pairs by name: all of them, or those with the
// given names and ids. Every name and id asked for must be one of owner's
// key pairs, as on EC2.
func (s *Service) Describe(ctx context.Context, owner string, names, idList []string) ([]KeyPair, error) {
	rows, err := s.store.KeyPairs(ctx, owner, names, idList)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	out := make([]KeyPair, len(rows))
	for i, r := range rows {
		found[r.Name], found[r.ID] = true, true
		out[i] = view(r)
	}
	for _, want := range slices.Concat(names, idList) {
		if !found[want] {
			return nil, notFound(want)
		}
	}
	return out, nil
}

// Delete deletes owner's key pair by name or, if name is empty, by id.
// Deleting a key pair that does not exist succeeds, as on EC2; instances
// launched with it keep running.
func (s *Service) Delete(ctx context.Context, owner, name, id string) error {
	var err error
	switch {
	case name != "":
		err = s.store.DeleteKeyPair(ctx, owner, name)
	case id != "":
		err = s.store.DeleteKeyPairByID(ctx, owner, id)
	default:
		return errs.New(errs.MissingParameter, "name the key pair to delete by its name or its id")
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// LaunchedWith returns the key pair called name that an instance of owner
// launched at launchedAt was given. Instances record the key's name only,
// so a key pair deleted since is gone, and one made later under the same
// name is another key: ErrNotFound in both cases, since serving it would
// let a key the instance was never launched with into it.
func (s *Service) LaunchedWith(ctx context.Context, owner, name string, launchedAt time.Time) (KeyPair, error) {
	k, err := s.Get(ctx, owner, name)
	if err != nil {
		return KeyPair{}, err
	}
	if k.CreatedAt.After(launchedAt) {
		return KeyPair{}, errs.New(ErrNotFound, "the key pair '%s' was made after the instance launched", name)
	}
	return k, nil
}

func view(r store.KeyPair) KeyPair {
	return KeyPair{ID: r.ID, Name: r.Name, Type: r.Type, Fingerprint: r.Fingerprint, PublicKey: r.PublicKey, CreatedAt: r.CreatedAt}
}

// The messages are EC2's.

func notFound(nameOrID string) error {
	return errs.New(ErrNotFound, "The key pair '%s' does not exist", nameOrID)
}

func duplicate(name string) error {
	return errs.New(ErrDuplicate, "The keypair '%s' already exists.", name)
}
