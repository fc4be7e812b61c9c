package bridge

import (
	"strings"
	"testing"

	"github.com/meshailabs-org/meshai-mcp-server/internal/membudget"
)

// A line that does not fit (over the one-message limit, or beside what the budget holds already) gets an
// Invalid Request error under its id when its start shows one, the lines after it are relayed, and the budget
// is whole again at the end.
func TestLinesOverTheBudget(t *testing.T) {
	big := `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"x":"` + strings.Repeat("a", 200<<10) + `"}}`
	tests := []struct {
		name    string
		line    string
		held    int64 // taken from the budget by someone else meanwhile
		wantID  any
		wantMsg string
	}{
		{"over the limit for one message, id first", big, 0, float64(41), "over the bridge's limit of 128 KiB for one message; raise it"},
		{"over the limit, id behind the large params", `{"jsonrpc":"2.0","params":{"x":"` + strings.Repeat("a", 200<<10) + `"},"id":9,"method":"m"}`,
			0, nil, "over the bridge's limit"},
		{"no room beside the messages held", `{"jsonrpc":"2.0","id":"q","method":"m","params":{"x":"` + strings.Repeat("a", 100<<10) + `"}}`,
			200 << 10, "q", "did not fit in the bridge's memory for messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			budget := membudget.New(256 << 10)
			budget.Take(tt.held)
			in := tt.line + "\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n"
			msgs, _ := runRelay(t, &Relay{Budget: budget, LimitAdvice: "raise it"}, in)
			if len(msgs) != 2 {
				t.Fatalf("got %d answers: %v", len(msgs), msgs)
			}
			e, _ := msgs[0]["error"].(map[string]any)
			if e == nil || e["code"] != float64(-32600) || msgs[0]["id"] != tt.wantID || !strings.Contains(e["message"].(string), tt.wantMsg) {
				t.Errorf("answer to the line: %v", msgs[0])
			}
			if msgs[1]["id"] != float64(2) || msgs[1]["result"] == nil {
				t.Errorf("the next line: %v", msgs[1])
			}
			if h := budget.Held(); h != tt.held {
				t.Errorf("the budget holds %d after the lines, want %d", h, tt.held)
			}
		})
	}
}
