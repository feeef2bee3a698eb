#pragma once
// httplib's Server with the connection gate (http/connection_gate.hpp) in front of its workers:
// httplib still accepts, parses and routes; the gate decides when a connection has a whole
// request and which worker serves it, so slow or idle clients wait in the gate, not in a worker.
#include "config/config.hpp"
#include "http/connection_gate.hpp"

#include <httplib.h>

namespace dunning::http {

// The gate's limits from [server] (threads, request_deadline_seconds, max_connections,
// max_connections_per_client, max_body_bytes, max_buffered_bytes); a client has the request
// deadline, at most 5 s, to take an answer.
GateLimits gate_limits(const config::ServerConfig& server);

class GatedServer : public httplib::Server {
  public:
    explicit GatedServer(GateLimits limits);
    ~GatedServer() override;

  private:
    // httplib calls this for every accepted connection through its task queue, which here runs
    // it at once on the accepting thread: the connection goes into the gate.
    bool process_and_close_socket(socket_t sock) override;
    // One whole request, on a gate worker, parsed and routed by httplib.
    bool serve(ReadyConnection& connection);

    ConnectionGate gate_;
};

} // namespace dunning::http
