package sigv4_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/api/sigv4", []string{"kumo", "github.com/labstack/echo", "database/sql", "github.com/aws"},
		"the verifier is given its secrets and its clock; it must not know accounts, storage or the API around it")
}
