package remote

import (
	"encoding/json"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
)

// Protocol 2026-07-28 asks a client to mirror tool arguments annotated with x-mcp-header into Mcp-Param-*
// headers, so gateways can route on them. The bridge learns the annotations from the tools/list answers it
// relays and adds the headers to each tools/call.

// learnTools records the tools of a tools/list answer.
func (c *Client) learnTools(raw []byte) {
	var r struct {
		Result struct {
			Tools []mcp.Tool `json:"tools"`
		} `json:"result"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tools == nil {
		c.tools = map[string]*mcp.Tool{}
	}
	for i := range r.Result.Tools {
		t := &r.Result.Tools[i]
		if len(mcp.ExtractParamHeaderBindings(t)) > 0 {
			c.tools[t.Name] = t
		} else {
			delete(c.tools, t.Name)
		}
	}
}

// paramHeaders sets the Mcp-Param-* headers of a 2026-07-28 tools/call.
func (c *Client) paramHeaders(req *http.Request, name string, params json.RawMessage) {
	c.mu.Lock()
	t := c.tools[name]
	c.mu.Unlock()
	if t == nil {
		return
	}
	for k, v := range mcp.GenerateParamHeaders(t, params) {
		req.Header.Set(k, v)
	}
}
