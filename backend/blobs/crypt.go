package blobs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// On-disk format of an encrypted blob (R9, encryption at rest):
//
//	header: "ECBLOB01" | file id (16 random bytes)
//	chunks: AES-256-GCM(plaintext[i*ChunkSize : (i+1)*ChunkSize]) | tag (16)
//
// Each file gets its own AES key, HKDF-SHA256(master key, salt = file id,
// info = blob key), so the nonce can simply be the chunk index: it never
// repeats under one key. The additional data binds the chunk index and a
// "last chunk" flag, so chunks cannot be reordered, swapped between files or
// dropped from the end without the read failing. Any byte range decrypts by
// reading only the chunks it overlaps.
const (
	// ChunkSize is the plaintext carried by one chunk.
	ChunkSize = 64 << 10
	tagSize   = 16
	magic     = "ECBLOB01"
	idSize    = 16
	// HeaderSize is the bytes before the first chunk.
	HeaderSize = len(magic) + idSize
	sealedSize = ChunkSize + tagSize
	// TagSize is the authentication tag that follows each chunk.
	TagSize = tagSize
)

// KeySize is the length of the master key (AES-256).
const KeySize = 32

// ErrCorrupt means a blob failed authentication: it was altered, truncated
// or encrypted with another key.
var ErrCorrupt = errors.New("blob failed authentication (altered, truncated or another key)")

func fileAEAD(master []byte, fileID []byte, key string) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, master, fileID, "ecoute blob v1 "+key, 32)
	if err != nil {
		return nil, fmt.Errorf("derive file key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(i int64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], uint64(i))
	return n[:]
}

func additional(i int64, last bool) []byte {
	var a [9]byte
	binary.BigEndian.PutUint64(a[:8], uint64(i))
	if last {
		a[8] = 1
	}
	return a[:]
}

// plainSize is the plaintext length of a blob whose chunks take body bytes.
// The last chunk always holds 1..ChunkSize bytes, except for an empty blob,
// which is one empty chunk.
func plainSize(body int64) (int64, bool) {
	if body < tagSize {
		return 0, false
	}
	chunks := (body + sealedSize - 1) / sealedSize
	last := body - (chunks-1)*sealedSize
	if last < tagSize || (last == tagSize && chunks > 1) {
		return 0, false
	}
	return body - chunks*tagSize, true
}

// sealer encrypts a stream into chunks. It holds back a full chunk until
// more data arrives, so that the last chunk is known when Close is called.
type sealer struct {
	w    io.Writer
	aead cipher.AEAD
	buf  []byte
	out  []byte
	idx  int64
	n    int64
}

func newSealer(w io.Writer, master []byte, key string) (*sealer, error) {
	id := make([]byte, idSize)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	aead, err := fileAEAD(master, id, key)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(append([]byte(magic), id...)); err != nil {
		return nil, err
	}
	return &sealer{w: w, aead: aead, buf: make([]byte, 0, ChunkSize), out: make([]byte, 0, sealedSize)}, nil
}

func (s *sealer) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if len(s.buf) == ChunkSize {
			if err := s.seal(false); err != nil {
				return total - len(p), err
			}
		}
		k := copy(s.buf[len(s.buf):ChunkSize], p)
		s.buf = s.buf[:len(s.buf)+k]
		p = p[k:]
		s.n += int64(k)
	}
	return total, nil
}

func (s *sealer) seal(last bool) error {
	s.out = s.aead.Seal(s.out[:0], nonce(s.idx), s.buf, additional(s.idx, last))
	if _, err := s.w.Write(s.out); err != nil {
		return err
	}
	s.idx++
	s.buf = s.buf[:0]
	return nil
}

// Close seals the last chunk; it does not close the underlying writer.
func (s *sealer) Close() error { return s.seal(true) }

// Size is the plaintext written so far.
func (s *sealer) Size() int64 { return s.n }

