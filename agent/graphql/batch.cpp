// SPDX-License-Identifier: Apache-2.0
#include "agent/graphql/batch.hpp"

#include <cstring>

namespace agent {
namespace {

// A GraphQL lexer just good enough to find names, punctuators and variables; strings, block
// strings, comments and numbers are skipped as opaque text (GraphQL spec §2.1).
struct Token {
  enum class Type { end, name, punct, variable, other, bad } type = Type::end;
  std::size_t begin = 0;
  std::size_t end = 0;
  char punct = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token next() {
    skip_ignored();
    Token t;
    t.begin = i_;
    if (i_ >= s_.size()) {
      t.end = i_;
      return t;
    }
    char c = s_[i_];
    if (is_name_start(c)) {
      while (i_ < s_.size() && is_name_char(s_[i_])) {
        ++i_;
      }
      t.type = Token::Type::name;
    } else if (c == '$') {
      ++i_;
      std::size_t n = i_;
      while (i_ < s_.size() && is_name_char(s_[i_])) {
        ++i_;
      }
      t.type = i_ > n && is_name_start(s_[n]) ? Token::Type::variable : Token::Type::bad;
    } else if (c == '"') {
      t.type = skip_string() ? Token::Type::other : Token::Type::bad;
    } else if (c == '.') {
      if (s_.substr(i_, 3) != "...") {
        t.type = Token::Type::bad;
        i_ = s_.size();
      } else {
        i_ += 3;
        t.type = Token::Type::punct;
        t.punct = '.';
      }
    } else if (std::strchr("!&()):=@[]{|}", c) != nullptr) {
      ++i_;
      t.type = Token::Type::punct;
      t.punct = c;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      ++i_;
      while (i_ < s_.size() && (is_name_char(s_[i_]) || s_[i_] == '.' || s_[i_] == '+' || s_[i_] == '-')) {
        ++i_;
      }
      t.type = Token::Type::other;
    } else {
      t.type = Token::Type::bad;
      i_ = s_.size();
    }
    t.end = i_;
    return t;
  }

  std::string_view text(const Token& t) const { return s_.substr(t.begin, t.end - t.begin); }

 private:
  static bool is_name_start(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
  static bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

  void skip_ignored() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
        ++i_;
      } else if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') {
          ++i_;
        }
      } else if (static_cast<unsigned char>(c) == 0xEF && s_.substr(i_, 3) == "\xEF\xBB\xBF") {
        i_ += 3;  // byte order mark
      } else {
        return;
      }
    }
  }

  bool skip_string() {
    if (s_.substr(i_, 3) == "\"\"\"") {
      std::size_t close = i_ + 3;
      while (true) {
        close = s_.find("\"\"\"", close);
        if (close == std::string_view::npos) {
          i_ = s_.size();
          return false;
        }
        if (s_[close - 1] == '\\') {  // \""" is an escaped triple quote
          close += 3;
          continue;
        }
        i_ = close + 3;
        return true;
      }
    }
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '\\') {
        ++i_;
      } else if (c == '"') {
        return true;
      } else if (c == '\n') {
        return false;
      }
    }
    return false;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// Copies [from, to) of `doc` (both token boundaries), renaming every variable `$x` to
// `$<prefix>x`.
bool copy_renaming(std::string_view doc, std::size_t from, std::size_t to, const std::string& prefix,
                   std::string& out) {
  std::string_view part = doc.substr(from, to - from);
  Lexer lx(part);
  std::size_t pos = 0;
  for (Token t = lx.next(); t.type != Token::Type::end; t = lx.next()) {
    if (t.type == Token::Type::bad) {
      return false;
    }
    if (t.type == Token::Type::variable) {
      out.append(part.substr(pos, t.begin + 1 - pos));
      out += prefix;
      pos = t.begin + 1;
    }
  }
  out.append(part.substr(pos));
  return true;
}

}  // namespace

