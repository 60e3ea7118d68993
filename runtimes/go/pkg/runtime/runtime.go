// Package runtime starts a FunctionGraph Go function: Register exposes the
// handler as the net/rpc service "Function" over HTTP on $RUNTIME_API_ADDR
// and serves until the process is stopped.
package runtime

import (
	"log"
	"net"
	"net/http"
	"net/rpc"
	"os"

	"huaweicloud.com/go-runtime/internal/invoker"
	"huaweicloud.com/go-runtime/internal/rtcontext"
)

// ServiceName is the net/rpc service name the platform calls.
const ServiceName = "Function"

// Register serves handler and never returns. The handler must have the shape
//
//	func(payload []byte, ctx context.RuntimeContext) (interface{}, error)
//
// The platform connects to RUNTIME_API_ADDR with Go's RPC-over-HTTP handshake
// (CONNECT /_goRPC_) and calls Function.Invoke once per event. A handler that
// does not have this shape, or an address that cannot be listened on, stops
// the process with an error message on stderr.
func Register(handler interface{}) {
	h, err := invoker.Wrap(handler)
	if err != nil {
		log.Fatalf("runtime.Register: %v", err)
	}
	if err := rpc.RegisterName(ServiceName, invoker.New(h, rtcontext.LoadEnv())); err != nil {
		log.Fatalf("runtime.Register: %v", err)
	}
	rpc.HandleHTTP()

	addr := os.Getenv("RUNTIME_API_ADDR")
	if addr == "" {
		log.Fatal("runtime.Register: RUNTIME_API_ADDR is not set")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("runtime.Register: listen on %s: %v", addr, err)
	}
	log.Fatal(http.Serve(ln, nil))
}
