package credstore

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// Grant is the tokens of one sign-in in a Store, read and saved as oauth2 tokens (it is an auth.Source's
// TokenStore): the scope and the lifetime they were issued with are kept with them.
type Grant struct {
	Store    Store
	Resource string       // the server
	Record   SignInRecord // the sign-in: its client's tokens are the ones read and saved
	// KeepRecord: saving tokens saves Record again when the store no longer has a sign-in (a deleted config dir),
	// so the next start finds them.
	KeepRecord bool
	Log        func(msg string, args ...any) // optional: where damaged tokens and a lost record are reported
}

func (g *Grant) logf(msg string, args ...any) {
	if g.Log != nil {
		g.Log(msg, args...)
	}
}

func (g *Grant) key() string { return tokensKey(g.Resource, &g.Record.Registration) }

// Lock takes the cross-process lock for these tokens in <configDir>/locks, so that one process refreshes them at
// a time (see LockSignIn).
func (g *Grant) Lock(ctx context.Context, configDir string) (unlock func(), err error) {
	return lock(ctx, configDir, g.key(), nil)
}

// LoadToken reads the tokens; tokens that cannot be read (a damaged file, a hand edit) count as none, so the next
// refusal starts a sign-in that replaces them.
func (g *Grant) LoadToken(ctx context.Context) (*oauth2.Token, error) {
	t, err := loadTokens(ctx, g.Store, g.key())
	if errors.Is(err, ErrUnreadable) {
		g.logf("the stored tokens cannot be read; counting them as none", "err", err)
		return nil, nil
	}
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer", Expiry: t.Expiry,
		ExpiresIn: t.ExpiresIn}, nil
}

// SaveToken keeps t, with the scope it was granted (the scope kept before when the answer named none).
func (g *Grant) SaveToken(ctx context.Context, t *oauth2.Token) error {
	old, _ := loadTokens(ctx, g.Store, g.key())
	scope := ""
	if old != nil {
		scope = old.Scope
	}
	if v, ok := t.Extra("scope").(string); ok && v != "" {
		scope = v
	}
	if err := saveTokens(ctx, g.Store, g.key(), &Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		TokenType: "Bearer", Expiry: t.Expiry, ExpiresIn: t.ExpiresIn, Scope: scope}); err != nil {
		return err
	}
	if g.KeepRecord {
		return g.keepRecord(ctx)
	}
	return nil
}

// keepRecord saves the record again when the store no longer has one: the tokens just saved are then found by the
// next start too.
func (g *Grant) keepRecord(ctx context.Context) error {
	if _, err := g.Store.Get(ctx, recordName(g.Resource)); !errors.Is(err, ErrNotFound) {
		return nil
	}
	g.logf("the store had lost this server's sign-in record; saving it again")
	return SaveSignIn(ctx, g.Store, g.Resource, &g.Record)
}