// Sealer encrypts a stream into the blob format; Close seals the last chunk
// and does not close the writer underneath.
type Sealer interface {
	io.WriteCloser
	Size() int64
}

// NewSealer starts a blob sealed under key with the master key, written to
// w (for stores other than files: the bytes to send).
func NewSealer(w io.Writer, master []byte, key string) (Sealer, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("blob key: %d bytes, want %d", len(master), KeySize)
	}
	return newSealer(w, master, key)
}

// SealedSize is the stored length of a blob of plain bytes of plaintext.
func SealedSize(plain int64) int64 {
	chunks := (plain + ChunkSize - 1) / ChunkSize
	if chunks == 0 {
		chunks = 1
	}
	return int64(HeaderSize) + plain + chunks*tagSize
}

// opened is a decrypting random-access view of an encrypted file. It keeps
// the last chunk it decrypted, because readers (StreamAudio, the analyser)
// read sequentially in pieces smaller than a chunk.
type opened struct {
	f      io.ReaderAt
	closer io.Closer
	aead   cipher.AEAD
	size   int64
	chunks int64

	mu     sync.Mutex
	cached int64
	plain  []byte
	sealed []byte
}

func openSealed(f *os.File, master []byte, key string) (*opened, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return openSealedAt(f, f, st.Size(), master, key)
}

// OpenSealed gives random access to the plaintext of a blob sealed under
// key, length bytes readable from r (for stores other than files, such as
// S3 objects); Close closes closer.
func OpenSealed(r io.ReaderAt, closer io.Closer, length int64, master []byte, key string) (Blob, error) {
	return openSealedAt(r, closer, length, master, key)
}

func openSealedAt(r io.ReaderAt, closer io.Closer, length int64, master []byte, key string) (*opened, error) {
	hdr := make([]byte, HeaderSize)
	if _, err := r.ReadAt(hdr, 0); err != nil || string(hdr[:len(magic)]) != magic {
		return nil, fmt.Errorf("not an encrypted blob: %w", ErrCorrupt)
	}
	aead, err := fileAEAD(master, hdr[len(magic):], key)
	if err != nil {
		return nil, err
	}
	body := length - int64(HeaderSize)
	size, ok := plainSize(body)
	if !ok {
		return nil, fmt.Errorf("blob length %d: %w", length, ErrCorrupt)
	}
	return &opened{f: r, closer: closer, aead: aead, size: size, chunks: (body + sealedSize - 1) / sealedSize, cached: -1}, nil
}

func (o *opened) Size() int64  { return o.size }
func (o *opened) Close() error { return o.closer.Close() }

// chunk decrypts chunk i into o.plain; the caller holds o.mu.
func (o *opened) chunk(i int64) error {
	if o.cached == i {
		return nil
	}
	o.cached = -1
	n := int64(sealedSize)
	if i == o.chunks-1 {
		n = o.size - i*ChunkSize + tagSize
	}
	if cap(o.sealed) < sealedSize {
		o.sealed = make([]byte, sealedSize)
		o.plain = make([]byte, 0, ChunkSize)
	}
	buf := o.sealed[:n]
	if _, err := o.f.ReadAt(buf, int64(HeaderSize)+i*sealedSize); err != nil {
		return fmt.Errorf("read chunk %d: %w", i, err)
	}
	p, err := o.aead.Open(o.plain[:0], nonce(i), buf, additional(i, i == o.chunks-1))
	if err != nil {
		return fmt.Errorf("chunk %d: %w", i, ErrCorrupt)
	}
	o.plain, o.cached = p, i
	return nil
}

// ReadAt decrypts the chunks that overlap [off, off+len(p)).
func (o *opened) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= o.size {
			return n, io.EOF
		}
		i := pos / ChunkSize
		if err := o.chunk(i); err != nil {
			return n, err
		}
		n += copy(p[n:], o.plain[pos-i*ChunkSize:])
	}
	return n, nil
}
