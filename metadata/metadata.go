// Package metadata is the instance metadata service guests reach at
// 169.254.169.254, as on EC2: who the instance is, its user data and public
// keys, over IMDSv1 (plain GET) and IMDSv2 (a session token from
// PUT /latest/api/token, then sent with every GET).
//
// A request is answered for the instance whose private address it comes
// from, so a guest reads only its own metadata. The package must not know
// the hypervisor or the state store: it reads instances through Lookup.
package metadata

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"kumo/internal/clock"
)

// Instance is what the service tells a guest about itself.
type Instance struct {
	ID         string
	ImageID    string
	Type       string
	PrivateIP  string
	MAC        string
	AccountID  string
	Region     string
	Zone       string
	LaunchedAt time.Time
	UserData   []byte
	PublicKeys []PublicKey
}

// PublicKey is a key pair's public half, as the guest installs it.
type PublicKey struct {
	Name    string
	OpenSSH string
}

// ErrUnknownAddress means no instance holds the address a request came from.
var ErrUnknownAddress = errors.New("no instance at this address")

// Lookup finds the instance holding a private address.
type Lookup func(ctx context.Context, ip netip.Addr) (Instance, error)

// Server answers metadata requests.
type Server struct {
	lookup Lookup
	clock  clock.Clock
	tokens tokens
}

// New returns a server. Tokens it issues are valid only in this process:
// after a restart guests ask for new ones, as they do when a token expires.
func New(lookup Lookup, clk clock.Clock) *Server {
	return &Server{lookup: lookup, clock: clk, tokens: newTokens()}
}
