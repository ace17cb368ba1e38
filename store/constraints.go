package store

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// SQLite tells the constraint an insert broke by its extended code: a
// primary key apart from other unique keys, so callers can tell an id
// clash from a duplicate name.

func isUniqueViolation(err error) bool {
	return constraintBroken(err, sqlite3.ErrConstraintUnique)
}

func isPrimaryKeyViolation(err error) bool {
	return constraintBroken(err, sqlite3.ErrConstraintPrimaryKey)
}

func isForeignKeyViolation(err error) bool {
	return constraintBroken(err, sqlite3.ErrConstraintForeignKey)
}

func constraintBroken(err error, code sqlite3.ErrNoExtended) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == code
}
