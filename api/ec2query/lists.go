package ec2query

import (
	"sort"
	"strconv"
	"strings"
)

// maxMembers bounds one list. EC2's own limits stay below it (1000 resource
// ids in CreateTags, 1000 results a page), and the bound keeps the search
// for gaps small whatever a request claims.
const maxMembers = 1000

// Filter is one Filter.N of a Describe action: a name and the values it
// matches, any of which may.
type Filter struct {
	Name   string
	Values []string
}

// Tag is one Key/Value pair. HasValue tells an absent value from an empty
// one, which DeleteTags treats differently: no value deletes the tag
// whatever its value, an empty one only if its value is empty.
type Tag struct {
	Key      string
	Value    string
	HasValue bool
}

// TagSpecification is one TagSpecification.N: tags for the resources of
// one type that an action creates.
type TagSpecification struct {
	ResourceType string
	Tags         []Tag
}

// Strings returns the flattened list prefix.1 … prefix.N (InstanceId.1),
// nil when there is none. Members must be numbered from 1 without gaps.
func (r *Request) Strings(prefix string) ([]string, error) {
	n, err := r.members(prefix, true)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		out[i], _ = r.lookup(prefix + "." + strconv.Itoa(i+1))
	}
	return out, nil
}

// Members returns N for a list of structures prefix.1.Field …
// prefix.N.Field (Listeners.member.1.InstancePort), 0 when there is none,
// for the caller to read each member's fields with the other accessors.
func (r *Request) Members(prefix string) (int, error) {
	return r.members(prefix, false)
}

// Filters returns Filter.N.Name with its Filter.N.Value.M. A filter needs a
// name; whether it may have no value is the action's call.
func (r *Request) Filters() ([]Filter, error) {
	n, err := r.members("Filter", false)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]Filter, n)
	for i := range out {
		p := "Filter." + strconv.Itoa(i+1)
		if out[i].Name, err = r.String(p + ".Name"); err != nil {
			return nil, err
		}
		if out[i].Values, err = r.Strings(p + ".Value"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Tags returns prefix.N.Key with prefix.N.Value (Tag.1.Key). A key is
// required; the rules for keys and values are the caller's.
func (r *Request) Tags(prefix string) ([]Tag, error) {
	n, err := r.members(prefix, false)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]Tag, n)
	for i := range out {
		p := prefix + "." + strconv.Itoa(i+1)
		if out[i].Key, err = r.String(p + ".Key"); err != nil {
			return nil, err
		}
		out[i].Value, out[i].HasValue = r.OptionalString(p + ".Value")
	}
	return out, nil
}

// TagSpecifications returns prefix.N.ResourceType with its prefix.N.Tag.M
// (TagSpecification.1.Tag.1.Key).
func (r *Request) TagSpecifications(prefix string) ([]TagSpecification, error) {
	n, err := r.members(prefix, false)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]TagSpecification, n)
	for i := range out {
		p := prefix + "." + strconv.Itoa(i+1)
		if out[i].ResourceType, err = r.String(p + ".ResourceType"); err != nil {
			return nil, err
		}
		if out[i].Tags, err = r.Tags(p + ".Tag"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// members checks the numbering of the list prefix.N and returns N. With
// leaf, the members are the values prefix.N themselves (InstanceId.1);
// otherwise they are structures whose fields follow the number
// (Filter.1.Name), and a name of the other form is left for Unused to
// report.
func (r *Request) members(prefix string, leaf bool) (int, error) {
	prefix += "."
	seen := make(map[int]bool)
	largest := 0
	for i := sort.SearchStrings(r.keys, prefix); i < len(r.keys) && strings.HasPrefix(r.keys[i], prefix); i++ {
		key := r.keys[i]
		num, _, structured := strings.Cut(key[len(prefix):], ".")
		if structured == leaf {
			continue
		}
		n, ok := index(num)
		if !ok {
			return 0, InvalidParameterValue("%s is not a member of the list %s: members are numbered from 1 to %d.",
				clip(key), prefix[:len(prefix)-1], maxMembers)
		}
		seen[n] = true
		largest = max(largest, n)
	}
	if len(seen) != largest {
		for n := 1; ; n++ {
			if !seen[n] {
				return 0, InvalidParameterValue("The list %s has no member %s%d: members are numbered from 1 without gaps.",
					prefix[:len(prefix)-1], prefix, n)
			}
		}
	}
	return largest, nil
}

// index parses a member number: decimal without sign or leading zeros, so
// that InstanceId.1 and InstanceId.01 cannot both name the first member.
func index(s string) (int, bool) {
	if s == "" || len(s) > len(strconv.Itoa(maxMembers)) || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= maxMembers
}
