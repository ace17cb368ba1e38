package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// decode reads a JSON body into v, refusing unknown fields and trailing
// data, so a misspelt field is an error rather than silently ignored.
func decode(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; a JSON object is required")
	case errors.As(err, &mbe):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request body is too large")
	case errors.As(err, &ute):
		return badRequest("field %q must be of type %s", ute.Field, ute.Type)
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field"):
		return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case err != nil:
		return badRequest("malformed JSON: %v", err)
	}
	if dec.More() {
		return badRequest("unexpected data after the JSON object")
	}
	return nil
}
