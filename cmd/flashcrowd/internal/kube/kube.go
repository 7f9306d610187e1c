// Package kube writes the Kubernetes manifests of one flashcrowd rehearsal
// from the typed objects of k8s.io/api, serialised with sigs.k8s.io/yaml:
//
//   - a ConfigMap holding the resolved scenario (the exact curve to send),
//     so that every pod sends the same schedule;
//   - a PersistentVolumeClaim (ReadWriteMany) for the results, unless an
//     existing claim is named;
//   - an Indexed Job of N pods, pod i running
//     `flashcrowd run --shard i/N --start-at T --out /results/NAME/shard-i`;
//   - a suspended report Job that merges the shards into
//     /results/NAME/report once it is resumed.
//
// Only cmd/flashcrowd imports it: the core packages never see Kubernetes.
package kube

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Where things are inside a pod. The image (see the Dockerfile) holds the
// binary at Binary.
const (
	Binary       = "/usr/local/bin/flashcrowd"
	ScenarioDir  = "/etc/flashcrowd"
	ScenarioFile = "scenario.json"
	ResultsDir   = "/results"
	TmpDir       = "/tmp"
	// Container is the name of the container in every pod.
	Container = "flashcrowd"
	// IndexEnv is the variable holding a pod's completion index; the Job
	// controller sets it too, and the manifest declares it from the pod's
	// annotation so that $(JOB_COMPLETION_INDEX) expands on any version.
	IndexEnv        = "JOB_COMPLETION_INDEX"
	indexAnnotation = "batch.kubernetes.io/job-completion-index"
	// MetricsPort is the named container port "metrics" each shard serves
	// Prometheus metrics on (--metrics-addr).
	MetricsPort = 9090
	// maxConfigMap is the API server's limit on a ConfigMap's data.
	maxConfigMap = 1 << 20
	// runAs is the non-root user of the distroless image.
	runAs = 65532
)

// Rehearsal is what the manifests describe.
type Rehearsal struct {
	Name      string        // base name of every object (a DNS label)
	Namespace string        // "" leaves it to kubectl's context
	Image     string        // the flashcrowd image
	Shards    int           // pods, one shard each
	StartAt   time.Time     // the shared t = 0 of the curve
	Written   time.Time     // when the manifests are written (for the Job's deadline)
	Duration  time.Duration // the curve's length
	Scenario  []byte        // the resolved scenario file (scenarios.MarshalResolved)
	RunArgs   []string      // further flags for every shard's `flashcrowd run`
	// ReportArgs are further flags for the report Job's `flashcrowd report`.
	ReportArgs []string

	// RunID is every shard's --run-id, the run label of its metrics: one
	// for all shards, so that a dashboard shows the rehearsal as one run.
	// "" is Name.
	RunID string
	// MetricsHold is how long each shard keeps /metrics up after its run
	// (its --metrics-hold, given in RunArgs): the Job's deadline allows it.
	MetricsHold time.Duration

	// PlanFile and Plan are a hosting plan file of the user's (--plan
	// FILE, for the simulated host in each pod): Plan is carried in the
	// ConfigMap under the key PlanFile, and each shard runs with --plan at
	// its mounted copy. "" when no such file (a built-in plan NAME is
	// passed in RunArgs as it is).
	PlanFile string
	Plan     []byte

	ResultsPVC   string // an existing ReadWriteMany claim; "" creates NAME-results
	ResultsSize  string // size of the created claim, e.g. 10Gi
	StorageClass string // of the created claim; "" the cluster's default

	CPU    string // CPU request (and the unit --shards auto sizes for), e.g. 1
	Memory string // memory request and limit, e.g. 1Gi

	// Env names the environment variables the scenario references
	// (${ENV:NAME}): the resolved scenario holds the references, and each
	// load pod takes the values from the Secret EnvSecret(), which the user
	// creates, so that no manifest holds them.
	Env []string
}

// EnvSecret is the name of the Secret the load pods take Env from.
func (r *Rehearsal) EnvSecret() string { return r.Name + "-env" }

