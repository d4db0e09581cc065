package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/ecoute/ecoute/backend"
	"github.com/ecoute/ecoute/backend/core"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/sshserve"
)

// Remote review over SSH: `ecouted serve --ssh-listen ADDR` serves the
// console over SSH next to gRPC, off unless asked. It lives in ecouted so
// that the backend itself checks keys and passwords (core), with the
// console logins' throttling and the audit trail, and no other process
// has to be trusted to say who logged in; each session's console dials
// this server's own gRPC listener with the session's token, like any
// console.

// sshOptions are serve's --ssh-* flags.
type sshOptions struct {
	listen, hostKey, companion, userCA string
	idle, limit                        time.Duration
	max, perAccount                    int
}

func (o *sshOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.listen, "ssh-listen", "", "also serve the console over SSH on this address, e.g. :2222 (off when empty)")
	fs.StringVar(&o.hostKey, "ssh-host-key", "", "SSH host key, made on first start (default DIR/ssh/host_ed25519)")
	fs.DurationVar(&o.idle, "ssh-idle-timeout", sshserve.DefaultIdleTimeout,
		fmt.Sprintf("close an SSH session this long after its last key press (%v to %v)", sshserve.MinIdleTimeout, sshserve.MaxIdleTimeout))
	fs.DurationVar(&o.limit, "ssh-session-limit", sshserve.DefaultSessionLimit,
		fmt.Sprintf("close an SSH session this long after it opened (%v to %v)", sshserve.MinSessionLimit, sshserve.MaxSessionLimit))
	fs.IntVar(&o.max, "ssh-max-sessions", sshserve.DefaultMaxSessions, "SSH sessions open at once, at most")
	fs.IntVar(&o.perAccount, "ssh-sessions-per-account", sshserve.DefaultPerAccount, "SSH sessions of one account open at once, at most")
	fs.StringVar(&o.companion, "ssh-companion-server", "", "address reviewers' companions dial (ecoute listen --server ADDR); default: the address their SSH client reached, with the gRPC port")
	fs.StringVar(&o.userCA, "ssh-user-ca", "", "file of organisation CA public keys (authorized_keys format) whose user certificates, naming the login, replace a registered key")
}

// startSSH starts the SSH server; stop ends its sessions (each told why)
// and waits for them.
func startSSH(ctx context.Context, app *backend.App, data string, o sshOptions, grpcAddr net.Addr, insecure bool,
	log *slog.Logger, stderr io.Writer) (stop func(), err error) {
	if o.hostKey == "" {
		o.hostKey = filepath.Join(data, "ssh", "host_ed25519")
	}
	cfg := sshserve.Config{HostKeyFile: o.hostKey, Auth: sshAuth{app.Core()}, Backend: loopbackOf(grpcAddr),
		Insecure: insecure, CompanionServer: o.companion, IdleTimeout: o.idle, SessionLimit: o.limit,
		MaxSessions: o.max, PerAccount: o.perAccount, DraftDir: filepath.Join(data, "ssh", "drafts"), Log: log}
	if !insecure {
		if cfg.CAPEM, err = app.CACertPEM(); err != nil {
			return nil, err
		}
	}
	if o.userCA != "" {
		if cfg.UserCAKeys, err = readCAKeys(o.userCA); err != nil {
			return nil, err
		}
	}
	srv, err := sshserve.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	lis, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fmt.Errorf("serve: ssh: %w", err)
	}
	fp := gossh.FingerprintSHA256(srv.HostKey())
	fmt.Fprintf(stderr, "ssh listening on %s (host key %s)\n", lis.Addr(), fp)
	log.Info("serving ssh", "addr", lis.Addr().String(), "host_key", fp, "idle_timeout", o.idle, "session_limit", o.limit)
	done := make(chan struct{})
	go func() {
		if err := srv.Serve(lis); err != nil {
			log.Error("ssh", "err", err)
		}
		close(done)
	}()
	stopped := make(chan struct{})
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
		close(stopped)
	}()
	return func() { <-stopped }, nil
}

// loopbackOf is the address this process's consoles dial: the listener's,
// on loopback when it listens on every address.
func loopbackOf(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// readCAKeys reads the organisation's CA public keys.
func readCAKeys(path string) ([]gossh.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ssh user CA: %w", err)
	}
	var keys []gossh.PublicKey
	for len(strings.TrimSpace(string(b))) > 0 {
		k, _, _, rest, err := gossh.ParseAuthorizedKey(b)
		if err != nil {
			return nil, fmt.Errorf("ssh user CA %s: %w", path, err)
		}
		keys = append(keys, k)
		b = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("ssh user CA %s: no key", path)
	}
	return keys, nil
}

// sshAuth answers the SSH server from the front door.
type sshAuth struct{ core *core.Backend }

func (a sshAuth) KeyAllowed(ctx context.Context, login, fingerprint string) (bool, error) {
	return a.core.SSHKeyOwned(ctx, login, fingerprint)
}

func (a sshAuth) Login(ctx context.Context, at sshserve.Attempt) (sshserve.Identity, error) {
	se, err := a.core.SSHLogin(ctx, core.SSHAttempt{Login: at.Login, Password: at.Password, Fingerprint: at.Fingerprint,
		Certificate: at.Certificate, Source: at.Source, Client: at.Client})
	if err != nil {
		return sshserve.Identity{}, loginError(err)
	}
	return sshserve.Identity{UserID: se.User.ID, Login: se.User.Login, Role: se.User.Role, Token: se.Token,
		PasswordChangeRequired: se.User.PasswordChangeRequired}, nil
}

// loginError says why the front door refused a login, in the SSH
// server's terms.
func loginError(err error) *sshserve.LoginError {
	le := &sshserve.LoginError{Kind: sshserve.Failed, Err: err}
	switch domain.ReasonOf(err) {
	case domain.ReasonBadCredentials:
		le.Kind = sshserve.BadPassword
	case domain.ReasonAccountLocked:
		le.Kind = sshserve.Locked
		var de *domain.Error
		if errors.As(err, &de) {
			le.Until, _ = time.Parse(time.RFC3339, de.Meta[domain.MetaLockedUntil])
		}
	case domain.ReasonAccountDisabled:
		le.Kind = sshserve.Disabled
	}
	return le
}

func (a sshAuth) Refused(ctx context.Context, login, source, step, client string) {
	a.core.SSHRefused(ctx, login, source, step, client)
}

func (a sshAuth) Ended(ctx context.Context, id sshserve.Identity, source, reason string, started time.Time) {
	_ = a.core.SSHSessionEnded(ctx, core.SSHEnd{User: domain.User{ID: id.UserID, Login: id.Login, Role: id.Role},
		Token: id.Token, Source: source, Reason: reason, Started: started})
}
