// SPDX-License-Identifier: Apache-2.0
#include "ion_sim.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/net/curl.hpp"
#include "subprocess.hpp"

namespace ion_test {
namespace {

#ifndef ION_SOURCE_DIR
#error "ION_SOURCE_DIR must be defined (target ion_test_support)"
#endif

// Debian's interpreter (python3-graphql-core lives there, never in a pyenv build). The VM
// runner points ION_SIM_PYTHON at the guest architecture's interpreter when the guest runs a
// foreign build (tests/vm/prepare-guest-python.sh).
std::string python_path() {
  const char* p = std::getenv("ION_SIM_PYTHON");
  return p != nullptr && *p != '\0' ? p : "/usr/bin/python3";
}

std::string json_string(const cJSON* obj, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? std::string(v->valuestring) : std::string();
}

size_t append_body(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

// "https://127.0.0.1:4443/some/path" -> "https://127.0.0.1:4443"
std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return url;
  }
  auto slash = url.find('/', scheme_end + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path);
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return {};
  }
  return tmpl;
}

void remove_tree(const std::string& path) {
  if (!path.empty()) {
    ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
}

IonSim::IonSim(std::vector<std::string> extra_args, std::chrono::milliseconds ready_timeout) {
  dir_ = make_temp_dir("ion-sim");
  if (dir_.empty()) {
    error_ = std::string("ion-sim: mkdtemp: ") + std::strerror(errno);
    return;
  }
  ready_file_ = dir_ + "/ready.json";
  log_file_ = dir_ + "/sim.log";
  const std::string python = python_path();
  std::vector<std::string> args = {python,         std::string(ION_SOURCE_DIR) + "/tests/ion-sim/ion-sim",
                                   "--port",       "0",
                                   "--ready-file", ready_file_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    error_ = std::string("ion-sim: fork: ") + std::strerror(errno);
    return;
  }
  if (pid_ == 0) {
    // Die with the test process even if it crashes before the destructor runs.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
      ::_exit(126);
    }
    int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
    }
    ::execv(python.c_str(), argv.data());
    ::_exit(127);
  }
  if (!wait_ready(ready_timeout)) {
    stop();
  }
}

IonSim::~IonSim() {
  stop();
  remove_tree(dir_);
}

bool IonSim::wait_ready(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "ion-sim: exited before it was ready (status " + std::to_string(st) + "): " + log_text();
      return false;
    }
    // The file may be seen half-written: retry until it parses.
    std::string text = read_text_file(ready_file_);
    agent::Json j(text.empty() ? nullptr : cJSON_Parse(text.c_str()));
    if (j) {
      const cJSON* port = cJSON_GetObjectItemCaseSensitive(j.get(), "port");
      port_ = cJSON_IsNumber(port) ? port->valueint : 0;
      ca_ = json_string(j.get(), "ca");
      api_url_ = json_string(j.get(), "api_url");
      token_url_ = json_string(j.get(), "token_url");
      base_url_ = origin_of(api_url_);
      if (port_ > 0 && !api_url_.empty() && !token_url_.empty()) {
        return true;
      }
      error_ = "ion-sim: ready file lacks port/api_url/token_url: " + text;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error_ = "ion-sim: not ready within " + std::to_string(timeout.count()) + " ms: " + log_text();
  return false;
}

int IonSim::stop() {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  int st = -1;
  for (int i = 0; i < 500; ++i) {  // 5 s grace, then SIGKILL
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  return st;
}

std::string IonSim::log_text() const {
  return read_text_file(log_file_);
}

agent::Json IonSim::admin(const std::string& path, const std::string& json) {
  return request("POST", path, json);
}

agent::Json IonSim::admin_get(const std::string& path) {
  return request("GET", path, {});
}

agent::Json IonSim::admin_delete(const std::string& path) {
  return request("DELETE", path, {});
}

int IonSim::count_requests(const std::string& endpoint) {
  agent::Json log = request_log();
  const cJSON* entries = cJSON_GetObjectItemCaseSensitive(log.get(), "entries");
  int n = 0;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, entries) {
    if (json_string(e, "endpoint") == endpoint) {
      ++n;
    }
  }
  return n;
}

agent::Json IonSim::request(const std::string& method, const std::string& path, const std::string& body) {
  last_status_ = 0;
  last_admin_error_.clear();
  agent::CurlEasy easy(curl_easy_init());
  agent::CurlSlist headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  std::string reply;
  std::string url = base_url_ + path;
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT, 30L);
  if (!ca_.empty()) {
    curl_easy_setopt(easy.get(), CURLOPT_CAINFO, ca_.c_str());
  }
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &reply);
  if (method == "DELETE") {
    curl_easy_setopt(easy.get(), CURLOPT_CUSTOMREQUEST, "DELETE");
  }
  if (method == "POST") {
    curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode rc = curl_easy_perform(easy.get());
  if (rc != CURLE_OK) {
    last_admin_error_ = method + " " + url + ": " + curl_easy_strerror(rc);
    return agent::Json();
  }
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &last_status_);
  agent::Json j(cJSON_Parse(reply.c_str()));
  if (last_status_ / 100 != 2 || !j) {
    last_admin_error_ = method + " " + url + ": HTTP " + std::to_string(last_status_) + ": " + reply;
    return agent::Json();
  }
  return j;
}

bool provision_agent(const IonSim& sim, const std::string& agent_exe, const std::string& state_dir) {
  auto r = run_process({agent_exe, "provision", "--state-dir", state_dir, "--api-url", sim.api_url(),
                        "--token-url", sim.token_url(), "--ca-file", sim.ca()},
                       std::string(kSimClientId) + "\n" + kSimClientSecret + "\n");
  return r.exit_code == 0;
}

}  // namespace ion_test
