// A small HTTP app that slipway swaps without dropping a request (stdlib only).
//
// Under slipway it takes the listening socket the agent passes (LISTEN_FDS),
// writes READY=1 to NOTIFY_FD once it serves, and on SIGTERM stops accepting,
// finishes the requests in flight and exits. Run by hand, it binds PORT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

const firstFD = 3 // the sockets of run.listen are fds 3, 4, ... in that order

// inheritedListener returns the socket passed as run.listen's name, or nil
// when the process was not started by slipway.
func inheritedListener(name string) (net.Listener, error) {
	count, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if count < 1 || os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return nil, nil
	}
	for i, n := range strings.Split(os.Getenv("LISTEN_FDNAMES"), ":") {
		if n == name && i < count {
			f := os.NewFile(uintptr(firstFD+i), name)
			defer f.Close() // FileListener keeps a copy of its own
			return net.FileListener(f)
		}
	}
	return nil, fmt.Errorf("no inherited socket named %q (LISTEN_FDNAMES=%s)", name, os.Getenv("LISTEN_FDNAMES"))
}

// notifyReady writes READY=1 to NOTIFY_FD: slipway then counts this version as ready.
func notifyReady() error {
	fd, err := strconv.Atoi(os.Getenv("NOTIFY_FD"))
	if err != nil {
		return nil // not started by slipway
	}
	os.Unsetenv("NOTIFY_FD")
	f := os.NewFile(uintptr(fd), "notify")
	defer f.Close()
	_, err = f.Write([]byte("READY=1\n"))
	return err
}

func main() {
	version := os.Getenv("SLIPWAY_VERSION")
	mux := http.NewServeMux()
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"version": version, "pid": os.Getpid()})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go %s\n", version)
	})

	ln, err := inheritedListener("http")
	if err != nil {
		log.Fatal(err)
	}
	if ln == nil {
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		if ln, err = net.Listen("tcp", "127.0.0.1:"+port); err != nil {
			log.Fatal(err)
		}
	}

	srv := &http.Server{Handler: mux}
	drained := make(chan struct{})
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		<-stop
		// Stop accepting (the new version takes the next connections), finish the requests in flight.
		if err := srv.Shutdown(context.Background()); err != nil {
			log.Print(err)
		}
		close(drained)
	}()
	// The socket already listens (the agent's): connections queue until Serve accepts them.
	if err := notifyReady(); err != nil {
		log.Fatal(err)
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	<-drained
}
