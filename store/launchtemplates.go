package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LaunchTemplate is a launch template row. The launchtemplates package
// owns what its versions' data mean.
type LaunchTemplate struct {
	ID             string
	Owner          string
	Name           string
	DefaultVersion int
	LatestVersion  int
	CreatedAt      time.Time
}

// LaunchTemplateVersion is one version of a template.
type LaunchTemplateVersion struct {
	TemplateID  string
	Version     int
	Description string
	Data        string
	CreatedAt   time.Time
}

const launchTemplateColumns = `id, owner, name, default_version, latest_version, created_at`

func scanLaunchTemplate(row interface{ Scan(...any) error }) (LaunchTemplate, error) {
	var t LaunchTemplate
	var created string
	err := row.Scan(&t.ID, &t.Owner, &t.Name, &t.DefaultVersion, &t.LatestVersion, &created)
	t.CreatedAt = parseTime(created)
	return t, err
}

// InsertLaunchTemplate records a template with its first version;
// ErrDuplicate when its owner has one of that name.
func (s *Store) InsertLaunchTemplate(ctx context.Context, t LaunchTemplate, first LaunchTemplateVersion) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO launch_templates (`+launchTemplateColumns+`) VALUES (?,?,?,?,?,?)`,
			t.ID, t.Owner, t.Name, t.DefaultVersion, t.LatestVersion, formatTime(t.CreatedAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("launch template %q: %w", t.Name, ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("insert launch template %s: %w", t.ID, err)
		}
		return insertTemplateVersion(ctx, tx, first)
	})
}

func insertTemplateVersion(ctx context.Context, tx *sql.Tx, v LaunchTemplateVersion) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO launch_template_versions (template_id, version, description, data, created_at) VALUES (?,?,?,?,?)`,
		v.TemplateID, v.Version, v.Description, v.Data, formatTime(v.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert version %d of launch template %s: %w", v.Version, v.TemplateID, err)
	}
	return nil
}

// AddLaunchTemplateVersion records the template's next version, numbered
// one past its latest, and returns it.
func (s *Store) AddLaunchTemplateVersion(ctx context.Context, v LaunchTemplateVersion) (LaunchTemplateVersion, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `UPDATE launch_templates SET latest_version = latest_version + 1 WHERE id = ? RETURNING latest_version`,
			v.TemplateID).Scan(&v.Version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("launch template %s: %w", v.TemplateID, ErrNotFound)
			}
			return err
		}
		return insertTemplateVersion(ctx, tx, v)
	})
	return v, err
}

// LaunchTemplateByName and LaunchTemplateByID return one of owner's
// templates.
func (s *Store) LaunchTemplateByName(ctx context.Context, owner, name string) (LaunchTemplate, error) {
	return s.launchTemplate(ctx, `owner = ? AND name = ?`, owner, name)
}

func (s *Store) LaunchTemplateByID(ctx context.Context, owner, id string) (LaunchTemplate, error) {
	return s.launchTemplate(ctx, `owner = ? AND id = ?`, owner, id)
}

func (s *Store) launchTemplate(ctx context.Context, where string, args ...any) (LaunchTemplate, error) {
	t, err := scanLaunchTemplate(s.db.QueryRowContext(ctx, `SELECT `+launchTemplateColumns+` FROM launch_templates WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return LaunchTemplate{}, fmt.Errorf("launch template %v: %w", args[1], ErrNotFound)
	}
	return t, err
}

// LaunchTemplates lists owner's templates by name.
func (s *Store) LaunchTemplates(ctx context.Context, owner string) ([]LaunchTemplate, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+launchTemplateColumns+` FROM launch_templates WHERE owner = ? ORDER BY name`, owner)
	if err != nil {
		return nil, fmt.Errorf("list launch templates: %w", err)
	}
	defer rows.Close()
	var out []LaunchTemplate
	for rows.Next() {
		t, err := scanLaunchTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// LaunchTemplateVersions lists a template's versions from first to last,
// inclusive, in order.
func (s *Store) LaunchTemplateVersions(ctx context.Context, templateID string, first, last int) ([]LaunchTemplateVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT template_id, version, description, data, created_at FROM launch_template_versions
		WHERE template_id = ? AND version BETWEEN ? AND ? ORDER BY version`, templateID, first, last)
	if err != nil {
		return nil, fmt.Errorf("list versions of launch template %s: %w", templateID, err)
	}
	defer rows.Close()
	var out []LaunchTemplateVersion
	for rows.Next() {
		var v LaunchTemplateVersion
		var created string
		if err := rows.Scan(&v.TemplateID, &v.Version, &v.Description, &v.Data, &created); err != nil {
			return nil, err
		}
		v.CreatedAt = parseTime(created)
		out = append(out, v)
	}
	return out, rows.Err()
}

// SetLaunchTemplateDefault makes version, which must exist, the default.
func (s *Store) SetLaunchTemplateDefault(ctx context.Context, templateID string, version int) error {
	res, err := s.w.ExecContext(ctx, `UPDATE launch_templates SET default_version = ? WHERE id = ? AND ? BETWEEN 1 AND latest_version`,
		version, templateID, version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("version %d of launch template %s: %w", version, templateID, ErrNotFound)
	}
	return nil
}

// DeleteLaunchTemplate removes a template and all its versions.
func (s *Store) DeleteLaunchTemplate(ctx context.Context, templateID string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM launch_templates WHERE id = ?`, templateID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("launch template %s: %w", templateID, ErrNotFound)
	}
	return nil
}
