package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vigilsec/vigil"
)

// jsonlReader reads one exchange per line. Lines are counted from 1; empty
// lines are skipped but counted, so a record's number is its line number.
type jsonlReader struct {
	br   *bufio.Reader
	max  int // longest line kept
	line int
	buf  []byte
	done bool
}

func (r *jsonlReader) next() (*vigil.Exchange, int, error) {
	for !r.done {
		line, tooLong, err := r.readLine()
		if err != nil && err != io.EOF {
			r.done = true
			r.line++
			return nil, r.line, fmt.Errorf("read: %w", err)
		}
		if err == io.EOF {
			r.done = true
			if len(line) == 0 && !tooLong {
				break
			}
		}
		r.line++
		if tooLong {
			return nil, r.line, fmt.Errorf("line longer than %d bytes", r.max)
		}
		line = bytes.Trim(line, " \t\r\n") // JSON's whitespace; also drops a CR of CRLF
		if len(line) == 0 {
			continue
		}
		x, err := decodeLine(line)
		if err != nil {
			return nil, r.line, err
		}
		return x, r.line, nil
	}
	return nil, r.line, io.EOF
}

// readLine returns the next line without its '\n'. A line longer than r.max
// is drained and reported with tooLong, so memory stays bounded. The returned
// slice is valid until the next call.
func (r *jsonlReader) readLine() (line []byte, tooLong bool, err error) {
	if cap(r.buf) > 1<<20 {
		r.buf = nil // do not keep a huge line's buffer around
	}
	r.buf = r.buf[:0]
	first := true
	for {
		frag, err := r.br.ReadSlice('\n')
		if first && err == nil {
			// The common case: the whole line is in the read buffer.
			if len(frag) > r.max+1 {
				return nil, true, nil
			}
			return frag[:len(frag)-1], false, nil
		}
		first = false
		if !tooLong {
			if len(r.buf)+len(frag) > r.max+1 { // +1 for the '\n'
				tooLong = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, true, err
		}
		if err == nil {
			r.buf = r.buf[:len(r.buf)-1] // drop the '\n'
		}
		return r.buf, false, err
	}
}

// decodeLine decodes one line of the traffic format: the fast decoder when it
// can, otherwise the canonical one (which also words every error).
func decodeLine(line []byte) (*vigil.Exchange, error) {
	if x, ok := decodeFast(line); ok {
		return x, nil
	}
	return decodeCanonical(line)
}

func decodeCanonical(line []byte) (*vigil.Exchange, error) {
	x := new(vigil.Exchange)
	if err := json.Unmarshal(line, x); err != nil {
		return nil, err
	}
	return x, nil
}
