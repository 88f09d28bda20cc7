package sketch

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Precision bounds of an HLL: 2^MinPrecision to 2^MaxPrecision registers.
const (
	MinPrecision = 4
	MaxPrecision = 16
)

// HLL is a HyperLogLog sketch of distinct 64-bit hashes with 2^p one-byte
// registers, standard error about 1.04/√(2^p) (p=6: 13%, p=8: 6.5%, p=10:
// 3.3%).
//
// While it holds fewer than 2^p/4 elements it is sparse: it keeps the top
// 32 bits of each distinct hash (4 bytes each), and Count is exact (bar
// 32-bit collisions). The sparse form never takes more bytes than the
// registers it turns into. The zero HLL is not usable; make one with NewHLL.
//
// Hashes must be well mixed (maphash): the sketch reads the top p
// bits as the register index and the leading zeros of the rest.
type HLL struct {
	buf   []byte // sparse: little-endian uint32 hashes; dense: registers
	n     uint32 // sparse: elements in buf
	p     uint8
	dense bool
}

// NewHLL returns an empty sketch with 2^p registers, p clamped to
// MinPrecision..MaxPrecision.
func NewHLL(p int) HLL {
	return HLL{p: uint8(min(max(p, MinPrecision), MaxPrecision))}
}

// Precision is the sketch's p.
func (h *HLL) Precision() int { return int(h.p) }

// Bytes is the size of the sketch's buffer (its capacity), for memory
// accounting; the struct itself is 32 bytes more.
func (h *HLL) Bytes() int { return cap(h.buf) }

func (h *HLL) m() int { return 1 << h.p }

// sparseMax is how many hashes the sparse form holds before it turns dense.
func (h *HLL) sparseMax() int { return h.m() / 4 }

// Add adds one hashed element.
func (h *HLL) Add(x uint64) {
	if h.p == 0 {
		*h = NewHLL(MinPrecision)
	}
	if h.dense {
		h.set(x)
		return
	}
	top := uint32(x >> 32)
	for i := 0; i < int(h.n); i++ {
		if binary.LittleEndian.Uint32(h.buf[4*i:]) == top {
			return
		}
	}
	if int(h.n) >= h.sparseMax() {
		h.toDense()
		h.set(x)
		return
	}
	if len(h.buf)+4 > cap(h.buf) {
		grown := make([]byte, len(h.buf), min(h.m(), max(16, 2*cap(h.buf))))
		copy(grown, h.buf)
		h.buf = grown
	}
	h.buf = binary.LittleEndian.AppendUint32(h.buf, top)
	h.n++
}

// set updates the register of x in the dense form.
func (h *HLL) set(x uint64) {
	idx := x >> (64 - h.p)
	w := x<<h.p | 1<<(h.p-1) // the guard bit caps the rank
	rank := uint8(bits.LeadingZeros64(w) + 1)
	if rank > h.buf[idx] {
		h.buf[idx] = rank
	}
}

// toDense turns the sparse hashes into registers.
func (h *HLL) toDense() {
	old, n := h.buf, int(h.n)
	h.buf, h.n, h.dense = make([]byte, h.m()), 0, true
	for i := range n {
		h.set(uint64(binary.LittleEndian.Uint32(old[4*i:])) << 32)
	}
}

// Count estimates the number of distinct elements added: exact while
// sparse, else Ertl's improved estimator ("New cardinality estimation
// algorithms for HyperLogLog sketches", 2017), which needs neither linear
// counting for small sets nor an empirical bias table.
func (h *HLL) Count() uint64 {
	if !h.dense {
		return uint64(h.n)
	}
	q := 64 - int(h.p)
	var c [65]int // registers by rank, 0..q+1
	for _, r := range h.buf {
		c[min(int(r), q+1)]++
	}
	m := float64(h.m())
	z := m * tau(1-float64(c[q+1])/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + float64(c[k]))
	}
	z += m * sigma(float64(c[0])/m)
	return uint64(m*m/(2*math.Ln2)/z + 0.5)
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		old := z
		z += x * y
		y += y
		if z == old {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		old := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == old {
			return z / 3
		}
	}
}

// Merge adds every element of o. Both must have the same precision; it
// reports false (and changes nothing) otherwise.
func (h *HLL) Merge(o *HLL) bool {
	if h.p != o.p || h.p == 0 {
		return false
	}
	if !o.dense {
		for i := 0; i < int(o.n); i++ {
			h.Add(uint64(binary.LittleEndian.Uint32(o.buf[4*i:])) << 32)
		}
		return true
	}
	if !h.dense {
		h.toDense()
	}
	for i, r := range o.buf {
		if r > h.buf[i] {
			h.buf[i] = r
		}
	}
	return true
}

// Reset empties the sketch, turning it sparse and keeping at most the
// sparse form's buffer.
func (h *HLL) Reset() {
	if h.dense {
		h.buf = nil // a dense buffer would keep 2^p bytes for nothing
	}
	h.buf, h.n, h.dense = h.buf[:0], 0, false
}
