// Package web holds kumo's browser console: page templates, one style sheet
// and small JavaScript modules, embedded into kumod so that nothing is
// built or fetched at run time. Pages are HTML shells; their scripts call
// the REST API (/api/v1) with the session cookie and render in the browser.
//
// The API package serves the pages and checks sessions; this package only
// renders templates and serves files. It must not import the API or the
// services.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed templates static
var files embed.FS

// Page is what a page's template is given.
type Page struct {
	// Name is the page ("overview", "instances", ...): its template, its
	// script and its entry in the navigation.
	Name      string
	Title     string
	Account   string
	Admin     bool
	CSRFToken string
	Region    string
	Zone      string
	// InstanceID is the instance the instance page shows.
	InstanceID string

	// The sign-in page's: where to go once signed in, the token its form
	// must send back, and why the last attempt failed.
	Next      string
	FormToken string
	Error     string
}

// Pages lists the pages behind a session, by name, with their titles.
var Pages = map[string]string{
	"overview":       "Overview",
	"instances":      "Instances",
	"instance":       "Instance",
	"launch":         "Launch instances",
	"images":         "Images",
	"load-balancers": "Load balancers",
	"hosts":          "Hosts",
}

// CSP is the Content-Security-Policy of page p: nothing but the console's
// own files runs or styles it. The instance page also allows inline
// styles, because its terminal (xterm.js) writes <style> elements for its
// glyph metrics and colours; its scripts stay as strict as everywhere.
func (p Page) CSP() string {
	style := ""
	if p.Name == "instance" {
		style = "style-src 'self' 'unsafe-inline'; "
	}
	return "default-src 'self'; img-src 'self' data:; " + style + "object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

var templates = parseTemplates()

// parseTemplates gives each page its own set, the layout and the page's
// file, since every page defines the same block names.
func parseTemplates() map[string]*template.Template {
	out := map[string]*template.Template{}
	for name := range Pages {
		out[name] = template.Must(template.ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	out["signin"] = template.Must(template.ParseFS(files, "templates/signin.html"))
	return out
}

// view is what templates see: the page, and where its files are.
type view struct {
	Page
	Static string
}

// Render writes page p, whole or not at all.
func Render(w io.Writer, p Page) error {
	t, ok := templates[p.Name]
	if !ok {
		return fmt.Errorf("web: no page %q", p.Name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "page", view{Page: p, Static: "/static/" + StaticVersion}); err != nil {
		return err
	}
	_, err := buf.WriteTo(w)
	return err
}

// Static serves the files under static/ at VERSION/PATH, where VERSION is
// StaticVersion: pages name their files under it, so browsers keep them
// for good and a new kumod's files, under a new version, are fetched at
// once. A file asked for under another version (a page of an older kumod)
// is served as it now is, to be revalidated on every use.
var Static http.Handler

// StaticVersion is a digest of every file under static/.
var StaticVersion string

func init() {
	files := loadStatic()
	Static = files
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		fmt.Fprintf(h, "%s %s\n", name, files[name].etag)
	}
	StaticVersion = base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

type asset struct {
	data        []byte
	etag        string
	contentType string
}

type staticFiles map[string]asset

func loadStatic() staticFiles {
	out := staticFiles{}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[strings.TrimPrefix(p, "static/")] = asset{data: data,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			contentType: mime.TypeByExtension(path.Ext(p))}
		return nil
	})
	if err != nil {
		panic("web: " + err.Error())
	}
	return out
}

func (s staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	version, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	a, ok := s[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("ETag", a.etag)
	if version == StaticVersion {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}
