package report

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/flashcrowd/flashcrowd/scenarios"
)

// WindowsFile is the name of the saved windows in a run directory.
const WindowsFile = "windows.json.gz"

// windowsFormat names the saved windows' format, for future changes.
const windowsFormat = "flashcrowd-windows/1"

// Format is a results file encoding.
type Format string

// The encodings vegeta writes.
const (
	Gob  Format = "gob"
	JSON Format = "json"
	CSV  Format = "csv"
)

// detect guesses a results file's encoding from its first byte: vegeta's
// JSON lines start with '{', its CSV with a decimal timestamp, and gob with
// a message length that is neither.
func detect(br *bufio.Reader) (Format, error) {
	b, err := br.Peek(1)
	if err != nil {
		return "", err
	}
	switch c := b[0]; {
	case c == '{':
		return JSON, nil
	case c >= '0' && c <= '9' || c == '-':
		return CSV, nil
	}
	return Gob, nil
}

// ReadFiles streams vegeta results files (gob, json or csv, detected) into
// f, one result at a time. Files are shards of one run, or files of one
// plain attack: when a file's directory holds a run.json for another shard
// of f's run, that shard's schedule is used for its send lag. A file cut
// short (a run killed mid-write) keeps every result up to the cut, with a
// warning on warn; a corrupt file is an error naming it and the record.
func ReadFiles(paths []string, f *Folder, warn io.Writer) error {
	for _, p := range paths {
		info := f.info
		if info != nil {
			if ri, err := scenarios.ReadRunInfo(filepath.Dir(p)); err == nil && ri.Start.Equal(info.Start) && ri.Shard != info.Shard {
				info = ri
			}
		}
		if info == f.info && len(paths) == 1 {
			if err := readFile(p, f, warn); err != nil {
				return err
			}
			continue
		}
		g := NewFolder(info, f.width)
		if err := readFile(p, g, warn); err != nil {
			return err
		}
		if err := f.Merge(g); err != nil {
			return fmt.Errorf("merging %s: %w", p, err)
		}
	}
	return nil
}

func readFile(path string, f *Folder, warn io.Writer) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading results: %w", err)
	}
	defer fh.Close()
	return readResults(path, fh, f, warn)
}

// readResults folds the results read from in, named path in messages: a
// file, or a stream such as stdin (StdinName).
func readResults(path string, in io.Reader, f *Folder, warn io.Writer) error {
	f.sources = append(f.sources, path)
	tail := &lastByte{r: in}
	br := bufio.NewReaderSize(tail, 1<<16)
	format, err := detect(br)
	if err == io.EOF {
		f.Warn("%s is empty", path)
		fmt.Fprintf(warn, "warning: %s is empty\n", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	var dec vegeta.Decoder
	switch format {
	case JSON:
		dec = vegeta.NewJSONDecoder(br)
	case CSV:
		dec = vegeta.NewCSVDecoder(br)
	default:
		dec = vegeta.NewDecoder(br)
	}
	var r vegeta.Result
	for n := 1; ; n++ {
		// gob leaves the fields a record omits (its zero values) as they
		// were: start from a clean result every time.
		r = vegeta.Result{}
		err := dec.Decode(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			cut := errors.Is(err, io.ErrUnexpectedEOF)
			if !cut && format != Gob {
				// A damaged last record is a cut too; one in the middle
				// is corruption.
				var next vegeta.Result
				cut = dec.Decode(&next) == io.EOF
			}
			if n == 1 {
				return &scenarios.Problem{File: path, Line: lineOf(format, n), Field: "result 1",
					Msg: fmt.Sprintf("not a vegeta results file (gob, json or csv): %v", err)}
			}
			if cut {
				f.markCut()
				msg := fmt.Sprintf("%s is cut short after %d results (%v): reporting those", path, n-1, err)
				f.Warn("%s", msg)
				fmt.Fprintf(warn, "warning: %s\n", msg)
				break
			}
			return &scenarios.Problem{File: path, Line: lineOf(format, n), Field: fmt.Sprintf("result %d", n),
				Msg: fmt.Sprintf("not a vegeta %s result: %v", format, err)}
		}
		if r.Timestamp.IsZero() {
			return &scenarios.Problem{File: path, Line: lineOf(format, n), Field: fmt.Sprintf("result %d: timestamp", n),
				Msg: "missing: not a vegeta results file?"}
		}
		f.Add(&r)
	}
	if f.info != nil && f.info.End.IsZero() && f.results > 0 && f.cutAt == 0 {
		// run.json is written again with the end time when a run ends,
		// however it ends: without one, the run was killed and its
		// results stop wherever that happened.
		f.markCut()
		msg := fmt.Sprintf("%s has no end time: the run did not finish (killed?), so its results end early; reporting up to the last one", filepath.Join(filepath.Dir(path), scenarios.RunInfoFile))
		f.Warn("%s", msg)
		fmt.Fprintf(warn, "warning: %s\n", msg)
	}
	if format == JSON && tail.n > 0 && tail.b != '\n' && f.cutAt == 0 {
		// vegeta's JSON decoder drops a last line cut short (a killed
		// vegeta, a truncated copy, a stream cut): the results end early.
		f.markCut()
		msg := fmt.Sprintf("%s ends in an incomplete line (cut short?): ignored it, reporting the results before it", path)
		f.Warn("%s", msg)
		fmt.Fprintf(warn, "warning: %s\n", msg)
	}
	return nil
}

// lastByte passes reads through, keeping the last byte read (b) and how
// many were read (n).
type lastByte struct {
	r io.Reader
	b byte
	n int64
}

func (l *lastByte) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.b, l.n = p[n-1], l.n+int64(n)
	}
	return n, err
}

