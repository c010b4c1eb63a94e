// SPDX-License-Identifier: Apache-2.0
#include "subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ion_test {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> r;
  for (auto& s : v) {
    r.push_back(s.data());
  }
  r.push_back(nullptr);
  return r;
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, std::vector<std::string> env)
    : argv_(std::move(argv)), env_(std::move(env)) {}

Subprocess::~Subprocess() {
  close_fd(in_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  close_fd(out_);
  close_fd(err_);
}

bool Subprocess::start() {
  int pin[2], pout[2], perr[2];
  if (argv_.empty() || ::pipe2(pin, O_CLOEXEC) != 0 || ::pipe2(pout, O_CLOEXEC) != 0 ||
      ::pipe2(perr, O_CLOEXEC) != 0) {
    error_ = std::string("subprocess: pipe: ") + std::strerror(errno);
    return false;
  }
  std::vector<char*> args = c_strings(argv_);
  std::vector<char*> envp = c_strings(env_);
  pid_ = ::fork();
  if (pid_ < 0) {
    error_ = std::string("subprocess: fork: ") + std::strerror(errno);
    return false;
  }
  if (pid_ == 0) {
    ::dup2(pin[0], STDIN_FILENO);
    ::dup2(pout[1], STDOUT_FILENO);
    ::dup2(perr[1], STDERR_FILENO);
    if (env_.empty()) {
      ::execv(args[0], args.data());
    } else {
      ::execve(args[0], args.data(), envp.data());
    }
    ::_exit(127);
  }
  ::close(pin[0]);
  ::close(pout[1]);
  ::close(perr[1]);
  in_ = pin[1];
  out_ = pout[0];
  err_ = perr[0];
  ::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test with SIGPIPE
  return true;
}

bool Subprocess::write_stdin(const std::string& text) {
  std::size_t done = 0;
  while (in_ >= 0 && done < text.size()) {
    ssize_t n = ::write(in_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return done == text.size();
}

void Subprocess::close_stdin() {
  close_fd(in_);
}

void Subprocess::read_available(int timeout_ms) {
  pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
  if (::poll(fds, 2, timeout_ms) <= 0) {
    return;
  }
  int* fdp[2] = {&out_, &err_};
  std::string* dst[2] = {&result_.out, &result_.err};
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
      continue;
    }
    char buf[4096];
    ssize_t n = ::read(*fdp[i], buf, sizeof buf);
    if (n > 0) {
      dst[i]->append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      close_fd(*fdp[i]);
    }
  }
}

void Subprocess::pump(std::chrono::milliseconds for_at_least) {
  auto end = std::chrono::steady_clock::now() + for_at_least;
  while (std::chrono::steady_clock::now() < end && (out_ >= 0 || err_ >= 0)) {
    read_available(20);
  }
}

ProcessResult Subprocess::wait(std::chrono::milliseconds timeout) {
  close_stdin();
  auto end = std::chrono::steady_clock::now() + timeout;
  while (out_ >= 0 || err_ >= 0) {
    if (std::chrono::steady_clock::now() >= end) {
      result_.timed_out = true;
      ::kill(pid_, SIGKILL);
      break;
    }
    read_available(50);
  }
  int st = 0;
  if (pid_ > 0 && ::waitpid(pid_, &st, 0) == pid_) {
    if (WIFEXITED(st)) {
      result_.exit_code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
      result_.term_signal = WTERMSIG(st);
    }
  }
  pid_ = -1;
  close_fd(out_);
  close_fd(err_);
  return result_;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout, const std::vector<std::string>& env) {
  Subprocess p(argv, env);
  if (!p.start()) {
    ProcessResult r;
    r.err = p.error();
    return r;
  }
  p.write_stdin(input);
  return p.wait(timeout);
}

}  // namespace ion_test
