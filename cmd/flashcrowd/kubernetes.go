package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/flashcrowd/flashcrowd/attack"
	"github.com/flashcrowd/flashcrowd/cmd/flashcrowd/internal/kube"
	"github.com/flashcrowd/flashcrowd/hosting"
	"github.com/flashcrowd/flashcrowd/scenarios"
)

// defaultKubeLead is how long after the manifests are written the shards
// start, when --start-at is not given: time to apply them, pull the image
// and schedule the pods.
const defaultKubeLead = "+2m"

type kubeOpts struct {
	run          runOpts // the flags every shard's `flashcrowd run` gets
	shards       string
	image        string
	namespace    string
	name         string
	resultsPVC   string
	resultsSize  string
	storageClass string
	podRate      scenarios.Rate
	podBandwidth string
	podCPU       string
	podMemory    string
}

// kubeOwnFlags are the flags `kubernetes` resolves itself (the scenario,
// into the ConfigMap) or that only it has; every other flag given is
// handed to each shard's `flashcrowd run` as it is.
var kubeOwnFlags = map[string]bool{
	"scenario": true, "curve": true, "rate": true, "duration": true, "compress": true, "peak": true, "max-rate": true,
	"targets": true, "targets-format": true, "out": true, "start-at": true, "shard": true, "plan": true, "run-id": true,
	"shards": true, "image": true, "namespace": true, "name": true, "results-pvc": true, "results-size": true,
	"storage-class": true, "pod-rate": true, "pod-bandwidth": true, "pod-cpu": true, "pod-memory": true,
}

