package hosting

import (
	"testing"

	"github.com/flashcrowd/flashcrowd/internal/loadlock"
)

// TestMain takes turns with the other load-heavy packages (see loadlock).
func TestMain(m *testing.M) { loadlock.Main(m) }
