package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"kumo/api/wire"
)

type client struct {
	base   string
	http   *http.Client
	region string
}

func (g *globals) client() *client {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		region = "local"
	}
	return &client{base: strings.TrimRight(g.endpoint, "/"), http: &http.Client{Timeout: 10 * time.Minute}, region: region}
}

// restService is the service name kumod's REST API is signed for.
const restService = "kumo"

// apiError is a failure the server reported.
type apiError struct{ body wire.Error }

func (e *apiError) Error() string { return e.body.Code + ": " + e.body.Message }

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *client) do(method, path string, body any, out any) error {
	var r io.Reader
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	return c.send(method, path, "application/json", r, payloadHash(data), out)
}

// payloadHash is what a signed request says of its body.
func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// upload streams body, signed as UNSIGNED-PAYLOAD: hashing gigabytes
// first would read them twice.
func (c *client) upload(path string, body io.Reader, out any) error {
	return c.send("POST", path, "application/octet-stream", body, unsignedPayload, out)
}

const unsignedPayload = "UNSIGNED-PAYLOAD"

// send signs the request with AWS Signature Version 4, with the keys the
// AWS CLI would use, and sends it.
func (c *client) send(method, path, contentType string, body io.Reader, payloadHash string, out any) error {
	req, err := c.signed(method, path, contentType, body, payloadHash)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach kumod at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return errorOf(method, path, resp, data)
	}
	if raw, ok := out.(*rawBody); ok {
		*raw = data
		return nil
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// signed is a request signed with the keys the AWS CLI would use.
func (c *client) signed(method, path, contentType string, body io.Reader, payloadHash string) (*http.Request, error) {
	creds, err := credentials(os.Getenv)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, restService, c.region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// errorOf is the server's error from a failed response's body.
func errorOf(method, path string, resp *http.Response, data []byte) error {
	var doc wire.ErrorDocument
	if json.Unmarshal(data, &doc) == nil && doc.Error != nil {
		return &apiError{*doc.Error}
	}
	return fmt.Errorf("%s %s: %s", method, path, resp.Status)
}

// rawBody receives a response body as it is, for endpoints that are not JSON.
type rawBody []byte
