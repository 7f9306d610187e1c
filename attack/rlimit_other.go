//go:build !unix

package attack

func openFilesLimit() uint64 { return 0 }
