package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Account is an account row. The accounts package owns what it means.
type Account struct {
	ID        string
	Name      string
	Admin     bool
	CreatedAt time.Time
}

// Statuses of an access key.
const (
	KeyActive   = "active"
	KeyInactive = "inactive"
)

// AccessKey is an access key row. SecretCiphertext is the secret as the
// accounts package sealed it: the store never holds a secret in the clear.
type AccessKey struct {
	ID               string
	AccountID        string
	SecretCiphertext []byte
	Status           string
	CreatedAt        time.Time
}

const (
	accountColumns   = `id, name, admin, created_at`
	accessKeyColumns = `access_key_id, account_id, secret_ciphertext, status, created_at`
)

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created string
	err := row.Scan(&a.ID, &a.Name, &a.Admin, &created)
	a.CreatedAt = parseTime(created)
	return a, err
}

func scanAccessKey(row interface{ Scan(...any) error }) (AccessKey, error) {
	var k AccessKey
	var created string
	err := row.Scan(&k.ID, &k.AccountID, &k.SecretCiphertext, &k.Status, &created)
	k.CreatedAt = parseTime(created)
	return k, err
}

// CreateAccount adds an account; ErrDuplicate when its name is taken,
// compared without regard to case.
func (s *Store) CreateAccount(ctx context.Context, a Account) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return insertAccount(ctx, tx, a) })
}

// CreateFirstAccount adds a and its key k only if there is no account yet,
// in one transaction so that two starts racing cannot both make one. It
// reports whether it did.
func (s *Store) CreateFirstAccount(ctx context.Context, a Account, k AccessKey) (created bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			return fmt.Errorf("count accounts: %w", err)
		}
		if n > 0 {
			return nil
		}
		if err := insertAccount(ctx, tx, a); err != nil {
			return err
		}
		if err := insertAccessKey(ctx, tx, k); err != nil {
			return err
		}
		created = true
		return nil
	})
	return created, err
}

func insertAccount(ctx context.Context, tx *sql.Tx, a Account) error {
	// The name is checked first so that ErrDuplicate always means the
	// name; a clash of random ids is a plain failure.
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE name = ?`, a.Name).Scan(&taken); err != nil {
		return fmt.Errorf("insert account %s: %w", a.ID, err)
	}
	if taken > 0 {
		return fmt.Errorf("account name %q: %w", a.Name, ErrDuplicate)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?,?,?,?)`,
		a.ID, a.Name, a.Admin, formatTime(a.CreatedAt)); err != nil {
		return fmt.Errorf("insert account %s: %w", a.ID, err)
	}
	return nil
}

// Account returns the account with id.
func (s *Store) Account(ctx context.Context, id string) (Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	return a, err
}

// Accounts lists every account, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// InsertAccessKey adds an access key to its account: ErrNotFound when the
// account does not exist, ErrDuplicate when the key id is taken.
func (s *Store) InsertAccessKey(ctx context.Context, k AccessKey) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE id = ?`, k.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("insert access key %s: %w", k.ID, err)
		}
		if n == 0 {
			return fmt.Errorf("account %s: %w", k.AccountID, ErrNotFound)
		}
		return insertAccessKey(ctx, tx, k)
	})
}

func insertAccessKey(ctx context.Context, tx *sql.Tx, k AccessKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO access_keys (`+accessKeyColumns+`) VALUES (?,?,?,?,?)`,
		k.ID, k.AccountID, k.SecretCiphertext, k.Status, formatTime(k.CreatedAt))
	if isPrimaryKeyViolation(err) {
		return fmt.Errorf("access key %s: %w", k.ID, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert access key %s: %w", k.ID, err)
	}
	return nil
}

// AccessKey returns the access key with id.
func (s *Store) AccessKey(ctx context.Context, id string) (AccessKey, error) {
	k, err := scanAccessKey(s.db.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE access_key_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return AccessKey{}, fmt.Errorf("access key %s: %w", id, ErrNotFound)
	}
	return k, err
}

// FirstAccessKey returns the oldest access key of any account, ErrNotFound
// when there is none: enough to tell whether stored secrets exist and to
// try decrypting one.
func (s *Store) FirstAccessKey(ctx context.Context) (AccessKey, error) {
	k, err := scanAccessKey(s.db.QueryRowContext(ctx,
		`SELECT `+accessKeyColumns+` FROM access_keys ORDER BY created_at, access_key_id LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return AccessKey{}, fmt.Errorf("first access key: %w", ErrNotFound)
	}
	return k, err
}

// AccessKeys lists the access keys of an account, oldest first.
func (s *Store) AccessKeys(ctx context.Context, accountID string) ([]AccessKey, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+accessKeyColumns+` FROM access_keys WHERE account_id = ? ORDER BY created_at, access_key_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list access keys of %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []AccessKey
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list access keys of %s: %w", accountID, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SetAccessKeyStatus sets a key active or inactive.
func (s *Store) SetAccessKeyStatus(ctx context.Context, id, status string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE access_keys SET status = ? WHERE access_key_id = ?`, status, id)
	if err != nil {
		return fmt.Errorf("set access key %s %s: %w", id, status, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("access key %s: %w", id, ErrNotFound)
	}
	return nil
}
