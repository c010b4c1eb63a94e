// SPDX-License-Identifier: Apache-2.0
// The one atomic file writer: readers see the old content or the new, never a mix. It writes
// PATH.tmp (created afresh, O_EXCL|O_NOFOLLOW, with the given mode whatever the umask) in the
// same directory and renames it over PATH. `durable` adds an fsync of the file before the
// rename and of the directory after it, so a power cut also leaves the old or the new content
// (ext4/f2fs/ubifs semantics): for secrets and anything that must survive; without it the
// write costs no flash wear (status.json, the metrics textfile). Errors: Errc::io with the path.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "hal/result.hpp"

namespace agent {

struct AtomicWrite {
  mode_t mode = 0644;
  bool durable = false;
  // When run as root in a directory owned by another user (the service user's state
  // directory, at provisioning), give the file to that directory's owner.
  bool adopt_dir_owner = false;
};

hal::Status write_file_atomic(const std::string& path, std::string_view data, AtomicWrite how = {});

// The directory part of a path ("." for a bare name).
std::string dir_of(const std::string& path);

}  // namespace agent
