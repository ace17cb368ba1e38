// Package web holds the browser console's assets, embedded into kumod. For
// now it is a single page that points people at the API and the CLI.
package web

import _ "embed"

//go:embed index.html
var Index []byte
