package certs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// writeFiles puts the serving pair in dir unless it is there already. Each
// file is replaced by a rename, so a reader never sees half a file; the key
// goes first, and certwatcher refuses a certificate that does not match its
// key, so it keeps serving the old pair until both are new.
func writeFiles(dir, certName, keyName string, certPEM, keyPEM []byte) (bool, error) {
	oldCert, _ := os.ReadFile(filepath.Join(dir, certName))
	oldKey, _ := os.ReadFile(filepath.Join(dir, keyName))
	if bytes.Equal(oldCert, certPEM) && bytes.Equal(oldKey, keyPEM) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("creating cert dir: %w", err)
	}
	if err := replaceFile(dir, keyName, keyPEM); err != nil {
		return false, err
	}
	if err := replaceFile(dir, certName, certPEM); err != nil {
		return false, err
	}
	return true, nil
}

// replaceFile writes data to dir/name atomically.
func replaceFile(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("replacing %s: %w", name, err)
	}
	return nil
}
