package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshailabs-org/meshai-mcp-server/internal/jsonrpc"
)

// Line is one line of the bridge's stdout and when it was read.
type Line struct {
	B  []byte
	At time.Time
}

// Proc is a bridge process driven over its stdio, as a desktop client would.
type Proc struct {
	Cmd    *exec.Cmd
	Start  time.Time // just before the process was started
	stdin  io.WriteCloser
	wmu    sync.Mutex
	lines  chan Line
	stderr *tail
	done   chan struct{}
}

// StartProc starts argv with env (added to this process's) and reads its stdout, line by line.
func StartProc(env []string, argv ...string) (*Proc, error) { return StartProcIn("", env, argv...) }

// StartProcIn is StartProc in the working directory dir ("" for this process's).
func StartProcIn(dir string, env []string, argv ...string) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, stdin: stdin, lines: make(chan Line, 4096), stderr: &tail{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	p.Start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		defer close(p.lines)
		br := bufio.NewReaderSize(stdout, 1<<20)
		for {
			b, err := br.ReadBytes('\n')
			if len(b) > 0 {
				p.lines <- Line{B: b, At: time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	return p, nil
}

// Send writes one message and a newline to the bridge's stdin.
func (p *Proc) Send(msg []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	buf := make([]byte, 0, len(msg)+1)
	buf = append(append(buf, msg...), '\n')
	_, err := p.stdin.Write(buf)
	return err
}

// Lines is the bridge's stdout, one message per line.
func (p *Proc) Lines() <-chan Line { return p.lines }

// Until reads lines until the answer to id (a number), or fails after timeout.
func (p *Proc) Until(id int, timeout time.Duration) (Line, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return Line{}, fmt.Errorf("stdout closed before the answer to %d; stderr: %s", id, p.Stderr())
			}
			if AnswerID(l.B) == id {
				return l, nil
			}
		case <-t.C:
			return Line{}, fmt.Errorf("no answer to %d within %s; stderr: %s", id, timeout, p.Stderr())
		}
	}
}

// Stop closes stdin and waits for the process to exit, killing it after a grace period.
func (p *Proc) Stop() {
	p.stdin.Close()
	exited := make(chan struct{})
	go func() { _ = p.Cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-exited
	}
}

// Kill ends the process at once.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
}

// Stderr is the end of what the process wrote to stderr.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Memory reads VmHWM (peak RSS) and VmRSS of the process, in KiB, from /proc.
func (p *Proc) Memory() (Mem, error) { return procMemory(p.Cmd.Process.Pid) }

// Mem is a process's memory from /proc/PID/status, in KiB: peak and current resident set, and the current one
// split into anonymous memory (heap, stacks) and file pages (the mapped binary).
type Mem struct{ HWM, RSS, Anon, File int }

func procMemory(pid int) (Mem, error) {
	var m Mem
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	fields := map[string]*int{"VmHWM:": &m.HWM, "VmRSS:": &m.RSS, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && fields[f[0]] != nil {
			*fields[f[0]], _ = strconv.Atoi(f[1])
		}
	}
	if m.HWM == 0 {
		return m, errors.New("no VmHWM in /proc status")
	}
	return m, nil
}

// tail keeps the last 64 KiB written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 64<<10 {
		t.b = append([]byte(nil), t.b[len(t.b)-32<<10:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// AnswerID reads a message with jsonrpc.Parse, as the bridge does: the numeric id of a response, or -1 for
// anything else (notifications, server requests, other ids).
func AnswerID(b []byte) int {
	m, err := jsonrpc.Parse(b)
	if err != nil || m.Kind != jsonrpc.KindResponse {
		return -1
	}
	n, err := strconv.Atoi(string(m.ID))
	if err != nil {
		return -1
	}
	return n
}
