// SPDX-License-Identifier: Apache-2.0
#include "instrument_sim.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace ion_test {
namespace {

long now_ms() {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count());
}

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) {
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::unique_ptr<InstrumentSim> InstrumentSim::pty(const std::string& link) {
  std::unique_ptr<InstrumentSim> s(new InstrumentSim());
  s->link_ = link;
  if (::pipe(s->wake_) != 0 || !s->open_pty()) {
    return nullptr;
  }
  s->thread_ = std::thread([p = s.get()] { p->serve(); });
  return s;
}

std::unique_ptr<InstrumentSim> InstrumentSim::tcp() {
  std::unique_ptr<InstrumentSim> s(new InstrumentSim());
  if (::pipe(s->wake_) != 0) {
    return nullptr;
  }
  s->listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (s->listen_ < 0 || ::bind(s->listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(s->listen_, 4) != 0 || ::getsockname(s->listen_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return nullptr;
  }
  s->port_ = ntohs(a.sin_port);
  s->thread_ = std::thread([p = s.get()] { p->serve(); });
  return s;
}

InstrumentSim::~InstrumentSim() {
  stop_ = true;
  if (wake_[1] >= 0) {
    (void)!::write(wake_[1], "x", 1);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  for (int fd : {master_, listen_, client_, wake_[0], wake_[1]}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  if (!link_.empty()) {
    ::unlink(link_.c_str());
  }
}

bool InstrumentSim::open_pty() {
  int m = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0 || ::grantpt(m) != 0 || ::unlockpt(m) != 0) {
    if (m >= 0) {
      ::close(m);
    }
    return false;
  }
  termios t{};
  if (::tcgetattr(m, &t) == 0) {
    ::cfmakeraw(&t);
    ::tcsetattr(m, TCSANOW, &t);
  }
  const char* slave = ::ptsname(m);
  ::unlink(link_.c_str());
  if (slave == nullptr || ::symlink(slave, link_.c_str()) != 0) {
    ::close(m);
    return false;
  }
  master_ = m;
  connections_++;
  return true;
}

void InstrumentSim::set_reply(const std::string& line) {
  std::lock_guard<std::mutex> l(mu_);
  reply_ = line;
}

void InstrumentSim::set_fault(Fault f) {
  std::lock_guard<std::mutex> l(mu_);
  fault_ = f;
}

std::string InstrumentSim::last_command() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_command_;
}

void InstrumentSim::cut(int replug_ms) {
  {
    std::lock_guard<std::mutex> l(mu_);
    replug_at_ms_ = replug_ms < 0 ? -1 : now_ms() + replug_ms;
    cut_now_ = true;  // applied by the serving thread at once
  }
  (void)!::write(wake_[1], "c", 1);
}

void InstrumentSim::close_peer() {
  if (!link_.empty()) {
    if (master_ >= 0) {
      ::close(master_);
      master_ = -1;
    }
    ::unlink(link_.c_str());
  } else if (client_ >= 0) {
    ::close(client_);
    client_ = -1;
  }
  buf_.clear();
}

void InstrumentSim::answer(int fd, const std::string& command) {
  std::string reply;
  Fault f;
  {
    std::lock_guard<std::mutex> l(mu_);
    last_command_ = command;
    reply = reply_;
    f = fault_;
  }
  commands_++;
  switch (f) {
    case Fault::none:
      write_all(fd, reply + "\r\n");
      break;
    case Fault::garbage:
      write_all(fd, std::string("\x01\xfe S S 12.3.4 g?\x7f", 17) + "\r\n" + "S S     nan g\r\n");
      break;
    case Fault::half_line:
      write_all(fd, reply.substr(0, reply.size() / 2));
      break;
    case Fault::no_reply:
      break;
    case Fault::disconnect: {
      close_peer();
      std::lock_guard<std::mutex> l(mu_);
      fault_ = Fault::none;
      break;
    }
  }
}

void InstrumentSim::serve() {
  while (!stop_) {
    long replug = -1;
    bool cut_now = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      replug = replug_at_ms_;
      cut_now = cut_now_ && (master_ >= 0 || client_ >= 0);
      cut_now_ = false;
    }
    if (cut_now) {
      close_peer();
    }
    if (!link_.empty() && master_ < 0 && replug >= 0 && now_ms() >= replug) {
      if (open_pty()) {
        std::lock_guard<std::mutex> l(mu_);
        replug_at_ms_ = -1;
      }
    }
    int peer = !link_.empty() ? master_ : client_;
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}};
    if (peer >= 0) {
      fds.push_back({peer, POLLIN, 0});
    }
    if (listen_ >= 0 && client_ < 0) {
      fds.push_back({listen_, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 20) <= 0) {
      continue;
    }
    if (fds[0].revents != 0) {
      char b[16];
      (void)!::read(wake_[0], b, sizeof b);
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      if (fds[i].fd == listen_) {
        client_ = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client_ >= 0) {
          connections_++;
        }
        continue;
      }
      char b[256];
      ssize_t n = ::read(fds[i].fd, b, sizeof b);
      if (n <= 0) {
        if (link_.empty()) {
          close_peer();  // the client went away
        } else {
          ::usleep(20000);  // pty: no slave open right now (EIO); wait for one
        }
        continue;
      }
      buf_.append(b, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buf_.find_first_of("\r\n")) != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line.empty()) {
          answer(fds[i].fd, line);
          if ((!link_.empty() ? master_ : client_) < 0) {
            break;  // the answer was a disconnect
          }
        }
      }
    }
  }
}

}  // namespace ion_test
