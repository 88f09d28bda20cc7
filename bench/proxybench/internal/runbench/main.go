// Command runbench runs proxybench.Run with the vigil target given as the
// arguments after "--" (placeholders {listen} and {upstream}), for when the
// vigil binary cannot be built:
//
//	go build -o /tmp/standin ./bench/proxybench/internal/standin
//	go run ./bench/proxybench/internal/runbench -duration 10s -- \
//	  /tmp/standin --listen {listen} --upstream {upstream}
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigilsec/vigil/bench/proxybench"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "per target and scenario")
	rounds := flag.Int("rounds", 1, "times every target is loaded; the report gives medians")
	conns := flag.Int("connections", 64, "wrk -c")
	threads := flag.Int("threads", 2, "wrk -t")
	scenarios := flag.String("scenarios", "get,post", "comma-separated")
	jsonOut := flag.Bool("json", false, "print JSON")
	procs := flag.Int("procs", 0, "also measure the vigil command with GOMAXPROCS=N (0: no)")
	flag.Parse()
	opts := proxybench.Options{
		Duration: *duration, Rounds: *rounds, Connections: *conns, Threads: *threads,
		Scenarios: strings.Split(*scenarios, ","), VigilCommand: flag.Args(),
	}
	if *procs > 0 {
		opts.VigilProcs = []int{*procs}
	}
	rep, err := proxybench.Run(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runbench:", err)
		os.Exit(1)
	}
	if *jsonOut {
		err = rep.WriteJSON(os.Stdout)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	if err != nil {
		os.Exit(1)
	}
}
