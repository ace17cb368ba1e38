package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"kumo/api/wire"
)

type client struct {
	base string
	http *http.Client
}

func (g *globals) client() *client {
	return &client{base: strings.TrimRight(g.endpoint, "/"), http: &http.Client{Timeout: 10 * time.Minute}}
}

// apiError is a failure the server reported.
type apiError struct{ body wire.Error }

func (e *apiError) Error() string { return e.body.Code + ": " + e.body.Message }

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *client) do(method, path string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	return c.send(method, path, "application/json", r, out)
}

func (c *client) send(method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
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
		var doc wire.ErrorDocument
		if json.Unmarshal(data, &doc) == nil && doc.Error != nil {
			return &apiError{*doc.Error}
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
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

// rawBody receives a response body as it is, for endpoints that are not JSON.
type rawBody []byte
