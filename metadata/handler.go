package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// IMDSv2 headers.
const (
	tokenHeader    = "X-Aws-Ec2-Metadata-Token"
	tokenTTLHeader = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip, err := remoteIP(r)
	if err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/latest/api/token" {
		s.issueToken(w, r, ip)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	// IMDSv1 stays open (a missing token is fine), but a token that is
	// sent must be good, as with HttpTokens=optional on EC2.
	if tok := r.Header.Get(tokenHeader); tok != "" && !s.tokens.valid(tok, ip, s.clock.Now()) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	in, err := s.lookup(r.Context(), ip)
	if errors.Is(err, ErrUnknownAddress) {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	body, ok := answer(in, r.URL.Path)
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/latest/dynamic/") {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain")
	}
	w.Write(body)
}

// issueToken answers PUT /latest/api/token. Requests that went through a
// proxy (X-Forwarded-For) are refused, as EC2 does, so that a guest's own
// proxy cannot hand tokens to others.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, ip netip.Addr) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", "PUT")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	secs, err := strconv.Atoi(r.Header.Get(tokenTTLHeader))
	ttl := time.Duration(secs) * time.Second
	if err != nil || ttl < minTokenTTL || ttl > maxTokenTTL {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	if _, err := s.lookup(r.Context(), ip); err != nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set(tokenTTLHeader, strconv.Itoa(secs))
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, s.tokens.issue(ip, s.clock.Now().Add(ttl)))
}

func remoteIP(r *http.Request) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err
}

// answer returns the document at path, or false if there is none. Folders
// list their entries one per line, sub-folders with a trailing slash, with
// or without the slash in the request.
func answer(in Instance, path string) ([]byte, bool) {
	path = strings.TrimSuffix(path, "/")
	switch path {
	case "":
		return []byte("latest"), true
	case "/latest":
		entries := []string{"dynamic", "meta-data"}
		if len(in.UserData) > 0 {
			entries = append(entries, "user-data")
		}
		return list(entries), true
	case "/latest/user-data":
		return in.UserData, len(in.UserData) > 0
	case "/latest/dynamic":
		return list([]string{"instance-identity/"}), true
	case "/latest/dynamic/instance-identity":
		return list([]string{"document"}), true
	case "/latest/dynamic/instance-identity/document":
		return identityDocument(in), true
	}
	rest, ok := strings.CutPrefix(path, "/latest/meta-data")
	if !ok {
		return nil, false
	}
	return metaData(in, strings.TrimPrefix(rest, "/"))
}

func metaData(in Instance, key string) ([]byte, bool) {
	values := map[string]string{
		"ami-id":                      in.ImageID,
		"ami-launch-index":            "0",
		"hostname":                    in.ID,
		"instance-id":                 in.ID,
		"instance-type":               in.Type,
		"local-hostname":              in.ID,
		"local-ipv4":                  in.PrivateIP,
		"mac":                         in.MAC,
		"placement/availability-zone": in.Zone,
		"placement/region":            in.Region,
	}
	switch key {
	case "":
		entries := []string{"ami-id", "ami-launch-index", "hostname", "instance-id", "instance-type",
			"local-hostname", "local-ipv4", "mac", "placement/"}
		if len(in.PublicKeys) > 0 {
			entries = append(entries, "public-keys/")
		}
		return list(entries), true
	case "placement":
		return list([]string{"availability-zone", "region"}), true
	case "public-keys":
		var entries []string
		for i, k := range in.PublicKeys {
			entries = append(entries, fmt.Sprintf("%d=%s", i, k.Name))
		}
		return list(entries), len(entries) > 0
	}
	if v, ok := values[key]; ok {
		return []byte(v), v != ""
	}
	// public-keys/N and public-keys/N/openssh-key
	rest, ok := strings.CutPrefix(key, "public-keys/")
	if !ok {
		return nil, false
	}
	idx, file, _ := strings.Cut(rest, "/")
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(in.PublicKeys) || strconv.Itoa(i) != idx {
		return nil, false
	}
	switch file {
	case "":
		return list([]string{"openssh-key"}), true
	case "openssh-key":
		return []byte(in.PublicKeys[i].OpenSSH), true
	}
	return nil, false
}

func list(entries []string) []byte { return []byte(strings.Join(entries, "\n")) }

// identityDocument is the JSON document EC2 serves at
// dynamic/instance-identity/document.
func identityDocument(in Instance) []byte {
	doc := map[string]any{
		"accountId": in.AccountID, "architecture": "x86_64", "availabilityZone": in.Zone,
		"imageId": in.ImageID, "instanceId": in.ID, "instanceType": in.Type,
		"pendingTime": in.LaunchedAt.UTC().Format(time.RFC3339), "privateIp": in.PrivateIP,
		"region": in.Region, "version": "2017-09-30",
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return b
}
