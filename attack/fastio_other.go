//go:build !linux

package attack

// fastRaw is false: connections are written and read through net.Conn.
const fastRaw = false

// io is not used without fastRaw.
func (p *fastIO) io(fd uintptr) bool { return true }
