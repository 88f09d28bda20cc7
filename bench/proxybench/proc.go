package proxybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func runtimeGOMAXPROCS() int { return runtime.GOMAXPROCS(0) }

// command makes a subprocess in its own process group, so that it and its
// children (nginx's worker) can be killed together; ctx ending stops it.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 3 * time.Second
	return cmd
}

func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	// The group id is the child's pid (Setpgid); a negative pid signals
	// the whole group.
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", cmd.Process.Pid, err)
	}
	return nil
}

// daemon is a long-running subprocess.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  *limitedBuffer
	done chan struct{}
}

func startDaemon(name, path string, args, env []string) (*daemon, error) {
	d := &daemon{name: name, out: &limitedBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(path, args...)
	if len(env) > 0 {
		d.cmd.Env = append(os.Environ(), env...)
	}
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		defer close(d.done)
		_ = d.cmd.Wait() // its exit status says nothing once we stopped it
	}()
	return d, nil
}

// stop ends the process group: SIGTERM, then SIGKILL after 5 s.
func (d *daemon) stop() {
	_ = killGroup(d.cmd, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = killGroup(d.cmd, syscall.SIGKILL)
		<-d.done
	}
	// A worker that outlived its master.
	_ = killGroup(d.cmd, syscall.SIGKILL)
}

// waitReady polls url until it answers 200, the process exits, ctx ends or
// 10 s pass.
func (d *daemon) waitReady(ctx context.Context, url string, logs func() string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.done:
			return fmt.Errorf("%s exited at start: %s", d.name, logs())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w: %s", d.name, url, ctx.Err(), logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr returns a 127.0.0.1 address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startVigil runs the caller's vigil command with the placeholders filled,
// with GOMAXPROCS=procs in its environment when procs > 0. metrics is the
// address PlaceholderMetrics stands for.
func startVigil(ctx context.Context, argv []string, upstream string, procs int) (addr, metrics string, d *daemon, err error) {
	addr, err = freeAddr()
	if err != nil {
		return "", "", nil, err
	}
	metrics, err = freeAddr()
	if err != nil {
		return "", "", nil, err
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		a = strings.ReplaceAll(a, PlaceholderListen, addr)
		a = strings.ReplaceAll(a, PlaceholderMetrics, metrics)
		args[i] = strings.ReplaceAll(a, PlaceholderUpstream, upstream)
	}
	var env []string
	if procs > 0 {
		env = []string{"GOMAXPROCS=" + strconv.Itoa(procs)}
	}
	d, err = startDaemon("vigil", args[0], args[1:], env)
	if err != nil {
		return "", "", nil, err
	}
	if err := d.waitReady(ctx, "http://"+addr+"/api/v2/products/42", func() string { return strings.TrimSpace(d.out.String()) }); err != nil {
		d.stop()
		return "", "", nil, err
	}
	return addr, metrics, d, nil
}

// cpuTicks is the user and system time, in clock ticks, of every process
// in the process group pgid (a daemon and its children, such as nginx's
// worker). It is 0 where /proc is not there.
func cpuTicks(pgid int) int64 {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum int64
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name, in parentheses, may hold spaces: fields
		// start after its closing one (pgrp is field 5, utime 14, stime 15).
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		if pg, _ := strconv.Atoi(f[2]); pg != pgid {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		sum += u + st
	}
	return sum
}

// clockTick is the length of a clock tick of /proc/PID/stat: USER_HZ,
// 100 on every Linux this runs on.
const clockTick = 10 * time.Millisecond

// scrapeCounter reads one counter of a Prometheus text exposition at url;
// ok is false when it cannot.
func scrapeCounter(ctx context.Context, url, name string) (v float64, ok bool) {
	if url == "" {
		return 0, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, found := strings.CutPrefix(line, name+" "); found {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// nginxConf is a reverse proxy with one worker and a keep-alive pool to the
// upstream, logging only errors, all files under the temp dir; its fifth
// argument adds directives to the location (nginxForwarded).
const nginxConf = `%s
worker_processes 1;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    upstream backend {
        server %[3]s;
        keepalive 64;
    }
    server {
        listen %[4]s;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";%[5]s
        }
    }
}
`

// nginxForwarded makes nginx send the upstream the headers vigil proxy adds
// to every request by default (docs/proxy.md): the client address in
// X-Forwarded-For (replacing the client's own, as vigil does), the Host and
// scheme the client used, and a request id. Target TargetNginxFwd.
const nginxForwarded = `
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-Id $request_id;`

// startNginx starts nginx as a reverse proxy to upstreamAddr in its own
// directory under dir; forwarded adds nginxForwarded.
func startNginx(ctx context.Context, path, dir, upstreamAddr string, forwarded bool) (addr string, d *daemon, err error) {
	addr, err = freeAddr()
	if err != nil {
		return "", nil, err
	}
	userLine := ""
	if os.Geteuid() == 0 {
		// As root the worker drops to this user; nginx's own default
		// group "nobody" does not exist on Debian.
		group := "nogroup"
		if _, err := user.LookupGroup(group); err != nil {
			group = "nobody"
		}
		userLine = "user nobody " + group + ";"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("nginx dir: %w", err)
	}
	extra := ""
	if forwarded {
		extra = nginxForwarded
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, userLine, dir, upstreamAddr, addr, extra)), 0o644); err != nil {
		return "", nil, fmt.Errorf("write nginx config: %w", err)
	}
	errLog := filepath.Join(dir, "error.log")
	d, err = startDaemon("nginx", path, []string{"-p", dir, "-e", errLog, "-c", conf}, nil)
	if err != nil {
		return "", nil, err
	}
	logs := func() string {
		b, _ := os.ReadFile(errLog)
		return strings.TrimSpace(d.out.String() + " " + string(b))
	}
	if err := d.waitReady(ctx, "http://"+addr+"/api/v2/products/42", logs); err != nil {
		d.stop()
		return "", nil, err
	}
	return addr, d, nil
}
