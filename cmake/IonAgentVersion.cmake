# SPDX-License-Identifier: Apache-2.0
# ION_AGENT_VERSION_STRING: the project version, refined by `git describe` when building from
# a git checkout (e.g. 0.1.0-12-gabc1234-dirty). Release tarballs use the plain version.
set(ION_AGENT_VERSION_STRING "${PROJECT_VERSION}")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" describe --tags --always --dirty
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    OUTPUT_VARIABLE _ion_git_describe
    OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET
    RESULT_VARIABLE _ion_git_rc)
  if(_ion_git_rc EQUAL 0 AND _ion_git_describe)
    if(_ion_git_describe MATCHES "^v?[0-9]+\\.[0-9]+")  # a tag, not a hash that starts with a digit
      string(REGEX REPLACE "^v" "" ION_AGENT_VERSION_STRING "${_ion_git_describe}")
    else()
      set(ION_AGENT_VERSION_STRING "${PROJECT_VERSION}-g${_ion_git_describe}")
    endif()
  endif()
endif()
message(STATUS "ion-agent version: ${ION_AGENT_VERSION_STRING}")