func init() {
	register(&command{
		name:    "kubernetes",
		order:   15,
		summary: "write Kubernetes manifests that run one rehearsal on N pods (an Indexed Job) and merge their results",
		usage: `flashcrowd kubernetes [--scenario NAME|FILE] [--target URL --confirm HOST] [--shards N|auto]
                      [--image IMAGE] [--namespace NS] [--start-at TIME] [--out DIR|-] [run flags]

Writes, for kubectl apply -f, the manifests of one rehearsal split over N pods:
a ConfigMap holding the resolved scenario (the exact curve after --compress,
--peak and --max-rate, its endpoints, SLO and abort rules), a ReadWriteMany
PersistentVolumeClaim for results (or --results-pvc), an Indexed Job whose pod i
runs "flashcrowd run --shard i/N --start-at T --out /results/NAME/shard-i"
(one core each, spread over nodes, metrics on the port named "metrics"), and a
suspended report Job that merges the shards into /results/NAME/report once
resumed. Every other flag is passed to each shard's run as given.

--start-at is written as an absolute instant (+DURATION counts from now,
default +2m): a pod that starts more than 1 s after it refuses to send a
shifted schedule and fails. --shards auto sizes the Job from the curve's
peak, --pod-rate requests a second a pod and --pod-bandwidth over the mix's
response sizes (each endpoint's size: in the scenario, or a default by class),
and says how.

Step by step: docs/kubernetes.md.

Examples:
  flashcrowd kubernetes --scenario my-launch.yaml --target https://staging.example.com \
      --confirm staging.example.com --image registry.example.com/flashcrowd:v1 | kubectl apply -f -
  flashcrowd kubernetes --scenario press-spike --compress 60 --shards auto --pod-bandwidth 5Gbit \
      --target https://staging.example.com --confirm staging.example.com --out k8s/
  flashcrowd kubernetes --rate 2000/s --duration 5m --shards 4 --start-at 2026-03-14T09:00:00Z \
      --target http://staging.example.com:8080 --confirm staging.example.com --results-pvc shared-results
  kubectl wait --for=condition=complete job/NAME --timeout=1h; \
      kubectl patch job NAME-report --type=merge -p '{"spec":{"suspend":false}}'`,
		flags: func(fs *pflag.FlagSet) any {
			o := &kubeOpts{}
			r := &o.run
			r.sf.add(fs, defaultRunScenario)
			r.sf.addMaxRate(fs)
			fs.StringVar(&r.target, "target", "", "base `URL` every shard sends to (default: each pod its own simulated host, a smoke test)")
			fs.StringVar(&r.plan, "plan", "", "without --target: the simulated host's plan in each pod, built-in `NAME` or FILE (carried in the ConfigMap)")
			fs.StringVar(&r.targets, "targets", "", "send the targets of a vegeta targets `FILE` in turn (resolved into the ConfigMap)")
			fs.StringVar(&r.targetsFormat, "targets-format", "", "`FORMAT` of --targets: http or json (default: detected)")
			fs.StringSliceVar(&r.confirm, "confirm", nil, "allow sending to `HOST`, which is not loopback (repeat or comma-separate)")
			fs.StringVar(&r.startAt, "start-at", defaultKubeLead, "the shards' common start `TIME` (RFC 3339, or +DURATION from now), written as an absolute instant")
			fs.StringVar(&r.out, "out", "-", "write the manifests to `DIR`/NAME.yaml, or - for stdout")
			fs.StringVar(&o.shards, "shards", "auto", "pods, one shard each: `N` or auto (from the peak, --pod-rate and --pod-bandwidth)")
			fs.StringVar(&o.image, "image", "flashcrowd:latest", "the flashcrowd container `IMAGE` (see the Dockerfile)")
			fs.StringVar(&o.namespace, "namespace", "", "`NAMESPACE` of every object (default: kubectl's current one)")
			fs.StringVar(&o.name, "name", "", "`NAME` of the Job and prefix of the other objects (default flashcrowd-SCENARIO-MMDD-HHMM)")
			fs.StringVar(&o.resultsPVC, "results-pvc", "", "write results to this existing ReadWriteMany PersistentVolumeClaim `NAME` instead of creating one")
			fs.StringVar(&o.resultsSize, "results-size", "10Gi", "`SIZE` of the results claim created (about 64 bytes a request; not with --results-pvc)")
			fs.StringVar(&o.storageClass, "storage-class", "", "StorageClass `NAME` of the results claim created (one that offers ReadWriteMany; default the cluster's; not with --results-pvc)")
			o.podRate = kube.PodRate
			fs.Var(&o.podRate, "pod-rate", "`RATE` one pod sends (one core), for --shards auto")
			fs.StringVar(&o.podBandwidth, "pod-bandwidth", "1Gbit", "`BITS` a second one pod receives (500Mbit, 1Gbit, 10Gbit), for --shards auto")
			fs.StringVar(&o.podCPU, "pod-cpu", "1", "`CPU` request of each pod (no limit: throttling would delay sends)")
			fs.StringVar(&o.podMemory, "pod-memory", "1Gi", "memory request and limit of each pod (`SIZE`)")
			fs.StringVar(&r.mf.runID, "run-id", "", "the `ID` in every shard's metrics' run label (default: --name, the rehearsal's name)")
			fs.DurationVar(&r.mf.hold, "metrics-hold", defaultMetricsHold, "keep each shard's /metrics up this `DURATION` after its run ends, so the last scrape sees the final counts")
			r.af.add(fs)
			fs.BoolVarP(&r.quiet, "quiet", "q", false, "no progress in the pods' logs")
			fs.StringVar(&r.slo, "slo", "", "judge each shard and the merged report by this `SLO` (the report Job fails, exit 3, when it fails)")
			fs.StringVar(&r.window, "window", "", "report window `WIDTH` of each shard and of the merged report")
			return o
		},
		run: runKubernetes,
	})
}

