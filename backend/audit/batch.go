package audit

import (
	"context"
	"sync"

	"github.com/ecoute/ecoute/backend/store"
)

// Batcher is an Appender that writes the entries of concurrent requests
// together (group commit). Under 50 consoles every audited request waited
// for the appends queued before it, one write transaction each (54% of
// the backend's lock waiting, ~165 ms a request). An Append still returns
// only once its entry is written, with its own error: the first appender
// that finds no write under way writes what is queued in one transaction,
// entry by entry through Log.Append (the chain, its hashes and the signed
// head as one by one), then what was queued meanwhile, and so on. When a
// batch fails, its entries are appended one by one, each with its own
// result. A store without batches (store.AuditBatcher) gets plain Appends.
type Batcher struct {
	log   *Log
	batch store.AuditBatcher // nil: no batches

	mu      sync.Mutex
	queue   []*queued
	writing bool
}

type queued struct {
	ctx  context.Context
	e    Entry
	done chan error
}

// NewBatcher batches the appends of l.
func NewBatcher(l *Log) *Batcher {
	b, _ := l.store.(store.AuditBatcher)
	return &Batcher{log: l, batch: b}
}

// MaxBatch bounds the entries written in one transaction.
const MaxBatch = 256

// Append writes e with the entries appended meanwhile and returns once it
// is written. Like Log.Append, it is written even when ctx is cancelled.
func (b *Batcher) Append(ctx context.Context, e Entry) error {
	if b.batch == nil {
		return b.log.Append(ctx, e)
	}
	if e.Time.IsZero() {
		e.Time = b.log.clock.Now() // the request's time, not the batch's
	}
	q := &queued{ctx: context.WithoutCancel(ctx), e: e, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, q)
	lead := !b.writing
	b.writing = true
	b.mu.Unlock()
	if lead {
		b.drain()
	}
	return <-q.done
}

// drain writes batches until the queue is empty.
func (b *Batcher) drain() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), MaxBatch)
		if n == 0 {
			b.writing = false
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		b.write(batch)
	}
}

func (b *Batcher) write(batch []*queued) {
	if len(batch) == 1 {
		batch[0].done <- b.log.Append(batch[0].ctx, batch[0].e)
		return
	}
	// The process's other appenders (Log.Append) wait on mu rather than
	// on the database's lock.
	b.log.mu.Lock()
	err := b.batch.AuditBatch(batch[0].ctx, func(tx store.AuditStore) error {
		l := New(tx, b.log.clock, b.log.key, b.log.log)
		for _, q := range batch {
			if err := l.Append(q.ctx, q.e); err != nil {
				return err
			}
		}
		return nil
	})
	b.log.mu.Unlock()
	if err != nil {
		b.log.log.Warn("audit batch failed: appending its entries one by one", "entries", len(batch), "err", err)
		for _, q := range batch {
			q.done <- b.log.Append(q.ctx, q.e)
		}
		return
	}
	for _, q := range batch {
		q.done <- nil
	}
}
