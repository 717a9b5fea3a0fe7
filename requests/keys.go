package requests

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what an API key may do.
type Role string

// The roles of API keys.
const (
	// RoleReporter may only submit requests. It is the role of the key the
	// resident page publishes: anyone can read that key, so it must not
	// push assets, move work orders or manage clusters.
	RoleReporter   Role = "reporter"
	RoleIntegrator Role = "integrator" // submit requests, push assets, report work-order status
	RoleStaff      Role = "staff"      // also update statuses, manage clusters, read reporters (logged)
	RoleAdmin      Role = "admin"      // everything, including keys
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleReporter || r == RoleIntegrator || r == RoleStaff || r == RoleAdmin
}

// Key is a stored API key: its hash, never the key itself.
type Key struct {
	ID        int64
	TenantID  string
	Role      Role
	Label     string // who holds it, for operators ("phone agents' app")
	Hash      string // HashAPIKey of the key
	CreatedAt time.Time
	// Scope limits a staff key to departments and wards (zero: all);
	// other roles have none.
	Scope     Scope
	RevokedAt time.Time // zero: not revoked (see KeyAdmin)
	ExpiresAt time.Time // zero: never expires
}

// keyPrefix makes a pinward key recognisable (secret scanners, logs).
const keyPrefix = "pw_"

// NewAPIKey returns a new random key and its hash. The key is shown once to
// whoever creates it; only the hash is stored.
func NewAPIKey() (key, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	key = keyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return key, HashAPIKey(key)
}

// HashAPIKey returns the hash stored for key. A fast hash is enough: keys
// are 256 random bits, so there is nothing to brute-force, and lookups by
// hash stay one indexed query.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewKeyRequest checks a new key as `pinward keys create` takes it: a
// role, the tenant, and the comma-separated departments and wards that
// limit a staff key. Its errors name the flag at fault.
func NewKeyRequest(role, tenant, label, departments, wards string) (Key, error) {
	r := Role(role)
	if !r.Valid() {
		return Key{}, fmt.Errorf("--role must be integrator, staff or admin, not %q", role)
	}
	if tenant == "" {
		return Key{}, errors.New("--tenant is empty")
	}
	scope, err := NewScope(departments, wards)
	if err != nil {
		return Key{}, err
	}
	if !scope.IsZero() && r != RoleStaff {
		return Key{}, fmt.Errorf("--departments and --wards limit staff keys only, not %s keys", r)
	}
	return Key{TenantID: tenant, Role: r, Label: label, Scope: scope}, nil
}
