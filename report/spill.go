package report

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"
)

// Spilling keeps a long live run's memory flat: a Folder's windows grow by
// one every window width (some 16 kB each for a busy run with a handful of
// endpoints: about 1 MB a minute at 1 s windows), so once Spill is on,
// windows older than SpillAfter move to a temporary file and only the
// recent ones stay in memory. A result for a window already spilled (a
// straggler slower than SpillAfter) goes to a small in-memory window of
// its own, merged when the spilled windows are read back. Windows, Merge,
// AddWindows and Save read them back (the analysis needs them all), so
// memory is flat while the run folds and grows by the windows only when
// its report is made.
type spill struct {
	file    *os.File
	enc     *gob.Encoder
	buf     bytes.Buffer
	n       int // windows written to file
	sealed  int // index of the first window kept in memory; all before it are in file or late
	late    map[int]*Window
	keep    int // windows kept in memory behind the newest
	stopped bool
}

// SpillAfter is how far behind the newest window a window stays in memory
// once spilling is on: longer than a request's default timeout, so that
// late results nearly always find their window in memory.
const SpillAfter = time.Minute

// Spill moves windows older than SpillAfter to a temporary file (in dir,
// "" for the system's temporary directory) as the fold goes on. The file
// is removed when the windows are read back, and at once on systems that
// allow removing an open file. Errors writing it are not fatal: the
// windows then stay in memory, with a warning in the report.
func (f *Folder) Spill(dir string) error {
	if f.sp != nil {
		return nil
	}
	fh, err := os.CreateTemp(dir, ".flashcrowd-windows-*.spill")
	if err != nil {
		return fmt.Errorf("spilling windows: %w", err)
	}
	os.Remove(fh.Name()) // unix: the open file lives on unnamed
	f.sp = &spill{file: fh, late: map[int]*Window{}, keep: max(4, int((SpillAfter+f.width-1)/f.width))}
	f.sp.enc = gob.NewEncoder(&f.sp.buf)
	return nil
}

// seal spills the windows more than keep behind window newest.
func (f *Folder) seal(newest int) {
	sp := f.sp
	if sp == nil || sp.stopped {
		return
	}
	cut := newest - sp.keep // windows with index < cut go
	n := cut - f.first
	if n <= 0 || len(f.w) == 0 {
		return
	}
	n = min(n, len(f.w))
	if f.st.on && f.st.k < f.first+n {
		f.flush()
	}
	sp.buf.Reset()
	for i := range n {
		if err := sp.enc.Encode(&f.w[i]); err != nil {
			f.stopSpill(err)
			return
		}
	}
	if _, err := sp.file.Write(sp.buf.Bytes()); err != nil {
		f.stopSpill(err)
		return
	}
	sp.n += n
	clear(f.w[:n]) // let the histograms go
	f.w = f.w[n:]
	f.first += n
	sp.sealed = f.first
}

// stopSpill keeps every window from now on in memory. The file holds the
// windows written before the failure, complete; a partial write after
// them is never read.
func (f *Folder) stopSpill(err error) {
	f.sp.stopped = true
	f.Warn("windows kept in memory after spilling them to disk failed: %v", err)
}

// lateWindow is the window for a straggler of spilled window k.
func (f *Folder) lateWindow(k int) *Window {
	w := f.sp.late[k]
	if w == nil {
		w = &Window{Index: k}
		f.sp.late[k] = w
	}
	return w
}

// unspill reads the spilled windows back, merges the stragglers' windows
// into them and turns spilling off.
func (f *Folder) unspill() {
	sp := f.sp
	if sp == nil {
		return
	}
	f.sp = nil
	f.flush()
	defer sp.file.Close()
	defer os.Remove(sp.file.Name())
	back := make([]Window, 0, sp.n+len(f.w))
	var err error
	if sp.n > 0 {
		if _, err = sp.file.Seek(0, io.SeekStart); err == nil {
			dec := gob.NewDecoder(io.LimitReader(sp.file, 1<<62))
			for range sp.n {
				var w Window
				if err = dec.Decode(&w); err != nil {
					break
				}
				back = append(back, w)
			}
		}
	}
	if err != nil {
		f.Warn("reading spilled windows back: %v (%d of %d windows lost)", err, sp.n-len(back), sp.n)
	}
	if len(back) > 0 {
		first := back[0].Index
		back = append(back, f.w...)
		// Windows lost above leave gaps: fill them so indexes stay dense.
		dense := make([]Window, 0, len(back))
		for _, w := range back {
			for len(dense) > 0 && dense[len(dense)-1].Index+1 < w.Index {
				dense = append(dense, Window{Index: dense[len(dense)-1].Index + 1})
			}
			dense = append(dense, w)
		}
		f.w, f.first = dense, first
	}
	for _, k := range slices.Sorted(maps.Keys(sp.late)) {
		lw := sp.late[k]
		if w := f.window(k); w != nil {
			w.Merge(lw)
		} else {
			f.dropped += lw.Total.Requests
		}
	}
}
