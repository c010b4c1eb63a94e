// SPDX-License-Identifier: Apache-2.0
// `ion-agent provision` and `ion-agent check` as an operator runs them (the built binary,
// stdin, exit codes, output) against the ION simulator over HTTPS, including that the secret
// never shows up in argv, the environment or any output line.
#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ion_sim.hpp"
#include "subprocess.hpp"

namespace {

using ion_test::ProcessResult;

const std::string kIdAndSecret =
    std::string(ion_test::kSimClientId) + "\n" + ion_test::kSimClientSecret + "\n";

std::vector<std::string> provision_argv(const ion_test::IonSim& sim, const std::string& state_dir,
                                        std::vector<std::string> extra = {}) {
  std::vector<std::string> v = {ION_AGENT_EXE, "provision",   "--state-dir",   state_dir,   "--api-url",
                                sim.api_url(), "--token-url", sim.token_url(), "--ca-file", sim.ca()};
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

ProcessResult check(const std::string& state_dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> v = {ION_AGENT_EXE, "check", "--state-dir", state_dir};
  v.insert(v.end(), extra.begin(), extra.end());
  return ion_test::run_process(v);
}

std::string proc_file(pid_t pid, const char* name) {
  std::string s = ion_test::read_text_file("/proc/" + std::to_string(pid) + "/" + name);
  for (char& c : s) {
    c = c == '\0' ? ' ' : c;
  }
  return s;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

}  // namespace

TEST_GROUP(ProvisionCheck) {
  ion_test::IonSim* sim = nullptr;
  std::string state;
  void setup() override {
    sim = new ion_test::IonSim();
    state = sim->temp_dir() + "/state";
  }
  void teardown() override {
    delete sim;
  }
  void provision_ok() {
    auto r = ion_test::run_process(provision_argv(*sim, state, {"--verify"}), kIdAndSecret);
    CHECK_EQUAL_TEXT(0, r.exit_code, r.describe().c_str());
  }
};

TEST(ProvisionCheck, ProvisionThenCheckSucceeds) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  auto p = ion_test::run_process(provision_argv(*sim, state, {"--verify"}), kIdAndSecret);
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  STRCMP_CONTAINS("provisioned: client ion-agent-demo", p.out.c_str());
  struct stat st {};
  CHECK_EQUAL(0, ::stat((state + "/credentials.sealed").c_str(), &st));
  CHECK_EQUAL(0600, st.st_mode & 0777);
  CHECK_EQUAL(0, ::stat((state + "/device.key").c_str(), &st));
  CHECK_EQUAL(0600, st.st_mode & 0777);
  auto c = check(state);
  CHECK_EQUAL_TEXT(0, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("[ok]   token", c.out.c_str());
  STRCMP_CONTAINS("user 42 \"Station Service Account\", organization 7", c.out.c_str());
  STRCMP_CONTAINS("partInventories: 3 unit(s) shown", c.out.c_str());
  STRCMP_CONTAINS("SN-000101", c.out.c_str());
  STRCMP_CONTAINS("all checks passed", c.out.c_str());
}

TEST(ProvisionCheck, WrongSecretIsRejectedAndNothingIsSaved) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  auto p = ion_test::run_process(provision_argv(*sim, state, {"--verify"}),
                                 std::string(ion_test::kSimClientId) + "\nwrong-secret\n");
  CHECK_EQUAL_TEXT(22, p.exit_code, p.describe().c_str());
  STRCMP_CONTAINS("credentials rejected", p.err.c_str());
  STRCMP_CONTAINS("Nothing was saved", p.err.c_str());
  CHECK_EQUAL(-1, ::access((state + "/credentials.sealed").c_str(), F_OK));
  // Without --verify the wrong key is sealed, and check names the failing step.
  p = ion_test::run_process(provision_argv(*sim, state),
                            std::string(ion_test::kSimClientId) + "\nwrong-secret\n");
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  auto c = check(state);
  CHECK_EQUAL_TEXT(22, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("[FAIL] token", c.out.c_str());
  STRCMP_CONTAINS("fix: the client id/secret was refused", c.out.c_str());
}

TEST(ProvisionCheck, RevokedKeyFailsWithAClearMessage) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  provision_ok();
  CHECK_TRUE(sim->admin(std::string("/_sim/clients/") + ion_test::kSimClientId + "/revoke") != nullptr);
  auto c = check(state);
  CHECK_EQUAL_TEXT(22, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("credentials rejected", c.out.c_str());
  STRCMP_CONTAINS("revoked", c.out.c_str());
}

TEST(ProvisionCheck, WrongCaIsRefused) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  provision_ok();
  auto c = check(state, {"--ca-file", "/etc/ssl/certs/ca-certificates.crt"});
  CHECK_EQUAL_TEXT(21, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("certificate", c.out.c_str());
  STRCMP_CONTAINS("--ca-file", c.out.c_str());
}

TEST(ProvisionCheck, ProfileSuppliesTheCaAndBadProfilesAreNamed) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  auto argv = provision_argv(*sim, state);
  argv.resize(argv.size() - 2);  // no --ca-file: the system store does not know the sim's CA
  auto p = ion_test::run_process(argv, kIdAndSecret);
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  CHECK_EQUAL(21, check(state).exit_code);
  std::string profile = sim->temp_dir() + "/station.json";
  write_file(profile, "{\"ion\": {\"ca_file\": \"" + sim->ca() +
                          "\", \"timeout_ms\": 20000}, \"inputs\": "
                          "{\"scanner\": {\"type\": \"sim\"}}, \"rules\": [{\"on\": \"scanner\", \"do\": "
                          "[{\"clear\": \"*\"}]}]}");
  auto c = check(state, {"--config", profile});
  CHECK_EQUAL_TEXT(0, c.exit_code, c.describe().c_str());
  write_file(profile, "{\"ion\": {\"ca_file\": 42}}");
  c = check(state, {"--config", profile});
  CHECK_EQUAL_TEXT(15, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("$.ion.ca_file: expected a string", c.out.c_str());
  write_file(profile, "{\"ion\": {");
  c = check(state, {"--config", profile});
  CHECK_EQUAL_TEXT(15, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("JSON syntax error", c.out.c_str());  // the daemon's full profile validator
}

TEST(ProvisionCheck, KeyForAnotherEnvironmentSaysSo) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  ion_test::IonSim other;
  CHECK_TRUE_TEXT(other.ok(), other.error().c_str());
  std::string bundle = sim->temp_dir() + "/both.pem";
  write_file(bundle, ion_test::read_text_file(sim->ca()) + ion_test::read_text_file(other.ca()));
  auto p = ion_test::run_process({ION_AGENT_EXE, "provision", "--state-dir", state, "--api-url",
                                  sim->api_url(), "--token-url", other.token_url(), "--ca-file", bundle},
                                 kIdAndSecret);
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  auto c = check(state);
  CHECK_EQUAL_TEXT(24, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("Unable to find appropriate RSA key", c.out.c_str());
  STRCMP_CONTAINS("another ION environment", c.out.c_str());
}

TEST(ProvisionCheck, RateLimitShowsRetryAfter) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  provision_ok();
  CHECK_TRUE(sim->admin("/_sim/faults", R"({"kind": "rate_limit", "retry_after": 7, "count": 1})") !=
             nullptr);
  auto c = check(state);
  CHECK_EQUAL_TEXT(27, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("Retry-After 7 s", c.out.c_str());
}

TEST(ProvisionCheck, VaultProblemsHaveTheirOwnExitCodes) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  auto c = check(state);
  CHECK_EQUAL_TEXT(10, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("not provisioned", c.out.c_str());
  provision_ok();
  const std::string sealed = state + "/credentials.sealed";
  CHECK_EQUAL(0, ::chmod(sealed.c_str(), 0644));
  c = check(state);
  CHECK_EQUAL_TEXT(11, c.exit_code, c.describe().c_str());
  CHECK_EQUAL(0, ::chmod(sealed.c_str(), 0600));
  std::string bytes = ion_test::read_text_file(sealed);
  bytes[bytes.size() / 2] ^= 0x01;
  {
    std::ofstream out(sealed, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  c = check(state);
  CHECK_EQUAL_TEXT(13, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("authentication failed", c.out.c_str());
  bytes[8] = 9;  // format version
  {
    std::ofstream out(sealed, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  c = check(state);
  CHECK_EQUAL_TEXT(12, c.exit_code, c.describe().c_str());
}

TEST(ProvisionCheck, UsageErrorsAndPlainHttpRefusal) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  auto p = ion_test::run_process(
      {ION_AGENT_EXE, "provision", "--state-dir", state, "--region", "production", "--client-secret", "abc"},
      kIdAndSecret);
  CHECK_EQUAL(64, p.exit_code);
  STRCMP_CONTAINS("secrets are read from stdin only", p.err.c_str());
  p = ion_test::run_process({ION_AGENT_EXE, "provision", "--state-dir", state, "--region", "mars"},
                            kIdAndSecret);
  CHECK_EQUAL(15, p.exit_code);
  STRCMP_CONTAINS("production, staging, gov, gov-staging, aus, aus-staging", p.err.c_str());
  p = ion_test::run_process({ION_AGENT_EXE, "provision", "--state-dir", state, "--api-url",
                             "http://ion.example.com", "--token-url", "https://auth.example.com/token"},
                            kIdAndSecret);
  CHECK_EQUAL(15, p.exit_code);
  STRCMP_CONTAINS("refusing plain http://", p.err.c_str());
  p = ion_test::run_process({ION_AGENT_EXE, "provision", "--state-dir", state, "--region", "staging"},
                            std::string(ion_test::kSimClientId) + "\n");
  CHECK_EQUAL(64, p.exit_code);
  STRCMP_CONTAINS("no client secret on stdin", p.err.c_str());
  CHECK_EQUAL(-1, ::access((state + "/credentials.sealed").c_str(), F_OK));
}

// The secret must not be visible in /proc/<pid>/cmdline or environ while provision and check
// run (inspected mid-flight, held up by a simulator delay), nor in anything they print.
TEST(ProvisionCheck, SecretNeverInArgvEnvironmentOrOutput) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  const std::string secret = ion_test::kSimClientSecret;
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LANG=C"};
  CHECK_TRUE(sim->admin("/_sim/faults", R"({"kind": "delay", "seconds": 2, "match": "token", "count": 1})") !=
             nullptr);
  ion_test::Subprocess prov(provision_argv(*sim, state, {"--verify"}), env);
  CHECK_TRUE_TEXT(prov.start(), prov.error().c_str());
  CHECK_TRUE(prov.write_stdin(kIdAndSecret));
  prov.pump(std::chrono::milliseconds(800));  // it has read the secret and waits for the token endpoint
  CHECK_EQUAL_TEXT(0, ::kill(prov.pid(), 0), "provision ended before it could be inspected");
  std::string cmdline = proc_file(prov.pid(), "cmdline");
  std::string env_text = proc_file(prov.pid(), "environ");
  STRCMP_CONTAINS("provision", cmdline.c_str());
  STRCMP_CONTAINS("PATH=/usr/bin:/bin", env_text.c_str());
  CHECK_TRUE(cmdline.find(secret) == std::string::npos);
  CHECK_TRUE(env_text.find(secret) == std::string::npos);
  auto pr = prov.wait();
  CHECK_EQUAL_TEXT(0, pr.exit_code, pr.describe().c_str());
  CHECK_TRUE(pr.out.find(secret) == std::string::npos);
  CHECK_TRUE(pr.err.find(secret) == std::string::npos);

  CHECK_TRUE(sim->admin("/_sim/faults",
                        R"({"kind": "delay", "seconds": 2, "match": "graphql", "count": 1})") != nullptr);
  ion_test::Subprocess chk({ION_AGENT_EXE, "check", "--state-dir", state}, env);
  CHECK_TRUE(chk.start());
  chk.pump(std::chrono::milliseconds(800));  // vault opened, token fetched, `me` held up
  CHECK_EQUAL(0, ::kill(chk.pid(), 0));
  CHECK_TRUE(proc_file(chk.pid(), "cmdline").find(secret) == std::string::npos);
  CHECK_TRUE(proc_file(chk.pid(), "environ").find(secret) == std::string::npos);
  auto cr = chk.wait();
  CHECK_EQUAL_TEXT(0, cr.exit_code, cr.describe().c_str());
  for (const std::string* text : {&cr.out, &cr.err, &pr.out, &pr.err}) {
    CHECK_TRUE(text->find(secret) == std::string::npos);
    CHECK_TRUE(text->find("eyJ") == std::string::npos);  // no JWT (access token) either
  }
  STRCMP_CONTAINS("access token obtained", cr.err.c_str());  // the log lines were captured
}

namespace {

// Reads from the pty master until `want` shows up in `acc` or the time is up.
bool read_until(int master, std::string& acc, const std::string& want, int timeout_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (acc.find(want) == std::string::npos && std::chrono::steady_clock::now() < end) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      char buf[256];
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) {
        break;  // EIO once the child closed the terminal
      }
      acc.append(buf, static_cast<std::size_t>(n));
    }
  }
  return acc.find(want) != std::string::npos;
}

}  // namespace

// On a terminal the prompts appear and neither value is echoed back.
TEST(ProvisionCheck, PromptsOnATerminalWithoutEcho) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  CHECK_TRUE(master >= 0);
  CHECK_EQUAL(0, ::grantpt(master));
  CHECK_EQUAL(0, ::unlockpt(master));
  std::string slave = ::ptsname(master);
  std::vector<std::string> args = provision_argv(*sim, state);
  std::vector<char*> argv;
  for (auto& s : args) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  // A failed CHECK leaves the test early: never leave the child waiting on the terminal.
  struct Reaper {
    pid_t pid;
    int fd;
    ~Reaper() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      ::close(fd);
    }
  } reaper{pid, master};
  if (pid == 0) {
    ::setsid();
    int fd = ::open(slave.c_str(), O_RDWR);
    ::dup2(fd, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  std::string screen;
  CHECK_TRUE_TEXT(read_until(master, screen, "ION client id: ", 10000), screen.c_str());
  const std::string id = std::string(ion_test::kSimClientId) + "\n";
  CHECK_EQUAL(static_cast<ssize_t>(id.size()), ::write(master, id.data(), id.size()));
  CHECK_TRUE_TEXT(read_until(master, screen, "ION client secret: ", 10000), screen.c_str());
  const std::string secret = std::string(ion_test::kSimClientSecret) + "\n";
  CHECK_EQUAL(static_cast<ssize_t>(secret.size()), ::write(master, secret.data(), secret.size()));
  read_until(master, screen, "sealed in", 20000);
  int status = -1;
  CHECK_EQUAL(pid, ::waitpid(pid, &status, 0));
  reaper.pid = -1;
  CHECK_TRUE_TEXT(WIFEXITED(status) && WEXITSTATUS(status) == 0, screen.c_str());
  STRCMP_CONTAINS("provisioned: client ion-agent-demo", screen.c_str());
  CHECK_TRUE_TEXT(screen.find(ion_test::kSimClientSecret) == std::string::npos, screen.c_str());
  // The id is not echoed either; it only appears in the final confirmation line.
  CHECK_TRUE(screen.find(ion_test::kSimClientId) == screen.find("provisioned: client ") + 20);
  CHECK_EQUAL(0, check(state).exit_code);
}

// LoadCredentialEncrypted=ion-agent.devkey:...: systemd hands the decrypted device key to the
// service in $CREDENTIALS_DIRECTORY (mode 0400); the agent uses it, and device.key need not
// be on disk at all.
TEST(ProvisionCheck, DeviceKeyFromASystemdCredential) {
  CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  provision_ok();
  const std::string creds = sim->temp_dir() + "/credentials";
  CHECK_EQUAL(0, ::mkdir(creds.c_str(), 0700));
  const std::string cred = creds + "/ion-agent.devkey";
  CHECK_EQUAL(0, std::rename((state + "/device.key").c_str(), cred.c_str()));
  CHECK_EQUAL(0, ::chmod(cred.c_str(), 0400));
  auto none = check(state);
  CHECK_EQUAL_TEXT(14, none.exit_code, none.describe().c_str());  // no key file and no credential
  auto c = ion_test::run_process({ION_AGENT_EXE, "check", "--state-dir", state}, "", std::chrono::seconds(60),
                                 {"CREDENTIALS_DIRECTORY=" + creds});
  CHECK_EQUAL_TEXT(0, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("key protected by device key from systemd credential ion-agent.devkey", c.out.c_str());
  struct stat st {};
  CHECK_TRUE(::stat((state + "/device.key").c_str(), &st) != 0);
  // A credential of the wrong size is refused like a corrupt key file.
  { std::ofstream(cred, std::ios::trunc) << "short"; }
  auto bad = ion_test::run_process({ION_AGENT_EXE, "check", "--state-dir", state}, "",
                                   std::chrono::seconds(60), {"CREDENTIALS_DIRECTORY=" + creds});
  CHECK_EQUAL_TEXT(14, bad.exit_code, bad.describe().c_str());
}
