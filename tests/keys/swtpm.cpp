// SPDX-License-Identifier: Apache-2.0
#include "swtpm.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace ion_test {
namespace {

bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Swtpm::Swtpm(const std::string& state_dir) : dir_(state_dir) {
  ::mkdir(dir_.c_str(), 0700);
  std::random_device rd;
  std::uniform_int_distribution<int> pick(20000, 59998);
  for (int attempt = 0; attempt < 8; ++attempt) {
    int p = pick(rd);
    if (port_free(p) && port_free(p + 1) && start_on(p)) {
      error_.clear();
      return;
    }
  }
  if (error_.empty()) {
    error_ = "swtpm: no free loopback port pair";
  }
}

bool Swtpm::start_on(int port) {
  std::vector<std::string> args = {"swtpm",
                                   "socket",
                                   "--tpm2",
                                   "--server",
                                   "type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1",
                                   "--ctrl",
                                   "type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1",
                                   "--tpmstate",
                                   "dir=" + dir_,
                                   "--flags",
                                   "not-need-init,startup-clear"};
  pid_t pid = ::fork();
  if (pid < 0) {
    error_ = "swtpm: fork failed";
    return false;
  }
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execvp("swtpm", argv.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      error_ = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "swtpm: not installed (Debian: swtpm)"
                                                               : "swtpm: exited at start";
      return false;
    }
    if (can_connect(port)) {
      pid_ = pid;
      port_ = port;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  error_ = "swtpm: did not listen within 10 s";
  return false;
}

void Swtpm::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

Swtpm::~Swtpm() {
  stop();
}

int Swtpm::flush_all() {
  TSS2_TCTI_CONTEXT* tctx = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  std::string conf = tcti();
  int flushed = 0;
  if (Tss2_TctiLdr_Initialize(conf.c_str(), &tctx) != TSS2_RC_SUCCESS) {
    return -1;
  }
  if (Esys_Initialize(&esys, tctx, nullptr) == TSS2_RC_SUCCESS) {
    TSS2_SYS_CONTEXT* sys = nullptr;
    Esys_GetSysContext(esys, &sys);
    for (TPM2_HANDLE first : {TPM2_TRANSIENT_FIRST, TPM2_LOADED_SESSION_FIRST}) {
      TPMI_YES_NO more = TPM2_NO;
      TPMS_CAPABILITY_DATA* data = nullptr;
      if (Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, first, 64,
                             &more, &data) == TSS2_RC_SUCCESS) {
        for (UINT32 i = 0; i < data->data.handles.count; ++i) {
          flushed += Tss2_Sys_FlushContext(sys, data->data.handles.handle[i]) == TSS2_RC_SUCCESS ? 1 : 0;
        }
      }
      Esys_Free(data);
    }
    Esys_Finalize(&esys);
  }
  Tss2_TctiLdr_Finalize(&tctx);
  return flushed;
}

std::string Swtpm::extend_pcr(unsigned index, const std::string& data) {
  TSS2_TCTI_CONTEXT* tctx = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  std::string conf = tcti();
  if (Tss2_TctiLdr_Initialize(conf.c_str(), &tctx) != TSS2_RC_SUCCESS) {
    return "tcti init failed";
  }
  std::string err;
  if (Esys_Initialize(&esys, tctx, nullptr) != TSS2_RC_SUCCESS) {
    err = "esys init failed";
  } else {
    TPML_DIGEST_VALUES v{};
    v.count = 1;
    v.digests[0].hashAlg = TPM2_ALG_SHA256;
    std::memset(&v.digests[0].digest, 0, sizeof v.digests[0].digest);
    std::memcpy(v.digests[0].digest.sha256, data.data(), std::min<std::size_t>(data.size(), 32));
    TSS2_RC rc =
        Esys_PCR_Extend(esys, ESYS_TR_PCR0 + index, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &v);
    if (rc != TSS2_RC_SUCCESS) {
      err = "PCR_Extend failed: " + std::to_string(rc);
    }
    Esys_Finalize(&esys);
  }
  Tss2_TctiLdr_Finalize(&tctx);
  return err;
}

}  // namespace ion_test
