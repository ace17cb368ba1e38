package accounts

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
)

const (
	envID     = "AKIAIOSFODNN7EXAMPLE"
	envSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

func TestBootstrapFirstStart(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		generated bool
	}{
		{name: "random key", generated: true},
		{name: "key from the environment", env: map[string]string{EnvAccessKeyID: envID, EnvSecretAccessKey: envSecret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			got, err := e.svc.Bootstrap(ctx, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Created || got.Generated != tc.generated || got.EnvIgnored {
				t.Fatalf("bootstrap %+v", got)
			}
			if a := got.Account; !a.Admin || a.Name != AdminName || !regexp.MustCompile(`^[0-9]{12}$`).MatchString(a.ID) {
				t.Fatalf("admin account %+v", a)
			}
			if tc.generated {
				if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(got.AccessKeyID) || len(got.SecretAccessKey) != 40 {
					t.Fatalf("random key %s / %d characters", got.AccessKeyID, len(got.SecretAccessKey))
				}
			} else if got.AccessKeyID != envID || got.SecretAccessKey != envSecret {
				t.Fatalf("key %s, want the environment's", got.AccessKeyID)
			}
			secret, account, err := e.svc.Lookup(ctx, got.AccessKeyID)
			if err != nil || secret != got.SecretAccessKey || account != got.Account.ID {
				t.Fatalf("Lookup: %s, %v", account, err)
			}
		})
	}
}

func TestBootstrapLaterStarts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	env := map[string]string{EnvAccessKeyID: envID, EnvSecretAccessKey: envSecret}
	first, err := e.svc.Bootstrap(ctx, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		restart    bool
		env        map[string]string
		envIgnored bool
	}{
		{name: "again"},
		{name: "after restart", restart: true},
		{name: "same environment", restart: true, env: env},
		{name: "other key id", env: map[string]string{EnvAccessKeyID: "AKIAOTHEROTHEROTHER0", EnvSecretAccessKey: envSecret}, envIgnored: true},
		{name: "other secret", env: map[string]string{EnvAccessKeyID: envID, EnvSecretAccessKey: envSecret + "x"}, envIgnored: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.restart {
				e.reopen(t)
			}
			got, err := e.svc.Bootstrap(ctx, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got.Created || got.Generated || got.AccessKeyID != "" || got.SecretAccessKey != "" {
				t.Fatalf("a later start made or revealed a key: %+v", got)
			}
			if got.Account != first.Account || got.EnvIgnored != tc.envIgnored {
				t.Fatalf("bootstrap %+v, want account %+v, env ignored %v", got, first.Account, tc.envIgnored)
			}
			all, _ := e.svc.List(ctx)
			keys, _ := e.svc.AccessKeys(ctx, first.Account.ID)
			if len(all) != 1 || len(keys) != 1 {
				t.Fatalf("%d accounts, %d keys after a later start", len(all), len(keys))
			}
		})
	}
}

func TestBootstrapConcurrentStarts(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	results := make([]Admin, 4)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() { results[i], errs[i] = e.svc.Bootstrap(context.Background(), noEnv) })
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.Created {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent bootstraps made the admin", created, len(results))
	}
}

func TestBootstrapEnvironmentShape(t *testing.T) {
	for _, tc := range []struct {
		name, id, secret, message string
	}{
		{"id only", envID, "", "set both"},
		{"secret only", "", envSecret, "set both"},
		{"id too short", "AKIA1234567890", envSecret, "16 to 128 characters"},
		{"id too long", strings.Repeat("A", 129), envSecret, "16 to 128 characters"},
		{"id lower case", "akiaiosfodnn7example", envSecret, "upper-case letters"},
		{"id with a dash", "AKIA-IOSFODNN7EXAMPLE", envSecret, "upper-case letters"},
		{"secret too short", envID, "short-secret", "16 to 128 characters"},
		{"secret with a space", envID, "wJalrXUtnFEMI K7MDENG+bPxRfiCYEXAMPLEKEY", "printable ASCII"},
		{"secret with a newline", envID, envSecret + "\n", "printable ASCII"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.svc.Bootstrap(context.Background(), envOf(map[string]string{EnvAccessKeyID: tc.id, EnvSecretAccessKey: tc.secret}))
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("Bootstrap: %v, want ErrInvalidKey saying %q", err, tc.message)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Fatal("the error quotes the secret")
			}
			if all, _ := e.svc.List(context.Background()); len(all) != 0 {
				t.Fatal("a rejected bootstrap made an account")
			}
		})
	}
}
