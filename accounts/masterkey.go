package accounts

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"kumo/internal/errs"
	"kumo/internal/keyfile"
)

// MasterKeyFile is the master key's file name in the data dir: 32 random
// bytes as 64 hex digits and a newline. Back it up with the database;
// without it the stored secrets cannot be read.
const MasterKeyFile = "master.key"

// sealVersion leads every ciphertext, so that a later key or format can
// tell old ciphertexts apart.
const sealVersion = 1

// sealer encrypts secrets with AES-256-GCM under the master key. Each
// ciphertext is bound to its access key id (the additional data), so a
// ciphertext copied onto another key's row does not open.
type sealer struct {
	path string
	aead cipher.AEAD
}

// openSealer reads the master key, or makes it when it does not exist and
// no secret is stored yet. Making a new key while secrets exist would lose
// them all, so that is refused.
func openSealer(dataDir string, secretsStored bool) (*sealer, error) {
	path := filepath.Join(dataDir, MasterKeyFile)
	key, err := readMasterKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if secretsStored {
			return nil, errs.New(ErrMasterKey, "the master key %s is missing, but the database holds access keys "+
				"sealed with it; restore the file from a backup", path)
		}
		key, err = makeMasterKey(path)
	}
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	return &sealer{path: path, aead: aead}, nil
}

func readMasterKey(path string) ([]byte, error) {
	key, err := keyfile.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, errs.New(ErrMasterKey, "the master key: %v", err)
	}
	return key, nil
}

func makeMasterKey(path string) ([]byte, error) {
	key, err := keyfile.Create(path)
	if err != nil {
		return nil, errs.New(ErrMasterKey, "create master key %s: %v", path, err)
	}
	return key, nil
}

func (s *sealer) seal(accessKeyID, secret string) []byte {
	return s.aead.Seal([]byte{sealVersion}, nil, []byte(secret), []byte(accessKeyID))
}

func (s *sealer) open(accessKeyID string, ciphertext []byte) (string, error) {
	if len(ciphertext) == 0 || ciphertext[0] != sealVersion {
		return "", errors.New("unknown ciphertext format")
	}
	plain, err := s.aead.Open(nil, nil, ciphertext[1:], []byte(accessKeyID))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}
