package s3blobs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/blobs/blobstest"
	"github.com/ecoute/ecoute/backend/blobs/s3blobs"
	"github.com/ecoute/ecoute/internal/s3test"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in   string
		want s3blobs.Config
		err  string
	}{
		{in: "s3://calls?endpoint=s3.local:9000", want: s3blobs.Config{Endpoint: "s3.local:9000", Bucket: "calls", TLS: true, PathStyle: true}},
		{in: "s3://calls/site-a/?endpoint=h:1&region=eu-west-3&tls=false&ca=/etc/ca.pem&path_style=false",
			want: s3blobs.Config{Endpoint: "h:1", Bucket: "calls", Prefix: "site-a/", Region: "eu-west-3", CAFile: "/etc/ca.pem"}},
		{in: "s3://calls", err: "no endpoint"},
		{in: "s3://?endpoint=h:1", err: "no bucket"},
		{in: "file:///var/lib/ecoute", err: "want s3://"},
		{in: "s3://ak:sk@calls?endpoint=h:1", err: "credentials do not belong"},
		{in: "s3://calls?endpoint=h:1&tls=maybe", err: "tls=\"maybe\""},
		{in: "s3://calls?endpoint=h:1&secret=x", err: "unknown parameter \"secret\""},
	}
	for _, c := range cases {
		got, err := s3blobs.ParseURL(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want an error with %q", c.in, err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "sk@") {
				t.Errorf("%s: the error shows the secret: %v", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// rig is one gateway for the package's tests; each test gets its bucket.
type rig struct {
	srv   *s3test.Server
	admin *minio.Client
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := s3test.Start(t)
	srv.SetEnv(t)
	admin, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{srv: srv, admin: admin}
}

func (r *rig) bucket(t *testing.T) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	name = strings.Trim(name[max(0, len(name)-50):], "-")
	if err := r.admin.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

func (r *rig) open(t *testing.T, bucket, prefix string, master []byte, spool string) (*s3blobs.Store, error) {
	cfg, err := s3blobs.ParseURL(r.srv.URL(bucket, prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s3blobs.New(context.Background(), cfg, master, spool)
}

func (r *rig) get(t *testing.T, bucket, name string) []byte {
	t.Helper()
	o, err := r.admin.GetObject(context.Background(), bucket, name, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r *rig) put(t *testing.T, bucket, name string, b []byte) {
	t.Helper()
	if _, err := r.admin.PutObject(context.Background(), bucket, name, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) list(t *testing.T, bucket string) []string {
	t.Helper()
	var out []string
	for o := range r.admin.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}

// TestS3Conformance runs the blob store suite on a real S3 server, with a
// prefix and a read-ahead window smaller than the blobs, so that reads
// cross windows.
func TestS3Conformance(t *testing.T) {
	r := newRig(t)
	blobstest.Run(t, func(t *testing.T) blobstest.Harness {
		bucket := r.bucket(t)
		const prefix = "site-a/"
		spool := t.TempDir()
		s, err := r.open(t, bucket, "site-a", blobstest.NewKey(t), spool)
		if err != nil {
			t.Fatal(err)
		}
		s.ReadAhead = 3*blobs.ChunkSize + 5
		return blobstest.Harness{
			Store:   s,
			Raw:     func(t *testing.T, key string) []byte { return r.get(t, bucket, prefix+key) },
			SetRaw:  func(t *testing.T, key string, b []byte) { r.put(t, bucket, prefix+key, b) },
			WithKey: func(master []byte) (blobs.Store, error) { return r.open(t, bucket, "site-a", master, spool) },
			Stored: func(t *testing.T) []string {
				var out []string
				for _, k := range r.list(t, bucket) {
					if k != prefix+blobs.KeyCheckKey {
						out = append(out, strings.TrimPrefix(k, prefix))
					}
				}
				spooled, err := os.ReadDir(spool)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range spooled {
					out = append(out, "spool/"+e.Name())
				}
				slices.Sort(out)
				return out
			},
		}
	})
}

func TestSetupErrorsSayWhatToDo(t *testing.T) {
	r := newRig(t)
	key := blobstest.NewKey(t)
	if _, err := r.open(t, "no-such-bucket", "", key, t.TempDir()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	bucket := r.bucket(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if _, err := r.open(t, bucket, "", key, t.TempDir()); err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("wrong secret: %v", err)
	}
}

// TestSweep: spool files go; an unknown object goes once older than the
// cutoff; known objects and the key check stay.
func TestSweep(t *testing.T) {
	r := newRig(t)
	bucket := r.bucket(t)
	spool := t.TempDir()
	s, err := r.open(t, bucket, "", blobstest.NewKey(t), spool)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"calls/a/kept.mp3", "calls/b/orphan.mp3"} {
		if _, err := s.Put(ctx, k, bytes.NewReader(blobstest.MP3Like(1000))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(spool, "blob-123"), []byte("left by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	known := func(k string) bool { return k == "calls/a/kept.mp3" }
	// Just written: another server's upload could still be committing.
	n, err := s.Sweep(ctx, known, time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("sweep with an hour's grace = %d, %v; want the spool file alone", n, err)
	}
	if got := r.list(t, bucket); len(got) != 3 {
		t.Fatalf("after the first sweep: %v", got)
	}
	n, err = s.Sweep(ctx, known, time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want the orphan", n, err)
	}
	if got := r.list(t, bucket); !slices.Equal(got, []string{blobs.KeyCheckKey, "calls/a/kept.mp3"}) {
		t.Errorf("after the sweep: %v", got)
	}
	if _, err := s.Open(ctx, "calls/b/orphan.mp3"); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("orphan opens: %v", err)
	}
}
