package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/meshailabs-org/meshai-mcp-server/internal/secrets"
)

// LogFileName is the log file kept in the config directory.
const LogFileName = "meshai-mcp-server.log"

// Log file limits: the file is rotated to .1 (and .1 to .2, …) when a write would take it past maxLogBytes, so
// the log never takes more than (logBackups+1) × maxLogBytes.
const (
	maxLogBytes = 5 << 20
	logBackups  = 2
)

// openLog returns a logger that writes to stderr (unless silent) and to the log file in dir, and a func that
// closes the file. When the file cannot be opened the logger says so and uses stderr alone: logging never stops
// the bridge.
func openLog(dir string, debug, silent bool, stderr io.Writer) (*slog.Logger, func()) {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if silent {
		stderr = io.Discard
	}
	stderr = secrets.Writer(stderr) // a log line may quote a server (with --debug, its WWW-Authenticate and Location)
	f, err := openRotating(filepath.Join(dir, LogFileName), maxLogBytes, logBackups)
	if err != nil {
		l := slog.New(slog.NewTextHandler(stderr, opts))
		l.Warn("no log file; logging to stderr only", "err", err)
		return l, func() {}
	}
	return slog.New(slog.NewTextHandler(io.MultiWriter(stderr, secrets.Writer(f)), opts)), func() { f.Close() }
}

// openConfigLog is openLog for cfg, with the line about a config directory moved at start (settleConfigDir).
func openConfigLog(cfg Config, stderr io.Writer) (*slog.Logger, func()) {
	log, closeLog := openLog(cfg.ConfigDir, cfg.Debug, cfg.Silent, stderr)
	if cfg.dirNote != "" {
		log.Info(cfg.dirNote)
	}
	return log, closeLog
}

// rotating is a log file that rotates itself by size. Several bridges may append to the same file: each checks
// the size it sees, and a rotation by one shows up to the others at their next rotation check.
type rotating struct {
	mu      sync.Mutex
	path    string
	max     int64
	backups int
	f       *os.File
	size    int64
}

func openRotating(path string, max int64, backups int) (*rotating, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("config dir: %w", err)
	}
	r := &rotating{path: path, max: max, backups: backups}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotating) open() error {
	f, err := openLogFile(r.path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its limit.
func (r *rotating) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	if r.size+int64(len(p)) > r.max {
		if st, err := os.Stat(r.path); err == nil && st.Size()+int64(len(p)) > r.max {
			r.rotate()
		} else if err == nil { // another process rotated it meanwhile
			r.f.Close()
			if err := r.open(); err != nil {
				return 0, err
			}
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

// rotate shifts path.1 … path.N up by one, moves the file to path.1 and starts a new one.
func (r *rotating) rotate() {
	r.f.Close()
	for i := r.backups; i > 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", r.path, i-1), fmt.Sprintf("%s.%d", r.path, i))
	}
	_ = os.Rename(r.path, r.path+".1")
	if err := r.open(); err != nil {
		r.f = nil
	}
}

// Close closes the file.
func (r *rotating) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
