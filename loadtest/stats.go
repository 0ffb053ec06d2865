package loadtest

import (
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Latency summarises durations, in milliseconds, by nearest rank.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// summarise sorts ds and summarises it; all zero when ds is empty.
func summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return millis(ds[max(i, 0)])
	}
	return Latency{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: millis(ds[len(ds)-1])}
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// perSecond is n over d, 0 when d is not positive.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// peakInFlight is the largest number of the intervals [starts[i],
// ends[i]] open at one time. It sorts both slices.
func peakInFlight(starts, ends []time.Duration) int {
	slices.Sort(starts)
	slices.Sort(ends)
	var open, peak, j int
	for _, s := range starts {
		for j < len(ends) && ends[j] < s {
			open--
			j++
		}
		open++
		peak = max(peak, open)
	}
	return peak
}

// sampleSize is how many distinct error texts a result keeps.
const sampleSize = 5

// errorSample counts errors and keeps the first few distinct texts. It is
// safe for concurrent use.
type errorSample struct {
	mu    sync.Mutex
	count int
	texts []string
}

// add counts an error with this text.
func (s *errorSample) add(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if len(s.texts) < sampleSize && !slices.Contains(s.texts, text) {
		s.texts = append(s.texts, text)
	}
}

// Memory is the peak memory of the process during one phase.
type Memory struct {
	// PeakHeapInuse and PeakSys are the highest runtime.MemStats HeapInuse
	// and Sys sampled, in bytes.
	PeakHeapInuse uint64 `json:"peak_heap_inuse_bytes"`
	PeakSys       uint64 `json:"peak_sys_bytes"`
	// PeakRSS is the process's peak resident set (VmHWM), in bytes: since
	// the phase started where the kernel lets it be reset, else since the
	// process started; 0 when unknown.
	PeakRSS uint64 `json:"peak_rss_bytes"`
}

// sampleEvery is the memory sampling period. runtime.ReadMemStats stops
// the world for some microseconds, a cost well under 1% at this period.
const sampleEvery = 10 * time.Millisecond

// sampler samples the memory of the process until stopped.
type sampler struct {
	stopc chan struct{}
	done  chan struct{}
	peak  Memory
}

// startSampler collects the garbage of earlier work, resets the peak RSS
// and starts sampling.
func startSampler() *sampler {
	debug.FreeOSMemory()
	resetPeakRSS()
	s := &sampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *sampler) loop() {
	defer close(s.done)
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	s.sample()
	for {
		select {
		case <-s.stopc:
			s.sample()
			return
		case <-tick.C:
			s.sample()
		}
	}
}

func (s *sampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.peak.PeakHeapInuse = max(s.peak.PeakHeapInuse, ms.HeapInuse)
	s.peak.PeakSys = max(s.peak.PeakSys, ms.Sys)
}

// stop takes a last sample, stops sampling and returns the peaks.
func (s *sampler) stop() Memory {
	close(s.stopc)
	<-s.done
	s.peak.PeakRSS = peakRSS()
	return s.peak
}
