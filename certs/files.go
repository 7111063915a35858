package certs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// dataLink names the symlink to the current generation of files, as in the
// kubelet's Secret volumes.
const (
	dataLink   = "..data"
	genPattern = "..gen-*"
)

// writeFiles puts the serving pair in dir unless it is there already. Like
// the kubelet's Secret volumes, the pair is written to a new directory and
// published by renaming one symlink: certName and keyName are links through
// it, so a reader sees the old pair or the new pair, never one of each.
// certwatcher watches the files the links point to; removing the old
// generation tells it to look again.
func writeFiles(dir, certName, keyName string, certPEM, keyPEM []byte) (bool, error) {
	oldCert, _ := os.ReadFile(filepath.Join(dir, certName))
	oldKey, _ := os.ReadFile(filepath.Join(dir, keyName))
	if bytes.Equal(oldCert, certPEM) && bytes.Equal(oldKey, keyPEM) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("creating cert dir: %w", err)
	}
	gen, err := os.MkdirTemp(dir, genPattern)
	if err != nil {
		return false, fmt.Errorf("creating a cert generation: %w", err)
	}
	for name, data := range map[string][]byte{certName: certPEM, keyName: keyPEM} {
		if err := os.WriteFile(filepath.Join(gen, name), data, 0o600); err != nil {
			return false, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	if err := replaceSymlink(dir, dataLink, filepath.Base(gen)); err != nil {
		return false, err
	}
	for _, name := range []string{certName, keyName} {
		target := filepath.Join(dataLink, name)
		if cur, err := os.Readlink(filepath.Join(dir, name)); err == nil && cur == target {
			continue
		}
		if err := replaceSymlink(dir, name, target); err != nil {
			return false, err
		}
	}
	return true, removeOldGenerations(dir, filepath.Base(gen))
}

// replaceSymlink points dir/name at target atomically.
func replaceSymlink(dir, name, target string) error {
	tmp := filepath.Join(dir, name+".tmp")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clearing %s: %w", tmp, err)
	}
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("linking %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("publishing %s: %w", name, err)
	}
	return nil
}

// removeOldGenerations deletes every generation but keep.
func removeOldGenerations(dir, keep string) error {
	gens, err := filepath.Glob(filepath.Join(dir, genPattern))
	if err != nil {
		return fmt.Errorf("listing cert generations: %w", err)
	}
	for _, g := range gens {
		if filepath.Base(g) == keep {
			continue
		}
		if err := os.RemoveAll(g); err != nil {
			return fmt.Errorf("removing old cert generation: %w", err)
		}
	}
	return nil
}
