package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// LogFileName is the log file kept in the config directory.
const LogFileName = "meshai-mcp-server.log"

// maxLogBytes is the size at which the log file is rotated to .1 at start-up.
const maxLogBytes = 5 << 20

// openLog returns a logger that writes to stderr and to the log file in dir, and a func that closes the file.
// When the file cannot be opened the logger says so and uses stderr alone: logging never stops the bridge.
func openLog(dir string, debug bool, stderr io.Writer) (*slog.Logger, func()) {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	f, err := openLogFile(dir)
	if err != nil {
		l := slog.New(slog.NewTextHandler(stderr, opts))
		l.Warn("no log file; logging to stderr only", "err", err)
		return l, func() {}
	}
	return slog.New(slog.NewTextHandler(io.MultiWriter(stderr, f), opts)), func() { f.Close() }
}

func openLogFile(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("config dir: %w", err)
	}
	path := filepath.Join(dir, LogFileName)
	if st, err := os.Stat(path); err == nil && st.Size() > maxLogBytes {
		_ = os.Rename(path, path+".1")
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}