std::optional<BatchMember> prepare_member(std::string_view doc, const std::string& prefix) {
  BatchMember m;
  m.prefix = prefix;
  Lexer lx(doc);
  Token t = lx.next();
  std::size_t vars_begin = 0;
  std::size_t vars_end = 0;
  if (t.type == Token::Type::name) {
    std::string_view op = lx.text(t);
    if (op != "query" && op != "mutation") {
      return std::nullopt;  // subscription, fragment, or not an operation
    }
    m.mutation = op == "mutation";
    t = lx.next();
    if (t.type == Token::Type::name) {
      t = lx.next();  // the operation name is dropped: the batch has its own
    }
    if (t.type == Token::Type::punct && t.punct == '(') {
      vars_begin = t.end;
      int depth = 1;
      while (depth > 0) {
        t = lx.next();
        if (t.type == Token::Type::end || t.type == Token::Type::bad) {
          return std::nullopt;
        }
        if (t.type == Token::Type::punct && (t.punct == '(' || t.punct == '[' || t.punct == '{')) {
          ++depth;
        } else if (t.type == Token::Type::punct && (t.punct == ')' || t.punct == ']' || t.punct == '}')) {
          --depth;
        } else if (t.type == Token::Type::punct && t.punct == '@') {
          return std::nullopt;  // directives on variables: not worth the risk
        }
      }
      vars_end = t.begin;
      t = lx.next();
    }
  }
  if (t.type != Token::Type::punct || t.punct != '{') {
    return std::nullopt;  // operation directives, or not a document at all
  }
  if (vars_end > vars_begin && !copy_renaming(doc, vars_begin, vars_end, prefix, m.variable_definitions)) {
    return std::nullopt;
  }
  // Top-level selections: alias? name args? selection-set?
  std::size_t copied = t.end;  // text copied (renamed) up to here
  int depth = 0;               // nesting inside the top-level selection set
  while (true) {
    t = lx.next();
    if (t.type == Token::Type::end || t.type == Token::Type::bad) {
      return std::nullopt;
    }
    if (t.type == Token::Type::punct) {
      if (t.punct == '{' || t.punct == '(' || t.punct == '[') {
        ++depth;
      } else if (t.punct == '}' || t.punct == ')' || t.punct == ']') {
        if (depth == 0) {
          if (t.punct != '}') {
            return std::nullopt;
          }
          break;  // end of the operation's selection set
        }
        --depth;
      } else if (depth == 0 && (t.punct == '.' || t.punct == '@')) {
        return std::nullopt;  // top-level fragment spread or directive
      }
      continue;
    }
    if (depth != 0 || t.type != Token::Type::name) {
      continue;
    }
    // A top-level field starts at `t`: its response key is the alias if one follows.
    Lexer peek = lx;
    Token colon = peek.next();
    std::string key(lx.text(t));
    std::size_t field_name_at = t.begin;
    if (colon.type == Token::Type::punct && colon.punct == ':') {
      Token name = peek.next();
      if (name.type != Token::Type::name) {
        return std::nullopt;
      }
      lx = peek;
      field_name_at = name.begin;
    }
    if (!copy_renaming(doc, copied, t.begin, prefix, m.selections)) {
      return std::nullopt;
    }
    m.selections += prefix + key + ": ";
    copied = field_name_at;
    m.keys.push_back(std::move(key));
  }
  if (!copy_renaming(doc, copied, t.begin, prefix, m.selections)) {
    return std::nullopt;
  }
  if (lx.next().type != Token::Type::end || m.keys.empty()) {
    return std::nullopt;  // a second operation or a fragment after the first
  }
  return m;
}

std::string batch_document(const std::vector<const BatchMember*>& members) {
  std::string doc = members.empty() || !members.front()->mutation ? "query Batch" : "mutation Batch";
  std::string vars;
  for (const auto* m : members) {
    if (!m->variable_definitions.empty()) {
      vars += vars.empty() ? "" : ", ";
      vars += m->variable_definitions;
    }
  }
  if (!vars.empty()) {
    doc += "(" + vars + ")";
  }
  doc += " {";
  for (const auto* m : members) {
    doc += " ";
    doc += m->selections;
  }
  doc += " }";
  return doc;
}

