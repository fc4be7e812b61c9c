module github.com/meshailabs-org/meshai-mcp-server

go 1.26.0

require (
	github.com/mark3labs/mcp-go v1.2.1 // indirect
	github.com/tmaxmax/go-sse v0.12.0 // indirect
	golang.org/x/oauth2 v0.37.0 // indirect
)