func runKubernetes(e *env, fs *pflag.FlagSet, opts any, args []string) error {
	o := opts.(*kubeOpts)
	r := &o.run
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	now := time.Now()
	if !fs.Changed("scenario") && r.sf.curve == "" && r.sf.rate == 0 && r.sf.duration == "" && r.targets == "" {
		if !fs.Changed("compress") {
			fs.Set("compress", defaultRunCompress)
		}
		if !fs.Changed("peak") {
			fs.Set("peak", defaultRunPeak)
		}
	}
	if r.targets != "" && !fs.Changed("scenario") && r.sf.curve == "" && r.sf.rate == 0 {
		return usagef("--targets needs a curve: give --scenario, --curve or --rate and --duration")
	}
	s, err := r.sf.load(fs)
	if err != nil {
		return err
	}
	if r.targets != "" {
		eps, err := attack.ReadTargets(r.targets, r.targetsFormat)
		if err != nil {
			return err
		}
		s.Endpoints = eps
	}
	if len(s.Endpoints) == 0 {
		s.Endpoints = scenarios.DefaultEndpoints()
	}
	// The run flags are checked here, so that a typo fails now and not in
	// every pod.
	if _, err := r.af.options(fs, s, r.confirm); err != nil {
		return err
	}
	if r.startAt == "" {
		return usagef("--start-at: give an instant (RFC 3339) or +DURATION; the shards need one")
	}
	startAt, err := parseStartAt(r.startAt, now)
	if err != nil {
		return err
	}
	if startAt.Before(now) {
		return usagef("--start-at %s is in the past: the pods could not start on time", r.startAt)
	}
	// Whole seconds read better in the manifest and in kubectl's output.
	if f := startAt.Sub(startAt.Truncate(time.Second)); f > 0 {
		startAt = startAt.Add(time.Second - f)
	}

	// Where the shards send: a URL, the endpoints' own hosts, or each
	// pod's own simulated host.
	var sizeOf func(scenarios.Class) int64
	var planArg, planFile string // a built-in plan's name; a plan file's ConfigMap key
	var planData []byte
	switch {
	case r.target != "":
		if fs.Changed("plan") {
			return usagef("--plan is for the simulated host: give --target or --plan, not both")
		}
		u, err := url.Parse(r.target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--target %q: want an http(s) URL such as http://staging.example.com:8080", r.target)
		}
		hosts, err := targetHosts(u, s.Endpoints)
		if err != nil {
			return usagef("%v", err)
		}
		if err := attack.CheckConfirmed(hosts, r.confirm); err != nil {
			return usagef("%v", err)
		}
		for _, h := range hosts {
			if attack.IsLoopback(h) {
				fmt.Fprintf(e.stderr, "flashcrowd kubernetes: warning: --target %s is a loopback address: in a pod that is the pod itself, where nothing listens (every shard's pre-flight request fails, exit 2); give an address the pods reach, such as a Service name (shop.staging.svc)\n", r.target)
				break
			}
		}
	case allFullURLs(s.Endpoints) && !fs.Changed("plan"):
		hosts, err := targetHosts(nil, s.Endpoints)
		if err != nil {
			return usagef("%v", err)
		}
		if err := attack.CheckConfirmed(hosts, r.confirm); err != nil {
			return usagef("%v", err)
		}
	default:
		name := r.plan
		if name == "" {
			name = defaultRunPlan
		}
		plan, err := hosting.LoadPlan(name)
		if err != nil {
			return err
		}
		if fs.Changed("plan") {
			if _, err := hosting.BuiltinPlanSource(r.plan); err == nil {
				planArg = r.plan
			} else if planFile, planData, err = kubePlanFile(r.plan, plan.Name); err != nil {
				return err
			}
		}
		sizeOf = func(c scenarios.Class) int64 { return plan.Class(c).Size }
		fmt.Fprintf(e.stderr, "flashcrowd kubernetes: no --target: every pod rehearses against its own simulated host (plan %s), a smoke test of the manifests\n", plan.Name)
	}
	if sizeOf == nil {
		sizeOf = func(c scenarios.Class) int64 { return kube.DefaultSizes[c] }
	}

	// How many pods: no more than the curve starts arrivals (requests,
	// or journeys and page views, which a shard takes whole).
	total := s.Curve.Requests()
	word := s.Arrivals()
	var shards int
	sizing := ""
	if o.shards == "auto" {
		bw, err := parseBits(o.podBandwidth)
		if err != nil {
			return usagef("--pod-bandwidth %q: %v", o.podBandwidth, err)
		}
		if !(o.podRate > 0) {
			return usagef("--pod-rate must be > 0")
		}
		sz := kube.Size(s.Curve.Peak()*s.RequestsPerArrival(), s.RequestMix(), float64(o.podRate), bw, sizeOf)
		sz.Cap(total, word)
		shards = sz.Shards
		sizing = sz.String()
	} else {
		n, err := strconv.Atoi(o.shards)
		if err != nil || n < 1 {
			return usagef("--shards %q: want a number of pods ≥ 1, or auto", o.shards)
		}
		shards = n
	}
	if uint64(shards) > total {
		return usagef("--shards %d is more than the %d %s the curve starts: some pods would send nothing", shards, total, word)
	}
	if o.resultsPVC != "" && fs.Changed("results-size") {
		return usagef("--results-size %s: the claim --results-pvc %s exists already, with its own size; give one or the other", o.resultsSize, o.resultsPVC)
	}

	name := o.name
	if name == "" {
		name = kubeName(s.Name, startAt)
	}
	resolved, err := scenarios.MarshalResolved(s)
	if err != nil {
		return err
	}
	runArgs := passThrough(fs)
	if planArg != "" {
		runArgs = append([]string{"--plan=" + planArg}, runArgs...)
	}
	if fs.Changed("run-id") && r.mf.runID == "" {
		return usagef("--run-id: give an id, or leave the flag out for the rehearsal's name")
	}
	reh := kube.Rehearsal{
		Name: name, Namespace: o.namespace, Image: o.image, Shards: shards,
		StartAt: startAt, Written: now, Duration: s.Curve.Duration(), Scenario: resolved,
		RunArgs:    runArgs,
		ReportArgs: reportThrough(fs),
		RunID:      r.mf.runID, MetricsHold: r.mf.hold,
		PlanFile: planFile, Plan: planData,
		ResultsPVC: o.resultsPVC, ResultsSize: o.resultsSize, StorageClass: o.storageClass,
		CPU: o.podCPU, Memory: o.podMemory,
		Env: s.EnvNames(),
	}
	if errs := reh.Validate(); len(errs) > 0 {
		var msgs []string
		for _, err := range errs {
			msgs = append(msgs, err.Error())
		}
		return usagef("%s", strings.Join(msgs, "\n"))
	}
	for _, h := range r.af.headers {
		if k, _, ok := strings.Cut(h, ":"); ok && secretHeader(k) {
			fmt.Fprintf(e.stderr, "flashcrowd kubernetes: warning: header %s is written into the Job's arguments in clear text: whoever can read the Job can read it\n", strings.TrimSpace(k))
		}
	}
	m, err := kube.Build(reh)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	pods := fmt.Sprintf("%d pods", shards)
	if shards == 1 {
		pods = "1 pod"
	}
	header := fmt.Sprintf("flashcrowd rehearsal %s: %s, %s, starting %s.\nAfter job/%s finishes, resume job/%s-report (docs/kubernetes.md).",
		name, r.sf.describe(s), pods, startAt.UTC().Format(time.RFC3339), name, name)
	if err := m.Write(&buf, header); err != nil {
		return err
	}
	dest := "stdout"
	file := "-"
	if r.out == "-" {
		if _, err := e.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(r.out, 0o755); err != nil {
			return fmt.Errorf("writing manifests: %w", err)
		}
		file = filepath.Join(r.out, name+".yaml")
		// Whole or not at all: a half-written file applied would create
		// half a rehearsal.
		tmp := file + ".tmp"
		if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("writing manifests: %w", err)
		}
		if err := os.Rename(tmp, file); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("writing manifests: %w", err)
		}
		dest = file
	}
	fmt.Fprint(e.stderr, sizing)
	if lead := startAt.Sub(now); lead < 30*time.Second {
		fmt.Fprintf(e.stderr, "flashcrowd kubernetes: warning: the shards start in %s: pods that are not scheduled and running by then fail (a late shard would send a shifted schedule)\n",
			scenarios.FormatDuration(lead.Round(time.Second)))
	}
	ns := ""
	if o.namespace != "" {
		ns = " -n " + o.namespace
	}
	secret := ""
	if len(reh.Env) > 0 {
		// The scenario's ${ENV:NAME} values: from the Secret, never the manifests.
		var lits []string
		for _, n := range reh.Env {
			lits = append(lits, fmt.Sprintf(`--from-literal=%s="$%s"`, n, n))
		}
		secret = fmt.Sprintf("  kubectl create secret generic%s %s %s   # the scenario's ${ENV:…} values\n", ns, reh.EnvSecret(), strings.Join(lits, " "))
	}
	fmt.Fprintf(e.stderr, `flashcrowd kubernetes: %s, %s over %s in %s, starting %s (in %s) → %s
next:
%s  kubectl apply%s -f %s            # before %s
  kubectl get pods%s -l app.kubernetes.io/instance=%s -w
  kubectl wait%s --for=condition=complete job/%s --timeout=%s
  kubectl patch%s job %s-report --type=merge -p '{"spec":{"suspend":false}}'
  kubectl logs%s -f job/%s-report      # the report is in %s on the results volume
`,
		r.sf.describe(s), countOf(s, float64(total)), scenarios.FormatDuration(s.Curve.Duration()), pods,
		startAt.UTC().Format(time.RFC3339), scenarios.FormatDuration(startAt.Sub(now).Round(time.Second)), dest,
		secret, ns, file, startAt.UTC().Format(time.TimeOnly),
		ns, name,
		ns, name, kubectlDuration(startAt.Sub(now)+s.Curve.Duration()+5*time.Minute),
		ns, name,
		ns, name, reh.RunDir()+"/report")
	return nil
}

