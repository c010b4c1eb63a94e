// SPDX-License-Identifier: Apache-2.0
// Swtpm: a software TPM 2.0 (swtpm, socket mode, loopback only) with a fresh state directory,
// so every test gets a TPM of its own: new seeds, so a blob sealed by one opens on no other.
// The TCTI string is what ion-agent's --tcti takes ("swtpm:host=127.0.0.1,port=N").
#pragma once

#include <sys/types.h>

#include <string>

namespace ion_test {

class Swtpm {
 public:
  // Starts swtpm with its state in `state_dir` (created if needed). Check ok().
  explicit Swtpm(const std::string& state_dir);
  ~Swtpm();
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }
  int port() const { return port_; }
  // Stops the TPM (idempotent): afterwards the TCTI reaches nothing.
  void stop();
  // Flushes every transient object and loaded session, as the kernel's resource manager
  // (/dev/tpmrm0) does when a process that held them dies; swtpm's socket has no resource
  // manager, so a killed client's handles would otherwise fill the TPM. Returns how many.
  int flush_all();
  // Extends SHA-256 PCR `index` with a digest of `data`; "" on success, else why not.
  std::string extend_pcr(unsigned index, const std::string& data);

 private:
  bool start_on(int port);
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace ion_test
