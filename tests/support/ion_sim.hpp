// SPDX-License-Identifier: Apache-2.0
// IonSim: runs the project's ION simulator (tests/ion-sim/ion-sim) as a child process for
// integration tests. The constructor starts it on a kernel-chosen loopback port and waits for
// its ready file; the destructor stops it with SIGTERM (SIGKILL after 5 s) and removes its
// temporary directory. Failures do not throw: check ok() and error(), and log_text() holds
// the simulator's stdout+stderr for diagnosing a failed test.
//
// Usage:
//   ion_test::IonSim sim({"--token-ttl", "2"});
//   CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
//   sim.admin("/_sim/faults", R"({"kind":"rate_limit","retry_after":7,"count":1})");
//   agent::Json st = sim.state();
//
// Admin calls go over the same TLS listener as the API, verified with the simulator's CA.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "agent/common/json.hpp"

namespace ion_test {

// The demo API key in the simulator's default fixture (tests/ion-sim/fixtures/factory.json,
// top-level client_id / client_secret), and the second key of that fixture.
inline constexpr const char* kSimClientId = "ion-agent-demo";
inline constexpr const char* kSimClientSecret = "demo-secret-0f3c9a1e7b2d4c58";
inline constexpr const char* kSimSecondClientId = "ion-agent-second";
inline constexpr const char* kSimSecondClientSecret = "second-secret-6d1e8b0a93f2c7e4";

class IonSim {
 public:
  // extra_args are appended to `ion-sim --port 0 --ready-file F`, e.g. {"--token-ttl", "2"}.
  explicit IonSim(std::vector<std::string> extra_args = {},
                  std::chrono::milliseconds ready_timeout = std::chrono::seconds(30));
  ~IonSim();
  IonSim(const IonSim&) = delete;
  IonSim& operator=(const IonSim&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& ca() const { return ca_; }                // PEM file of the simulator's test CA
  const std::string& api_url() const { return api_url_; }      // base; GraphQL at api_url()+"/graphql"
  const std::string& token_url() const { return token_url_; }  // full token endpoint URL
  std::string graphql_url() const { return api_url_ + "/graphql"; }
  const std::string& base_url() const { return base_url_; }  // scheme://host:port (admin lives here)
  const std::string& temp_dir() const { return dir_; }       // removed by the destructor

  // POSTs `json` to base_url()+path (path starts with "/_sim/"). Returns the parsed reply
  // (null Json on transport error, non-2xx or non-JSON reply; see last_admin_error()).
  agent::Json admin(const std::string& path, const std::string& json = "{}");
  // GETs base_url()+path and parses the reply as JSON (null on failure).
  agent::Json admin_get(const std::string& path);
  // DELETEs base_url()+path (e.g. "/_sim/faults" disarms every fault).
  agent::Json admin_delete(const std::string& path);
  // The simulator's state dump (GET /_sim/state).
  agent::Json state() { return admin_get("/_sim/state"); }
  // The request log {"entries": [...], "last_seq": N} (GET /_sim/log).
  agent::Json request_log() { return admin_get("/_sim/log"); }
  // How many logged requests went to `endpoint` ("token" or "graphql").
  int count_requests(const std::string& endpoint);
  long last_admin_status() const { return last_status_; }
  const std::string& last_admin_error() const { return last_admin_error_; }

  // What the simulator printed so far (stdout and stderr), for failure messages.
  std::string log_text() const;

  // Stops the simulator now (idempotent). Returns its exit status as from waitpid, or -1.
  int stop();

 private:
  bool wait_ready(std::chrono::milliseconds timeout);
  agent::Json request(const std::string& method, const std::string& path, const std::string& body);

  std::string dir_;
  std::string ready_file_;
  std::string log_file_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string ca_, api_url_, token_url_, base_url_;
  std::string error_;
  long last_status_ = 0;
  std::string last_admin_error_;
};

// `agent_exe provision` of a state directory against this simulator with its demo API key
// (given on stdin, as an installer would). True when provisioning exited 0.
bool provision_agent(const IonSim& sim, const std::string& agent_exe, const std::string& state_dir);

// Reads a whole file into a string ("" if it cannot be read).
std::string read_text_file(const std::string& path);

// A fresh private temporary directory (mkdtemp under $TMPDIR or /tmp); "" on failure.
std::string make_temp_dir(const std::string& prefix);

// Removes a directory tree (best effort; used by destructors).
void remove_tree(const std::string& path);

}  // namespace ion_test
