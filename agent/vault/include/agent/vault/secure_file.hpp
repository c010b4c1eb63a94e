// SPDX-License-Identifier: Apache-2.0
// Private files for secrets (the sealed credentials, the device key): written atomically and
// read only when nobody but the owner can read them.
//  - write_private_file_atomic(): agent/common/atomic_file.hpp's writer with mode 0600, durable
//    (fsync of file and directory), and the file given to the state directory's owner when
//    root provisions it, so the unprivileged daemon can open it.
//  - read_private_file(): refuses symlinks, non-regular files, and files readable, writable
//    or executable by group/others (PrivateFileError::loose_mode); reads at most `max` bytes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "hal/result.hpp"

namespace agent {

enum class PrivateFileError { none, missing, loose_mode, io, too_large };

hal::Status write_private_file_atomic(const std::string& path, const unsigned char* data, std::size_t n);

// On failure, *why (if given) says which kind; the hal::Error says it in words.
hal::Result<std::vector<unsigned char>> read_private_file(const std::string& path, std::size_t max,
                                                          PrivateFileError* why = nullptr);

// Creates `dir` (mode 0700) if it does not exist. Existing directories are left as they are.
hal::Status ensure_private_dir(const std::string& dir);

}  // namespace agent
