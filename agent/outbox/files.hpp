// SPDX-License-Identifier: Apache-2.0
// The outbox's file copies (private to agent/outbox): a file.attach intent's file is copied at
// accept time into <state dir>/files/<intent uuid>, so the test stand may delete its own at
// once and ION still gets the bytes the station accepted. The copy is durable before the
// intent's transaction commits (file fsync'd, renamed from a temporary name, directory
// fsync'd), its SHA-256 and size go into the intent, and it is deleted once the intent is
// delivered (or dropped). Copies count toward the outbox's size bound. A copy without an
// undelivered intent (a crash between copy and commit) is removed at the next open.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "hal/c_handle.hpp"
#include "hal/result.hpp"

namespace agent::outbox_files {

// <dir of the outbox database>/files
std::string files_dir(const std::string& db_path);

// The source, opened (no symlinks, regular files only) and measured before it is copied.
struct Source {
  hal::UniqueFd fd;
  std::uint64_t size = 0;
};
// Errc::not_found when it is gone, Errc::rejected when it cannot be read or is not a file.
hal::Result<Source> open_source(const std::string& path);

struct Copy {
  std::string path;    // files/<uuid>
  std::string sha256;  // lower-case hex of the bytes copied
  std::uint64_t size = 0;
};
// Copies `src` to files/<uuid> durably. Errc::storage on write trouble (nothing left behind).
hal::Result<Copy> copy(const std::string& dir, const std::string& uuid, Source& src);

// Bytes held by copies (regular files in `dir`); 0 when there is no such directory.
std::uint64_t bytes_in(const std::string& dir);
// Removes files/<uuid> (no error when there is none).
void remove(const std::string& dir, const std::string& uuid);
// Removes every copy whose name is not in `keep` (and temporaries). Returns how many.
int remove_orphans(const std::string& dir, const std::set<std::string>& keep);

}  // namespace agent::outbox_files
