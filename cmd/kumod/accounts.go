package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"kumo/accounts"
	"kumo/api"
	"kumo/api/sigv4"
	"kumo/internal/clock"
	"kumo/store"
)

// openAccounts opens the accounts and, on the very first start, makes the
// administrator's account, printing its key once when it was not given.
func openAccounts(ctx context.Context, st *store.Store, dataDir, region string, clk clock.Clock, log *slog.Logger) (*accounts.Service, error) {
	accts, err := accounts.Open(ctx, st, dataDir, clk)
	if err != nil {
		return nil, err
	}
	admin, err := accts.Bootstrap(ctx, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("admin account: %w", err)
	}
	switch {
	case admin.Created && admin.Generated:
		// Printed, not logged: the secret is shown this once and must not
		// end up in log files kept for other reasons.
		fmt.Fprintf(os.Stderr, "\nkumo: created the admin account %s. Its access key, shown only now:\n"+
			"  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n  export AWS_DEFAULT_REGION=%s\n\n",
			admin.Account.ID, admin.AccessKeyID, admin.SecretAccessKey, region)
	case admin.Created:
		log.Info("created the admin account with the access key from the environment", "account", admin.Account.ID, "access_key_id", admin.AccessKeyID)
	case admin.EnvIgnored:
		log.Warn("the admin access key in the environment is not this cloud's: it applies only to the first start", "env", accounts.EnvAccessKeyID)
	}
	n, err := st.AdoptOrphans(ctx, admin.Account.ID)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("gave the instances made before accounts to the admin account", "instances", n, "account", admin.Account.ID)
	}
	return accts, nil
}

// ec2Auth checks the signatures of query API requests (EC2's, ELB's)
// against the accounts' keys.
type ec2Auth struct {
	accounts *accounts.Service
	clock    clock.Clock
}

func (a ec2Auth) Authenticate(r *http.Request, body []byte, service string) (string, error) {
	id, err := sigv4.Verify(r, body, a.clock.Now(), sigv4.LookupFunc(a.lookup))
	if err != nil {
		return "", err
	}
	return id.Account, checkService(id, service)
}

func checkService(id sigv4.Identity, service string) error {
	if id.Service != service {
		return &sigv4.Error{Code: sigv4.CodeSignatureDoesNotMatch,
			Message: fmt.Sprintf("Credential should be scoped to correct service: '%s', not '%s'.", service, id.Service)}
	}
	return nil
}

// AuthenticateREST checks the signatures of REST requests, made with the
// same keys for the service "kumo".
func (a ec2Auth) AuthenticateREST(r *http.Request, body []byte, streamed bool) (api.Caller, error) {
	var id sigv4.Identity
	var err error
	if streamed {
		id, err = sigv4.VerifyStreamed(r, a.clock.Now(), sigv4.LookupFunc(a.lookup))
	} else {
		id, err = sigv4.Verify(r, body, a.clock.Now(), sigv4.LookupFunc(a.lookup))
	}
	if err != nil {
		return api.Caller{}, err
	}
	if err := checkService(id, api.RESTService); err != nil {
		return api.Caller{}, err
	}
	account, err := a.accounts.Get(r.Context(), id.Account)
	if err != nil {
		return api.Caller{}, err
	}
	return api.Caller{Account: account.ID, Admin: account.Admin}, nil
}

func (a ec2Auth) lookup(ctx context.Context, accessKeyID string) (string, string, error) {
	secret, account, err := a.accounts.Lookup(ctx, accessKeyID)
	if errors.Is(err, accounts.ErrKeyNotFound) || errors.Is(err, accounts.ErrKeyInactive) {
		return "", "", sigv4.ErrUnknownKey
	}
	return secret, account, err
}
