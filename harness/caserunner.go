package harness

import (
	"context"
	"sync"

	"github.com/sniproof/sniproof/fixtures"
)

// CaseRunner runs one proxy's cases one at a time, in the order they are
// asked for, while the runners of other proxies run theirs: proxy versions
// run concurrently, and each case's backend events are its proxy's own
// (see caseEvents), so concurrency cannot mix cases. A spec asks for its
// case's Result; the suite asks beforehand for every case whose spec will
// run, so that the result is usually there when the spec needs it.
type CaseRunner struct {
	st    *Stack
	p     *Proxy
	slots chan struct{}

	mu      sync.Mutex
	results map[string]*caseResult
	queue   []fixtures.Case
	wake    chan struct{}
}

// caseResult is a case's observation, once done is closed.
type caseResult struct {
	done chan struct{}
	obs  Observation
	err  error
}

// Slots bounds how many cases run at once across every CaseRunner that
// shares it.
func Slots(n int) chan struct{} { return make(chan struct{}, max(n, 1)) }

// CaseRunner starts p's case runner, which holds one of slots for each
// case it runs, and stops when ctx ends.
func (st *Stack) CaseRunner(ctx context.Context, p *Proxy, slots chan struct{}) *CaseRunner {
	r := &CaseRunner{st: st, p: p, slots: slots, results: map[string]*caseResult{}, wake: make(chan struct{}, 1)}
	go r.run(ctx)
	return r
}

// Ask queues the cases not yet asked for, in order.
func (r *CaseRunner) Ask(cases ...fixtures.Case) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cases {
		if _, ok := r.results[c.ID]; ok {
			continue
		}
		r.results[c.ID] = &caseResult{done: make(chan struct{})}
		r.queue = append(r.queue, c)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Result is case c's observation, asking for it if nobody has: the
// exchange of its requests, or for a case whose expectation is that the
// proxy refuses its configuration, the proxy's configuration test.
func (r *CaseRunner) Result(ctx context.Context, c fixtures.Case) (Observation, error) {
	r.Ask(c)
	r.mu.Lock()
	res := r.results[c.ID]
	r.mu.Unlock()
	select {
	case <-res.done:
		return res.obs, res.err
	case <-ctx.Done():
		return Observation{}, ctx.Err()
	}
}

func (r *CaseRunner) run(ctx context.Context) {
	for {
		r.mu.Lock()
		var c fixtures.Case
		next := len(r.queue) > 0
		if next {
			c, r.queue = r.queue[0], r.queue[1:]
		}
		r.mu.Unlock()
		if !next {
			select {
			case <-r.wake:
				continue
			case <-ctx.Done():
				r.abandon(ctx.Err())
				return
			}
		}
		res := r.result(c.ID)
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			res.err = ctx.Err()
			close(res.done)
			r.abandon(ctx.Err())
			return
		}
		res.obs, res.err = RunCase(ctx, r.st, r.p, c)
		<-r.slots
		close(res.done)
	}
}

// RunCase runs case c on proxy p: the exchange of its requests, or for a
// case whose expectation on p's version is that the proxy refuses its
// configuration, the proxy's configuration test.
func RunCase(ctx context.Context, st *Stack, p *Proxy, c fixtures.Case) (Observation, error) {
	if c.For(p.Version()).ConfigError != "" {
		code, out, err := p.TestConfig(ctx, c.ID)
		if err != nil {
			return Observation{}, err
		}
		return Observation{ConfigTest: &ConfigTest{Exit: code, Output: out}}, nil
	}
	return st.Exchange(ctx, p, c)
}

func (r *CaseRunner) result(id string) *caseResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.results[id]
}

// abandon ends every case still queued with err.
func (r *CaseRunner) abandon(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.queue {
		res := r.results[c.ID]
		res.err = err
		close(res.done)
	}
	r.queue = nil
}
