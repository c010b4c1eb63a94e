// SPDX-License-Identifier: Apache-2.0
// RAII aliases for the C libraries the agent core uses: libcurl, cJSON and SQLite.
// Mbed TLS contexts are value classes in agent/crypto.hpp.
#pragma once

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "hal/c_handle.hpp"

namespace agent {

namespace detail {
inline void curl_multi_free(CURLM* m) noexcept {
  curl_multi_cleanup(m);
}
inline void sqlite_stmt_free(sqlite3_stmt* s) noexcept {
  sqlite3_finalize(s);
}
inline void sqlite_db_free(sqlite3* db) noexcept {
  sqlite3_close_v2(db);
}
inline void cjson_string_free(char* s) noexcept {
  cJSON_free(s);
}
}  // namespace detail

using CurlEasy = hal::CHandle<CURL, curl_easy_cleanup>;
using CurlMulti = hal::CHandle<CURLM, detail::curl_multi_free>;
using CurlSlist = hal::CHandle<curl_slist, curl_slist_free_all>;
using Json = hal::CHandle<cJSON, cJSON_Delete>;
using JsonText = hal::CHandle<char, detail::cjson_string_free>;  // from cJSON_Print*
using SqlDb = hal::CHandle<sqlite3, detail::sqlite_db_free>;
using SqlStmt = hal::CHandle<sqlite3_stmt, detail::sqlite_stmt_free>;

}  // namespace agent
