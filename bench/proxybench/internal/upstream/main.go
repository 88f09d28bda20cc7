// Command upstream serves proxybench's upstream (a ~200 B JSON answer to GET,
// an echo of POST bodies) on its own, for manual wrk and profiling runs:
//
//	upstream --listen 127.0.0.1:9000 [--gomaxprocs 1]
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"
)

var getPayload = []byte(`{"id":42,"name":"Trail running shoes","category":"sport","price":129.95,"currency":"EUR","stock":17,"rating":4.6,"tags":["running","trail","waterproof"],"updated":"2026-01-01T12:00:00Z"}`)

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to listen on")
	procs := flag.Int("gomaxprocs", 0, "GOMAXPROCS (0: leave)")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	getLen := strconv.Itoa(len(getPayload))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, "read body", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
			return
		}
		w.Header().Set("Content-Length", getLen)
		_, _ = w.Write(getPayload)
	})
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}
