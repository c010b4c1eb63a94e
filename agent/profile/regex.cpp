// SPDX-License-Identifier: Apache-2.0
#include "agent/profile/regex.hpp"

#include <regex.h>

#include <cstring>

#include "hal/c_handle.hpp"

namespace agent {
namespace {

void free_regex(regex_t* re) noexcept {
  regfree(re);
  delete re;
}
using RegexHandle = hal::CHandle<regex_t, free_regex>;

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// What an ECMAScript escape is written as in ERE.
std::string escape_advice(char c) {
  switch (c) {
    case 'd':
      return "\\d is not POSIX ERE; use [0-9]";
    case 'D':
      return "\\D is not POSIX ERE; use [^0-9]";
    case 'w':
      return "\\w is not POSIX ERE; use [A-Za-z0-9_]";
    case 'W':
      return "\\W is not POSIX ERE; use [^A-Za-z0-9_]";
    case 's':
      return "\\s is not POSIX ERE; use [[:space:]]";
    case 'S':
      return "\\S is not POSIX ERE; use [^[:space:]]";
    default:
      break;
  }
  if (c >= '1' && c <= '9') {
    return "back-references are not POSIX ERE";
  }
  return std::string("\\") + c + " is not POSIX ERE; a backslash may only precede a special character";
}

// Skips a bracket expression starting at s[i] == '['; returns the index after its ']' (or
// s.size() if unterminated: regcomp reports that). Sets `why` if it holds a backslash, which
// ERE reads as a literal backslash where ECMAScript reads an escape.
std::size_t skip_bracket(const std::string& s, std::size_t i, std::string& why, std::size_t& at) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '^') {
    ++j;
  }
  if (j < s.size() && s[j] == ']') {
    ++j;  // a leading ']' is a member
  }
  for (; j < s.size() && s[j] != ']'; ++j) {
    if (s[j] == '[' && j + 1 < s.size() && std::strchr(":.=", s[j + 1]) != nullptr) {
      std::size_t end = s.find(std::string(1, s[j + 1]) + "]", j + 2);
      j = end == std::string::npos ? s.size() - 1 : end + 1;
    } else if (s[j] == '\\') {
      why =
          "a backslash inside [...] is literal in POSIX ERE; put ']' first and '-' last instead of "
          "escaping them";
      at = j;
      return s.size();
    }
  }
  return j + 1;
}

// Refuses ECMAScript syntax that ERE would read differently or that libcs handle differently.
// Returns "" if the pattern is plain ERE (regcomp still checks the rest).
std::string check_ere(const std::string& s) {
  std::string why;
  std::size_t at = 0;
  for (std::size_t i = 0; i < s.size() && why.empty();) {
    char c = s[i];
    at = i;
    if (c == '[') {
      i = skip_bracket(s, i, why, at);
      continue;
    }
    if (c == '\\' && i + 1 < s.size()) {
      char e = s[i + 1];
      // GNU reads \< \> \` \' as anchors; ECMAScript as the character.
      if (is_alnum(e) || std::strchr("<>`'", e) != nullptr) {
        why = escape_advice(e);
      }
      i += 2;
      continue;
    }
    if (c == '(' && i + 1 < s.size() && s[i + 1] == '?') {
      why = "(?...) groups (non-capturing, lookahead, named) are not POSIX ERE; use (...)";
    } else if (std::strchr("*+?}", c) != nullptr && i + 1 < s.size() &&
               (s[i + 1] == '?' || s[i + 1] == '+')) {
      why = "lazy or possessive quantifiers (*? +? ?? {m,n}?) are not POSIX ERE";
      at = i + 1;
    }
    ++i;
  }
  return why.empty() ? why : "at offset " + std::to_string(at) + ": " + why;
}

// regcomp into a fresh regex_t. Only a compiled one goes into a RegexHandle, since regfree
// on a regex_t that regcomp refused is undefined (glibc tolerates it, others need not).
hal::Result<RegexHandle> compile_raw(const std::string& pattern, int flags) {
  auto re = std::make_unique<regex_t>();
  int rc = regcomp(re.get(), pattern.c_str(), flags);
  if (rc != 0) {
    char buf[128];
    regerror(rc, re.get(), buf, sizeof buf);
    return hal::Error(hal::Errc::config, buf);
  }
  return RegexHandle(re.release());
}

}  // namespace

struct Regex::Compiled {
  RegexHandle re;
};

hal::Result<Regex> Regex::compile(const std::string& pattern) {
  std::string why = check_ere(pattern);
  if (!why.empty()) {
    return hal::Error(hal::Errc::config, why);
  }
  // The pattern alone must be valid, so that wrapping it below cannot make e.g. "a)|(b" legal.
  auto alone = compile_raw(pattern, REG_EXTENDED | REG_NOSUB);
  if (!alone.ok()) {
    return std::move(alone).error();
  }
  // Whole-text semantics by anchoring rather than by checking the span afterwards: POSIX picks
  // the leftmost-longest match, and with the anchors the engine itself must cover the text.
  auto wrapped = compile_raw("^(" + pattern + ")$", REG_EXTENDED);
  if (!wrapped.ok()) {
    return std::move(wrapped).error();
  }
  auto c = std::make_shared<Compiled>();
  c->re = std::move(wrapped).value();
  std::size_t groups = c->re->re_nsub - 1;  // minus the wrapping group
  return Regex(std::move(c), groups);
}

bool Regex::full_match(const std::string& text, std::vector<std::string>* captures) const {
  std::vector<regmatch_t> m(groups_ + 2);
  if (regexec(re_->re.get(), text.c_str(), m.size(), m.data(), 0) != 0) {
    return false;
  }
  // c_str() ends at an embedded NUL; the anchors then matched a prefix only.
  if (m[0].rm_so != 0 || static_cast<std::size_t>(m[0].rm_eo) != text.size()) {
    return false;
  }
  if (captures != nullptr) {
    captures->assign(1, text);
    for (std::size_t g = 2; g < m.size(); ++g) {
      captures->push_back(m[g].rm_so < 0 ? std::string()
                                         : text.substr(static_cast<std::size_t>(m[g].rm_so),
                                                       static_cast<std::size_t>(m[g].rm_eo - m[g].rm_so)));
    }
  }
  return true;
}

}  // namespace agent
