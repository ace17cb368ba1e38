package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// credentials finds the access key to sign with where the AWS CLI and SDKs
// look for it: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else the
// profile (AWS_PROFILE, or "default") of the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE, or ~/.aws/credentials).
func credentials(getenv func(string) string) (aws.Credentials, error) {
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" || secret != "" {
		if id == "" || secret == "" {
			return aws.Credentials{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
		}
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN")}, nil
	}
	profile := getenv("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	path := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("no access key: AWS_ACCESS_KEY_ID is not set and %w", err)
		}
		path = filepath.Join(home, ".aws", "credentials")
	}
	keys, err := readProfile(path, profile)
	if errors.Is(err, os.ErrNotExist) {
		return aws.Credentials{}, fmt.Errorf("no access key: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (kumod prints the admin's at its first start), or write them in %s", path)
	}
	if err != nil {
		return aws.Credentials{}, err
	}
	id, secret := keys["aws_access_key_id"], keys["aws_secret_access_key"]
	if id == "" || secret == "" {
		return aws.Credentials{}, fmt.Errorf("%s: profile [%s] has no aws_access_key_id and aws_secret_access_key", path, profile)
	}
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: keys["aws_session_token"]}, nil
}

// readProfile reads the keys of one [profile] of an INI credentials file.
func readProfile(path, profile string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := map[string]string{}
	found, in := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			in = strings.TrimSpace(line[1:len(line)-1]) == profile
			found = found || in
		case in:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				keys[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !found {
		return nil, fmt.Errorf("%s has no profile [%s]", path, profile)
	}
	return keys, nil
}