// lineOf is the line of the n-th record in text formats, 0 for gob.
func lineOf(f Format, n int) int {
	if f == Gob {
		return 0
	}
	return n
}

// savedWindows is the windows file's layout.
type savedWindows struct {
	Format string `json:"format"`
	*Windows
}

// Save writes the folded windows to dir/windows.json.gz (atomically), so
// that a report can be re-rendered, with any SLO, without the raw results.
func (f *Folder) Save(dir string) error { return f.Windows().Save(dir) }

// Save writes ws to dir/windows.json.gz atomically.
func (ws *Windows) Save(dir string) error {
	tmp, err := os.CreateTemp(dir, WindowsFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving windows: %w", err)
	}
	defer os.Remove(tmp.Name())
	zw := gzip.NewWriter(tmp)
	bw := bufio.NewWriter(zw)
	if err := json.NewEncoder(bw).Encode(savedWindows{Format: windowsFormat, Windows: ws}); err != nil {
		tmp.Close()
		return fmt.Errorf("saving windows: %w", err)
	}
	// (CreateTemp makes it 0600; the run's other files are 0644.)
	if err := errors.Join(bw.Flush(), zw.Close(), tmp.Chmod(0o644), tmp.Close()); err != nil {
		return fmt.Errorf("saving windows: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, WindowsFile)); err != nil {
		return fmt.Errorf("saving windows: %w", err)
	}
	return nil
}

// LoadWindows reads the windows saved in run directory dir.
func LoadWindows(dir string) (*Windows, error) {
	path := filepath.Join(dir, WindowsFile)
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	zr, err := gzip.NewReader(bufio.NewReader(fh))
	if err != nil {
		return nil, &scenarios.Problem{File: path, Msg: fmt.Sprintf("not a gzip file: %v", err)}
	}
	var s savedWindows
	s.Windows = &Windows{}
	if err := json.NewDecoder(zr).Decode(&s); err != nil {
		return nil, &scenarios.Problem{File: path, Msg: fmt.Sprintf("reading windows: %v", err)}
	}
	if s.Format != windowsFormat {
		return nil, &scenarios.Problem{File: path, Field: "format", Msg: fmt.Sprintf("%q is not %q", s.Format, windowsFormat)}
	}
	ws := s.Windows
	if ws.Width <= 0 {
		return nil, &scenarios.Problem{File: path, Field: "width", Msg: "must be > 0"}
	}
	for i := range ws.W {
		if i > 0 && ws.W[i].Index != ws.W[i-1].Index+1 {
			return nil, &scenarios.Problem{File: path, Field: fmt.Sprintf("windows[%d]", i), Msg: "windows out of order"}
		}
		for j := range ws.W[i].Endpoints {
			if j >= len(ws.Endpoints) {
				return nil, &scenarios.Problem{File: path, Field: fmt.Sprintf("windows[%d].ep", i), Msg: "more series than endpoints"}
			}
		}
	}
	return ws, nil
}

// AddWindows merges saved windows (another shard's, or a run's saved
// windows being re-folded at a coarser width) into f. Their width must
// divide f's.
func (f *Folder) AddWindows(ws *Windows) error {
	if ws.Width > f.width || f.width%ws.Width != 0 {
		return fmt.Errorf("merging windows of %s into windows of %s: not a divisor", ws.Width, f.width)
	}
	if (ws.Info == nil) != f.plain {
		return fmt.Errorf("merging windows with and without run.json")
	}
	var shift time.Duration // ws.Origin - f.origin
	if f.plain {
		shift = time.Duration(ws.Origin.UnixNano())
	} else {
		shift = ws.Origin.Sub(f.origin)
		if shift != 0 {
			return fmt.Errorf("merging shards that started at different times (%s and %s): give every shard the same absolute --start-at (one RFC 3339 time: +DURATION is each process's own clock)",
				ws.Origin.Format(time.RFC3339Nano), f.origin.Format(time.RFC3339Nano))
		}
	}
	f.unspill()
	f.flush()
	m := make([]int, len(ws.Endpoints))
	for i, e := range ws.Endpoints {
		m[i] = f.adopt(e)
	}
	for i := range ws.W {
		src := &ws.W[i]
		start := shift + time.Duration(src.Index)*ws.Width
		w := f.window(int(floorDiv64(int64(start), int64(f.width))))
		if w == nil {
			f.dropped += src.Total.Requests
			continue
		}
		w.Total.Merge(&src.Total)
		w.Lag.Merge(&src.Lag)
		for j := range src.Endpoints {
			w.ep(m[j]).Merge(&src.Endpoints[j])
		}
	}
	mine := f.shardSet()
	for _, s := range ws.Shards {
		if mine[s] && !f.plain {
			f.Warn("shard %d given twice: its results are counted twice", s)
		}
		f.shards[s] = true
	}
	if f.plain {
		// Saved plain windows say when requests were sent; older ones did
		// not, and count as sending throughout.
		sending := ws.Sending
		if sending == nil && len(ws.W) > 0 {
			sending = []Interval{{From: time.Duration(ws.W[0].Index) * ws.Width, To: time.Duration(ws.W[len(ws.W)-1].Index+1) * ws.Width}}
		}
		for _, s := range sending {
			f.sending = append(f.sending, Interval{From: shift + s.From, To: shift + s.To})
		}
	}
	f.results += ws.Results
	f.dropped += ws.Dropped
	if !f.plain {
		f.mergeCut(ws.CutAt)
	}
	f.sources = append(f.sources, ws.Sources...)
	f.warns = append(f.warns, ws.Warnings...)
	return nil
}

// StdinName is the argument that makes Open read a results stream from
// stdin, as in `vegeta attack … | flashcrowd report -`.
const StdinName = "-"

// Open folds what the report command is given: run directories (their
// saved windows, or else their run.json and results file) and results files
// (with the run.json beside them, if it names them), all merged as parts of
// one run. width <= 0 keeps saved windows' width (DefaultWidth otherwise).
func Open(args []string, width time.Duration, warn io.Writer) (*Windows, error) {
	return OpenStdin(args, nil, width, warn)
}

// OpenStdin is Open where the argument StdinName ("-") is a results stream
// read from stdin (vegeta's gob, json or csv, detected), folded as a plain
// vegeta results file.
//
// A run directory whose saved windows cannot be read is folded from its
// run.json and results file instead, with a warning on warn and in the
// report; without a results file that holds every result it is an error
// naming the windows file. A width finer than a run's saved windows, or
// not a multiple of it, refolds the run's results file when it holds every
// result, and is refused otherwise, saying the saved width.
func OpenStdin(args []string, stdin io.Reader, width time.Duration, warn io.Writer) (*Windows, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("nothing to report: give a run directory or results files")
	}
	type source struct {
		saved *Windows
		info  *scenarios.RunInfo
		files []string
		name  string // the argument
		dir   string // a run directory's path
		stdin bool
		note  string // a warning for the report: what was folded instead of what
	}
	var srcs []source
	var seen []os.FileInfo
	var skipped []string
	stdinAt := -1
	for i, a := range args {
		if a == StdinName {
			if stdinAt >= 0 {
				return nil, &scenarios.Problem{File: a, Msg: "stdin given twice: it can be read once"}
			}
			if stdin == nil {
				return nil, &scenarios.Problem{File: a, Msg: "no stdin to read results from"}
			}
			stdinAt = i
			srcs = append(srcs, source{stdin: true, name: a})
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, &scenarios.Problem{File: a, Msg: "no such run directory or results file"}
		}
		// The same run or file twice would count its results twice.
		for k, o := range seen {
			if os.SameFile(o, st) {
				return nil, &scenarios.Problem{File: a, Msg: fmt.Sprintf("given twice (as %s too): its results would count twice", args[k])}
			}
		}
		seen = append(seen, st)
		if !st.IsDir() {
			var info *scenarios.RunInfo
			dir := ""
			if ri, err := scenarios.ReadRunInfo(filepath.Dir(a)); err == nil && ri.Results == filepath.Base(a) {
				// A run's own results file: its run.json, and its visits
				// file when its arrivals were visitors, are beside it.
				info, dir = ri, filepath.Dir(a)
			}
			srcs = append(srcs, source{info: info, files: []string{a}, name: a, dir: dir})
			continue
		}
		info, infoErr := scenarios.ReadRunInfo(a)
		if infoErr != nil && !errors.Is(infoErr, os.ErrNotExist) {
			return nil, &scenarios.Problem{File: filepath.Join(a, scenarios.RunInfoFile), Msg: infoErr.Error()}
		}
		if info == nil && len(args) > 1 && emptyRunDir(a) {
			// A shard stopped before its start instant (its pod killed
			// while waiting): nothing to merge; the shard is named missing.
			msg := fmt.Sprintf("%s holds no run.json and no results: skipped", a)
			skipped = append(skipped, msg)
			continue
		}
		results := ""
		if info != nil && info.Results != "" {
			results = filepath.Join(a, info.Results)
		} else if _, err := os.Stat(filepath.Join(a, "results.gob")); err == nil {
			results = filepath.Join(a, "results.gob")
		}
		if results != "" {
			if _, err := os.Stat(results); err != nil {
				results = "" // named in run.json but gone: checked below if needed
			}
		}
		// Why the results file cannot stand in for the saved windows ("" if
		// it can).
		noRefold := ""
		switch {
		case results == "" && info != nil && info.Results != "":
			noRefold = fmt.Sprintf("its results file %s is missing", info.Results)
		case results == "":
			noRefold = "the run has no results file"
		case info != nil && info.ResultsKept != "" && info.ResultsKept != "all":
			noRefold = fmt.Sprintf("its results file keeps only some results (%s)", info.ResultsKept)
		}
		src := source{info: info, files: []string{results}, dir: a, name: a}
		ws, err := LoadWindows(a)
		switch {
		case err == nil:
			if width <= 0 || (width >= ws.Width && width%ws.Width == 0) {
				srcs = append(srcs, source{saved: ws, info: ws.Info, dir: a, name: a})
				continue
			}
			if noRefold != "" {
				return nil, &scenarios.Problem{File: a, Field: "--window " + width.String(),
					Msg: fmt.Sprintf("the saved windows are %s wide; a finer width, or one not a multiple of theirs, needs the run's results, and %s: give --window %s or a multiple of it (%s, %s, …), or leave --window out",
						ws.Width, noRefold, ws.Width, 2*ws.Width, 5*ws.Width)}
			}
			// Refold the complete results at the width asked for.
		case errors.Is(err, os.ErrNotExist):
			if results == "" && info != nil && info.Results != "" {
				return nil, &scenarios.Problem{File: filepath.Join(a, info.Results), Msg: "results file named in run.json is missing (and there is no " + WindowsFile + ")"}
			}
			if results == "" {
				return nil, &scenarios.Problem{File: a, Msg: "no " + WindowsFile + " and no results file in this directory"}
			}
		default:
			// Corrupt or unreadable saved windows: rebuild them from
			// the results, when those are all there.
			if noRefold != "" {
				return nil, &scenarios.Problem{File: filepath.Join(a, WindowsFile),
					Msg: fmt.Sprintf("unreadable (%v), and the windows cannot be rebuilt: %s", problemMsg(err), noRefold)}
			}
			src.note = fmt.Sprintf("%s is unreadable (%s): the report is rebuilt from %s and %s",
				filepath.Join(a, WindowsFile), problemMsg(err), scenarios.RunInfoFile, filepath.Base(results))
			if info == nil {
				src.note = fmt.Sprintf("%s is unreadable (%s): the report is rebuilt from %s",
					filepath.Join(a, WindowsFile), problemMsg(err), filepath.Base(results))
			}
			fmt.Fprintf(warn, "warning: %s\n", src.note)
		}
		srcs = append(srcs, src)
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("nothing to report: %s", strings.Join(skipped, "; "))
	}
	// One time base: the first source's run, or plain files.
	base := srcs[0].info
	w := width
	if w <= 0 {
		w = DefaultWidth
		if srcs[0].saved != nil {
			w = srcs[0].saved.Width
		}
	}
	for _, s := range srcs {
		if s.saved != nil && (w < s.saved.Width || w%s.saved.Width != 0) {
			return nil, &scenarios.Problem{File: s.dir, Field: "window " + w.String(),
				Msg: fmt.Sprintf("the saved windows of this run are %s wide and cannot be cut into windows of %s: give --window %s or a multiple of it, one that suits every run given", s.saved.Width, w, s.saved.Width)}
		}
	}
	f := NewFolder(base, w)
	for _, s := range srcs {
		if (s.info == nil) != (base == nil) {
			kind := func(info *scenarios.RunInfo) string {
				if info != nil {
					return "a flashcrowd run (with run.json)"
				}
				return "plain vegeta results"
			}
			return nil, &scenarios.Problem{File: s.name, Msg: fmt.Sprintf("%s, and %s is %s: they cannot merge in one report", kind(s.info), srcs[0].name, kind(base))}
		}
		if s.saved != nil {
			if err := f.AddWindows(s.saved); err != nil {
				return nil, err
			}
			continue
		}
		g := NewFolder(s.info, w)
		if s.note != "" {
			g.Warn("%s", s.note)
		}
		if s.stdin {
			if err := readResults("stdin", stdin, g, warn); err != nil {
				return nil, err
			}
		} else if err := ReadFiles(s.files, g, warn); err != nil {
			return nil, err
		}
		if err := f.Merge(g); err != nil {
			return nil, err
		}
	}
	ws := f.Windows()
	var dirs []string
	for _, s := range srcs {
		if s.dir != "" {
			dirs = append(dirs, s.dir)
		}
	}
	var err error
	if ws.Visitors, err = ReadVisitors(ws, dirs); err != nil {
		return nil, err
	}
	if ws.Visitors == nil && len(srcs) == 1 && srcs[0].saved != nil && srcs[0].saved.Visitors != nil {
		// A simulation's visitors, saved folded with its windows.
		sv := srcs[0].saved
		ws.Visitors = sv.Visitors.rewindow(sv.Width, sv.Origin, ws.Width, ws.Origin)
	}
	var infos []*scenarios.RunInfo
	for _, s := range srcs {
		if s.info != nil {
			infos = append(infos, s.info)
		}
	}
	for _, n := range append(skipped, shardNotes(infos, ws.Shards)...) {
		ws.Warnings = append(ws.Warnings, n)
		fmt.Fprintf(warn, "warning: %s\n", n)
	}
	return ws, nil
}

// problemMsg is a Problem's message without its file (the caller names
// the file), or err's text.
func problemMsg(err error) string {
	var p *scenarios.Problem
	if errors.As(err, &p) {
		if p.Field != "" {
			return p.Field + ": " + p.Msg
		}
		return p.Msg
	}
	return err.Error()
}
