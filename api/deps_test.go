package api_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/api", []string{"kumo/web/session", "kumo/accounts"},
		"the API checks signatures and sessions through RESTAuth and SessionAuth; kumod wires in what implements them")
}