// Manifests are the objects of one rehearsal.
type Manifests struct {
	ConfigMap *corev1.ConfigMap
	PVC       *corev1.PersistentVolumeClaim // nil when an existing claim is used
	Job       *batchv1.Job
	Report    *batchv1.Job
}

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	docSep       = regexp.MustCompile(`(?m)^---\s*$`)
	// imageRef is a loose check of an image reference: no spaces, no
	// upper case in the repository, an optional tag or digest.
	imageRef = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$`)
)

// loadEnv is a load pod's environment: its completion index, and the
// scenario's variables from the Secret EnvSecret.
func (r *Rehearsal) loadEnv() []corev1.EnvVar {
	env := []corev1.EnvVar{{
		Name: IndexEnv,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			FieldPath: "metadata.annotations['" + indexAnnotation + "']"}},
	}}
	for _, n := range r.Env {
		env = append(env, corev1.EnvVar{Name: n, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.EnvSecret()}, Key: n}}})
	}
	return env
}

// Validate checks r and lists every problem.
func (r *Rehearsal) Validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	// Indexed Job pods get the hostname NAME-INDEX: keep room for it.
	if len(r.Name) > 52 || !dnsLabel.MatchString(r.Name) {
		bad("--name %q: want a DNS label of at most 52 characters (lower case letters, digits, '-')", r.Name)
	}
	if r.Namespace != "" && (len(r.Namespace) > 63 || !dnsLabel.MatchString(r.Namespace)) {
		bad("--namespace %q: want a DNS label (lower case letters, digits, '-')", r.Namespace)
	}
	if !imageRef.MatchString(r.Image) {
		bad("--image %q: want an image reference such as registry.example.com/flashcrowd:v1 (no spaces, lower-case repository)", r.Image)
	}
	if r.Shards < 1 || r.Shards > 10000 {
		bad("--shards %d: want 1 to 10000 pods", r.Shards)
	}
	if r.StartAt.IsZero() || r.Written.IsZero() {
		bad("no start instant")
	}
	if len(r.Scenario) == 0 {
		bad("no scenario")
	} else if n := len(r.Scenario) + len(r.Plan); n > maxConfigMap-1024 {
		what := "the resolved scenario is"
		if len(r.Plan) > 0 {
			what = "the resolved scenario and the plan file are"
		}
		bad("%s %d bytes, over what a ConfigMap holds (1 MiB): use a shorter replay curve", what, n)
	}
	if (r.PlanFile == "") != (len(r.Plan) == 0) {
		bad("a plan file needs both its name and its contents")
	} else if r.PlanFile != "" && (!IsConfigMapKey(r.PlanFile) || r.PlanFile == ScenarioFile) {
		bad("plan file %q: want a ConfigMap key (letters, digits, '-', '_', '.') other than %s", r.PlanFile, ScenarioFile)
	}
	if r.ResultsPVC != "" && !dnsLabel.MatchString(r.ResultsPVC) {
		bad("--results-pvc %q: want the name of a PersistentVolumeClaim", r.ResultsPVC)
	}
	if r.ResultsPVC != "" && r.StorageClass != "" {
		bad("--storage-class %s: the claim --results-pvc %s exists already, with its own class; give one or the other", r.StorageClass, r.ResultsPVC)
	}
	if r.MetricsHold < 0 {
		bad("--metrics-hold %s: want a duration ≥ 0", r.MetricsHold)
	}
	if r.ResultsPVC == "" {
		if q, err := resource.ParseQuantity(r.ResultsSize); err != nil || q.Sign() <= 0 {
			bad("--results-size %q: want a size such as 10Gi", r.ResultsSize)
		}
	}
	if r.StorageClass != "" && !dnsSubdomain.MatchString(r.StorageClass) {
		bad("--storage-class %q: want a StorageClass name", r.StorageClass)
	}
	for _, q := range []struct{ flag, v, eg string }{{"--pod-cpu", r.CPU, "1 or 500m"}, {"--pod-memory", r.Memory, "1Gi or 512Mi"}} {
		if v, err := resource.ParseQuantity(q.v); err != nil || v.Sign() <= 0 {
			bad("%s %q: want a Kubernetes quantity such as %s", q.flag, q.v, q.eg)
		}
	}
	return errs
}

// configMapKey is what the API server accepts as a ConfigMap key.
var configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// IsConfigMapKey tells whether k is a valid ConfigMap key (and so a file
// name in the mounted volume).
func IsConfigMapKey(k string) bool {
	return len(k) <= 253 && configMapKey.MatchString(k) && k != "." && !strings.HasPrefix(k, "..")
}

// RunLabel is every shard's --run-id.
func (r *Rehearsal) RunLabel() string {
	if r.RunID != "" {
		return r.RunID
	}
	return r.Name
}

// literal escapes s for a container's args, where Kubernetes expands
// $(VAR) and reads $$ as $: a value given by the user stays as given.
func literal(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// RunDir is the results folder of the rehearsal on the results volume;
// shard i writes RunDir/shard-i and the report goes to RunDir/report.
func (r *Rehearsal) RunDir() string { return path.Join(ResultsDir, r.Name) }

// ShardArgs are the arguments of every shard's container, with
// $(JOB_COMPLETION_INDEX) left for Kubernetes to expand.
func (r *Rehearsal) ShardArgs() []string {
	idx := "$(" + IndexEnv + ")"
	args := []string{
		"run",
		"--scenario=" + path.Join(ScenarioDir, ScenarioFile),
		"--shard=" + idx + "/" + strconv.Itoa(r.Shards),
		"--start-at=" + r.StartAt.UTC().Format(time.RFC3339Nano),
		"--out=" + path.Join(r.RunDir(), "shard-"+idx),
		"--metrics-addr=:" + strconv.Itoa(MetricsPort),
		// One run label for every shard: without it each shard's label
		// would be its --out folder's name, shard-i.
		"--run-id=" + literal(r.RunLabel()),
	}
	if r.PlanFile != "" {
		args = append(args, "--plan="+path.Join(ScenarioDir, r.PlanFile))
	}
	for _, a := range r.RunArgs {
		args = append(args, literal(a))
	}
	return args
}

// ReportCommand is the arguments of the report Job's container. The pattern
// is expanded by flashcrowd report itself (the image has no shell).
func (r *Rehearsal) ReportCommand() []string {
	args := []string{"report", path.Join(r.RunDir(), "shard-*"), "--out=" + path.Join(r.RunDir(), "report")}
	for _, a := range r.ReportArgs {
		args = append(args, literal(a))
	}
	return args
}

// Build makes the rehearsal's objects. r must be valid.
func Build(r Rehearsal) (*Manifests, error) {
	if errs := r.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("writing manifests: %w", errs[0])
	}
	labels := map[string]string{
		"app.kubernetes.io/name":      "flashcrowd",
		"app.kubernetes.io/instance":  r.Name,
		"app.kubernetes.io/component": "load",
	}
	meta := func(name, component string) metav1.ObjectMeta {
		l := map[string]string{}
		for k, v := range labels {
			l[k] = v
		}
		l["app.kubernetes.io/component"] = component
		return metav1.ObjectMeta{Name: name, Namespace: r.Namespace, Labels: l}
	}
	m := &Manifests{}

	m.ConfigMap = &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(r.Name+"-scenario", "scenario"),
		Data:       map[string]string{ScenarioFile: string(r.Scenario)},
	}
	if r.PlanFile != "" {
		m.ConfigMap.Data[r.PlanFile] = string(r.Plan)
	}
	claim := r.ResultsPVC
	if claim == "" {
		claim = r.Name + "-results"
		m.PVC = &corev1.PersistentVolumeClaim{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: meta(claim, "results"),
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
				Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(r.ResultsSize)},
				},
			},
		}
		if r.StorageClass != "" {
			m.PVC.Spec.StorageClassName = &r.StorageClass
		}
	}

	volumes := []corev1.Volume{
		{Name: "scenario", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: m.ConfigMap.Name}}}},
		{Name: "results", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: claim}}},
		// The root file system is read-only: temporary files (a report's
		// spilled windows) go here.
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	mounts := []corev1.VolumeMount{
		{Name: "scenario", MountPath: ScenarioDir, ReadOnly: true},
		{Name: "results", MountPath: ResultsDir},
		{Name: "tmp", MountPath: TmpDir},
	}
	secure := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		ReadOnlyRootFilesystem:   ptr(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	podSecurity := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr(true),
		RunAsUser:      ptr(int64(runAs)),
		RunAsGroup:     ptr(int64(runAs)),
		FSGroup:        ptr(int64(runAs)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	mem := resource.MustParse(r.Memory)
	n := int32(r.Shards)
	// The Job may run until the curve has been sent, plus the wait for the
	// start instant, a margin for draining and writing results, and the
	// time each shard keeps its metrics up afterwards.
	deadline := int64((r.StartAt.Sub(r.Written) + r.Duration + 10*time.Minute + r.MetricsHold).Seconds())
	podLabels := meta("", "load").Labels

	m.Job = &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta(r.Name, "load"),
		Spec: batchv1.JobSpec{
			CompletionMode: ptr(batchv1.IndexedCompletion),
			Completions:    &n,
			Parallelism:    &n,
			// A shard is never retried: a second try would start late and
			// send a shifted schedule. The other shards go on, and the
			// report names the missing one.
			BackoffLimitPerIndex: ptr(int32(0)),
			MaxFailedIndexes:     &n,
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailIndex,
				OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
					{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue},
				},
			}}},
			ActiveDeadlineSeconds: &deadline,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: podLabels,
					Annotations: map[string]string{
						"prometheus.io/scrape": "true",
						"prometheus.io/port":   strconv.Itoa(MetricsPort),
					},
				},
				Spec: corev1.PodSpec{
					RestartPolicy:                 corev1.RestartPolicyNever,
					TerminationGracePeriodSeconds: ptr(int64(60)),
					SecurityContext:               podSecurity,
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						// One shard a node where the cluster has the nodes:
						// shards on one node share its network card.
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
									"app.kubernetes.io/instance":  r.Name,
									"app.kubernetes.io/component": "load",
								}},
								TopologyKey: "kubernetes.io/hostname",
							},
						}},
					}},
					Containers: []corev1.Container{{
						Name:    Container,
						Image:   r.Image,
						Command: []string{Binary},
						Args:    r.ShardArgs(),
						Env:     r.loadEnv(),
						Ports:   []corev1.ContainerPort{{Name: "metrics", ContainerPort: MetricsPort, Protocol: corev1.ProtocolTCP}},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{
								corev1.ResourceCPU:    resource.MustParse(r.CPU),
								corev1.ResourceMemory: mem,
							},
							// No CPU limit: throttling would delay sends.
							Limits: corev1.ResourceList{corev1.ResourceMemory: mem},
						},
						VolumeMounts:    mounts,
						SecurityContext: secure,
					}},
					Volumes: volumes,
				},
			},
		},
	}

	m.Report = &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta(r.Name+"-report", "report"),
		Spec: batchv1.JobSpec{
			// Resumed by hand once the load Job has finished (see
			// docs/kubernetes.md): Kubernetes has no "after that Job".
			Suspend:      ptr(true),
			BackoffLimit: ptr(int32(0)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: meta("", "report").Labels},
				Spec: corev1.PodSpec{
					RestartPolicy:   corev1.RestartPolicyNever,
					SecurityContext: podSecurity,
					Containers: []corev1.Container{{
						Name:    Container,
						Image:   r.Image,
						Command: []string{Binary},
						Args:    r.ReportCommand(),
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: mem},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: mem},
						},
						VolumeMounts:    mounts[1:],
						SecurityContext: secure,
					}},
					Volumes: volumes[1:],
				},
			},
		},
	}
	return m, nil
}

func ptr[T any](v T) *T { return &v }

// Objects lists the objects in the order they are applied.
func (m *Manifests) Objects() []any {
	out := []any{m.ConfigMap}
	if m.PVC != nil {
		out = append(out, m.PVC)
	}
	return append(out, m.Job, m.Report)
}

// Write writes the objects as one YAML stream, documents separated by
// "---", ready for kubectl apply -f.
func (m *Manifests) Write(w io.Writer, header string) error {
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		if header != "" {
			fmt.Fprintf(&b, "# %s\n", l)
		}
	}
	for i, o := range m.Objects() {
		y, err := yaml.Marshal(o)
		if err != nil {
			return fmt.Errorf("writing manifests: %w", err)
		}
		if i > 0 || header != "" {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Parse reads a stream written by Write back into typed objects, strictly:
// an unknown field, a kind it does not expect or a missing object is an
// error.
func Parse(data []byte) (*Manifests, error) {
	m := &Manifests{}
	for i, doc := range splitDocs(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var err error
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			m.ConfigMap = &corev1.ConfigMap{}
			err = yaml.UnmarshalStrict(doc, m.ConfigMap)
		case "v1 PersistentVolumeClaim":
			m.PVC = &corev1.PersistentVolumeClaim{}
			err = yaml.UnmarshalStrict(doc, m.PVC)
		case "batch/v1 Job":
			j := &batchv1.Job{}
			err = yaml.UnmarshalStrict(doc, j)
			if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
				m.Job = j
			} else {
				m.Report = j
			}
		default:
			err = fmt.Errorf("unexpected object %s %s", tm.APIVersion, tm.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i+1, tm.Kind, err)
		}
	}
	if m.ConfigMap == nil || m.Job == nil || m.Report == nil {
		return nil, fmt.Errorf("want a ConfigMap, an Indexed Job and a report Job")
	}
	return m, nil
}

// splitDocs splits a YAML stream on its "---" lines, dropping documents
// that hold only comments.
func splitDocs(data []byte) [][]byte {
	var out [][]byte
	for _, d := range docSep.Split(string(data), -1) {
		empty := true
		for _, l := range strings.Split(d, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				empty = false
			}
		}
		if !empty {
			out = append(out, []byte(d))
		}
	}
	return out
}
