// SPDX-License-Identifier: Apache-2.0
// Regex: a compiled POSIX extended regular expression (ERE, libc's regcomp with REG_EXTENDED)
// for a station profile rule's `match`. It replaces std::regex, whose header-only template
// engine was the largest single block of code in the binary; libc already ships an engine.
//
// Dialect: POSIX ERE - . [] [^] [[:digit:]] () | * + ? {m,n} ^ $ and \ before a special
// character. ECMAScript-only syntax that ERE would read differently or that libcs disagree on
// (\d \w \s \b, back-references, a backslash inside [...], (?...) groups, lazy quantifiers
// such as *?) is refused with a message naming the ERE spelling, so an old profile fails
// validation instead of silently matching something else.
//
// Matching is whole-text: full_match() succeeds only if the entire text matches, as
// std::regex_match did. Groups follow POSIX leftmost-longest rules; a group that took no part
// reads as "". A Regex is immutable after compile(); copies share one regex_t (freed with
// regfree when the last copy goes) and may be used from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "hal/result.hpp"

namespace agent {

class Regex {
 public:
  // Compiles `pattern`. Errors (Errc::config) read "at offset N: <why>" for refused
  // ECMAScript syntax, or libc's regerror text for anything regcomp rejects.
  static hal::Result<Regex> compile(const std::string& pattern);

  // Number of capture groups, i.e. the highest n usable as {match.n}.
  std::size_t groups() const noexcept { return groups_; }

  // True if the whole of `text` matches. On success `captures` (if given) holds groups() + 1
  // strings: [0] = the whole text, [n] = group n. Text with a NUL byte never matches.
  bool full_match(const std::string& text, std::vector<std::string>* captures = nullptr) const;

 private:
  struct Compiled;
  explicit Regex(std::shared_ptr<const Compiled> c, std::size_t groups)
      : re_(std::move(c)), groups_(groups) {}

  std::shared_ptr<const Compiled> re_;
  std::size_t groups_ = 0;
};

}  // namespace agent
