// SPDX-License-Identifier: Apache-2.0
#include "files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/crypto/crypto.hpp"

namespace agent::outbox_files {
namespace {

constexpr std::size_t kChunk = 64 * 1024;  // the copy's whole memory, whatever the file's size

hal::Error sys_error(hal::Errc code, const std::string& what) {
  return hal::Error(code, what + ": " + std::strerror(errno));
}

hal::Status fsync_dir(const std::string& dir) {
  hal::UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid() || ::fsync(d.get()) != 0) {
    return sys_error(hal::Errc::storage, "fsync " + dir);
  }
  return {};
}

}  // namespace

std::string files_dir(const std::string& db_path) {
  std::size_t slash = db_path.rfind('/');
  return (slash == std::string::npos ? std::string(".") : db_path.substr(0, slash)) + "/files";
}

hal::Result<Source> open_source(const std::string& path) {
  Source s;
  s.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!s.fd.valid()) {
    return sys_error(errno == ENOENT ? hal::Errc::not_found : hal::Errc::rejected, "file " + path);
  }
  struct stat st {};
  if (::fstat(s.fd.get(), &st) != 0) {
    return sys_error(hal::Errc::rejected, "file " + path);
  }
  if (!S_ISREG(st.st_mode)) {
    return hal::Error(hal::Errc::rejected, "file " + path + ": not a regular file");
  }
  s.size = static_cast<std::uint64_t>(st.st_size);
  return s;
}

hal::Result<Copy> copy(const std::string& dir, const std::string& uuid, Source& src) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return sys_error(hal::Errc::storage, "create " + dir);
  }
  const std::string tmp = dir + "/.tmp-" + uuid;
  const std::string final_path = dir + "/" + uuid;
  ::unlink(tmp.c_str());
  hal::UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!out.valid()) {
    return sys_error(hal::Errc::storage, "create " + tmp);
  }
  auto fail = [&](hal::Error e) {
    ::unlink(tmp.c_str());
    return e;
  };
  crypto::Sha256 hash;
  std::vector<unsigned char> buf(kChunk);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(src.fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(sys_error(hal::Errc::rejected, "read source"));
    }
    if (n == 0) {
      break;
    }
    if (auto st = hash.update(buf.data(), static_cast<std::size_t>(n)); !st.ok()) {
      return fail(std::move(st).error());
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out.get(), buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w < 0) {
        return fail(sys_error(hal::Errc::storage, "write " + tmp));
      }
      off += w;
    }
    total += static_cast<std::uint64_t>(n);
    if (total > src.size) {
      // Still being written after all: take no more than was measured (and counted) for the
      // size bound; what was there when the writer closed it is what the station accepted.
      return fail(hal::Error(hal::Errc::rejected, "file grew while it was copied (still being written)"));
    }
  }
  // Durable before green: the bytes, then the name, then the directory entry.
  if (::fsync(out.get()) != 0) {
    return fail(sys_error(hal::Errc::storage, "fsync " + tmp));
  }
  out.reset();
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return fail(sys_error(hal::Errc::storage, "rename " + tmp));
  }
  if (auto st = fsync_dir(dir); !st.ok()) {
    ::unlink(final_path.c_str());
    return std::move(st).error();
  }
  auto hex = hash.finish_hex();
  if (!hex.ok()) {
    ::unlink(final_path.c_str());
    return std::move(hex).error();
  }
  return Copy{final_path, std::move(hex).value(), total};
}

std::uint64_t bytes_in(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return 0;
  }
  std::uint64_t total = 0;
  while (const dirent* e = ::readdir(d)) {
    struct stat st {};
    if (e->d_name[0] != '.' || std::strncmp(e->d_name, ".tmp-", 5) == 0) {
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
        total += static_cast<std::uint64_t>(st.st_size);
      }
    }
  }
  ::closedir(d);
  return total;
}

void remove(const std::string& dir, const std::string& uuid) {
  if (!uuid.empty() && uuid.find('/') == std::string::npos) {
    ::unlink((dir + "/" + uuid).c_str());
  }
}

int remove_orphans(const std::string& dir, const std::set<std::string>& keep) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return 0;
  }
  std::vector<std::string> doomed;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    if (keep.count(name) == 0) {
      doomed.push_back(name);
    }
  }
  ::closedir(d);
  for (const auto& name : doomed) {
    ::unlink((dir + "/" + name).c_str());
  }
  return static_cast<int>(doomed.size());
}

}  // namespace agent::outbox_files
