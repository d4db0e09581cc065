// Package s3blobs keeps blobs in S3-compatible object storage. Blobs are
// sealed by blobs' own format (AES-256-GCM in 64 KiB chunks, one key per
// blob) before they leave the process, so the storage never sees a
// recording, and a range of the plaintext costs a ranged GET of only the
// chunks it overlaps.
//
// A blob being written is spooled, sealed, to a local file; Commit uploads
// it in one PUT (multipart beyond 64 MiB), which S3 makes visible whole or
// not at all. Credentials come from the environment (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, MINIO_ROOT_USER/MINIO_ROOT_PASSWORD, or the AWS
// credentials file), never from the configuration.
package s3blobs

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ecoute/ecoute/backend/blobs"
)

// Config says where the blobs go.
type Config struct {
	// Endpoint is host[:port] of the S3 service.
	Endpoint string
	Bucket   string
	// Prefix is prepended to every object name ("site-a/" keeps several
	// deployments in one bucket).
	Prefix string
	Region string
	// TLS is true unless tls=false was given.
	TLS bool
	// CAFile is a PEM file of extra certificate authorities to trust.
	CAFile string
	// PathStyle forces path-style requests (most on-premises servers).
	PathStyle bool
}

// ParseURL reads s3://bucket[/prefix]?endpoint=host:port[&region=…][&tls=false][&ca=FILE][&path_style=true].
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("blob storage %q: %w", raw, err)
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("blob storage %q: want s3://bucket[/prefix]?endpoint=host:port", raw)
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("blob storage %q: credentials do not belong in the configuration; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", u.Redacted())
	}
	q := u.Query()
	c := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"), Endpoint: q.Get("endpoint"), Region: q.Get("region"),
		TLS: true, CAFile: q.Get("ca"), PathStyle: true}
	if c.Bucket == "" {
		return Config{}, fmt.Errorf("blob storage %q: no bucket", raw)
	}
	if c.Endpoint == "" {
		return Config{}, fmt.Errorf("blob storage %q: no endpoint (add ?endpoint=host:port)", raw)
	}
	if c.Prefix != "" {
		c.Prefix += "/"
	}
	for name, dst := range map[string]*bool{"tls": &c.TLS, "path_style": &c.PathStyle} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("blob storage %q: %s=%q is not true or false", raw, name, v)
			}
			*dst = b
		}
	}
	for k := range q {
		switch k {
		case "endpoint", "region", "tls", "ca", "path_style":
		default:
			return Config{}, fmt.Errorf("blob storage %q: unknown parameter %q", raw, k)
		}
	}
	return c, nil
}

// String is the configuration as a URL, for messages.
func (c Config) String() string {
	return fmt.Sprintf("s3://%s/%s (endpoint %s)", c.Bucket, c.Prefix, c.Endpoint)
}

// Store keeps blobs as objects of one bucket.
type Store struct {
	cfg    Config
	client *minio.Client
	master []byte
	spool  string
	// ReadAhead is how many bytes one ranged GET fetches at least: a player
	// reading in order makes one request per ReadAhead.
	ReadAhead int64
}

// New connects to the bucket (which must exist) and checks that its blobs
// were sealed with master. spool is a local directory for blobs being
// written (created, mode 0700).
func New(ctx context.Context, cfg Config, master []byte, spool string) (*Store, error) {
	if len(master) != blobs.KeySize {
		return nil, fmt.Errorf("blob key: %d bytes, want %d", len(master), blobs.KeySize)
	}
	tr, err := minio.DefaultTransport(cfg.TLS)
	if err != nil {
		return nil, err
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("blob storage CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("blob storage CA %s: no PEM certificate", cfg.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{},
	})
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: cfg.TLS, Transport: tr,
		Region: cfg.Region, BucketLookup: lookup})
	if err != nil {
		return nil, fmt.Errorf("blob storage %s: %w", cfg, err)
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return nil, fmt.Errorf("blob spool: %w", err)
	}
	s := &Store{cfg: cfg, client: client, master: master, spool: spool, ReadAhead: 1 << 20}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob storage %s: %w", cfg, explain(err))
	}
	if !ok {
		return nil, fmt.Errorf("blob storage %s: the bucket %q does not exist (create it first)", cfg, cfg.Bucket)
	}
	if err := blobs.CheckKey(ctx, s, cfg.String()); err != nil {
		return nil, err
	}
	return s, nil
}

// explain turns the service's answers people meet at setup into advice.
func explain(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied":
		return fmt.Errorf("%w (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", err)
	}
	return err
}

func (s *Store) object(key string) (string, error) {
	if err := blobs.ValidKey(key); err != nil {
		return "", err
	}
	return s.cfg.Prefix + key, nil
}

// Put uploads the whole of r under key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return blobs.PutVia(ctx, s, key, r)
}

type pending struct {
	s         *Store
	key, name string
	tmp       *os.File
	seal      blobs.Sealer
	closed    bool
	committed bool
}

// Create starts a blob spooled to a local file.
func (s *Store) Create(key string) (blobs.Pending, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(s.spool, "blob-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	seal, err := blobs.NewSealer(tmp, s.master, key)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	return &pending{s: s, key: key, name: name, tmp: tmp, seal: seal}, nil
}

func (p *pending) Write(b []byte) (int, error) {
	if p.closed {
		return 0, fmt.Errorf("write %s: already sealed", p.key)
	}
	n, err := p.seal.Write(b)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", p.key, err)
	}
	return n, nil
}

func (p *pending) Size() int64 { return p.seal.Size() }

