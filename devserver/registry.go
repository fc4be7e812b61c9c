package devserver

import (
	"slices"
	"sort"
	"strings"
)

// Agent is one agent in the MeshAI registry.
type Agent struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Framework    string   `json:"framework"`
	Capabilities []string `json:"capabilities"`
	Description  string   `json:"description"`
}

// doc is a short MeshAI documentation page served by search and fetch.
type doc struct {
	ID    string
	Slug  string
	Title string
	Text  string
}

// agents is the fixed registry the reference server orchestrates.
var agents = []Agent{
	{ID: "research-analyst", Name: "Research Analyst", Framework: "langchain",
		Capabilities: []string{"research", "web-search", "summarization"},
		Description:  "LangChain agent that gathers sources, cross-checks facts and writes cited summaries."},
	{ID: "code-reviewer", Name: "Code Reviewer", Framework: "autogen",
		Capabilities: []string{"code-review", "static-analysis", "python"},
		Description:  "AutoGen agent pair that reviews pull requests, flags defects and proposes patches."},
	{ID: "knowledge-retriever", Name: "Knowledge Retriever", Framework: "llamaindex",
		Capabilities: []string{"retrieval", "rag", "indexing"},
		Description:  "LlamaIndex agent that indexes document collections and answers with retrieved passages."},
	{ID: "content-writer", Name: "Content Writer", Framework: "crewai",
		Capabilities: []string{"writing", "editing", "summarization"},
		Description:  "CrewAI crew member that drafts, edits and polishes long-form content."},
	{ID: "qa-engineer", Name: "QA Engineer", Framework: "crewai",
		Capabilities: []string{"testing", "code-review"},
		Description:  "CrewAI crew member that writes test plans and checks results against acceptance criteria."},
	{ID: "workflow-planner", Name: "Workflow Planner", Framework: "semantic-kernel",
		Capabilities: []string{"planning", "orchestration"},
		Description:  "Semantic Kernel planner that decomposes goals into steps and assigns them to agents."},
	{ID: "support-triage", Name: "Support Triage", Framework: "langchain",
		Capabilities: []string{"conversation", "classification", "knowledge-base"},
		Description:  "LangChain agent that classifies support tickets and drafts first responses."},
	{ID: "financial-analyst", Name: "Financial Analyst", Framework: "autogen",
		Capabilities: []string{"data-analysis", "forecasting", "financial-analysis"},
		Description:  "AutoGen agent that analyses tabular data, builds forecasts and explains variances."},
}

// docs are the short documentation pages that search and fetch cover.
var docs = []doc{
	{ID: "doc-quickstart", Slug: "quickstart", Title: "MeshAI quickstart",
		Text: "Connect an MCP client to MeshAI, call list_agents to see the registry, then mesh_execute " +
			"to run a task across agents from LangChain, CrewAI, AutoGen, LlamaIndex and Semantic Kernel."},
	{ID: "doc-workflows", Slug: "workflows", Title: "Workflow types",
		Text: "MeshAI runs sequential workflows (each agent builds on the previous output), parallel workflows " +
			"(agents work at once and results are merged) and hierarchical workflows (a planner delegates to workers). " +
			"Submit one with submit_workflow and approve it with approve_workflow."},
	{ID: "doc-routing", Slug: "routing", Title: "Capability routing",
		Text: "When mesh_execute gets capabilities instead of agent ids, MeshAI routes the task to every agent " +
			"that offers one of them, whatever framework the agent is built with."},
	{ID: "doc-progress", Slug: "progress", Title: "Progress and cancellation",
		Text: "Long tasks report progress after each step when the request carries a progress token. " +
			"Cancel a task with notifications/cancelled; a dropped connection can resume its stream with Last-Event-ID."},
}

// quickstartMarkdown is the text of the meshai://docs/quickstart resource.
const quickstartMarkdown = `# MeshAI quickstart

MeshAI orchestrates AI agents built with LangChain, CrewAI, AutoGen, LlamaIndex and Semantic Kernel
behind one MCP server.

1. Call ` + "`list_agents`" + ` to browse the registry, optionally filtered by capability or framework.
2. Call ` + "`mesh_execute`" + ` with a task; MeshAI picks agents by capability and reports progress per step.
3. For multi-stage work, ` + "`submit_workflow`" + ` (sequential, parallel or hierarchical) and
   ` + "`approve_workflow`" + ` once a human has reviewed it.

Each agent is also readable as a resource: ` + "`meshai://agents/{agent_id}`" + `.
`

// agentURI is the resource URI of an agent.
func agentURI(id string) string { return "meshai://agents/" + id }

// docURI is the citation URL of a documentation page.
func docURI(slug string) string { return "meshai://docs/" + slug }

// findAgent returns the agent with the given id.
func findAgent(id string) (Agent, bool) {
	for _, a := range agents {
		if a.ID == id {
			return a, true
		}
	}
	return Agent{}, false
}

// normalize folds case and separators so "Semantic Kernel" matches "semantic-kernel".
func normalize(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// filterAgents returns the agents of framework (any when empty) that offer every capability listed.
func filterAgents(capabilities []string, framework string) []Agent {
	out := []Agent{}
	for _, a := range agents {
		if framework != "" && normalize(a.Framework) != normalize(framework) {
			continue
		}
		if !hasAll(a, capabilities) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// hasAll reports whether a offers every capability in want.
func hasAll(a Agent, want []string) bool {
	for _, c := range want {
		if !slices.ContainsFunc(a.Capabilities, func(have string) bool { return normalize(have) == normalize(c) }) {
			return false
		}
	}
	return true
}

// hasAny reports whether a offers at least one capability in want.
func hasAny(a Agent, want []string) bool {
	for _, c := range want {
		if hasAll(a, []string{c}) {
			return true
		}
	}
	return false
}

// searchHit is one search result in the OpenAI search/fetch shape.
type searchHit struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
	score int
}

// document is a fetched item in the OpenAI search/fetch shape.
type document struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	URL   string `json:"url"`
}

// agentText is the searchable text of an agent.
func agentText(a Agent) string {
	return a.Description + " Framework: " + a.Framework + ". Capabilities: " + strings.Join(a.Capabilities, ", ") + "."
}

// searchAll scores every agent and doc by how many query words it contains, best first.
func searchAll(query string) []searchHit {
	words := strings.Fields(strings.ToLower(query))
	hits := []searchHit{}
	add := func(id, title, text, url string) {
		hay := strings.ToLower(id + " " + title + " " + text)
		score := 0
		for _, w := range words {
			if strings.Contains(hay, w) {
				score++
			}
		}
		if score > 0 {
			hits = append(hits, searchHit{ID: id, Title: title, URL: url, score: score})
		}
	}
	for _, a := range agents {
		add(a.ID, a.Name, agentText(a), agentURI(a.ID))
	}
	for _, d := range docs {
		add(d.ID, d.Title, d.Text, docURI(d.Slug))
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	return hits
}

// fetchDocument returns the agent or doc with the given id.
func fetchDocument(id string) (document, bool) {
	if a, ok := findAgent(id); ok {
		return document{ID: a.ID, Title: a.Name, Text: agentText(a), URL: agentURI(a.ID)}, true
	}
	for _, d := range docs {
		if d.ID == id {
			return document{ID: d.ID, Title: d.Title, Text: d.Text, URL: docURI(d.Slug)}, true
		}
	}
	return document{}, false
}
