package membudget

import (
	"os"
	"syscall"
	"unsafe"
)

// dropPages gives the whole memory pages inside b back to the kernel at once (MADV_DONTNEED): the process's
// resident set shrinks now rather than when the collector frees b and the runtime returns its pages. b must be a
// block the Buffer will never read again; the pages read as zeros if it were. Only a block of its own span (a
// large object, over 32 KiB, which the runtime places on page boundaries) is passed, so no other object shares
// a page dropped.
func dropPages(b []byte) {
	if cap(b) <= 32<<10 {
		return
	}
	b = b[:cap(b)]
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := (start + page - 1) &^ (page - 1)
	end := (start + uintptr(len(b))) &^ (page - 1)
	if end <= first {
		return
	}
	_ = syscall.Madvise(b[first-start:end-start], syscall.MADV_DONTNEED)
}
