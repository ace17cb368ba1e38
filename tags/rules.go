package tags

import (
	"strings"
	"unicode/utf8"

	"kumo/internal/errs"
)

// reserved starts the keys that AWS sets itself; EC2 refuses them from
// users whatever their case.
const reserved = "aws:"

// Check applies EC2's rules to tags given to one resource at once: at
// launch, or by CreateTags.
func Check(tags []Tag) error {
	if len(tags) > MaxPerResource {
		return errs.New(ErrLimitExceeded, "a resource may have at most %d tags; %d were given", MaxPerResource, len(tags))
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := checkKey(t.Key); err != nil {
			return err
		}
		if seen[t.Key] {
			return errs.New(errs.InvalidParameter, "Duplicate tag key '%s' specified.", t.Key)
		}
		seen[t.Key] = true
		if utf8.RuneCountInString(t.Value) > MaxValue {
			return errs.New(errs.InvalidParameter, "Tag value exceeds the maximum length of %d characters", MaxValue)
		}
	}
	return nil
}

// checkKey applies the rules for a key a user names, to create or delete.
func checkKey(key string) error {
	switch n := utf8.RuneCountInString(key); {
	case n == 0:
		return errs.New(errs.InvalidParameter, "Tag key may not be empty")
	case n > MaxKey:
		return errs.New(errs.InvalidParameter, "Tag key exceeds the maximum length of %d characters", MaxKey)
	case len(key) >= len(reserved) && strings.EqualFold(key[:len(reserved)], reserved):
		return errs.New(errs.InvalidParameter, "Tag keys starting with '%s' are reserved for internal use", reserved)
	}
	return nil
}
