package remote

import (
	"encoding/json"
	"slices"
)

// isResult reports whether a response carries a result rather than an error.
func isResult(raw []byte) bool {
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	return json.Unmarshal(raw, &r) == nil && len(r.Result) > 0 && string(r.Result) != "null"
}

// negotiatedVersion reads result.protocolVersion from an initialize answer.
func negotiatedVersion(raw []byte, old string) string {
	var r struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if json.Unmarshal(raw, &r) == nil && r.Result.ProtocolVersion != "" {
		return r.Result.ProtocolVersion
	}
	return old
}

// discoveredVersion is the version a server/discover request settled (protocol 2026-07-28, which has no
// initialize): the one the request named in its _meta, when the server answered with a result that lists it
// among its supportedVersions (or lists none).
func discoveredVersion(params json.RawMessage, raw []byte, old string) string {
	var r struct {
		Result *struct {
			SupportedVersions []string `json:"supportedVersions"`
		} `json:"result"`
	}
	v := metaVersion(params)
	if v == "" || json.Unmarshal(raw, &r) != nil || r.Result == nil {
		return old
	}
	if len(r.Result.SupportedVersions) > 0 && !slices.Contains(r.Result.SupportedVersions, v) {
		return old
	}
	return v
}
