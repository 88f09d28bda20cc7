// Command upstream serves proxybench's upstream (a ~200 B JSON answer to GET,
// an echo of POST bodies) on its own, for manual wrk and profiling runs:
//
//	upstream --listen 127.0.0.1:9000 [--gomaxprocs 1]
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/vigilsec/vigil/bench/proxybench"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to listen on")
	procs := flag.Int("gomaxprocs", 0, "GOMAXPROCS (0: leave)")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	srv := &http.Server{Addr: *listen, Handler: proxybench.Upstream(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}