// kubectlDuration is d, to the minute, as kubectl's --timeout reads it (a
// Go duration: hours, no days): "669h5m".
func kubectlDuration(d time.Duration) string {
	s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s") // "669h5m", "2h0m"
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0s"
	}
	return s
}

// kubePlanFile reads the plan file at file for the ConfigMap, under a key
// that keeps the plan's name: a plan without a name: line is named after
// its file, so the key is the file's own name where a ConfigMap allows it.
func kubePlanFile(file, name string) (key string, data []byte, err error) {
	data, err = os.ReadFile(file)
	if err != nil {
		return "", nil, err
	}
	for _, k := range []string{filepath.Base(file), "plan.yaml"} {
		if !kube.IsConfigMapKey(k) || k == kube.ScenarioFile {
			continue
		}
		if p, err := hosting.ParsePlan(path.Join(kube.ScenarioDir, k), data); err == nil && p.Name == name {
			return k, data, nil
		}
	}
	return "", nil, usagef("--plan %s: the file's name cannot be a ConfigMap key, which would rename the plan: add a name: line to it, or name the file with letters, digits, '-', '_' and '.'", file)
}

// passThrough lists the flags given that every shard's run gets as they
// are, repeated flags once per value.
func passThrough(fs *pflag.FlagSet) []string {
	var out []string
	fs.Visit(func(f *pflag.Flag) {
		if kubeOwnFlags[f.Name] {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return out
}

// reportThrough lists the flags given that the report Job's `flashcrowd
// report` gets too.
func reportThrough(fs *pflag.FlagSet) []string {
	var out []string
	for _, n := range []string{"slo", "window"} {
		if f := fs.Lookup(n); f != nil && fs.Changed(n) {
			out = append(out, "--"+n+"="+f.Value.String())
		}
	}
	return out
}

// kubeName is the default name of a rehearsal's objects.
func kubeName(scenario string, start time.Time) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, scenario)
	s = strings.Trim(s, "-")
	if len(s) > 28 {
		s = strings.Trim(s[:28], "-")
	}
	if s == "" {
		s = "run"
	}
	return "flashcrowd-" + s + "-" + start.UTC().Format("0102-1504")
}

// parseBits reads a bandwidth in bits a second: 500Mbit, 1Gbit, 10G,
// 1.5Gbit/s, 1e9.
func parseBits(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	t = strings.TrimSuffix(strings.TrimSuffix(t, "bps"), "bit")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "G"):
		mult, t = 1e9, strings.TrimSuffix(t, "G")
	case strings.HasSuffix(t, "M"):
		mult, t = 1e6, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "k"), strings.HasSuffix(t, "K"):
		mult, t = 1e3, t[:len(t)-1]
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(v > 0) || v*mult < 1e3 {
		return 0, fmt.Errorf("want bits a second such as 500Mbit, 1Gbit or 10Gbit")
	}
	return v * mult, nil
}