Json batch_variables(const std::vector<const BatchMember*>& members,
                     const std::vector<const cJSON*>& variables) {
  Json all(cJSON_CreateObject());
  for (std::size_t i = 0; i < members.size() && i < variables.size(); ++i) {
    const cJSON* v = variables[i];
    if (v == nullptr || !cJSON_IsObject(v)) {
      continue;
    }
    for (const cJSON* item = v->child; item != nullptr; item = item->next) {
      std::string name = members[i]->prefix + (item->string != nullptr ? item->string : "");
      cJSON_AddItemToObject(all.get(), name.c_str(), cJSON_Duplicate(item, 1));
    }
  }
  return all;
}

BatchSplit split_batch_reply(const std::string& body, const std::vector<const BatchMember*>& members) {
  BatchSplit out;
  Json j(cJSON_Parse(body.c_str()));
  if (!j || !cJSON_IsObject(j.get())) {
    return out;  // not_json
  }
  cJSON* data = cJSON_GetObjectItemCaseSensitive(j.get(), "data");
  cJSON* errors = cJSON_GetObjectItemCaseSensitive(j.get(), "errors");
  const bool has_errors = cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0;
  if (data == nullptr) {
    out.kind = has_errors ? BatchSplit::Kind::refused : BatchSplit::Kind::not_json;
    return out;
  }
  if (!cJSON_IsObject(data)) {
    out.kind = BatchSplit::Kind::unattributed;
    out.detail = "the batch's data is null as a whole";
    return out;
  }
  std::vector<Json> datas;
  std::vector<Json> errs;
  for (std::size_t i = 0; i < members.size(); ++i) {
    datas.emplace_back(cJSON_CreateObject());
    errs.emplace_back(cJSON_CreateArray());
  }
  // Which member (and original key) a response key belongs to.
  auto owner = [&](const char* key, std::string& original) -> int {
    for (std::size_t i = 0; i < members.size(); ++i) {
      const std::string& p = members[i]->prefix;
      if (std::strncmp(key, p.c_str(), p.size()) != 0) {
        continue;
      }
      for (const auto& k : members[i]->keys) {
        if (k == key + p.size()) {
          original = k;
          return static_cast<int>(i);
        }
      }
    }
    return -1;
  };
  if (has_errors) {
    while (cJSON* e = errors->child) {
      cJSON_DetachItemViaPointer(errors, e);
      Json err(e);
      cJSON* path = cJSON_GetObjectItemCaseSensitive(e, "path");
      cJSON* first = cJSON_IsArray(path) ? cJSON_GetArrayItem(path, 0) : nullptr;
      std::string original;
      int who = cJSON_IsString(first) ? owner(first->valuestring, original) : -1;
      if (who < 0) {
        const cJSON* msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        out.kind = BatchSplit::Kind::unattributed;
        out.detail = std::string("an error names no member of the batch: ") +
                     (cJSON_IsString(msg) ? msg->valuestring : "(no message)");
        out.bodies.clear();
        out.with_errors.clear();
        return out;
      }
      cJSON_ReplaceItemInArray(path, 0, cJSON_CreateString(original.c_str()));
      cJSON_AddItemToArray(errs[static_cast<std::size_t>(who)].get(), err.release());
    }
  }
  while (cJSON* item = data->child) {
    cJSON_DetachItemViaPointer(data, item);
    Json owned(item);
    std::string original;
    int who = item->string != nullptr ? owner(item->string, original) : -1;
    if (who >= 0) {
      cJSON_AddItemToObject(datas[static_cast<std::size_t>(who)].get(), original.c_str(), owned.release());
    }
  }
  out.kind = BatchSplit::Kind::per_member;
  for (std::size_t i = 0; i < members.size(); ++i) {
    Json reply(cJSON_CreateObject());
    cJSON_AddItemToObject(reply.get(), "data", datas[i].release());
    const bool with_errors = cJSON_GetArraySize(errs[i].get()) > 0;
    if (with_errors) {
      cJSON_AddItemToObject(reply.get(), "errors", errs[i].release());
    }
    out.with_errors.push_back(with_errors);
    JsonText text(cJSON_PrintUnformatted(reply.get()));
    out.bodies.emplace_back(text ? text.get() : "");
  }
  return out;
}

}  // namespace agent
