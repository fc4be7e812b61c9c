package clientconfig

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// linkEntry is the entry the install links carry: the one a machine of any OS runs (npx, MeshAI's endpoint, no
// API key: the bridge signs in with OAuth, or the user adds the key in the client afterwards).
func linkEntry() Entry { return NewEntry(EntryOptions{}) }

// CursorLink is Cursor's install link for the entry (cursor.com/docs/mcp/install-links):
// cursor://anysphere.cursor-deeplink/mcp/install?name=NAME&config=BASE64(JSON of the server's configuration).
func CursorLink() string {
	return "cursor://anysphere.cursor-deeplink/mcp/install?" + cursorQuery()
}

// CursorWebLink is the https form of CursorLink, for pages (such as a README on GitHub) that drop links of other
// schemes: cursor.com opens Cursor with the same name and configuration.
func CursorWebLink() string { return "https://cursor.com/en/install-mcp?" + cursorQuery() }

// cursorQuery is the query both Cursor links carry.
func cursorQuery() string {
	b, _ := json.Marshal(linkEntry()) // an Entry always marshals
	return "name=" + Name + "&config=" + encodeURIComponent(base64.StdEncoding.EncodeToString(b))
}

// VSCodeLink is VS Code's install link for the entry (code.visualstudio.com/docs/copilot/guides/
// mcp-developer-guide, "MCP URL handler"): vscode:mcp/install?URL-ENCODED(JSON of name and configuration), the
// object that VS Code's command line option add-mcp takes.
func VSCodeLink() string {
	e := linkEntry()
	b, _ := json.Marshal(struct {
		Name string `json:"name"`
		Entry
	}{Name, e})
	return "vscode:mcp/install?" + encodeURIComponent(string(b))
}

// VSCodeWebLink is the https form of VSCodeLink, for GitHub, which does not link vscode: URLs: VS Code's own
// redirect page opens the link it is given.
func VSCodeWebLink() string {
	return "https://insiders.vscode.dev/redirect?url=" + encodeURIComponent(VSCodeLink())
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent does, the escaping the clients' own link
// generators use.
func encodeURIComponent(s string) string {
	r := strings.NewReplacer("+", "%20", "%21", "!", "%27", "'", "%28", "(", "%29", ")", "%2A", "*")
	return r.Replace(url.QueryEscape(s))
}

// ReadmeLinks is the Markdown of README's install buttons, generated from the entry (scripts/install-links).
func ReadmeLinks() string {
	return "[![Add to Cursor](https://cursor.com/deeplink/mcp-install-dark.svg)](" + CursorWebLink() + ")\n" +
		"[![Install in VS Code](https://img.shields.io/badge/VS_Code-Install_MeshAI-0098FF?logo=visualstudiocode&logoColor=white)](" + VSCodeWebLink() + ")\n" +
		"\n" +
		"The same links without the web redirect: [Cursor](" + CursorLink() + "), [VS Code](" + VSCodeLink() + ").\n"
}
