// SPDX-License-Identifier: Apache-2.0
// Reading the API key from stdin for `ion-agent provision`. Secrets never come from argv or
// the environment (both are visible in /proc to other processes and end up in shell history
// and CI logs). On a TTY the prompt goes to stderr and echo is switched off while typing
// (termios); from a pipe (image builds, Ansible) one line is read per value.
// Bytes are read with read(2) one at a time straight into the SecretBuffer, so no stdio
// buffer keeps a copy of the secret.
#pragma once

#include "agent/crypto/secret.hpp"
#include "hal/result.hpp"

namespace firmware {

// Reads one line (without its "\n" or "\r\n") from fd into out. Fails on EOF before any byte,
// on a line longer than the buffer, and on bytes that cannot be part of a key (controls,
// spaces, non-ASCII) — naming which value (`what`) was wrong, never echoing it.
hal::Status read_secret_line(int fd, const char* prompt, const char* what, agent::Secret& out);

}  // namespace firmware
