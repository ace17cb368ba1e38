package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentials(t *testing.T) {
	file := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(file, []byte(`# comment
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret

[lab]
AWS_ACCESS_KEY_ID=AKIALAB
aws_secret_access_key=lab-secret
[empty]
region = local
`), 0o600)
	cases := []struct {
		name   string
		env    map[string]string
		id     string
		errHas string
	}{
		{"environment first", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SHARED_CREDENTIALS_FILE": file}, "AKIAENV", ""},
		{"half an environment", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV"}, "", "set together"},
		{"default profile", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file}, "AKIADEFAULT", ""},
		{"named profile", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "lab"}, "AKIALAB", ""},
		{"profile without keys", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "empty"}, "", "has no aws_access_key_id"},
		{"unknown profile", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "nope"}, "", "no profile [nope]"},
		{"no file", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none")}, "", "set AWS_ACCESS_KEY_ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := credentials(func(k string) string { return tc.env[k] })
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want one saying %q", err, tc.errHas)
				}
				return
			}
			if err != nil || c.AccessKeyID != tc.id || c.SecretAccessKey == "" {
				t.Fatalf("credentials = %+v, %v; want %s", c, err, tc.id)
			}
		})
	}
}
