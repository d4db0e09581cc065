package core

import (
	"context"
	"sync"

	"github.com/ecoute/ecoute/backend/blobs"
	"github.com/ecoute/ecoute/backend/domain"
	"github.com/ecoute/ecoute/backend/store"
)

// Group commit: uploads that finish while another batch is being made
// durable wait for it, then go together: their audio in one write and one
// sync per pack, their rows in one transaction, one sync of the database's
// log. Each is acknowledged only once all of that is done. The first
// upload to arrive when no batch is in flight commits its batch, then
// hands the next one to the first upload waiting, so no uploader commits
// for others for long.

// maxBatch bounds the uploads one commit takes.
const maxBatch = 256

// commitItem is one upload waiting to be committed.
type commitItem struct {
	up    store.PendingUpload
	blob  blobs.Pending
	group string // the pack group: the call's UTC day
	done  chan commitResult
}

// commitResult answers an upload; lead says it is its turn to commit the
// queue instead.
type commitResult struct {
	lead    bool
	outcome store.Outcome
	err     error
}

type groupCommit struct {
	mu      sync.Mutex
	queue   []*commitItem
	running bool
}

// submit commits it with whatever else is waiting and returns its outcome.
func (g *groupCommit) submit(ctx context.Context, b *Backend, it *commitItem) commitResult {
	it.done = make(chan commitResult, 1)
	g.mu.Lock()
	g.queue = append(g.queue, it)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if !lead {
		r := <-it.done
		if !r.lead {
			return r
		}
	}
	g.mu.Lock()
	n := min(len(g.queue), maxBatch)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	b.commitBatch(ctx, batch)
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- commitResult{lead: true}
	} else {
		g.running = false
	}
	g.mu.Unlock()
	return <-it.done
}

// commitBatch makes a batch durable and answers each of its uploads.
func (b *Backend) commitBatch(ctx context.Context, batch []*commitItem) {
	fail := func(err error) {
		for _, it := range batch {
			it.done <- commitResult{err: err}
		}
	}
	// The audio first: a row never names audio that is not on disk.
	keys := make([]string, len(batch))
	if pk, ok := b.Blobs.(blobs.Packer); ok {
		items := make([]blobs.Staged, len(batch))
		for i, it := range batch {
			items[i] = blobs.Staged{Group: it.group, Blob: it.blob}
		}
		ks, err := pk.Pack(ctx, items)
		if err != nil {
			fail(domain.Internal("store audio", err))
			return
		}
		copy(keys, ks)
	} else {
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, it := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = it.blob.Commit(ctx)
			}()
		}
		wg.Wait()
		for i, it := range batch {
			keys[i] = it.up.Call.Call.Audio.Key
		}
		for _, err := range errs {
			if err != nil {
				b.deleteAudio(ctx, keys)
				fail(domain.Internal("store audio", err))
				return
			}
		}
	}
	ups := make([]store.PendingUpload, len(batch))
	for i, it := range batch {
		ups[i] = it.up
		ups[i].Call.Call.Audio.Key = keys[i]
	}
	outs, err := b.Store.InsertPending(ctx, ups)
	if err != nil {
		// The rows are the commit point: without them the audio must go.
		b.deleteAudio(ctx, keys)
		fail(domain.Internal("store calls", err))
		return
	}
	var unused []string
	for i, o := range outs {
		if o.Existing != "" || o.SampledOut {
			unused = append(unused, keys[i])
		}
	}
	b.deleteAudio(ctx, unused)
	if err := b.Store.SyncCommitted(ctx); err != nil {
		// The rows stay (the audio is whole): a retry is answered as a
		// duplicate once the disk recovers.
		fail(domain.Internal("sync database", err))
		return
	}
	for i, it := range batch {
		it.done <- commitResult{outcome: outs[i]}
	}
}

// deleteAudio removes audio no row names (best effort: the start-up sweep
// and the pack removal catch what is left).
func (b *Backend) deleteAudio(ctx context.Context, keys []string) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if err := b.Blobs.Delete(ctx, k); err != nil {
			b.Log.Error("remove orphan audio", "key", k, "err", err)
		}
	}
}