// Close seals the blob; the spool file needs no sync, Commit's upload is
// what makes it durable.
func (p *pending) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if err := p.seal.Close(); err != nil {
		return fmt.Errorf("seal %s: %w", p.key, err)
	}
	return nil
}

func (p *pending) Open() (blobs.Blob, error) {
	if !p.closed {
		return nil, fmt.Errorf("open %s: not sealed yet", p.key)
	}
	fh, err := os.Open(p.tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p.key, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", p.key, err)
	}
	b, err := blobs.OpenSealed(fh, fh, st.Size(), p.s.master, p.key)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", p.key, err)
	}
	return b, nil
}

// Commit uploads the sealed blob; S3 publishes an object whole or not at all.
func (p *pending) Commit(ctx context.Context) error {
	if !p.closed {
		return fmt.Errorf("commit %s: not sealed yet", p.key)
	}
	size, err := p.tmp.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("commit %s: %w", p.key, err)
	}
	if _, err := p.tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("commit %s: %w", p.key, err)
	}
	_, err = p.s.client.PutObject(ctx, p.s.cfg.Bucket, p.name, p.tmp, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", PartSize: 64 << 20, NumThreads: 2, DisableContentSha256: p.s.cfg.TLS,
	})
	if err != nil {
		return fmt.Errorf("commit %s: %w", p.key, explain(err))
	}
	p.committed = true
	p.tmp.Close()
	os.Remove(p.tmp.Name())
	return nil
}

func (p *pending) Discard() {
	if p.committed {
		return
	}
	p.closed = true
	p.tmp.Close()
	os.Remove(p.tmp.Name())
}

// Open gives random access to a blob's plaintext by ranged GETs.
func (s *Store) Open(ctx context.Context, key string) (blobs.Blob, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	r := &ranged{s: s, name: name, ctx: context.WithoutCancel(ctx), window: max(s.ReadAhead, int64(blobs.ChunkSize))}
	// The first window brings the header and the object's length.
	if err := r.fetch(0, 0); err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, fmt.Errorf("open %s: %w", key, blobs.ErrNotFound)
		}
		return nil, fmt.Errorf("open %s: %w", key, explain(err))
	}
	b, err := blobs.OpenSealed(r, r, r.size, s.master, key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return b, nil
}

// readTimeout bounds one ranged GET: a storage that stops answering fails
// the read instead of holding a player forever.
const readTimeout = time.Minute

// ranged is an object read by ranged GETs through a window of read-ahead.
type ranged struct {
	s      *Store
	name   string
	ctx    context.Context
	window int64

	mu    sync.Mutex
	size  int64
	start int64
	buf   []byte
}

// fetch reads at least n bytes from off (up to the window), learning the
// object's length from the reply.
func (r *ranged) fetch(off int64, n int) error {
	var opts minio.GetObjectOptions
	want := max(int64(n), r.window)
	if err := opts.SetRange(off, off+want-1); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.ctx, readTimeout)
	defer cancel()
	body, _, hdr, err := minio.Core{Client: r.s.client}.GetObject(ctx, r.s.cfg.Bucket, r.name, opts)
	if err != nil {
		return err
	}
	defer body.Close()
	total, err := rangeTotal(hdr)
	if err != nil {
		return err
	}
	buf, err := io.ReadAll(io.LimitReader(body, want))
	if err != nil {
		return fmt.Errorf("read %s at %d: %w", r.name, off, err)
	}
	r.size, r.start, r.buf = total, off, buf
	return nil
}

// rangeTotal reads the object's length from Content-Range ("bytes a-b/N").
func rangeTotal(h http.Header) (int64, error) {
	cr := h.Get("Content-Range")
	if i := strings.LastIndexByte(cr, '/'); i >= 0 {
		if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
			return n, nil
		}
	}
	if cl := h.Get("Content-Length"); cr == "" && cl != "" { // the whole object
		return strconv.ParseInt(cl, 10, 64)
	}
	return 0, fmt.Errorf("ranged read: no length in Content-Range %q", cr)
}

func (r *ranged) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off >= r.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size)
	if off < r.start || end > r.start+int64(len(r.buf)) {
		if err := r.fetch(off, int(end-off)); err != nil {
			return 0, fmt.Errorf("read %s at %d: %w", r.name, off, err)
		}
	}
	n := copy(p, r.buf[off-r.start:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *ranged) Close() error { return nil }

// Delete removes a blob; deleting a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil &&
		minio.ToErrorResponse(err).Code != "NoSuchKey" {
		return fmt.Errorf("delete %s: %w", key, explain(err))
	}
	return nil
}

// Sweep removes what a crash can leave behind: this server's spool files,
// and objects for which known returns false that were written before
// olderThan (uploaded, then the server died before its row was committed).
// Several servers share a bucket: an object younger than olderThan may be
// another server's upload whose row is about to be committed, so it stays.
func (s *Store) Sweep(ctx context.Context, known func(key string) bool, olderThan time.Time) (removed int, err error) {
	entries, err := os.ReadDir(s.spool)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("sweep %s: %w", s.spool, err)
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(s.spool, e.Name())); err == nil {
			removed++
		}
	}
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix, Recursive: true}) {
		if obj.Err != nil {
			return removed, fmt.Errorf("sweep %s: %w", s.cfg, explain(obj.Err))
		}
		key := strings.TrimPrefix(obj.Key, s.cfg.Prefix)
		if key == blobs.KeyCheckKey || known(key) || !obj.LastModified.Before(olderThan) {
			continue
		}
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			return removed, fmt.Errorf("sweep %s: %w", obj.Key, explain(err))
		}
		removed++
	}
	return removed, nil
}
