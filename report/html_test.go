package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// RequireChromiumEnv, set to 1, turns a missing Chromium into a test
// failure instead of a skip (CI sets it).
const RequireChromiumEnv = "FLASHCROWD_REQUIRE_CHROMIUM"

func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH: install Debian's chromium (apt-get install -y chromium) to render report.html in this test"
	if os.Getenv(RequireChromiumEnv) == "1" {
		t.Fatalf("%s (%s=1 requires it)", msg, RequireChromiumEnv)
	}
	t.Skip(msg + "; set " + RequireChromiumEnv + "=1 to make this a failure")
	return ""
}

func chromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// probe is appended to a copy of report.html: it measures the verdict and
// every plot as laid out and writes what it found into the page, which
// --dump-dom then prints. (The report itself has no scripts.)
const probe = `<script>
(function () {
  var out = [];
  function check(sel) {
    var el = document.querySelector(sel);
    if (!el) { out.push(sel + " missing"); return; }
    var r = el.getBoundingClientRect(), st = getComputedStyle(el);
    var ok = r.width > 300 && r.height > 40 && st.visibility === "visible" && st.display !== "none" && r.left >= 0 && r.right <= window.innerWidth + 1;
    var paths = el.querySelectorAll("path").length, texts = el.querySelectorAll("text").length;
    out.push(sel + " " + (ok ? "visible" : "HIDDEN") + " " + Math.round(r.width) + "x" + Math.round(r.height) + " paths=" + paths + " texts=" + texts);
  }
  check("#verdict");
  check("#overview svg");
  check("#latency-vs-load svg");
  check("#endpoints svg");
  check("#phases");
  check("#endpoint-table");
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = out.join("\n");
  document.body.appendChild(pre);
})();
</script>`

// TestHTMLInChromium renders report.html in headless Chromium for a run that
// breaks and one that holds, and checks the verdict and every plot are laid
// out visibly and actually painted.
func TestHTMLInChromium(t *testing.T) {
	bin := findChromium(t)
	cases := goldenCases(t)
	for _, name := range []string{"break", "held"} {
		a := cases[name]
		dir := t.TempDir()
		if keep := os.Getenv("FLASHCROWD_SCREENSHOT_DIR"); keep != "" {
			dir = filepath.Join(keep, name) // keep the files to look at
		}
		if err := WriteAll(dir, a); err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(page, []byte("http://")) && regexp.MustCompile(`(src|href)="https?://`).Match(page) {
			t.Errorf("%s: report.html loads something from the network", name)
		}
		probed := filepath.Join(dir, "probe.html")
		os.WriteFile(probed, bytes.Replace(page, []byte("</body>"), []byte(probe+"</body>"), 1), 0o644)
		dom := string(chromium(t, bin, "--window-size=1400,1000", "--virtual-time-budget=5000", "--dump-dom", "file://"+probed))
		m := regexp.MustCompile(`(?s)<pre id="probe">(.*?)</pre>`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("%s: the probe did not run; DOM:\n%.2000s", name, dom)
		}
		lines := strings.Split(m[1], "\n")
		if len(lines) != 6 {
			t.Fatalf("%s: probe says %q", name, m[1])
		}
		for _, l := range lines {
			if !strings.Contains(l, " visible ") {
				t.Errorf("%s: %s", name, l)
			}
			if strings.Contains(l, "svg") && (strings.Contains(l, "paths=0") || strings.Contains(l, "texts=0")) {
				t.Errorf("%s: plot is empty: %s", name, l)
			}
		}
		t.Logf("%s:\n%s", name, m[1])
		if !strings.Contains(dom, a.Verdict[:40]) {
			t.Errorf("%s: the verdict is not in the rendered page", name)
		}

		// Paint it and look for the plots' colours on the screenshot.
		shot := filepath.Join(dir, "screenshot.png")
		chromium(t, bin, "--window-size=1400,3200", "--screenshot="+shot, "file://"+filepath.Join(dir, HTMLFile))
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		achieved := countNear(img, colAchieved.R, colAchieved.G, colAchieved.B)
		if achieved < 500 {
			t.Errorf("%s: only %d pixels of the achieved-rate blue: the plots did not paint", name, achieved)
		}
		orange := countNear(img, 255, 127, 14) // 503s, p99
		if orange < 500 {
			t.Errorf("%s: only %d orange pixels (p99 line, 503 band)", name, orange)
		}
		verdictBg := countNear(img, 0xfd, 0xf0, 0xf0)
		if name == "held" {
			verdictBg = countNear(img, 0xf0, 0xfa, 0xf2)
		}
		if verdictBg < 20000 {
			t.Errorf("%s: the verdict box is not painted (%d pixels of its background)", name, verdictBg)
		}
	}
}

func countNear(img image.Image, r, g, b uint8) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(cr>>8, r) && near(cg>>8, g) && near(cb>>8, b) {
				n++
			}
		}
	}
	return n
}

func near(a uint32, b uint8) bool { d := int(a) - int(b); return d > -12 && d < 12 }
