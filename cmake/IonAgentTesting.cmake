# SPDX-License-Identifier: Apache-2.0
# ion_add_cpputest(<target> LABELS <labels...> SOURCES <files...> LIBS <libs...>)
# Builds one CppUTest executable and registers every TEST(Group, Name) in its sources as its
# own CTest test (`-sg Group -sn Name`), so CTest's summary counts real tests. Discovery reads
# the sources at configure time, so it also works when cross-compiling (CTest then runs each
# test through CMAKE_CROSSCOMPILING_EMULATOR).
#
# Every executable behind a test labelled unit also joins the target `unit-tests`, so a leg
# that runs `ctest -L unit` builds only those (`cmake --build B --target unit-tests`).
function(ion_add_cpputest target)
  cmake_parse_arguments(T "" "" "LABELS;SOURCES;LIBS;PROPERTIES" ${ARGN})
  add_executable(${target} ${T_SOURCES})
  if("unit" IN_LIST T_LABELS)
    ion_unit_test_needs(${target})
  endif()
  target_link_libraries(${target} PRIVATE ${T_LIBS} ion::cpputest)
  foreach(src IN LISTS T_SOURCES)
    get_filename_component(abs "${src}" ABSOLUTE)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${abs}")
    file(STRINGS "${abs}" lines REGEX "^[ \t]*TEST\\([ \t]*[A-Za-z0-9_]+[ \t]*,[ \t]*[A-Za-z0-9_]+[ \t]*\\)")
    foreach(line IN LISTS lines)
      string(REGEX MATCH "TEST\\([ \t]*([A-Za-z0-9_]+)[ \t]*,[ \t]*([A-Za-z0-9_]+)" _m "${line}")
      set(name "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
      add_test(NAME ${name} COMMAND ${target} -sg ${CMAKE_MATCH_1} -sn ${CMAKE_MATCH_2})
      # A filter that matches nothing makes CppUTest exit 0 having run nothing: count that as a failure.
      set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" FAIL_REGULAR_EXPRESSION ", 0 ran," ${T_PROPERTIES})
    endforeach()
  endforeach()
endfunction()

# ion_unit_test_needs(<target>...): a unit-labelled test runs these; `unit-tests` builds them.
function(ion_unit_test_needs)
  if(NOT TARGET unit-tests)
    add_custom_target(unit-tests)
  endif()
  add_dependencies(unit-tests ${ARGN})
endfunction()
