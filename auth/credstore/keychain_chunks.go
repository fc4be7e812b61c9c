package credstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// How a value is laid out in the keychain. Every item holds at most keychainItemMax bytes, below the Windows
// Credential Manager limit (2560) and macOS's (~3 KB once go-keyring has base64-encoded it into a command line).
//
//	small value:  <name>            = "m1:" + base64(value)
//	large value:  <name>            = "m1c:<slot>:<n>:<sum>"   (head, written last)
//	              <name>#<slot><i>  = i-th piece of base64(value), i = 1..n
//
// slot alternates between "a" and "b" on every large write, so the old chunks stay readable until the new head
// points at the new ones; sum (16 hex of SHA-256 of the value) catches a reader that raced a writer.
const (
	keychainItemMax  = 2000
	keychainValueMax = 64 << 10
	keychainMaxParts = (keychainValueMax*4/3)/keychainItemMax + 2
	inlinePrefix     = "m1:"
	headPrefix       = "m1c:"
)

// chunkHead is the parsed head of a large value; n == 0 means the value was inline (or absent).
type chunkHead struct {
	slot string
	n    int
	sum  string
}

func parseHead(item string) (chunkHead, bool) {
	f := strings.Split(strings.TrimPrefix(item, headPrefix), ":")
	if !strings.HasPrefix(item, headPrefix) || len(f) != 3 || (f[0] != "a" && f[0] != "b") {
		return chunkHead{}, false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || n > keychainMaxParts {
		return chunkHead{}, false
	}
	return chunkHead{slot: f[0], n: n, sum: f[2]}, true
}

func valueSum(v []byte) string {
	s := sha256.Sum256(v)
	return hex.EncodeToString(s[:8])
}

func chunkName(name, slot string, i int) string { return name + "#" + slot + strconv.Itoa(i) }

// Get returns the value stored under name, reassembling chunks.
func (k *keychainStore) Get(ctx context.Context, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var err error
	for range 3 { // a concurrent writer may switch slots between our reads: start over from the head
		var v []byte
		if v, err = k.getOnce(ctx, name); err == nil || !errors.Is(err, errTornValue) {
			return v, err
		}
	}
	return nil, fmt.Errorf("OS keychain: %s is incomplete or damaged: %w", name, ErrUnreadable)
}

var errTornValue = errors.New("torn value")

func (k *keychainStore) getOnce(ctx context.Context, name string) ([]byte, error) {
	item, err := k.getItem(ctx, name)
	if err != nil {
		return nil, err
	}
	if enc, ok := strings.CutPrefix(item, inlinePrefix); ok {
		v, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("OS keychain: %s is damaged: %w", name, ErrUnreadable)
		}
		return v, nil
	}
	h, ok := parseHead(item)
	if !ok {
		return nil, fmt.Errorf("OS keychain: %s is in a format this version does not know: update meshai-mcp-server, or sign in again", name)
	}
	var b strings.Builder
	for i := 1; i <= h.n; i++ {
		part, err := k.getItem(ctx, chunkName(name, h.slot, i))
		if errors.Is(err, ErrNotFound) {
			return nil, errTornValue
		} else if err != nil {
			return nil, err
		}
		b.WriteString(part)
	}
	v, err := base64.StdEncoding.DecodeString(b.String())
	if err != nil || valueSum(v) != h.sum {
		return nil, errTornValue
	}
	return v, nil
}

// Set stores value under name. A large value is written chunks first, head last, then the previous chunks go.
func (k *keychainStore) Set(ctx context.Context, name string, value []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if len(value) > keychainValueMax {
		return fmt.Errorf("OS keychain: %s: %d bytes is more than the %d a keychain entry may hold", name, len(value), keychainValueMax)
	}
	old, err := k.head(ctx, name)
	if err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(value)
	if len(inlinePrefix)+len(enc) <= keychainItemMax {
		if err := k.setItem(ctx, name, inlinePrefix+enc); err != nil {
			return err
		}
		return k.deleteChunks(ctx, name, old.slot, 1)
	}
	slot := "a"
	if old.slot == "a" {
		slot = "b"
	}
	n := 0
	for ; len(enc) > 0; n++ {
		part := enc[:min(keychainItemMax, len(enc))]
		enc = enc[len(part):]
		if err := k.setItem(ctx, chunkName(name, slot, n+1), part); err != nil {
			return err
		}
	}
	if err := k.deleteChunks(ctx, name, slot, n+1); err != nil { // left over from an earlier, longer write
		return err
	}
	if err := k.setItem(ctx, name, fmt.Sprintf("%s%s:%d:%s", headPrefix, slot, n, valueSum(value))); err != nil {
		return err
	}
	return k.deleteChunks(ctx, name, old.slot, 1)
}

// head reads the head of name; a missing or unknown one reads as an inline value.
func (k *keychainStore) head(ctx context.Context, name string) (chunkHead, error) {
	item, err := k.getItem(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return chunkHead{}, nil
	} else if err != nil {
		return chunkHead{}, err
	}
	h, _ := parseHead(item)
	return h, nil
}

// deleteChunks deletes name#<slot><from>, name#<slot><from+1>, … up to the first that is not there.
func (k *keychainStore) deleteChunks(ctx context.Context, name, slot string, from int) error {
	if slot == "" {
		return nil
	}
	for i := from; i <= keychainMaxParts+1; i++ {
		err := k.deleteItem(ctx, chunkName(name, slot, i))
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Delete removes name and all its chunks; a name that is not there is not an error.
func (k *keychainStore) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := k.deleteItem(ctx, name); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	for _, slot := range []string{"a", "b"} {
		if err := k.deleteChunks(ctx, name, slot, 1); err != nil {
			return err
		}
	}
	return nil
}
